//! Script mode through the real binary: `-c`, `-f FILE`, `-f -` and piped
//! standard input; the four output formats on the demo data; errors, their
//! `FILE:LINE:COLUMN` and exit codes; transactions; broken pipes.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{DEMO_PASSWORD, TestDb};

/// A demo CRM with the gestion manager ac123456789 logged in.
fn logged_in() -> TestDb {
    let db = TestDb::demo();
    db.shell()
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    db
}

/// Writes a script into the database's home (the shell's working folder)
/// and returns its name, as a user would pass it to `-f`.
fn script(db: &TestDb, name: &str, text: &str) -> String {
    std::fs::write(db.home.path().join(name), text).unwrap();
    name.to_owned()
}

fn one(admin: &mut postgres::Client, sql: &str) -> String {
    admin.query_one(sql, &[]).unwrap().get(0)
}

const SIGNED_CONTRACTS_CSV: &str = "\
id,client,commercial,total,remain,status,created,signed
av123,SRODAP37,aa123456789,155.60,0.00,signed,2020-06-02T00:00:00+02:00,2020-06-02T00:00:00+02:00
aw231,FJONIC35,ab123456789,255.60,0.00,signed,2020-06-22T00:00:00+02:00,2020-06-22T00:00:00+02:00
ax312,DBLATT85,aa123456789,355.60,0.00,signed,2020-07-12T00:00:00+02:00,2020-07-12T00:00:00+02:00
ay312,VDINPR25,ab123456789,455.60,0.00,signed,2020-07-22T00:00:00+02:00,2020-07-22T00:00:00+02:00
ff555,mkc111,ab123456789,444.55,20.99,signed,2022-01-16T00:00:00+01:00,2022-01-16T00:00:00+01:00
zz123,axs40,ab123456789,72.50,0.00,signed,2021-04-15T00:00:00+02:00,2021-04-15T00:00:00+02:00
";

const SIGNED_CONTRACTS_JSON: &str = r#"{"id":"av123","client":"SRODAP37","commercial":"aa123456789","total":"155.60","remain":"0.00","status":"signed","created":"2020-06-02T00:00:00+02:00","signed":"2020-06-02T00:00:00+02:00"}
{"id":"aw231","client":"FJONIC35","commercial":"ab123456789","total":"255.60","remain":"0.00","status":"signed","created":"2020-06-22T00:00:00+02:00","signed":"2020-06-22T00:00:00+02:00"}
{"id":"ax312","client":"DBLATT85","commercial":"aa123456789","total":"355.60","remain":"0.00","status":"signed","created":"2020-07-12T00:00:00+02:00","signed":"2020-07-12T00:00:00+02:00"}
{"id":"ay312","client":"VDINPR25","commercial":"ab123456789","total":"455.60","remain":"0.00","status":"signed","created":"2020-07-22T00:00:00+02:00","signed":"2020-07-22T00:00:00+02:00"}
{"id":"ff555","client":"mkc111","commercial":"ab123456789","total":"444.55","remain":"20.99","status":"signed","created":"2022-01-16T00:00:00+01:00","signed":"2022-01-16T00:00:00+01:00"}
{"id":"zz123","client":"axs40","commercial":"ab123456789","total":"72.50","remain":"0.00","status":"signed","created":"2021-04-15T00:00:00+02:00","signed":"2021-04-15T00:00:00+02:00"}
"#;

#[test]
fn exact_csv_and_json_of_the_demo_data() {
    let db = logged_in();
    let signed = "list contracts where status = signed order by id";
    let out = db.shell().args(["--format", "csv", "-c", signed]).run();
    assert_eq!(out.status(0).stdout(), SIGNED_CONTRACTS_CSV);
    let out = db.shell().args(["--format", "json", "-c", signed]).run();
    assert_eq!(out.status(0).stdout(), SIGNED_CONTRACTS_JSON);

    // The demo data leaves `created` to init's clock: pin it.
    db.admin()
        .batch_execute(
            "UPDATE crm.event SET created = '2021-06-01 10:30:00 Europe/Paris' WHERE id = 'geg2021'",
        )
        .unwrap();
    let unassigned = "list events where support = none";
    let out = db.shell().args(["--format", "csv", "-c", unassigned]).run();
    assert_eq!(
        out.status(0).stdout(),
        "id,title,contract,client,commercial,support,start,end,location,attendees,notes,created\n\
         geg2021,Gourin escape game 2021,zz123,axs40,ab123456789,,2021-07-25T16:00:00+02:00,\
         2021-07-25T22:00:00+02:00,ggg56110,35,,2021-06-01T10:30:00+02:00\n"
    );
    let out = db
        .shell()
        .args(["--format", "json", "-c", unassigned])
        .run();
    assert_eq!(
        out.status(0).stdout(),
        r#"{"id":"geg2021","title":"Gourin escape game 2021","contract":"zz123","client":"axs40","commercial":"ab123456789","support":null,"start":"2021-07-25T16:00:00+02:00","end":"2021-07-25T22:00:00+02:00","location":"ggg56110","attendees":35,"notes":null,"created":"2021-06-01T10:30:00+02:00"}
"#
    );
    // A quoted CSV field and a seed alias.
    let out = db
        .shell()
        .args([
            "--format",
            "csv",
            "-c",
            "list locations where code_postal = 41120",
        ])
        .run();
    let stdout = out.status(0).stdout();
    assert!(
        stdout.starts_with(
            "id,address,complement,postcode,city,region,country,created\n\
             csb41120,53 av. Bobet,Petite Avenue,41120,Candé-sur-Beuvron,Centre-Val de Loire,France,"
        ),
        "{stdout}"
    );
}

/// One zone everywhere, the user's: what tables and records show, the
/// offsets of csv and json, and the times typed in filters.
#[test]
fn times_are_in_the_user_s_zone_shown_and_typed() {
    let db = logged_in();
    let run = |tz: &str, format: &str, statement: &str| {
        db.shell()
            .env("TZ", tz)
            .args(["--format", format, "-c", statement])
            .run()
            .status(0)
            .stdout()
    };
    // geg2021 starts 2021-07-25 16:00 in Paris: 10:00 in New York.
    let csv = run("America/New_York", "csv", "list events where id = geg2021");
    assert!(
        csv.contains(",2021-07-25T10:00:00-04:00,2021-07-25T16:00:00-04:00,"),
        "{csv}"
    );
    let table = run(
        "America/New_York",
        "table",
        "list events where id = geg2021",
    );
    assert!(table.contains("2021-07-25 10:00"), "{table}");
    assert!(
        table.ends_with("1 row; times in America/New_York\n"),
        "{table}"
    );
    let typed = "count events where start >= '2021-07-25 10:00' and start < '2021-07-25 10:01'";
    assert_eq!(run("America/New_York", "csv", typed), "count\n1\n");
    assert_eq!(run("Europe/Paris", "csv", typed), "count\n0\n");
    // No TZ: the system's zone; one libc does not know: UTC, as libc.
    let table = run("Mars/Olympus", "table", "list events where id = geg2021");
    assert!(table.contains("2021-07-25 14:00"), "{table}");
    assert!(table.ends_with("times in UTC\n"), "{table}");
}

/// One money format everywhere people read it, chosen by example; csv and
/// json keep `1234.50`.
#[test]
fn money_is_shown_as_oc12_money_says() {
    let db = logged_in();
    let run = |money: &str, format: &str, statement: &str| {
        db.shell()
            .env("OC12_MONEY", money)
            .args(["--format", format, "-c", statement])
            .run()
    };
    let kc = "list contracts where id = kc555";
    let table = run("€1,234.50", "table", kc).status(0).stdout();
    assert!(table.contains("│ €999.99 │"), "{table}");
    let vertical = run("1.234,50 EUR", "vertical", kc).status(0).stdout();
    assert!(vertical.contains("total      | 999,99 EUR"), "{vertical}");
    assert_eq!(
        run("€1,234.50", "csv", "show contract kc555")
            .status(0)
            .stdout()
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(3),
        Some("999.99")
    );
    let paid = run("€1,234.50", "table", "pay contract ff555 0.99")
        .status(0)
        .stdout();
    assert_eq!(paid, "paid €0.99 on contract ff555; €20.00 remains\n");
    let wrong = run("lots", "table", kc).status(2).stderr();
    assert!(
        wrong.contains("error[usage]: OC12_MONEY: `lots` does not show 1234.50"),
        "{wrong}"
    );
}

/// Ids, and every word, sort as a reader expects, whatever their case:
/// the cluster's byte-wise order put `VDINPR25` before `axs40`.
#[test]
fn lists_sort_words_without_regard_to_case() {
    let db = logged_in();
    let ids = |statement: &str| {
        let out = db.shell().args(["--format", "csv", "-c", statement]).run();
        out.status(0)
            .stdout()
            .lines()
            .skip(1)
            .map(|line| line.split(',').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids("list clients"),
        [
            "axs40", "DBLATT85", "FJONIC35", "mkc111", "SRODAP37", "VDINPR25"
        ]
    );
    assert_eq!(
        ids("list clients order by id desc"),
        [
            "VDINPR25", "SRODAP37", "mkc111", "FJONIC35", "DBLATT85", "axs40"
        ]
    );
    // By a reference, then by id for the ties.
    assert_eq!(
        ids("list contracts where status = signed order by client limit 3"),
        ["zz123", "ax312", "aw231"]
    );
    // Pages follow the same order.
    assert_eq!(ids("list clients limit 2 offset 2"), ["FJONIC35", "mkc111"]);
    // And the records `show` lists with another.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.client (id, name, email, phone, company, commercial) \
             VALUES ('cl1000', 'Cléo Lambert', 'cleo@tmmachine.xe', '0611223344', 'SCOU3541', 'aa123456789')",
        )
        .unwrap();
    let shown = db
        .shell()
        .args(["-c", "show company SCOU3541"])
        .run()
        .status(0)
        .stdout();
    let at = |id: &str| shown.find(id).unwrap_or_else(|| panic!("{id} in\n{shown}"));
    assert!(
        at("cl1000") < at("DBLATT85") && at("DBLATT85") < at("VDINPR25"),
        "{shown}"
    );
}

const UNSIGNED: &str = "list contracts where status = unsigned order by id";

#[test]
fn list_in_all_four_formats() {
    let db = logged_in();
    let run = |format: &str| {
        db.shell()
            .args(["--format", format, "-c", UNSIGNED])
            .run()
            .status(0)
            .stdout()
    };
    assert_eq!(
        run("table"),
        "\
┌─────────┬──────────┬─────────────┬──────────┬──────────┬──────────┬──────────────────┬────────┐
│ id      │ client   │ commercial  │    total │   remain │ status   │ created          │ signed │
├─────────┼──────────┼─────────────┼──────────┼──────────┼──────────┼──────────────────┼────────┤
│ kc555   │ mkc111   │ ab123456789 │ 999.99 € │ 999.99 € │ unsigned │ 2023-06-03 00:00 │        │
│ xx55555 │ VDINPR25 │ ab123456789 │ 500.00 € │ 500.00 € │ unsigned │ 2022-06-15 00:00 │        │
└─────────┴──────────┴─────────────┴──────────┴──────────┴──────────┴──────────────────┴────────┘
2 rows; times in Europe/Paris
"
    );
    assert_eq!(
        run("vertical"),
        "\
-[ RECORD 1 ]-
id         | kc555
client     | mkc111
commercial | ab123456789
total      | 999.99 €
remain     | 999.99 €
status     | unsigned
created    | 2023-06-03 00:00
signed     |

-[ RECORD 2 ]-
id         | xx55555
client     | VDINPR25
commercial | ab123456789
total      | 500.00 €
remain     | 500.00 €
status     | unsigned
created    | 2022-06-15 00:00
signed     |

2 rows; times in Europe/Paris
"
    );
    assert_eq!(
        run("csv"),
        "\
id,client,commercial,total,remain,status,created,signed
kc555,mkc111,ab123456789,999.99,999.99,unsigned,2023-06-03T00:00:00+02:00,
xx55555,VDINPR25,ab123456789,500.00,500.00,unsigned,2022-06-15T00:00:00+02:00,
"
    );
    assert_eq!(
        run("json"),
        r#"{"id":"kc555","client":"mkc111","commercial":"ab123456789","total":"999.99","remain":"999.99","status":"unsigned","created":"2023-06-03T00:00:00+02:00","signed":null}
{"id":"xx55555","client":"VDINPR25","commercial":"ab123456789","total":"500.00","remain":"500.00","status":"unsigned","created":"2022-06-15T00:00:00+02:00","signed":null}
"#
    );
}

#[test]
fn count_in_all_four_formats() {
    let db = logged_in();
    let run = |format: &str| {
        db.shell()
            .args([
                "--format",
                format,
                "-c",
                "count contracts where status = signed",
            ])
            .run()
            .status(0)
            .stdout()
    };
    assert_eq!(run("table"), "6\n");
    assert_eq!(run("vertical"), "6\n");
    assert_eq!(run("csv"), "count\n6\n");
    assert_eq!(run("json"), "{\"count\":6}\n");
}

#[test]
fn show_in_all_four_formats() {
    let db = logged_in();
    let run = |format: &str| {
        db.shell()
            .args(["--format", format, "-c", "show contract kc555"])
            .run()
            .status(0)
            .stdout()
    };
    let table = run("table");
    assert!(
        table.starts_with(
            "\
-[ RECORD 1 ]-
id         | kc555
client     | mkc111
commercial | ab123456789
total      | 999.99 €
remain     | 999.99 €
status     | unsigned
created    | 2023-06-03 00:00
signed     |
"
        ),
        "{table}"
    );
    assert!(table.contains("\n\ncontact:\n┌─────────────┬"), "{table}");
    assert!(
        table.contains(
            "│ Kevin Casey │ kevin@startup.io │ 067812345678 │ Bill Boquet │\n\
             └─────────────┴──────────────────┴──────────────┴─────────────┘\n\
             1 row\n"
        ),
        "{table}"
    );
    // No event on an unsigned contract: an empty table.
    assert!(table.ends_with("0 rows\n"), "{table}");

    let vertical = run("vertical");
    assert!(
        vertical.contains(
            "\
client     | Kevin Casey
email      | kevin@startup.io
phone      | 067812345678
commercial | Bill Boquet
"
        ),
        "{vertical}"
    );
    assert!(!vertical.contains('┌'), "{vertical}");

    let csv = run("csv");
    assert!(
        csv.starts_with(
            "id,client,commercial,total,remain,status,created,signed\n\
             kc555,mkc111,ab123456789,999.99,999.99,unsigned,2023-06-03T00:00:00+02:00,\n\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("Kevin Casey,kevin@startup.io,067812345678,Bill Boquet\n"),
        "{csv}"
    );

    // One JSON object whose keys are unique: the related lists must not
    // shadow the record's own fields (`client` is both here).
    let json = run("json");
    assert_eq!(json.lines().count(), 1, "{json}");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(object["client"], "mkc111", "{json}");
    assert_eq!(object["total"], "999.99", "{json}");
    assert_eq!(object["events"], serde_json::json!([]), "{json}");
    assert_eq!(
        json.matches("\"client\":").count(),
        // The record's client, and the contact's client name.
        2,
        "{json}"
    );
    assert!(
        json.contains(
            r#""contact":[{"client":"Kevin Casey","email":"kevin@startup.io","phone":"067812345678","commercial":"Bill Boquet"}]"#
        ),
        "{json}"
    );

    // The same for a department: `members` is a field and a list.
    let json = db
        .shell()
        .args(["--format", "json", "-c", "show department support"])
        .run()
        .status(0)
        .stdout();
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(object["members"], 3, "{json}");
    assert_eq!(json.matches("\"members\":").count(), 1, "{json}");
    assert_eq!(object["collaborators"].as_array().map(Vec::len), Some(3));
    assert!(json.contains(r#"{"id":"af123456789","name":"Aliénor Vichum","role":"employee"}"#));
}

#[test]
fn writes_in_all_four_formats() {
    let db = logged_in();
    let run = |format: &str, statement: &str| {
        db.shell()
            .args(["--format", format, "-c", statement])
            .run()
            .status(0)
            .stdout()
    };
    assert_eq!(
        run("table", "pay contract ff555 0.99"),
        "paid 0.99 € on contract ff555; 20.00 € remains\n"
    );
    assert_eq!(
        run("vertical", "sign contract kc555"),
        "signed contract kc555\n"
    );
    assert_eq!(
        run("csv", "set event geg2021 support = af123456789"),
        "changed event geg2021 (support)\n"
    );
    // json: the changed record.
    assert_eq!(
        run("json", "set contract xx55555 remain = 250"),
        r#"{"id":"xx55555","client":"VDINPR25","commercial":"ab123456789","total":"500.00","remain":"250.00","status":"unsigned","created":"2022-06-15T00:00:00+02:00","signed":null}
"#
    );
    let added = run(
        "json",
        "add location address='1 rue de Rivoli' postcode=75001 city=Paris",
    );
    let record: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(record["id"], "lo1000", "{added}");
    assert_eq!(record["city"], "Paris", "{added}");
    assert_eq!(record["country"], "France", "{added}");
    assert_eq!(record["complement"], serde_json::Value::Null, "{added}");
    assert_eq!(
        run("json", "delete location lo1000"),
        "{\"message\":\"deleted location lo1000\"}\n"
    );
    assert_eq!(
        run(
            "table",
            "add location address='2 rue' postcode=75002 city=Paris"
        ),
        "added location lo1001\n"
    );

    let mut admin = db.admin();
    assert_eq!(
        one(
            &mut admin,
            "SELECT concat_ws('|', (SELECT remain FROM crm.contract WHERE id = 'ff555'), \
             (SELECT status FROM crm.contract WHERE id = 'kc555'), \
             (SELECT support FROM crm.event WHERE id = 'geg2021'), \
             (SELECT remain FROM crm.contract WHERE id = 'xx55555'), \
             (SELECT count(*) FROM crm.location WHERE id = 'lo1000'))"
        ),
        "20.00|signed|af123456789|250.00|0"
    );
}

#[test]
fn exit_codes() {
    let db = TestDb::demo();
    // 3: not logged in.
    let out = db.shell().args(["-c", "count clients"]).run().status(3);
    assert_eq!(out.stderr(), "error[auth]: not logged in; run `login`\n");
    assert_eq!(out.stdout(), "");
    db.shell()
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin("wrong password 1")
        .run()
        .status(3);

    db.shell()
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    // 0
    db.shell().args(["-c", "count clients"]).run().status(0);
    // 1: any statement error.
    db.shell().args(["-c", "list contrats"]).run().status(1);
    db.shell()
        .args(["-c", "show client nobody"])
        .run()
        .status(1);
    // 2: bad command-line usage.
    for args in [
        &["--bogus"][..],
        &["--format", "xml", "-c", "count clients"],
        &["--format"],
        &["-f", "no-such-script.oc12"],
    ] {
        let out = db.shell().args(args).run().status(2);
        assert_eq!(out.stdout(), "", "{args:?}");
        assert!(out.stderr().contains("error"), "{args:?}: {}", out.stderr());
    }
    // 4: the database cannot be reached (a socket folder nobody listens in).
    let nowhere = db.home.path().join("no-server");
    std::fs::create_dir(&nowhere).unwrap();
    let url = format!(
        "postgresql://{}/{}",
        nowhere.display().to_string().replace('/', "%2F"),
        db.name
    );
    let out = db
        .shell()
        .env("OC12_DATABASE_URL", &url)
        .args(["-c", "count clients", "-c", "count events"])
        .run()
        .status(4);
    assert_eq!(out.stdout(), "");
    assert!(
        out.stderr().starts_with("error[connection]: "),
        "{}",
        out.stderr()
    );
    // Stopped at the first: one error, not one per statement.
    assert_eq!(
        out.stderr().matches("error[").count(),
        1,
        "{}",
        out.stderr()
    );
}

#[test]
fn errors_say_file_line_and_column_with_carets() {
    let db = logged_in();
    let name = script(
        &db,
        "morning.oc12",
        "# the morning round\n\
         count clients\n\
         \n\
         list events \\\n\
         \x20 where attendees > 50 \\\n\
         \x20   and sise = 3\n\
         count events\n",
    );
    let out = db.shell().args(["-f", &name]).run().status(1);
    assert_eq!(out.stdout(), "6\n");
    assert_eq!(
        out.stderr(),
        "morning.oc12:6:9: error[unknown]: events have no field `sise`\n\
         \x20 |     and sise = 3\n\
         \x20 |         ^^^^\n"
    );

    let name = script(
        &db,
        "parse.oc12",
        "count clients\nlist contracts order status\n",
    );
    let out = db.shell().args(["-f", &name]).run().status(1);
    assert_eq!(
        out.stderr(),
        "parse.oc12:2:22: error[parse]: expected `by` after `order`\n\
         \x20 | list contracts order status\n\
         \x20 |                      ^^^^^^\n"
    );

    let out = db
        .shell()
        .args(["-c", "list contracts where status = sined"])
        .run()
        .status(1);
    assert_eq!(
        out.stderr(),
        "error[unknown]: no status `sined`: unsigned, signed, canceled\n\
         \x20 | list contracts where status = sined\n\
         \x20 |                               ^^^^^\n\
         \x20 = did you mean `signed`?\n"
    );
}

#[test]
fn a_script_stops_at_its_first_error_unless_told_to_go_on() {
    let db = logged_in();
    let name = script(
        &db,
        "round.oc12",
        "set event geg2021 attendees = 40\n\
         pay contract ff555 100\n\
         set event geg2022 attendees = 41\n\
         count events\n",
    );
    let attendees = |db: &TestDb| {
        one(
            &mut db.admin(),
            "SELECT string_agg(attendees::text, ',' ORDER BY id) FROM crm.event \
             WHERE id IN ('geg2021', 'geg2022')",
        )
    };

    let out = db.shell().args(["-f", &name]).run().status(1);
    assert_eq!(out.stdout(), "changed event geg2021 (attendees)\n");
    assert!(
        out.stderr().starts_with(
            "round.oc12:2:20: error[invalid]: cannot pay 100.00 €: only 20.99 € remains to pay on contract ff555"
        ),
        "{}",
        out.stderr()
    );
    // The first statement committed on its own; the third never ran.
    assert_eq!(attendees(&db), "40,35");

    let out = db
        .shell()
        .args(["-f", &name, "--continue-on-error"])
        .run()
        .status(1);
    assert_eq!(
        out.stdout(),
        "changed event geg2021 (attendees)\nchanged event geg2022 (attendees)\n7\n"
    );
    assert_eq!(
        out.stderr().matches("error[").count(),
        1,
        "{}",
        out.stderr()
    );
    assert_eq!(attendees(&db), "40,41");
}

#[test]
fn single_transaction_applies_nothing_when_a_statement_fails() {
    let db = logged_in();
    let name = script(
        &db,
        "all-or-nothing.oc12",
        "set event geg2021 support = af123456789\n\
         pay contract ff555 10\n\
         set contract kc555 remain = 2000\n\
         sign contract xx55555\n\
         add location address='1 rue' postcode=75001 city=Paris\n",
    );
    let state = |db: &TestDb| {
        one(
            &mut db.admin(),
            "SELECT concat_ws('|', \
             coalesce((SELECT support FROM crm.event WHERE id = 'geg2021'), 'none'), \
             (SELECT remain FROM crm.contract WHERE id = 'ff555'), \
             (SELECT remain FROM crm.contract WHERE id = 'kc555'), \
             (SELECT status FROM crm.contract WHERE id = 'xx55555'), \
             (SELECT count(*) FROM crm.location))",
        )
    };
    let before = state(&db);
    assert_eq!(before, "none|20.99|999.99|unsigned|5");
    for flag in ["-1", "--single-transaction"] {
        let out = db.shell().args([flag, "-f", &name]).run().status(1);
        assert!(
            out.stderr()
                .starts_with("all-or-nothing.oc12:3:20: error[invalid]: remain `2000` must be at least 0 and at most the contract's total"),
            "{}",
            out.stderr()
        );
        assert!(
            out.stderr()
                .ends_with("nothing was applied: the whole script was rolled back\n"),
            "{}",
            out.stderr()
        );
        assert_eq!(state(&db), before, "{flag}");
    }
    // Told to go on as well, it refuses to guess which one was meant.
    let out = db
        .shell()
        .args(["-1", "--continue-on-error", "-f", &name])
        .run()
        .status(2);
    assert!(
        out.stderr().contains("cannot be used with"),
        "{}",
        out.stderr()
    );
    assert_eq!(state(&db), before);

    // Without the failing statement, all of it is applied, once.
    let fixed = script(
        &db,
        "fixed.oc12",
        &std::fs::read_to_string(db.home.path().join(&name))
            .unwrap()
            .replace("remain = 2000", "remain = 900"),
    );
    let out = db.shell().args(["-1", "-f", &fixed]).run().status(0);
    assert_eq!(out.stderr(), "");
    assert_eq!(state(&db), "af123456789|10.99|900.00|signed|6");
}

#[test]
fn comments_blank_lines_and_a_last_line_without_newline() {
    let db = logged_in();
    let name = script(
        &db,
        "tidy.oc12",
        "# counts\n\n   \ncount clients  # all of them\n\t# indented comment\ncount contracts;\n\ncount events",
    );
    let out = db.shell().args(["-f", &name]).run().status(0);
    assert_eq!(out.stdout(), "6\n8\n7\n");
    assert_eq!(out.stderr(), "");
    // The same through a pipe, and through `-f -`.
    let text = std::fs::read_to_string(db.home.path().join(&name)).unwrap();
    let out = db.shell().stdin(text.clone()).run().status(0);
    assert_eq!(out.stdout(), "6\n8\n7\n");
    let out = db.shell().args(["-f", "-"]).stdin(text).run().status(0);
    assert_eq!(out.stdout(), "6\n8\n7\n");
    // A continued last line without newline, too.
    let out = db
        .shell()
        .stdin("count events \\\n  where attendees > 99")
        .run()
        .status(0);
    assert_eq!(out.stdout(), "4\n");
}

#[test]
fn piped_stdin_and_dash_f_name_errors_as_stdin() {
    let db = logged_in();
    let out = db
        .shell()
        .stdin("count clients\ncount contrats\n")
        .run()
        .status(1);
    assert_eq!(out.stdout(), "6\n");
    assert!(
        out.stderr()
            .starts_with("<stdin>:2:7: error[unknown]: no entity `contrats`"),
        "{}",
        out.stderr()
    );
    let out = db
        .shell()
        .args(["-f", "-"])
        .stdin("count clients\n\ncount contrats\n")
        .run()
        .status(1);
    assert!(
        out.stderr().starts_with("<stdin>:3:7: error[unknown]"),
        "{}",
        out.stderr()
    );
}

#[test]
fn repeated_c_and_f_run_in_order() {
    let db = logged_in();
    let out = db
        .shell()
        .args([
            "--format",
            "csv",
            "-c",
            "set event geg2021 attendees = 12",
            "-c",
            "list events where id = geg2021 order by id",
            "-c",
            "set event geg2021 attendees = 13",
            "-c",
            "count events where attendees = 13",
        ])
        .run()
        .status(0);
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "changed event geg2021 (attendees)");
    assert!(lines[1].starts_with("id,title,"), "{lines:?}");
    assert!(lines[2].contains(",ggg56110,12,"), "{lines:?}");
    assert_eq!(
        lines[3..],
        ["changed event geg2021 (attendees)", "count", "1"]
    );

    let a = script(&db, "a.oc12", "count clients\n");
    let b = script(&db, "b.oc12", "count events\n");
    let out = db.shell().args(["-f", &b, "-f", &a]).run().status(0);
    assert_eq!(out.stdout(), "7\n6\n");
}

#[test]
fn echo_prints_each_statement_before_its_result() {
    let db = logged_in();
    let name = script(
        &db,
        "echo.oc12",
        "count clients\n\ncount events \\\n  where attendees > 99\n",
    );
    let out = db.shell().args(["--echo", "-f", &name]).run().status(0);
    assert_eq!(
        out.stdout(),
        "count clients\n6\ncount events \\\n  where attendees > 99\n4\n"
    );
    let out = db
        .shell()
        .args(["--echo", "-c", "count clients", "-c", "count events"])
        .run()
        .status(0);
    assert_eq!(out.stdout(), "count clients\n6\ncount events\n7\n");
}

#[test]
fn format_statement_switches_the_output_inside_a_script() {
    let db = logged_in();
    let out = db
        .shell()
        .stdin(
            "count clients\n\
             format csv\n\
             list contracts where status = unsigned order by id\n\
             format json\n\
             count events\n\
             FORMAT table\n\
             count contracts\n",
        )
        .run()
        .status(0);
    assert_eq!(
        out.stdout(),
        "6\n\
         id,client,commercial,total,remain,status,created,signed\n\
         kc555,mkc111,ab123456789,999.99,999.99,unsigned,2023-06-03T00:00:00+02:00,\n\
         xx55555,VDINPR25,ab123456789,500.00,500.00,unsigned,2022-06-15T00:00:00+02:00,\n\
         {\"count\":7}\n\
         8\n"
    );
    let out = db.shell().args(["-c", "format yaml"]).run().status(1);
    assert!(out.stderr().contains("yaml"), "{}", out.stderr());
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let db = logged_in();
    // Enough events that the output outlives the pipe's buffer.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.event (id, title, contract, start_at, end_at, attendees, notes) \
             SELECT 'bulk' || i, 'Bulk event ' || i, 'ff555', '2024-01-01', '2024-01-02', i, \
             repeat('x', 200) FROM generate_series(1, 3000) i",
        )
        .unwrap();
    let mut shell = db
        .shell()
        .args(["--format", "csv", "-c", "list events"])
        .cmd;
    shell
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = shell.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).unwrap();
    assert!(header.starts_with("id,title,"), "{header}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_table_draws_at_most_1000_rows_csv_all_of_them() {
    let db = logged_in();
    db.admin()
        .batch_execute(
            "INSERT INTO crm.location (id, address, postcode, city) \
             SELECT 'bulk' || lpad(i::text, 4, '0'), i || ' rue Longue', '75001', 'Paris' \
             FROM generate_series(1, 1100) i",
        )
        .unwrap();
    let out = db
        .shell()
        .args(["-c", "list locations"])
        .run()
        .status(0)
        .stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&"1000 of 1105 rows shown; use limit/offset or --format csv; times in Europe/Paris")
    );
    // Header, 1000 rows, and nothing else between the box lines.
    assert_eq!(lines.iter().filter(|l| l.starts_with('│')).count(), 1001);
    // `list` orders by id, whatever the case: the bulk rows come first.
    assert!(out.contains("│ bulk1000 │"), "{}", &out[..2000]);
    assert!(!out.contains("bulk1001") && !out.contains("PARRV751"));

    let out = db
        .shell()
        .args(["--format", "csv", "-c", "list locations"])
        .run()
        .status(0)
        .stdout();
    assert_eq!(out.lines().count(), 1 + 1105);
    assert!(!out.contains("rows shown"));
    let out = db
        .shell()
        .args(["--format", "json", "-c", "list locations"])
        .run()
        .status(0)
        .stdout();
    assert_eq!(out.lines().count(), 1105);
    // Under the cap, the usual footer.
    let out = db
        .shell()
        .args(["-c", "list locations limit 1000"])
        .run()
        .status(0)
        .stdout();
    assert!(
        out.ends_with("\n1000 rows; times in Europe/Paris\n"),
        "{}",
        &out[out.len() - 200..]
    );
}

#[test]
fn no_escape_codes_when_output_is_not_a_terminal_or_no_color_is_set() {
    let db = logged_in();
    let statements = [
        "-c",
        "list contracts where status = signed",
        "-c",
        "show event geg2022",
        "-c",
        "count clients",
        "-c",
        "set event geg2021 notes = 'Penser au catering.'",
        "-c",
        "list contrats",
    ];
    for no_color in [false, true] {
        for format in ["table", "vertical", "csv", "json"] {
            let mut shell = db
                .shell()
                .args(["--continue-on-error", "--format", format])
                .args(statements);
            if no_color {
                shell = shell.env("NO_COLOR", "1");
            }
            let out = shell.run().status(1);
            assert!(!out.0.stdout.is_empty());
            assert!(!out.0.stdout.contains(&0x1b), "{format}: {}", out.stdout());
            assert!(!out.0.stderr.contains(&0x1b), "{format}: {}", out.stderr());
        }
    }
    let out = db
        .shell()
        .args(["--no-color", "-c", "help"])
        .run()
        .status(0);
    assert!(!out.0.stdout.contains(&0x1b));
}

/// The `# expect:` and `# expect-error:` blocks of a fixture, each joined
/// into the stream it describes.
fn expected_streams(fixture: &str) -> (String, String) {
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let mut into: Option<&mut String> = None;
    for line in fixture.lines() {
        match line {
            "# expect:" => into = Some(&mut stdout),
            "# expect-error:" => into = Some(&mut stderr),
            _ => match (&mut into, line.strip_prefix('#')) {
                (Some(stream), Some(text)) => {
                    stream.push_str(text.strip_prefix(' ').unwrap_or(text));
                    stream.push('\n');
                }
                _ => into = None,
            },
        }
    }
    (stdout, stderr)
}

#[test]
fn fixture_scripts_print_what_they_expect() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "oc12"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 2, "{fixtures:?}");
    for path in fixtures {
        let db = logged_in();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = script(&db, path.file_name().unwrap().to_str().unwrap(), &text);
        let (stdout, stderr) = expected_streams(&text);
        let out = db.shell().args(["--continue-on-error", "-f", &name]).run();
        assert_eq!(out.stdout(), stdout, "stdout of {name}");
        assert_eq!(out.stderr(), stderr, "stderr of {name}");
        assert_eq!(
            out.code(),
            i32::from(!stderr.is_empty()),
            "exit code of {name}"
        );
    }
}

#[test]
fn dash_c_and_dash_f_run_in_the_order_given() {
    let db = TestDb::demo();
    db.login("ac123456789");
    let script = db.home.path().join("two.oc12");
    std::fs::write(&script, "count contracts\n").unwrap();
    let file = script.to_str().unwrap();
    let out = db
        .shell()
        .args([
            "--format",
            "csv",
            "-f",
            file,
            "-c",
            "count clients",
            "-f",
            file,
        ])
        .run()
        .status(0)
        .stdout();
    let contracts = db.value("SELECT count(*)::text FROM crm.contract");
    assert_ne!(contracts, "6");
    assert_eq!(
        out,
        format!("count\n{contracts}\ncount\n6\ncount\n{contracts}\n")
    );
    // Contradictory options are refused, not one of them silently dropped.
    let run = db
        .shell()
        .args(["-1", "--continue-on-error", "-c", "count clients"])
        .run()
        .status(2);
    assert!(
        run.stderr().contains("--continue-on-error"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
}

#[test]
fn whoami_says_when_the_session_ends_in_the_user_s_zone() {
    let db = logged_in();
    let out = db.shell().args(["whoami"]).run().status(0).stdout();
    let until = out
        .trim_end()
        .strip_prefix("ac123456789 Daisy Duck (gestion), session until ")
        .and_then(|t| t.strip_suffix(" (Europe/Paris)"))
        .unwrap_or_else(|| panic!("{out}"));
    let until = chrono::NaiveDateTime::parse_from_str(until, "%Y-%m-%d %H:%M").unwrap();
    // Eight hours from the login, on the user's clocks (TZ, set by the
    // harness) whatever the machine's.
    let expected = (chrono::Utc::now() + chrono::Duration::hours(8))
        .with_timezone(&chrono_tz::Europe::Paris)
        .naive_local();
    let off = (expected - until).num_minutes().abs();
    assert!(off <= 2, "{until} is {off} minutes from {expected}");
    let tokyo = db
        .shell()
        .env("TZ", "Asia/Tokyo")
        .args(["whoami"])
        .run()
        .status(0)
        .stdout();
    assert!(tokyo.trim_end().ends_with(" (Asia/Tokyo)"), "{tokyo}");
}
