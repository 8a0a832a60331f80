//! Each session connects as its own role, and each statement runs in its
//! own transaction: a pooled connection is never left inside a transaction
//! (open or failed) for the next statement, and a session is never anybody
//! else.

use crate::support;

use std::collections::HashSet;

use oc12::auth::Credential;
use oc12::db::pool::Database;
use support::TestDb;

const USERS: [(&str, &str); 3] = [
    ("ab123456789", "commercial"),
    ("ae123456789", "support"),
    ("ac123456789", "gestion"),
];

/// A statement PostgreSQL refuses to each department.
fn forbidden(department: &str) -> &'static str {
    match department {
        "commercial" => "UPDATE crm.client SET commercial = 'aa123456789' WHERE id = 'mkc111'",
        "support" => "DELETE FROM crm.event WHERE id = 'hob2023'",
        _ => "INSERT INTO crm.client (id, name, email) VALUES ('x1', 'X', 'x@y.fr')",
    }
}

/// Checks out a pooled connection between statements: it is the session's
/// role, outside any transaction.
#[track_caller]
fn idle_connection_is_clean(database: &Database, credential: &Credential) {
    let mut conn = database.connection(credential).unwrap();
    let row = conn
        .query_one("SELECT current_user::text, session_user::text", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), credential.claims.role);
    assert_eq!(row.get::<_, String>(1), credential.claims.role);
    // SAVEPOINT only works inside a transaction block.
    let e = conn.batch_execute("SAVEPOINT probe").unwrap_err();
    assert_eq!(e.code().unwrap().code(), "25P01", "{e}");
}

/// One statement of a session, ended in one of four ways; returns the
/// backend that served it.
fn one_statement(database: &Database, credential: &Credential, i: usize) -> i32 {
    let registration = credential.claims.sub.as_str();
    let department = credential.claims.dept.as_str();
    let mut work = database.begin(credential).unwrap();
    let row = work
        .client()
        .query_one("SELECT current_user::text, crm.me(), pg_backend_pid()", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), credential.claims.role);
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some(registration)
    );
    let pid: i32 = row.get(2);
    match i % 4 {
        0 => work.commit().unwrap(),
        1 => work.rollback().unwrap(),
        // Refused by PostgreSQL, then dropped without a word.
        2 => {
            let e = work
                .client()
                .batch_execute(forbidden(department))
                .unwrap_err();
            assert_eq!(e.code().unwrap().code(), "42501", "{e}");
            drop(work);
        }
        // Failed, then committed anyway: COMMIT of a failed transaction
        // rolls back.
        _ => {
            assert!(work.client().batch_execute("SELECT 1 / 0").is_err());
            let _ = work.commit();
        }
    }
    pid
}

#[test]
fn statements_on_a_session_pool_never_leave_a_transaction_behind() {
    let db = TestDb::demo();
    for (registration, _) in USERS {
        let credential = db.login_session(registration);
        let before = db.snapshot();
        let database = Database::open(&db.url).unwrap();
        let mut served = HashSet::new();
        for i in 0..32 {
            served.insert(one_statement(&database, &credential, i));
            idle_connection_is_clean(&database, &credential);
        }
        assert!(served.len() <= 4, "the pool holds at most 4: {served:?}");
        assert_eq!(db.snapshot(), before, "refused statements changed nothing");
    }
}

#[test]
fn sessions_at_the_same_time_stay_themselves() {
    let db = TestDb::demo();
    let sessions: Vec<Credential> = USERS.iter().map(|(r, _)| db.login_session(r)).collect();
    std::thread::scope(|s| {
        for t in 0..6 {
            let (db, credential) = (&db, &sessions[t % sessions.len()]);
            s.spawn(move || {
                let database = Database::open(&db.url).unwrap();
                for i in 0..48 {
                    one_statement(&database, credential, i + t);
                }
                idle_connection_is_clean(&database, credential);
            });
        }
    });
}

#[test]
fn a_failed_statement_in_a_script_leaves_nothing_behind() {
    let db = TestDb::demo();
    let bill = db.user("ab123456789");
    let script = "\
set client mkc111 job='step 1'
add company name='Twin' siren=999222888 location=p22240
set client mkc111 job='step 2'
add event title=Party contract=kc555 start='2024-06-04 13:00' end='2024-06-04 20:00'
set client mkc111 job='step 3'
set client SRODAP37 job='not mine'
set client mkc111 job='step 4'
pay contract ff555 1000
whoami
";
    let run = bill
        .shell()
        .args(["--continue-on-error"])
        .stdin(script)
        .run()
        .status(1);
    let stderr = run.stderr();
    assert_eq!(stderr.matches("error[").count(), 4, "{stderr}");
    assert!(stderr.contains("<stdin>:2:") && stderr.contains("error[conflict]"));
    assert!(stderr.contains("<stdin>:4:") && stderr.contains("<stdin>:6:"));
    assert!(
        run.stdout()
            .contains("ab123456789 Bill Boquet (commercial)")
    );
    assert_eq!(
        db.value("SELECT job FROM crm.client WHERE id = 'mkc111'"),
        "step 4"
    );
    // Each write after a failure ran, as Bill, in a transaction of its own.
    assert_eq!(
        db.rows(
            "SELECT actor || ' ' || (changes -> 'job' ->> 'new') FROM crm.audit \
             WHERE tbl = 'client' AND record = 'mkc111' AND op = 'update' ORDER BY pk"
        ),
        [
            "ab123456789 step 1",
            "ab123456789 step 2",
            "ab123456789 step 3",
            "ab123456789 step 4",
        ]
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.company WHERE name = 'Twin'"),
        "0"
    );
    assert_eq!(
        db.value("SELECT job FROM crm.client WHERE id = 'SRODAP37'"),
        "Assistant"
    );
    assert_eq!(
        db.value("SELECT remain::text FROM crm.contract WHERE id = 'ff555'"),
        "20.99"
    );
}

#[test]
fn a_failed_statement_in_a_single_transaction_undoes_the_whole_script() {
    let db = TestDb::demo();
    let bill = db.user("ab123456789");
    let before = db.snapshot();
    let run = bill
        .shell()
        .args([
            "-1",
            "-c",
            "set client mkc111 job='step 1'",
            "-c",
            "set client SRODAP37 job='not mine'",
            "-c",
            "set client mkc111 job='step 2'",
        ])
        .run()
        .status(1);
    assert!(
        run.stderr().contains("error[permission]"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("rolled back"), "{}", run.stderr());
    assert_eq!(db.snapshot(), before);
    // And the next run starts clean.
    bill.ok("set client mkc111 job='after'");
    assert_eq!(
        db.value("SELECT job FROM crm.client WHERE id = 'mkc111'"),
        "after"
    );
}
