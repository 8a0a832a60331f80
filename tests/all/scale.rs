//! The shell at scale (not timings: those are the benchmark's, see
//! BENCHMARKS.md): exporting a large result keeps memory flat, and the
//! common filters and id completion are served by indexes.

use crate::support;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use oc12::language::analyzer::Checked;
use support::{DEMO_PASSWORD, TestDb};

const EVENTS: u64 = 200_000;

/// One CRM with the demo data and 200,000 generated events, shared by the
/// tests of this file (generating takes a few seconds).
fn big() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let db = TestDb::demo();
        let options = oc12::db::generate::Options {
            events: EVENTS,
            seed: 7,
            ..Default::default()
        };
        let report = oc12::db::generate::generate(&db.admin_url, &options).expect("generate");
        assert_eq!(report.events, EVENTS);
        eprintln!("{}", report.summary());
        db
    })
}

/// The plan of one statement of the language.
fn plan_of(text: &str) -> oc12::language::planner::Plan {
    let statement = oc12::language::parser::parse(text).unwrap().remove(0);
    let Checked::Data(data) = oc12::language::analyzer::analyze(&statement).unwrap() else {
        panic!("{text}: not a data statement");
    };
    oc12::language::planner::plan(&data).plans()[0].clone()
}

/// PostgreSQL's plan for `sql` with `params`, as the collaborator
/// `registration` (through a session of theirs, as the shell runs it).
fn explain(
    db: &TestDb,
    registration: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> String {
    db.with_session(registration, |app| {
        let mut tx = app.transaction().unwrap();
        tx.query(&format!("EXPLAIN {sql}"), params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// PostgreSQL's plan for a statement of the language, with its parameters.
fn explain_statement(db: &TestDb, registration: &str, statement: &str) -> String {
    let plan = plan_of(statement);
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = plan
        .params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    explain(db, registration, &plan.sql, &params)
}

#[track_caller]
fn assert_indexed(plan: &str, table: &str) {
    assert!(
        plan.contains("Index Scan") || plan.contains("Index Only Scan"),
        "no index used:\n{plan}"
    );
    assert!(
        !plan.contains(&format!("Seq Scan on {table}")),
        "{table} is scanned:\n{plan}"
    );
}

#[test]
fn the_common_filters_use_indexes() {
    let db = big();
    for (who, statement, table) in [
        (
            "af123456789",
            "list events where support = af123456789 and start >= 2025-01-01 limit 50",
            "event",
        ),
        (
            "ad123456789",
            "list contracts where status = unsigned",
            "contract",
        ),
        (
            "ad123456789",
            "list clients where commercial = xc000000001",
            "client",
        ),
    ] {
        let explained = explain_statement(db, who, statement);
        assert_indexed(&explained, table);
    }
}

/// `list … limit N` reads N entries of an index that is in the list's
/// order (ids without regard to case, sql/008), never sorting every match.
#[test]
fn a_limited_list_reads_its_order_from_an_index() {
    let db = big();
    for statement in [
        "list events where support = af123456789 and start >= 2025-01-01 limit 50",
        "list events limit 50",
        "list events order by id desc limit 50",
    ] {
        let explained = explain_statement(db, "af123456789", statement);
        assert_indexed(&explained, "event");
        assert!(
            !explained.contains("Sort"),
            "{statement}: sorted\n{explained}"
        );
    }
}

#[test]
fn id_completion_uses_the_prefix_index() {
    let db = big();
    let event = oc12::language::catalog::entity("event").unwrap();
    let sql = oc12::shell::ids::prefix_query(event);
    let (prefix, upper, limit) = ("gev00012", "gev00012\u{10FFFF}", 50i64);
    let explained = explain(db, "af123456789", &sql, &[&prefix, &upper, &limit]);
    assert_indexed(&explained, "event");
    assert!(explained.contains("event_id_prefix_idx"), "{explained}");
}

#[test]
fn a_large_csv_export_keeps_memory_flat() {
    let db = big();
    db.shell()
        .args(["login", "af123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    let mut shell = db.shell();
    let mut child = shell
        .cmd
        .args(["--format", "csv", "-c", "list events"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The peak resident memory of the child (a high-water mark), sampled
    // while it runs. (getrusage would count this test process's own size:
    // a child's maximum starts from its parent's at fork.)
    let status_file = format!("/proc/{}/status", child.id());
    let sampler = std::thread::spawn(move || {
        let mut peak_kb = 0u64;
        while let Ok(status) = std::fs::read_to_string(&status_file) {
            let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            else {
                break;
            };
            peak_kb = peak_kb.max(kb);
            std::thread::sleep(Duration::from_millis(5));
        }
        peak_kb
    });
    let mut lines = 0u64;
    let mut last = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        last = line.unwrap();
        lines += 1;
    }
    let status = child.wait().unwrap();
    let peak_kb = sampler.join().unwrap();
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    assert!(status.success(), "the export failed: {stderr}");
    // The header, the demo's seven events and the generated ones.
    assert_eq!(lines, 1 + 7 + EVENTS, "last line: {last}");
    assert!(peak_kb > 0, "no memory figure was read");
    assert!(
        peak_kb < 64 * 1024,
        "exporting {EVENTS} events took {peak_kb} kB of memory"
    );
}
