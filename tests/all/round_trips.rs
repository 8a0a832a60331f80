//! How statements reach the server: a read outside a transaction is one
//! exchange with the session check inside it, a statement used again runs
//! through the statement its connection prepared, and none of that loosens
//! the session check.

use crate::support::TestDb;
use oc12::auth::Credential;
use oc12::db::link::StatementCache;
use oc12::db::pool::{Database, Need, Work};
use oc12::error::ErrorKind;
use oc12::language::value::Param;

const LOOKUP: &str = "SELECT t.name FROM crm.client t WHERE t.id = $1::text";

fn mkc111() -> Vec<Param> {
    vec![Param::Text("mkc111".into())]
}

/// The named statements of the connection `work` runs on.
fn prepared(work: &mut oc12::db::pool::Work) -> Vec<String> {
    // Unnamed itself, so that it is not among them.
    work.client()
        .query_typed(
            "SELECT statement FROM pg_prepared_statements ORDER BY name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_read_used_again_runs_through_one_prepared_statement_outside_any_transaction() {
    let db = TestDb::demo();
    let credential = db.login_session("ac123456789");
    let database = Database::open(&db.url).unwrap();
    let mut work = database.reads(&credential).unwrap();
    for _ in 0..3 {
        let rows = work.query(LOOKUP, &mkc111()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get::<_, String>(0), "Kevin Casey");
    }
    // Used once: not prepared.
    work.query("SELECT count(*) FROM crm.event t", &[]).unwrap();
    let statements = prepared(&mut work);
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert!(statements[0].contains(LOOKUP), "{}", statements[0]);
    assert!(
        statements[0].contains("crm.session_check()"),
        "the check is part of the statement: {}",
        statements[0]
    );
    // No transaction was opened for the reads.
    let e = work.client().batch_execute("SAVEPOINT probe").unwrap_err();
    assert_eq!(e.code().unwrap().code(), "25P01", "{e}");
}

#[test]
fn with_the_cache_off_nothing_is_prepared() {
    let db = TestDb::demo();
    let credential = db.login_session("ac123456789");
    let database = Database::open(&db.url).unwrap();
    database.set_statement_cache(StatementCache::Off);
    let mut work = database.reads(&credential).unwrap();
    for _ in 0..3 {
        assert_eq!(work.query(LOOKUP, &mkc111()).unwrap().len(), 1);
    }
    assert_eq!(prepared(&mut work), Vec::<String>::new());
}

#[test]
fn a_session_that_expires_is_refused_on_a_connection_already_open() {
    let db = TestDb::demo();
    let credential = db.login_session("ab123456789");
    let database = Database::open(&db.url).unwrap();
    let mut work = database.reads(&credential).unwrap();
    // Prepared and cached, so that the refusal below comes through the
    // cached statement.
    for _ in 0..3 {
        assert_eq!(work.query(LOOKUP, &mkc111()).unwrap().len(), 1);
    }
    // The server's clock says the session is over; PostgreSQL itself only
    // checks VALID UNTIL when a connection opens, and this one is open.
    db.admin()
        .execute(
            "UPDATE crm.session SET expires = now() - interval '1 second' WHERE role = $1",
            &[&credential.claims.role],
        )
        .unwrap();
    let e = work.query(LOOKUP, &mkc111()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(e.message.contains("expired"), "{e}");
    // Writes are refused the same way, in their transaction's first message.
    let e = database.begin(&credential).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
}

#[test]
fn a_token_whose_department_is_not_the_servers_reads_nothing() {
    let db = TestDb::demo();
    let credential = db.login_session("ac123456789");
    let mut claimed: Credential = credential.clone();
    claimed.claims.dept = "support".into();
    let database = Database::open(&db.url).unwrap();
    for _ in 0..3 {
        let e = database
            .reads(&claimed)
            .unwrap()
            .query(LOOKUP, &mkc111())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth, "{e}");
        assert_eq!(
            e.message,
            "ac123456789 is in gestion, not support; log in again"
        );
    }
    // The true one reads.
    let mut work = database.reads(&credential).unwrap();
    assert_eq!(work.query(LOOKUP, &mkc111()).unwrap().len(), 1);
}

#[test]
fn the_check_leaves_a_large_read_its_parallel_plan() {
    let db = TestDb::demo();
    let mut session = db.session("ac123456789");
    // The demo is small: make parallel plans look cheap, as on a million
    // events.
    session
        .batch_execute(
            "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; \
             SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2",
        )
        .unwrap();
    let sql = oc12::db::pool::guarded("SELECT t.id FROM crm.event t ORDER BY t.id", 0);
    let plan: Vec<String> = session
        .query_typed(
            &format!("EXPLAIN {sql}"),
            &[(&"gestion", postgres::types::Type::TEXT)],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Gather"), "{plan}");
    assert!(
        plan.contains("One-Time Filter: (crm.session_check()"),
        "{plan}"
    );
}

#[test]
fn an_empty_result_is_an_empty_result() {
    let db = TestDb::demo();
    let credential = db.login_session("ac123456789");
    let database = Database::open(&db.url).unwrap();
    let mut work = database.reads(&credential).unwrap();
    for _ in 0..3 {
        let rows = work.query(LOOKUP, &[Param::Text("nobody".into())]).unwrap();
        assert!(rows.is_empty());
    }
}

#[test]
fn an_export_runs_under_the_servers_export_timeout() {
    let db = TestDb::demo();
    let credential = db.login_session("ac123456789");
    let database = Database::open(&db.url).unwrap();
    let timeout = |work: &mut Work| -> String {
        work.client()
            .query_one("SHOW statement_timeout", &[])
            .unwrap()
            .get(0)
    };
    // Set in the message that opens the transaction.
    let mut export = database.work(&credential, Need::Export).unwrap();
    assert_eq!(timeout(&mut export), "10min");
    export.export_timeout().unwrap();
    export.commit().unwrap();
    // A transaction opened for something else gets it when it exports.
    let mut work = database.work(&credential, Need::Transaction).unwrap();
    let usual = timeout(&mut work);
    assert_ne!(usual, "10min");
    work.export_timeout().unwrap();
    assert_eq!(timeout(&mut work), "10min");
    work.commit().unwrap();
    // For that transaction only.
    let mut work = database.work(&credential, Need::Transaction).unwrap();
    assert_eq!(timeout(&mut work), usual);
}
