//! Load: many shells at once on the same records. Nothing is lost, nothing
//! is applied twice or half, and the audit trail tells the same story as
//! the data.

use crate::support;

use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use rust_decimal::Decimal;
use support::{Shell, TestDb};

const SHELLS: usize = 16;

/// Starts every shell at the same moment and waits for all of them.
fn all_at_once(shells: Vec<(Shell, String)>) -> Vec<Output> {
    let barrier = Arc::new(Barrier::new(shells.len()));
    let handles: Vec<_> = shells
        .into_iter()
        .map(|(shell, script)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                shell.stdin(script).run().0
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn decimal(db: &TestDb, sql: &str) -> Decimal {
    db.admin().query_one(sql, &[]).unwrap().get(0)
}

/// Watches a contract's `remain` while the shells run: it must only go
/// down, and never below zero.
fn watch_remain(
    db: &TestDb,
    contract: &'static str,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut admin = db.admin();
    let handle = std::thread::spawn(move || {
        let mut last: Option<Decimal> = None;
        let mut samples = 0;
        while !flag.load(Ordering::Relaxed) {
            let remain: Decimal = admin
                .query_one(
                    "SELECT remain FROM crm.contract WHERE id = $1",
                    &[&contract],
                )
                .unwrap()
                .get(0);
            assert!(remain >= Decimal::ZERO, "remain went below zero: {remain}");
            if let Some(l) = last {
                assert!(remain <= l, "remain went up: {l} then {remain}");
            }
            last = Some(remain);
            samples += 1;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        samples
    });
    (stop, handle)
}

/// The audit rows of one record's `remain`, in order: each one's old value
/// is the previous one's new value, so none is lost or doubled.
fn remain_chain(db: &TestDb, contract: &str) -> Vec<(Decimal, Decimal)> {
    db.admin()
        .query(
            "SELECT (changes->'remain'->>'old')::numeric, (changes->'remain'->>'new')::numeric
             FROM crm.audit WHERE tbl = 'contract' AND record = $1 AND op = 'update' ORDER BY pk",
            &[&contract],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[track_caller]
fn assert_chain(chain: &[(Decimal, Decimal)], from: Decimal, step: Decimal) {
    let mut expected = from;
    for (i, (old, new)) in chain.iter().enumerate() {
        assert_eq!(*old, expected, "audit row {i}: {chain:?}");
        assert_eq!(*old - *new, step, "audit row {i}");
        expected = *new;
    }
}

#[test]
fn sixteen_shells_paying_at_once_lose_nothing() {
    let db = TestDb::demo();
    // A signed contract of Bill Boquet's client mkc111, 2000.00 to pay.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.contract (id, client, total, remain, status, signed_at)
             VALUES ('load1', 'mkc111', 2000, 2000, 'signed', now())",
        )
        .unwrap();
    // Sixteen sessions of one collaborator (a session's own connections
    // are limited: see team_mode.rs).
    let homes: Vec<_> = (0..SHELLS).map(|_| db.user_home("ab123456789")).collect();
    let script = "pay contract load1 1.00\n".repeat(100);
    let (stop, watcher) = watch_remain(&db, "load1");
    let outputs = all_at_once(
        homes
            .iter()
            .map(|h| (db.shell_in(h.path()), script.clone()))
            .collect(),
    );
    stop.store(true, Ordering::Relaxed);
    let samples = watcher.join().unwrap();
    let mut paid = 0;
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(stderr, "");
        paid += String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("paid 1.00 € on contract load1; "))
            .count();
    }
    assert_eq!(paid, SHELLS * 100);
    let remain = decimal(&db, "SELECT remain FROM crm.contract WHERE id = 'load1'");
    assert_eq!(remain, Decimal::from(2000 - 16 * 100));
    let chain = remain_chain(&db, "load1");
    assert_eq!(chain.len(), SHELLS * 100, "one audit row per payment");
    assert_chain(&chain, Decimal::from(2000), Decimal::ONE);
    assert!(samples > 0);
}

#[test]
fn over_payment_at_once_is_refused_never_half_applied() {
    let db = TestDb::demo();
    db.admin()
        .batch_execute(
            "INSERT INTO crm.contract (id, client, total, remain, status, signed_at)
             VALUES ('load2', 'mkc111', 50, 50, 'signed', now())",
        )
        .unwrap();
    let homes: Vec<_> = (0..SHELLS).map(|_| db.user_home("ab123456789")).collect();
    let script = "pay contract load2 1.00\n".repeat(10);
    let (stop, watcher) = watch_remain(&db, "load2");
    let outputs = all_at_once(
        homes
            .iter()
            .map(|h| {
                (
                    db.shell_in(h.path()).args(["--continue-on-error"]),
                    script.clone(),
                )
            })
            .collect(),
    );
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let (mut paid, mut refused) = (0, 0);
    for out in &outputs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = stdout
            .lines()
            .filter(|l| l.starts_with("paid 1.00 € on contract load2; "))
            .count();
        // Every refusal is one clear `invalid` naming what remains.
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error[")).collect();
        for e in &errors {
            assert!(
                e.contains(
                    "error[invalid]: cannot pay 1.00 €: only 0.00 € remains to pay on contract load2"
                ),
                "{e}"
            );
        }
        assert_eq!(ok + errors.len(), 10, "{stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"));
        assert_eq!(
            out.status.code(),
            Some(if errors.is_empty() { 0 } else { 1 })
        );
        paid += ok;
        refused += errors.len();
    }
    assert_eq!((paid, refused), (50, SHELLS * 10 - 50));
    assert_eq!(
        decimal(&db, "SELECT remain FROM crm.contract WHERE id = 'load2'"),
        Decimal::ZERO
    );
    let chain = remain_chain(&db, "load2");
    assert_eq!(chain.len(), 50);
    assert_chain(&chain, Decimal::from(50), Decimal::ONE);
}

#[test]
fn two_managers_assigning_the_same_events_at_once_agree_with_the_audit() {
    let db = TestDb::demo();
    // Twenty unassigned events on the signed contract ff555.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.event (id, title, contract, start_at, end_at, location, attendees)
             SELECT 'race' || i, 'Race ' || i, 'ff555', now(), now() + interval '1 hour', 'ggg56110', 10
             FROM generate_series(1, 20) i",
        )
        .unwrap();
    let managers = [
        ("ac123456789", "ae123456789"),
        ("ad123456789", "af123456789"),
    ];
    let homes: Vec<_> = managers.iter().map(|(m, _)| db.user_home(m)).collect();
    // Each manager assigns every event to their own pick, five times over,
    // so that the two scripts overlap.
    let script = |support: &str| {
        (0..5)
            .flat_map(|_| (1..=20).map(move |i| format!("set event race{i} support = {support}\n")))
            .collect::<String>()
    };
    let outputs = all_at_once(
        managers
            .iter()
            .zip(&homes)
            .map(|((_, support), home)| {
                (
                    db.shell_in(home.path()).args(["--format", "json"]),
                    script(support),
                )
            })
            .collect(),
    );
    for (out, (who, support)) in outputs.iter().zip(managers) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        // Each saw every one of its changes committed, as it wrote it.
        let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 100, "{who}");
        for r in &records {
            assert_eq!(r["support"], support, "{who}: {r}");
        }
    }
    let mut admin = db.admin();
    let mut switches = 0;
    let mut last_writers = std::collections::HashMap::new();
    for i in 1..=20 {
        let id = format!("race{i}");
        let trail: Vec<(String, Option<String>, Option<String>)> = admin
            .query(
                "SELECT actor, changes->'support'->>'old', changes->'support'->>'new'
                 FROM crm.audit WHERE tbl = 'event' AND record = $1 AND op = 'update' ORDER BY pk",
                &[&id],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        // Every change that changed something is one row; each row starts
        // where the previous one ended, and says who made it.
        assert!(!trail.is_empty() && trail.len() <= 10, "{id}: {trail:?}");
        let mut before: Option<String> = None;
        for (actor, old, new) in &trail {
            assert_eq!(*old, before, "{id}: {trail:?}");
            let (_, pick) = managers.iter().find(|(m, _)| m == actor).unwrap();
            assert_eq!(new.as_deref(), Some(*pick), "{id}: {trail:?}");
            before = new.clone();
        }
        switches += trail.len() - 1;
        let support: Option<String> = admin
            .query_one("SELECT support FROM crm.event WHERE id = $1", &[&id])
            .unwrap()
            .get(0);
        assert_eq!(support, before, "{id}: the last audit row is the state");
        *last_writers
            .entry(trail.last().unwrap().0.clone())
            .or_insert(0) += 1;
    }
    // Whoever lost reads the final state, like everybody else.
    for home in &homes {
        let listed = db
            .shell_in(home.path())
            .args(["--format", "csv", "-c", "list events where title ~ 'race'"])
            .run()
            .status(0)
            .stdout();
        for line in listed.lines().skip(1) {
            let id = line.split(',').next().unwrap();
            let support: Option<String> = admin
                .query_one("SELECT support FROM crm.event WHERE id = $1", &[&id])
                .unwrap()
                .get(0);
            assert!(line.contains(support.as_deref().unwrap()), "{line}");
        }
        assert_eq!(listed.lines().count(), 21, "{listed}");
    }
    eprintln!("support switched {switches} times; last writers: {last_writers:?}");
}
