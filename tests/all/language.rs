//! The language end to end without a database: text → tree (s-expressions),
//! text → rendered error, text → SQL and parameters, and every example
//! shipped in `grammar/` and `examples/`.

use oc12::error::Error;
use oc12::language::analyzer::{self, Checked, Data};
use oc12::language::ast::Statement;
use oc12::language::parser::{self, parse};
use oc12::language::planner::{self, Plan, Planned};
use oc12::language::value::Param;

/// Every statement of `src` as s-expressions, `; `-separated.
fn sexp(src: &str) -> String {
    let statements = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, None)));
    statements
        .iter()
        .map(Statement::to_sexp)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses and analyzes every statement of `src`.
fn check(src: &str) -> Result<Vec<Checked>, Error> {
    parse(src)?.iter().map(analyzer::analyze).collect()
}

/// The rendered error of `src`, from whichever stage refuses it.
fn error(src: &str) -> String {
    match check(src) {
        Ok(_) => panic!("`{src}` was accepted"),
        Err(e) => e.render(src, None),
    }
}

fn data(src: &str) -> Data {
    match check(src)
        .unwrap_or_else(|e| panic!("{}", e.render(src, None)))
        .pop()
    {
        Some(Checked::Data(data)) => data,
        other => panic!("`{src}` is not a data statement: {other:?}"),
    }
}

fn plan(src: &str) -> Plan {
    match planner::plan(&data(src)) {
        Planned::One(plan) => plan,
        Planned::Show(show) => panic!("`{src}` is a show: {show:?}"),
    }
}

/// `name: "input" => "s-expression",` — one parser test per line.
macro_rules! parses {
    ($($name:ident: $src:expr => $expected:expr,)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(sexp($src), $expected);
        }
    )*};
}

/// `name: "input" => "rendered error",` — one error test per line.
macro_rules! fails {
    ($($name:ident: $src:expr => $expected:expr,)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(error($src), $expected);
        }
    )*};
}

/// `name: "input" => "sql", [params],` — one planner test per line.
macro_rules! plans {
    ($($name:ident: $src:expr => $sql:expr, [$($param:expr),*],)*) => {$(
        #[test]
        fn $name() {
            let plan = plan($src);
            assert_eq!(plan.sql, $sql);
            assert_eq!(plan.params, vec![$($param),*]);
        }
    )*};
}

// ---------------------------------------------------------------------------
// The examples of LANGUAGE.md, one by one.

parses! {
    spec_signed_with_remain: "list contracts where status = signed and remain > 0"
        => "(list contracts (where (and (= status signed) (> remain 0))))",
    spec_unsigned_or_remain: "list contracts where status=unsigned or remain>0 order by remain desc limit 10"
        => "(list contracts (where (or (= status unsigned) (> remain 0))) (order (remain desc)) (limit 10))",
    spec_no_support: "list events where support = none"
        => "(list events (where (= support none)))",
    spec_mine_from_today: "list events where support = me and start >= today"
        => "(list events (where (and (= support me) (>= start today))))",
    spec_contains: "list clients where commercial = me and name ~ 'casey'"
        => "(list clients (where (and (= commercial me) (~ name \"casey\"))))",
    spec_french_connectives: "list events where (support = af123456789 ou support = ag123456789) et attendees > 50"
        => "(list events (where (and (group (or (= support af123456789) (= support ag123456789))) (> attendees 50))))",
    spec_count: "count contracts where status = signed"
        => "(count contracts (where (= status signed)))",
    spec_show: "show event geg2021" => "(show event geg2021)",
    spec_add_client: "add client name='Kevin Casey' email=kevin@startup.io phone='+678 123 456 78' company=CSLLC12345"
        => "(add client (= name \"Kevin Casey\") (= email kevin@startup.io) (= phone \"+678 123 456 78\") (= company CSLLC12345))",
    spec_set_phone: "set client mkc111 phone='+33 6 12 34 56 78'"
        => "(set client mkc111 (= phone \"+33 6 12 34 56 78\"))",
    spec_add_contract: "add contract client=mkc111 total=1200 remain=1200"
        => "(add contract (= client mkc111) (= total 1200) (= remain 1200))",
    spec_sign: "sign contract kc555" => "(sign contract kc555)",
    spec_pay: "pay contract ff555 20.99" => "(pay contract ff555 20.99)",
    spec_add_event: "add event title='Casey launch party' contract=ff555 start='2024-06-04 13:00' end='2024-06-05 02:00' location=csb41120 attendees=75"
        => "(add event (= title \"Casey launch party\") (= contract ff555) (= start (datetime \"2024-06-04 13:00\")) (= end (datetime \"2024-06-05 02:00\")) (= location csb41120) (= attendees 75))",
    spec_assign_support: "set event geg2021 support=af123456789"
        => "(set event geg2021 (= support af123456789))",
    spec_notes: "set event geg2021 notes='Wedding starts at 3PM, upstairs.'"
        => "(set event geg2021 (= notes \"Wedding starts at 3PM, upstairs.\"))",
    spec_seed_spelling: "list contracts where status=signed et remain_amount_to_pay =>0"
        => "(list contracts (where (and (= status signed) (>= remain_amount_to_pay 0))))",
    spec_history: "history contract kc555" => "(history contract kc555)",
}

// ---------------------------------------------------------------------------
// Every production and value form.

parses! {
    empty_line: "" => "",
    blank_line: "   \t " => "",
    comment_line: "# nothing to see" => "",
    trailing_comment: "list clients # all of them" => "(list clients)",
    optional_semicolon: "list clients;" => "(list clients)",
    several_statements: "list clients; count events ;; whoami" => "(list clients); (count events); (whoami)",
    continued_line: "list clients \\\n  where name ~ casey" => "(list clients (where (~ name casey)))",
    newline_separates: "list clients\ncount clients" => "(list clients); (count clients)",
    keywords_ignore_case: "LIST Clients WHERE name = X ORDER BY Name DESC LIMIT 2"
        => "(list Clients (where (= name X)) (order (Name desc)) (limit 2))",
    list_full: "list clients where name ~ a order by name asc, created desc limit 5 offset 10"
        => "(list clients (where (~ name a)) (order (name asc) (created desc)) (limit 5) (offset 10))",
    list_offset_only: "list clients offset 3" => "(list clients (offset 3))",
    count_plain: "count clients" => "(count clients)",
    show_quoted_id: "show client 'odd id'" => "(show client \"odd id\")",
    add_commas: "add client, name=a, email=b@c.io" => "(add client (= name a) (= email b@c.io))",
    add_bare: "add client" => "(add client)",
    delete_one: "delete event geg2021" => "(delete event geg2021)",
    login_plain: "login" => "(login)",
    login_registration: "login aa123456789" => "(login aa123456789)",
    logout_plain: "logout" => "(logout)",
    whoami_plain: "whoami" => "(whoami)",
    passwd_plain: "passwd" => "(passwd)",
    passwd_other: "passwd ae123456789" => "(passwd ae123456789)",
    help_plain: "help" => "(help)",
    help_topic: "help contracts" => "(help contracts)",
    format_csv: "format csv" => "(format csv)",
    quit_plain: "quit" => "(quit)",
    exit_plain: "EXIT" => "(quit)",
    or_binds_looser: "count events where a = 1 or b = 2 and c = 3"
        => "(count events (where (or (= a 1) (and (= b 2) (= c 3)))))",
    and_chain_is_flat: "count events where a = 1 and b = 2 and c = 3"
        => "(count events (where (and (= a 1) (= b 2) (= c 3))))",
    not_binds_tighter: "count events where not a = 1 and b = 2"
        => "(count events (where (and (not (= a 1)) (= b 2))))",
    not_group: "count events where not (a = 1 or b = 2)"
        => "(count events (where (not (group (or (= a 1) (= b 2))))))",
    nested_groups: "count events where ((a = 1))" => "(count events (where (group (group (= a 1)))))",
    every_operator: "count x where a = 1 and b != 2 and c <> 3 and d < 4 and e <= 5 and f =< 6 and g > 7 and h >= 8 and i => 9 and j ~ k"
        => "(count x (where (and (= a 1) (!= b 2) (!= c 3) (< d 4) (<= e 5) (<= f 6) (> g 7) (>= h 8) (>= i 9) (~ j k))))",
    no_spaces_needed: "count x where a>=1 and b=2" => "(count x (where (and (>= a 1) (= b 2))))",
    value_number: "count x where a = 999.99" => "(count x (where (= a 999.99)))",
    value_negative: "count x where a = -3" => "(count x (where (= a -3)))",
    value_single_quoted: "count x where a = 'Kevin Casey'" => "(count x (where (= a \"Kevin Casey\")))",
    value_double_quoted: "count x where a = \"O'Hara\"" => "(count x (where (= a \"O'Hara\")))",
    value_doubled_quote: "count x where a = 'O''Hara'" => "(count x (where (= a \"O'Hara\")))",
    value_backslash_quote: "count x where a = 'O\\'Hara'" => "(count x (where (= a \"O'Hara\")))",
    value_email: "count x where a = kevin@startup.io" => "(count x (where (= a kevin@startup.io)))",
    value_phone: "count x where a = +33612345678" => "(count x (where (= a +33612345678)))",
    value_date: "count x where a = 2023-06-04" => "(count x (where (= a (date 2023-06-04))))",
    value_seed_date: "count x where a = 04-06-2023" => "(count x (where (= a (date 04-06-2023))))",
    value_datetime_t: "count x where a = 2023-06-04T13:00" => "(count x (where (= a (datetime \"2023-06-04T13:00\"))))",
    value_datetime_quoted: "count x where a = '2023-06-04 13:00'" => "(count x (where (= a (datetime \"2023-06-04 13:00\"))))",
    value_none: "count x where a = None" => "(count x (where (= a none)))",
    value_quoted_none_is_text: "count x where a = 'none'" => "(count x (where (= a \"none\")))",
    value_me: "count x where a = ME" => "(count x (where (= a me)))",
    value_today: "count x where a < today" => "(count x (where (< a today)))",
    value_unicode: "count x where a = 'Aliénor'" => "(count x (where (= a \"Aliénor\")))",
}

#[test]
fn spans_point_into_the_source() {
    let src = "set client mkc111 phone = '+33 6'";
    let statement = &parse(src).unwrap()[0];
    assert_eq!(statement.span, oc12::Span::new(0, src.len()));
    let oc12::language::ast::StatementKind::Set {
        target,
        assignments,
    } = &statement.kind
    else {
        panic!("not a set")
    };
    let at = |span: oc12::Span| &src[span.offset..span.end()];
    assert_eq!(at(target.entity.span), "client");
    assert_eq!(at(target.id.span), "mkc111");
    assert_eq!(at(assignments[0].field.span), "phone");
    assert_eq!(at(assignments[0].value.span), "'+33 6'");
}

// ---------------------------------------------------------------------------
// Errors, rendered as the user sees them.

fails! {
    parse_set_with_a_filter: "set events where id = x"
        => "error[parse]: `set` works on one record, named by its id: `set event ID ...`; `list events where ...` finds the ids\n  | set events where id = x\n  |            ^^^^^",
    parse_a_filter_without_where: "list clients name = Kevin"
        => "error[parse]: expected `where`, `order by`, `limit`, `offset` or the end of the statement, found `name`\n  | list clients name = Kevin\n  |              ^^^^\n  = did you mean `where name`?",
    parse_a_psql_command: "\\dt"
        => "error[parse]: this is not psql: `help` lists the statements, `list ENTITY` shows a table (a backslash outside quotes only continues a line)\n  | \\dt\n  | ^",
    check_a_day_the_calendar_lacks: "set event e1 start = '31-02-2022 10:00'"
        => "error[invalid]: `31-02-2022 10:00` is not a real date: there is no 31 February 2022 (February 2022 has 28 days)\n  | set event e1 start = '31-02-2022 10:00'\n  |                      ^^^^^^^^^^^^^^^^^^",
    check_not_a_date_names_both_orders: "list events where start > soon"
        => "error[invalid]: `soon` is not a date (2023-06-04 or 04-06-2023) or a date and time ('2023-06-04 13:00' or '04-06-2023 13:00')\n  | list events where start > soon\n  |                           ^^^^",
    parse_nothing_after_where: "list contracts where"
        => "error[parse]: expected a field name after `where`\n  | list contracts where\n  |                     ^",
    parse_operator_after_where: "list contracts where = 3"
        => "error[parse]: expected a field name after `where`\n  | list contracts where = 3\n  |                      ^",
    parse_missing_operator: "list contracts where status signed"
        => "error[parse]: expected an operator after `status` (=, !=, <, <=, >, >=, ~)\n  | list contracts where status signed\n  |                             ^^^^^^",
    parse_missing_value: "list contracts where status ="
        => "error[parse]: expected a value after `=`\n  | list contracts where status =\n  |                              ^",
    parse_missing_close: "list events where (support = none"
        => "error[parse]: expected `)`, `and` or `or`\n  | list events where (support = none\n  |                                  ^",
    parse_after_and: "list events where support = none and )"
        => "error[parse]: expected a condition after `and`\n  | list events where support = none and )\n  |                                      ^",
    parse_unterminated: "set client mkc111 name='Kevin"
        => "error[parse]: unterminated quoted text\n  | set client mkc111 name='Kevin\n  |                        ^^^^^^",
    parse_bang: "list clients where name ! x"
        => "error[parse]: unexpected `!`: did you mean `!=`?\n  | list clients where name ! x\n  |                         ^",
    parse_misspelt_verb: "lsit clients"
        => "error[parse]: expected a statement (list, count, show, add, set, delete, sign, pay, history, lookup, help, ...)\n  | lsit clients\n  | ^^^^\n  = did you mean `list`?",
    parse_misspelt_clause: "list clients whre name = x"
        => "error[parse]: expected `where`, `order by`, `limit`, `offset` or the end of the statement, found `whre`\n  | list clients whre name = x\n  |              ^^^^\n  = did you mean `where`?",
    parse_clause_out_of_order: "list clients limit 5 where name = x"
        => "error[parse]: expected `offset` or the end of the statement, found `where`\n  | list clients limit 5 where name = x\n  |                      ^^^^^",
    parse_no_entity: "list"
        => "error[parse]: expected an entity after `list` (clients, contracts, events, ...)\n  | list\n  |     ^",
    parse_no_id: "show event"
        => "error[parse]: expected the id of the event after `event`\n  | show event\n  |           ^",
    parse_set_without_assignment: "set client mkc111"
        => "error[parse]: expected `FIELD = VALUE` after `mkc111`\n  | set client mkc111\n  |                  ^",
    parse_assignment_without_equals: "set client mkc111 name 'Kevin'"
        => "error[parse]: expected `=` after `name`\n  | set client mkc111 name 'Kevin'\n  |                        ^^^^^^^",
    parse_order_without_by: "list clients order name"
        => "error[parse]: expected `by` after `order`\n  | list clients order name\n  |                    ^^^^",
    parse_format_without_name: "format"
        => "error[parse]: expected `table`, `vertical`, `csv` or `json` after `format`\n  | format\n  |       ^",
    parse_two_statements_without_separator: "whoami logout"
        => "error[parse]: expected the end of the statement, found `logout`\n  | whoami logout\n  |        ^^^^^^",
    parse_stray_backslash: "list clients \\ where"
        => "error[parse]: a backslash outside quotes only continues a line: it must end the line\n  | list clients \\ where\n  |              ^",
    unknown_entity: "list contrats"
        => "error[unknown]: no entity `contrats`\n  | list contrats\n  |      ^^^^^^^^\n  = did you mean `contracts`?",
    unknown_field: "list clients where nmae = x"
        => "error[unknown]: clients have no field `nmae`\n  | list clients where nmae = x\n  |                    ^^^^\n  = did you mean `name`?",
    unknown_field_without_suggestion: "list clients order by size"
        => "error[unknown]: clients have no field `size`\n  | list clients order by size\n  |                       ^^^^",
    unknown_enum_value: "list contracts where status = sined"
        => "error[unknown]: no status `sined`: unsigned, signed, canceled\n  | list contracts where status = sined\n  |                               ^^^^^\n  = did you mean `signed`?",
    unknown_assignment_field: "set event geg2021 suport=af123456789"
        => "error[unknown]: events have no field `suport`\n  | set event geg2021 suport=af123456789\n  |                   ^^^^^^\n  = did you mean `support`?",
    unknown_help_topic: "help lsit"
        => "error[unknown]: no help on `lsit`\n  | help lsit\n  |      ^^^^\n  = did you mean `list`?",
    unknown_format: "format jsn"
        => "error[unknown]: no format `jsn`: table, vertical, csv or json\n  | format jsn\n  |        ^^^\n  = did you mean `json`?",
    invalid_amount: "list contracts where remain > abc"
        => "error[invalid]: `abc` is not an amount (e.g. 999.99)\n  | list contracts where remain > abc\n  |                               ^^^",
    invalid_decimals: "set contract kc555 total=12.345"
        => "error[invalid]: `12.345` has more than 2 decimals\n  | set contract kc555 total=12.345\n  |                          ^^^^^^",
    invalid_negative: "set contract kc555 remain=-5"
        => "error[invalid]: an amount cannot be below 0\n  | set contract kc555 remain=-5\n  |                           ^^",
    invalid_integer: "list events where attendees > 1.5"
        => "error[invalid]: `1.5` is not a whole number\n  | list events where attendees > 1.5\n  |                               ^^^",
    invalid_day: "list events where start > 2023-02-30"
        => "error[invalid]: `2023-02-30` is not a real date: there is no 30 February 2023 (February 2023 has 28 days)\n  | list events where start > 2023-02-30\n  |                           ^^^^^^^^^^",
    invalid_date: "list events where start > tomorrow"
        => "error[invalid]: `tomorrow` is not a date (2023-06-04 or 04-06-2023) or a date and time ('2023-06-04 13:00' or '04-06-2023 13:00')\n  | list events where start > tomorrow\n  |                           ^^^^^^^^",
    invalid_email: "set client mkc111 email=kevin"
        => "error[invalid]: `kevin` is not an email address\n  | set client mkc111 email=kevin\n  |                         ^^^^^",
    invalid_phone: "set client mkc111 phone=12"
        => "error[invalid]: `12` is not a phone number: digits, spaces, +, ., -, 8 to 15 digits\n  | set client mkc111 phone=12\n  |                         ^^",
    invalid_contains_on_money: "list contracts where remain ~ 5"
        => "error[invalid]: `~` (contains) works on text; `remain` is money\n  | list contracts where remain ~ 5\n  |                             ^",
    invalid_order_on_enum: "list contracts where status > signed"
        => "error[invalid]: `status` has no order (unsigned|signed|canceled): use `=` or `!=`\n  | list contracts where status > signed\n  |                             ^",
    invalid_me: "list clients where name = me"
        => "error[invalid]: `me` names a collaborator; `name` is text\n  | list clients where name = me\n  |                           ^^",
    invalid_today: "list clients where name = today"
        => "error[invalid]: `today` is a date; `name` is text\n  | list clients where name = today\n  |                           ^^^^^",
    invalid_none_order: "list events where support > none"
        => "error[invalid]: `none` only compares with `=` (has no value) and `!=` (has one)\n  | list events where support > none\n  |                           ^^^^^^",
    invalid_none_required: "set client mkc111 name=none"
        => "error[invalid]: `name` cannot be none\n  | set client mkc111 name=none\n  |                        ^^^^",
    invalid_empty_required: "set client mkc111 name='  '"
        => "error[invalid]: `name` cannot be empty\n  | set client mkc111 name='  '\n  |                        ^^^^",
    invalid_derived: "set contract kc555 commercial=aa123456789"
        => "error[invalid]: `commercial` is derived (the client's commercial) and cannot be assigned\n  | set contract kc555 commercial=aa123456789\n  |                    ^^^^^^^^^^",
    invalid_set_id: "set client mkc111 id=x"
        => "error[invalid]: an id cannot be changed\n  | set client mkc111 id=x\n  |                   ^^",
    invalid_set_created: "set client mkc111 created=2020-01-01"
        => "error[invalid]: `created` of clients cannot be changed\n  | set client mkc111 created=2020-01-01\n  |                   ^^^^^^^",
    invalid_twice: "set client mkc111 name=a telephone=0612345678 name=b"
        => "error[invalid]: `name` is given twice\n  | set client mkc111 name=a telephone=0612345678 name=b\n  |                                               ^^^^",
    invalid_add_missing: "add contract client=mkc111"
        => "error[invalid]: add contract needs total\n  | add contract client=mkc111\n  |     ^^^^^^^^",
    invalid_add_nothing: "add client"
        => "error[invalid]: add client needs name, email\n  | add client\n  |     ^^^^^^",
    refused_add_commercial: "add client name=a email=a@b.io commercial=aa123456789"
        => "error[permission]: `commercial` cannot be given to `add client`: the commercial in charge (whoever added the client; gestion reassigns)\n  | add client name=a email=a@b.io commercial=aa123456789\n  |                                ^^^^^^^^^^",
    invalid_pay_zero: "pay contract ff555 0"
        => "error[invalid]: a payment must be more than 0\n  | pay contract ff555 0\n  |                    ^",
    invalid_pay_word: "pay contract ff555 lots"
        => "error[invalid]: `lots` is not an amount (e.g. 999.99)\n  | pay contract ff555 lots\n  |                    ^^^^",
    invalid_sign_client: "sign client mkc111"
        => "error[invalid]: only contracts take `sign`: `sign contract ID`\n  | sign client mkc111\n  |      ^^^^^^",
    refused_read_only: "delete department support"
        => "error[permission]: departments are read only\n  | delete department support\n  |        ^^^^^^^^^^",
    invalid_limit: "list clients limit 2.5"
        => "error[invalid]: `limit` takes a whole number, not `2.5`\n  | list clients limit 2.5\n  |                    ^^^",
    invalid_id: "show client none"
        => "error[invalid]: expected the id of the client, found `none`\n  | show client none\n  |             ^^^^",
}

#[test]
fn too_deep_nesting_is_a_parse_error() {
    let src = format!(
        "count events where {}attendees = 1{}",
        "(".repeat(65),
        ")".repeat(65)
    );
    let e = parse(&src).unwrap_err();
    assert_eq!(e.kind, oc12::ErrorKind::Parse);
    assert!(e.message.starts_with("too deeply nested"), "{}", e.message);
    assert_eq!(e.span, Some(oc12::Span::new(19 + 64, 1)));
    let ok = format!(
        "count events where {}attendees = 1{}",
        "(".repeat(64),
        ")".repeat(64)
    );
    check(&ok).unwrap();
}

#[test]
fn errors_in_a_continued_line_point_at_the_right_physical_line() {
    let src = "list events \\\n  where size > 3";
    let rendered = check(src).unwrap_err().render(src, Some(("s.oc12", 4)));
    assert!(
        rendered.starts_with("s.oc12:5:9: error[unknown]: events have no field `size`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("  |   where size > 3\n  |         ^^^^"),
        "{rendered}"
    );
}

// ---------------------------------------------------------------------------
// The analyzer's output.

#[test]
fn aliases_and_case_resolve_to_fields() {
    let Data::List(query) =
        data("list contracts where REMAIN_AMOUNT_TO_PAY => 0 order by Full_Amount_To_Pay")
    else {
        panic!("not a list")
    };
    assert_eq!(query.order[0].0.name, "total");
    let Some(analyzer::Cond::Compare { field, op, .. }) = query.filter else {
        panic!("not one comparison")
    };
    assert_eq!((field.name, op), ("remain", oc12::language::ast::Op::Ge));
}

#[test]
fn enum_values_ignore_case() {
    let plan = plan("count contracts where status = SIGNED");
    assert_eq!(plan.params, vec![Param::Text("signed".into())]);
}

#[test]
fn meta_statements_have_no_plan() {
    use analyzer::{Meta, Topic};
    use oc12::output::Format;
    let meta = |src: &str| match check(src).unwrap().pop() {
        Some(Checked::Meta(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(meta("format VERTICAL"), Meta::Format(Format::Vertical));
    assert_eq!(
        meta("passwd ae123456789"),
        Meta::Passwd(Some("ae123456789".into()))
    );
    assert_eq!(meta("login"), Meta::Login(None));
    assert!(
        matches!(meta("help sign"), Meta::Help(Some(Topic::Statement(h))) if h.names == ["sign"])
    );
    assert!(
        matches!(meta("help Companies"), Meta::Help(Some(Topic::Entity(e))) if e.name == "company")
    );
    assert!(matches!(
        meta("help filters"),
        Meta::Help(Some(Topic::General("filters", _)))
    ));
    assert_eq!(meta("exit"), Meta::Quit);
}

#[test]
fn missing_required_lists_what_a_terminal_asks_for() {
    let statement = &parse("add event title=Party start=2024-01-01T10:00").unwrap()[0];
    let oc12::language::ast::StatementKind::Add {
        entity,
        assignments,
    } = &statement.kind
    else {
        panic!("not an add")
    };
    let entity = oc12::language::catalog::entity(&entity.text).unwrap();
    let missing: Vec<&str> = analyzer::missing_required(entity, assignments)
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(missing, ["contract", "end"]);
}

#[test]
fn dates_become_typed_params() {
    use chrono::NaiveDate;
    let day = NaiveDate::from_ymd_opt(2023, 6, 4).unwrap();
    let at = day.and_hms_opt(13, 0, 0).unwrap();
    let params = |src| plan(src).params;
    assert_eq!(
        params("count events where start = 04-06-2023"),
        [Param::Date(day)]
    );
    assert_eq!(
        params("count events where start = 2023-06-04T13:00"),
        [Param::DateTime(at)]
    );
    assert_eq!(
        params("count events where start = '2023-06-04 13:00'"),
        [Param::DateTime(at)]
    );
    // Stored, a day is its midnight.
    assert_eq!(
        params("set event e start=2023-06-04")[0],
        Param::DateTime(day.and_hms_opt(0, 0, 0).unwrap())
    );
}

// ---------------------------------------------------------------------------
// Plans: exact SQL and parameters.

const CONTRACT_SELECT: &str = "SELECT t.id AS \"id\", t.client AS \"client\", cl.commercial AS \"commercial\", \
t.total AS \"total\", t.remain AS \"remain\", t.status AS \"status\", t.created AS \"created\", \
t.signed_at AS \"signed\" FROM crm.contract t LEFT JOIN crm.client cl ON cl.id = t.client";

fn money(s: &str) -> Param {
    Param::Money(s.parse().unwrap())
}

fn text(s: &str) -> Param {
    Param::Text(s.into())
}

#[test]
fn list_selects_display_fields_with_derived_joins() {
    let plan = plan("list contracts");
    assert_eq!(
        plan.sql,
        format!("{CONTRACT_SELECT} ORDER BY lower(t.id), t.id")
    );
    let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "client",
            "commercial",
            "total",
            "remain",
            "status",
            "created",
            "signed"
        ]
    );
}

#[test]
fn precedence_is_kept_by_parentheses() {
    let plan = plan(
        "list contracts where status = unsigned or remain > 0 and not (client = mkc111 or commercial = me)",
    );
    assert_eq!(
        plan.sql,
        format!(
            "{CONTRACT_SELECT} WHERE (t.status = $1::text OR (t.remain > $2::numeric AND \
             ((t.client = $3::text OR cl.commercial = crm.me())) IS NOT TRUE)) \
             ORDER BY lower(t.id), t.id"
        )
    );
    assert_eq!(plan.params, [text("unsigned"), money("0"), text("mkc111")]);
}

#[test]
fn order_limit_offset() {
    let plan =
        plan("list contracts where status=signed order by remain desc, client limit 10 offset 20");
    assert_eq!(
        plan.sql,
        format!(
            "{CONTRACT_SELECT} WHERE t.status = $1::text ORDER BY t.remain DESC, lower(t.client), t.client, \
             lower(t.id), t.id LIMIT $2::int8 OFFSET $3::int8"
        )
    );
    assert_eq!(
        plan.params,
        [text("signed"), Param::Integer(10), Param::Integer(20)]
    );
}

plans! {
    count_joins_only_what_the_filter_needs: "count events where commercial = me"
        => "SELECT count(*) AS \"count\" FROM crm.event t LEFT JOIN crm.contract ct ON ct.id = t.contract \
            LEFT JOIN crm.client cl ON cl.id = ct.client WHERE cl.commercial = crm.me()", [],
    count_everything: "count clients" => "SELECT count(*) AS \"count\" FROM crm.client t", [],
    none_is_null: "count events where support = none or location != none"
        => "SELECT count(*) AS \"count\" FROM crm.event t WHERE (t.support IS NULL OR t.location IS NOT NULL)", [],
    not_equal_keeps_nulls: "count events where support != me"
        => "SELECT count(*) AS \"count\" FROM crm.event t WHERE t.support IS DISTINCT FROM crm.me()", [],
    contains_escapes_like: "count clients where name ~ '50%_off\\\\'"
        => "SELECT count(*) AS \"count\" FROM crm.client t WHERE t.name ILIKE '%' || $1::text || '%'",
        [text("50\\%\\_off\\\\")],
    today_is_current_date: "count events where start >= today and end < today"
        => "SELECT count(*) AS \"count\" FROM crm.event t WHERE (t.start_at >= CURRENT_DATE AND t.end_at < CURRENT_DATE)", [],
    a_day_is_a_range: "count events where start = 2023-07-25"
        => "SELECT count(*) AS \"count\" FROM crm.event t WHERE (t.start_at >= $1::date AND t.start_at < $1::date + 1)",
        [Param::Date(chrono::NaiveDate::from_ymd_opt(2023, 7, 25).unwrap())],
    after_a_day: "count events where start > 2023-07-25 and end <= 2023-07-26"
        => "SELECT count(*) AS \"count\" FROM crm.event t WHERE (t.start_at >= $1::date + 1 AND t.end_at < $2::date + 1)",
        [Param::Date(chrono::NaiveDate::from_ymd_opt(2023, 7, 25).unwrap()),
         Param::Date(chrono::NaiveDate::from_ymd_opt(2023, 7, 26).unwrap())],
    department_members: "count departments where members > 1"
        => "SELECT count(*) AS \"count\" FROM crm.department t WHERE \
            (SELECT count(*) FROM crm.collaborator m WHERE m.department = t.id) > $1::int8", [Param::Integer(1)],
    add_inserts_given_columns: "add contract client=mkc111 total=1200 remain=1200"
        => "INSERT INTO crm.contract (client, total, remain) VALUES ($1::text, $2::numeric, $3::numeric) RETURNING id",
        [text("mkc111"), money("1200"), money("1200")],
    add_with_id_and_none: "add event id=party title=Party contract=ff555 start=2024-06-04T13:00 end=2024-06-05T02:00 location=none"
        => "INSERT INTO crm.event (id, title, contract, start_at, end_at, location) \
            VALUES ($1::text, $2::text, $3::text, $4::timestamp, $5::timestamp, NULL) RETURNING id",
        [text("party"), text("Party"), text("ff555"),
         Param::DateTime(chrono::NaiveDate::from_ymd_opt(2024, 6, 4).unwrap().and_hms_opt(13, 0, 0).unwrap()),
         Param::DateTime(chrono::NaiveDate::from_ymd_opt(2024, 6, 5).unwrap().and_hms_opt(2, 0, 0).unwrap())],
    set_updates_by_id: "set event geg2021 support=af123456789, attendees=40"
        => "UPDATE crm.event SET support = $1::text, attendees = $2::int8 WHERE id = $3::text RETURNING id",
        [text("af123456789"), Param::Integer(40), text("geg2021")],
    set_unassigns: "set client mkc111 commercial=none"
        => "UPDATE crm.client SET commercial = NULL WHERE id = $1::text RETURNING id", [text("mkc111")],
    delete_by_id: "delete client mkc111"
        => "DELETE FROM crm.client WHERE id = $1::text RETURNING id", [text("mkc111")],
    sign_contract: "sign contract kc555"
        => "UPDATE crm.contract SET status = 'signed' WHERE id = $1::text RETURNING id", [text("kc555")],
    pay_cannot_overdraw: "pay contract ff555 20.99"
        => "UPDATE crm.contract SET remain = remain - $1::numeric WHERE id = $2::text AND remain >= $1::numeric RETURNING remain",
        [money("20.99"), text("ff555")],
    history_reads_the_audit: "history client mkc111"
        => "SELECT a.at AS \"at\", a.actor AS \"by\", c.name AS \"name\", a.op AS \"op\", \
            a.changes AS \"changes\" \
            FROM crm.audit a LEFT JOIN crm.collaborator c ON c.id = a.actor \
            WHERE a.tbl = $1::text AND a.record = $2::text ORDER BY a.at, a.pk",
        [text("client"), text("mkc111")],
    add_collaborator_calls_the_function: "add collaborator name='Mickey Mouse' email=m@epic-events.example department=support"
        => "SELECT crm.add_collaborator($1::text, $2::text, $3::text, $4::text, $5::text, $6::text) AS \"id\"",
        [Param::Null, text("Mickey Mouse"), text("m@epic-events.example"), text("support"), Param::Null, Param::Null],
    set_collaborator_keeps_what_is_not_named: "set collaborator ae123456789 department=gestion"
        => "SELECT crm.set_collaborator($1::text, $2::text, $3::text, $4::text, $5::text)",
        [text("ae123456789"), Param::Null, Param::Null, text("gestion"), Param::Null],
    delete_collaborator_calls_the_function: "delete collaborator ad123456789"
        => "SELECT crm.delete_collaborator($1::text)", [text("ad123456789")],
}

#[test]
fn the_password_hash_fills_the_last_placeholder() {
    let src = "add collaborator name=M email=m@e.io department=support";
    let data = data(src);
    assert!(planner::needs_password_hash(&data));
    let Planned::One(mut plan) = planner::plan(&data) else {
        panic!()
    };
    planner::fill_password_hash(&mut plan, "$scrypt$...".into());
    assert_eq!(plan.params[5], text("$scrypt$..."));
    assert!(!planner::needs_password_hash(&self::data(
        "add location address=a postcode=1 city=b"
    )));
}

#[test]
fn show_plans_the_record_and_its_relations() {
    let Planned::Show(show) = planner::plan(&data("show client mkc111")) else {
        panic!()
    };
    assert!(
        show.main
            .sql
            .ends_with("FROM crm.client t WHERE t.id = $1::text"),
        "{}",
        show.main.sql
    );
    let titles: Vec<&str> = show.related.iter().map(|r| r.title).collect();
    assert_eq!(titles, ["contracts", "events"]);
    assert!(
        show.related
            .iter()
            .all(|r| r.plan.params == [text("mkc111")])
    );

    let Planned::Show(event) = planner::plan(&data("show event geg2021")) else {
        panic!()
    };
    let names: Vec<&str> = event.main.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "title",
            "id",
            "contract",
            "client",
            "client_email",
            "client_phone",
            "start",
            "end",
            "support",
            "address",
            "postcode",
            "city",
            "country",
            "attendees",
            "notes"
        ]
    );
}

#[test]
fn every_plan_binds_as_many_params_as_it_names() {
    for (src, plan) in planner::representative_plans().unwrap() {
        let highest = (1..=plan.params.len() + 1)
            .take_while(|n| plan.sql.contains(&format!("${n}")))
            .count();
        assert_eq!(highest, plan.params.len(), "{src}: {}", plan.sql);
    }
}

// ---------------------------------------------------------------------------
// Everything shipped parses and checks.

fn shipped_files(dir: &str, ext: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// The lines of the fenced blocks under `## Examples` in a Markdown file.
fn markdown_examples(text: &str) -> Vec<&str> {
    let section = text.split("## Examples").nth(1).unwrap_or("");
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .flat_map(str::lines)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn every_grammar_example_parses_and_checks() {
    let mut seen = 0;
    for file in shipped_files("grammar", "md") {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in markdown_examples(&text) {
            check(line).unwrap_or_else(|e| panic!("{}: {}", file.display(), e.render(line, None)));
            seen += 1;
        }
    }
    assert!(seen > 30, "only {seen} grammar examples");
}

/// A script's statements as `-f` reads them: `(first line, text)`.
fn script_units(text: &str) -> Vec<(usize, String)> {
    oc12::shell::script::Reader::new(text.as_bytes())
        .map(|unit| {
            let unit = unit.unwrap_or_else(|(e, u)| panic!("line {}: {e}", u.line));
            (unit.line, unit.text)
        })
        .collect()
}

#[test]
fn every_example_script_parses_and_checks() {
    let files = shipped_files("examples", "oc12");
    assert!(files.len() >= 12, "only {} example scripts", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display().to_string();
        let mut statements = 0;
        for (line, src) in script_units(&text) {
            let src = src.as_str();
            let checked =
                check(src).unwrap_or_else(|e| panic!("{}", e.render(src, Some((&name, line)))));
            statements += checked.len();
        }
        assert!(statements > 0, "{name} has no statement");
    }
}

#[test]
fn every_help_example_parses_and_checks() {
    for help in oc12::language::help::STATEMENTS {
        for example in help.examples {
            check(example).unwrap_or_else(|e| panic!("{}", e.render(example, None)));
        }
    }
}

/// The completer walks every shipped statement to its end: it knows the
/// grammar the parser knows.
#[test]
fn every_shipped_statement_walks_the_completer() {
    use oc12::shell::complete::{NamesOnly, first_unknown};
    let fits = |src: &str, whence: &str| {
        if let Some(at) = first_unknown(src, &NamesOnly) {
            panic!(
                "{whence}: the completer is lost at `{}` in `{src}`",
                &src[at..]
            );
        }
    };
    for file in shipped_files("grammar", "md") {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in markdown_examples(&text) {
            fits(line, &file.display().to_string());
        }
    }
    for file in shipped_files("examples", "oc12") {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, src) in script_units(&text) {
            fits(&src, &format!("{}:{line}", file.display()));
        }
    }
    for help in oc12::language::help::STATEMENTS {
        for example in help.examples {
            fits(example, "help");
        }
    }
}

#[test]
fn quote_round_trips_through_the_parser() {
    for text in [
        "plain",
        "O'Hara",
        "say \"hi\"",
        "back\\slash\\",
        "",
        "a # b ; c",
    ] {
        let src = format!("set event e notes={}", parser::quote(text));
        let Data::Set { values, .. } = data(&src) else {
            panic!()
        };
        assert_eq!(
            values[0].value,
            analyzer::Operand::Param(Param::Text(text.into())),
            "{src}"
        );
    }
}

#[test]
fn help_texts_come_from_the_catalogue() {
    let help = |src: &str| match check(src).unwrap().pop() {
        Some(Checked::Meta(analyzer::Meta::Help(Some(topic)))) => topic.text(),
        other => panic!("{other:?}"),
    };
    assert!(help("help pay").starts_with("pay contract ID AMOUNT\n"));
    assert!(help("help contract").contains("remain_amount_to_pay"));
    assert!(help("help values").contains("04-06-2023"));
}

// ---------------------------------------------------------------------------
// lookup, and what the registries check before anything runs.

parses! {
    lookup_siren: "lookup company 356000000" => "(lookup company 356000000)",
    lookup_quoted_name: "lookup company 'la poste'" => "(lookup company \"la poste\")",
    lookup_bare_words: "LOOKUP locations Saint Malo" => "(lookup locations Saint Malo)",
    lookup_postcode: "lookup location 29590; lookup location Gourin"
        => "(lookup location 29590); (lookup location Gourin)",
}

fails! {
    parse_lookup_nothing: "lookup"
        => "error[parse]: expected `company` or `location` after `lookup`\n  | lookup\n  |       ^",
    parse_lookup_no_query: "lookup location"
        => "error[parse]: expected a postcode or a city after `lookup location`\n  | lookup location\n  |                ^",
    lookup_unknown_kind: "lookup compagny 1"
        => "error[unknown]: `lookup` finds `company` or `location`, not `compagny`\n  | lookup compagny 1\n  |        ^^^^^^^^\n  = did you mean `company`?",
    lookup_another_entity: "lookup clients kevin"
        => "error[invalid]: `lookup` finds companies and locations, not clients\n  | lookup clients kevin\n  |        ^^^^^^^",
    lookup_wrong_check_digit: "lookup company 999 222 889"
        => "error[invalid]: `999222889` is not a SIREN: its check digit is wrong\n  | lookup company 999 222 889\n  |                ^^^^^^^^^^^",
    lookup_short_siren: "lookup company 12345"
        => "error[invalid]: `12345` is not a SIREN: it has 9 digits\n  | lookup company 12345\n  |                ^^^^^",
    lookup_short_postcode: "lookup location 7501"
        => "error[invalid]: `7501` is not a French postcode: it has 5 digits\n  | lookup location 7501\n  |                 ^^^^",
    invalid_siren_in_add: "add company name=X siren=999222889 location=p22240"
        => "error[invalid]: `999222889` is not a SIREN: its check digit is wrong\n  | add company name=X siren=999222889 location=p22240\n  |                          ^^^^^^^^^",
    unknown_ape_code: "set company CSLLC12345 activity=62.10Z"
        => "error[unknown]: `62.10Z` is not an APE code of the NAF (e.g. 62.01Z)\n  | set company CSLLC12345 activity=62.10Z\n  |                                 ^^^^^^\n  = did you mean `62.01Z`?",
    add_company_needs_a_siren_to_be_filled: "add company name=X"
        => "error[invalid]: add company needs siren, location\n  | add company name=X\n  |     ^^^^^^^",
}

#[test]
fn lookup_is_a_meta_statement_with_a_checked_query() {
    use oc12::language::lookup::{Lookup, Query};
    let lookup = |src: &str| match check(src).unwrap().pop() {
        Some(Checked::Meta(analyzer::Meta::Lookup(Lookup { query, .. }))) => query,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        lookup("lookup company 356 000 000"),
        Query::Siren("356000000".into())
    );
    assert_eq!(
        lookup("lookup companies la poste"),
        Query::CompanyName("la poste".into())
    );
    assert_eq!(
        lookup("lookup location 29590"),
        Query::Postcode("29590".into())
    );
    assert_eq!(
        lookup("lookup location 'Le Faou'"),
        Query::City("Le Faou".into())
    );
}

#[test]
fn what_the_registry_fills_is_not_required_when_its_key_is_given() {
    // The registry fills them (or says why it cannot) before the planner.
    let Data::Add { values, .. } = data("add company siren=356000000") else {
        panic!()
    };
    assert_eq!(values.len(), 1);
    data("add location address='1 rue de Rivoli' postcode=75001");
    // An APE code is written as the database stores it.
    assert!(
        error("set company CSLLC12345 activity=6201z").ends_with("= did you mean `62.01Z`?"),
        "{}",
        error("set company CSLLC12345 activity=6201z")
    );
    assert!(error("add location address=x city=Paris").contains("add location needs postcode"));
}
