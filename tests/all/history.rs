//! `history ENTITY ID`: the audit trail of one record, in every format.

use crate::support;

use support::TestDb;

fn logged_in(registration: &str) -> TestDb {
    let db = TestDb::demo();
    db.shell()
        .args(["login", registration, "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    db
}

#[test]
fn history_shows_a_sign_and_a_pay_with_old_and_new_values_and_who() {
    let db = logged_in("ab123456789");
    db.shell()
        .args([
            "-c",
            "sign contract kc555",
            "-c",
            "pay contract kc555 99.99",
        ])
        .run()
        .status(0);
    let csv = db
        .shell()
        .args(["--format", "csv", "-c", "history contract kc555"])
        .run()
        .status(0)
        .stdout();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "at,by,name,op,changes");
    assert_eq!(lines.len(), 4, "{csv}");
    let sign = lines[2];
    assert!(sign.contains(",ab123456789,Bill Boquet,update,"), "{sign}");
    assert!(sign.contains("status: unsigned → signed"), "{sign}");
    // A program gets the time with its offset (RFC 3339).
    let signed = sign
        .split("signed: none → ")
        .nth(1)
        .unwrap_or_else(|| panic!("{sign}"));
    let signed = signed.split(';').next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(signed).is_ok()
            && (signed.ends_with("+01:00") || signed.ends_with("+02:00")),
        "{sign}"
    );
    let pay = lines[3];
    assert!(pay.contains(",ab123456789,Bill Boquet,update,"), "{pay}");
    assert!(pay.ends_with("remain: 999.99 → 900.00"), "{pay}");

    let json = db
        .shell()
        .args(["--format", "json", "-c", "history contract kc555"])
        .run()
        .status(0)
        .stdout();
    let last: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(last["by"], "ab123456789");
    assert_eq!(last["name"], "Bill Boquet");
    assert_eq!(last["changes"], "remain: 999.99 → 900.00");

    let table = db
        .shell()
        .args(["-c", "history contract kc555"])
        .run()
        .status(0)
        .stdout();
    // A person gets money and times as every table shows them.
    let row = table
        .lines()
        .find(|l| l.contains("remain: 999.99 € → 900.00 €"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = row.split('│').map(str::trim).collect();
    assert_eq!(
        cells[2..6],
        [
            "ab123456789",
            "Bill Boquet",
            "update",
            "remain: 999.99 € → 900.00 €"
        ]
    );
    let sign = table
        .lines()
        .find(|l| l.contains("signed: none → "))
        .unwrap_or_else(|| panic!("{table}"));
    let signed = sign.split("signed: none → ").nth(1).unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(&signed[..16], "%Y-%m-%d %H:%M").is_ok()
            && !signed.contains('T'),
        "{sign}"
    );
    assert!(
        table.trim_end().ends_with("3 rows; times in Europe/Paris"),
        "{table}"
    );
}

#[test]
fn history_of_an_unknown_record_is_empty_and_never_shows_passwords() {
    let db = logged_in("ac123456789");
    let out = db
        .shell()
        .args(["-c", "history client nobody"])
        .run()
        .status(0)
        .stdout();
    assert!(out.trim_end().ends_with("0 rows"), "{out}");
    let collaborator = db
        .shell()
        .args(["--format", "csv", "-c", "history collaborator aa123456789"])
        .run()
        .status(0)
        .stdout();
    assert!(!collaborator.contains("scrypt"), "{collaborator}");
    assert!(!collaborator.contains(support::DEMO_PASSWORD));
}
