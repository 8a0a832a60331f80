//! The language never panics and never lets a value into the SQL text,
//! whatever it is fed. A seeded generator makes every run the same.

use oc12::language::analyzer::{self, Checked};
use oc12::language::parser::parse;
use oc12::language::planner;
use oc12::language::value::Param;

/// xorshift64*: small, seeded, good enough to shuffle test input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Runs the whole pipeline; only a panic (or a stack overflow) fails.
fn run(src: &str) {
    let Ok(statements) = parse(src) else { return };
    for statement in &statements {
        if let Ok(Checked::Data(data)) = analyzer::analyze(statement) {
            let _ = planner::plan(&data);
        }
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x0c12_5eed);
    for _ in 0..5_000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        run(&String::from_utf8_lossy(&bytes));
    }
}

const SOUP: &[&str] = &[
    "list",
    "count",
    "show",
    "add",
    "set",
    "delete",
    "sign",
    "pay",
    "history",
    "login",
    "help",
    "format",
    "quit",
    "clients",
    "contracts",
    "events",
    "collaborator",
    "departments",
    "companies",
    "where",
    "order",
    "by",
    "limit",
    "offset",
    "asc",
    "desc",
    "and",
    "or",
    "et",
    "ou",
    "not",
    "(",
    ")",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    "=<",
    ">",
    ">=",
    "=>",
    "~",
    ",",
    ";",
    "#",
    "\\\n",
    "\n",
    "'",
    "\"",
    "''",
    "\\",
    "!",
    "none",
    "me",
    "today",
    "status",
    "remain",
    "total",
    "start",
    "end",
    "support",
    "name",
    "email",
    "attendees",
    "id",
    "signed",
    "sined",
    "12",
    "-1",
    "999.999",
    "1e9",
    "2023-06-04",
    "2023-02-30",
    "04-06-2023",
    "2023-06-04T13:00",
    "'2023-06-04 13:00'",
    "'x''y'",
    "\"a\"",
    "geg2021",
    "kevin@startup.io",
    "+33612345678",
    "é",
    "🦀",
    "\u{0}",
    "members",
    "commercial",
    "client",
];

#[test]
fn token_soup() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let n = 1 + rng.below(16);
        let words: Vec<&str> = (0..n).map(|_| rng.pick(SOUP)).collect();
        let sep = if rng.below(2) == 0 { " " } else { "" };
        run(&words.join(sep));
    }
}

#[test]
fn statements_with_one_token_changed() {
    let mut rng = Rng(7);
    let base: Vec<&str> = "list events where ( support = af123456789 ou support = none ) et attendees > 50 order by start desc limit 3"
        .split(' ')
        .collect();
    for _ in 0..5_000 {
        let mut words = base.clone();
        let i = rng.below(words.len());
        words[i] = rng.pick(SOUP);
        run(&words.join(" "));
    }
}

#[test]
fn huge_inputs() {
    let long_word = "a".repeat(100_000);
    run(&format!("show client {long_word}"));
    run(&format!("set event geg2021 notes='{long_word}'"));
    run(&format!("set event geg2021 notes='{long_word}"));
    run(&format!(
        "list clients where {}",
        "name = x or ".repeat(10_000)
    ));
    run(&format!(
        "list clients where {} name = x",
        "name = x and ".repeat(10_000)
    ));
    run(&format!("list clients where {}", "not ".repeat(10_000)));
    run(&"; ".repeat(50_000));
    run(&"list clients;".repeat(5_000));
    run(&format!("{}\\", "# \\\n".repeat(10_000)));
}

#[test]
fn deep_parentheses_do_not_overflow() {
    for depth in [65, 1_000, 10_000, 100_000] {
        let src = format!(
            "list events where {}attendees = 1{}",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let e = parse(&src).unwrap_err();
        assert!(e.message.contains("too deeply nested"), "{}", e.message);
        run(&"(".repeat(depth));
        run(&format!("count events where {}", "not (".repeat(depth)));
    }
}

#[test]
fn long_chains_plan_without_recursion() {
    let src = format!(
        "count events where attendees = 1{}",
        " or attendees = 2 and attendees > 3".repeat(20_000)
    );
    let statement = &parse(&src).unwrap()[0];
    let Checked::Data(data) = analyzer::analyze(statement).unwrap() else {
        panic!()
    };
    let planner::Planned::One(plan) = planner::plan(&data) else {
        panic!()
    };
    assert_eq!(plan.params.len(), 40_001);
}

/// Values chosen to break out of a string literal or a statement, were they
/// ever pasted into SQL.
const HOSTILE: &[&str] = &[
    "x' OR '1'='1",
    "x'; DROP TABLE crm.client; --",
    "a\"b",
    "/* comment */",
    "-- rest of line",
    "back\\slash\\",
    "nul\u{0}byte",
    "$$ dollar-quoted $$",
    "Ωmega 🦀 ünïcode",
    "50% off_now",
    "`tick`",
    "e'\\x41'",
];

#[test]
fn no_user_value_reaches_the_sql_text() {
    let quote = oc12::language::parser::quote;
    for &value in HOSTILE {
        let v = quote(value);
        let statements = [
            format!("list clients where name = {v} or email ~ {v} or job != {v}"),
            format!("count events where notes ~ {v} and title = {v}"),
            format!("show client {v}"),
            format!("history event {v}"),
            format!("delete event {v}"),
            format!("sign contract {v}"),
            format!("pay contract {v} 10"),
            format!("add client id={v} name={v} email=a@b.io job={v} company={v}"),
            format!("set event {v} title={v} notes={v} location={v}"),
            format!("set collaborator {v} name={v}"),
            format!("add collaborator id={v} name={v} email=a@b.io department=support"),
            format!("delete collaborator {v}"),
        ];
        for src in &statements {
            let parsed = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, None)));
            let Checked::Data(data) =
                analyzer::analyze(&parsed[0]).unwrap_or_else(|e| panic!("{}", e.render(src, None)))
            else {
                panic!("{src}")
            };
            for plan in planner::plan(&data).plans() {
                assert!(!plan.sql.contains(value), "{value:?} in {}", plan.sql);
                // Bound as typed, or escaped for ILIKE in a `~` search.
                let searched = value
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let bound = plan.params.iter().any(|p| {
                    *p == Param::Text(value.into()) || *p == Param::Text(searched.clone())
                });
                assert!(bound, "{value:?} not bound in {src}: {:?}", plan.params);
            }
        }
    }
}

#[test]
fn the_sql_text_is_made_of_catalogue_words_only() {
    // Whatever the statement, the SQL's characters come from a fixed
    // alphabet: no quote but the planner's own '%' and 'signed' literals.
    for (src, plan) in planner::representative_plans().unwrap() {
        let without_literals = plan.sql.replace("'%'", "").replace("'signed'", "");
        assert!(!without_literals.contains('\''), "{src}: {}", plan.sql);
        assert!(
            !plan.sql.contains(';') && !plan.sql.contains("--"),
            "{src}: {}",
            plan.sql
        );
    }
}
