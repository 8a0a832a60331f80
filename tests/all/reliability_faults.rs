//! Faults: the server restarts or is down, between statements and during
//! them. Each test that touches the server runs a cluster of its own.
//!
//! The rule these tests hold the shell to: a pooled connection that died
//! while idle (a restart between two statements) costs nothing — it is
//! found dead on the statement's very first message, before anything of the
//! statement ran, and another connection is used. A server that is down
//! when a statement runs is one `error[connection]` after a few seconds at
//! most, and the statement after it, once the server is back, works.

use crate::support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oc12::config::Config;
use oc12::interpreter::session::Session;
use oc12::output::{Format, Printer};
use oc12::{Error, ErrorKind};
use support::{Cluster, DEMO_PASSWORD, TestDb};

/// A shell reading statements from a pipe, one at a time, as a person would
/// type them: each answer is read before the next statement is written.
/// It runs with `--echo`, and each statement is followed by a numbered
/// comment: the comment's echo says that the statement is over, committed
/// included (its result is printed before its commit).
struct Piped {
    child: std::process::Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    errors: Arc<Mutex<String>>,
    sent: usize,
}

impl Piped {
    fn spawn(shell: support::Shell) -> Piped {
        let mut child = shell
            .args(["--echo"])
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let errors = Arc::new(Mutex::new(String::new()));
        let sink = errors.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Piped {
            stdin: child.stdin.take(),
            child,
            lines,
            errors,
            sent: 0,
        }
    }

    /// Sends one statement, waits until it is over, and returns the first
    /// line it printed (empty when it printed nothing).
    #[track_caller]
    fn ask(&mut self, statement: &str) -> String {
        self.sent += 1;
        let done = format!("# done {}", self.sent);
        let stdin = self.stdin.as_mut().unwrap();
        if let Err(e) = writeln!(stdin, "{statement}\n{done}").and_then(|()| stdin.flush()) {
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "cannot send `{statement}`: {e}; stderr:\n{}",
                self.errors.lock().unwrap()
            );
        }
        let mut printed = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| {
                    panic!(
                        "`{statement}` not over within 10 s; stderr:\n{}",
                        self.errors.lock().unwrap()
                    )
                });
            if line == done {
                break;
            }
            printed.push(line);
        }
        // The echo of the statement, then what it printed.
        assert_eq!(printed.first().map(String::as_str), Some(statement));
        printed.get(1).cloned().unwrap_or_default()
    }

    /// Closes standard input and waits for the exit code.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        // The reader threads end with the pipes.
        std::thread::sleep(Duration::from_millis(50));
        let errors = self.errors.lock().unwrap().clone();
        (status.code().unwrap_or(-1), errors)
    }
}

#[test]
fn a_restart_between_statements_is_invisible_to_a_piped_session() {
    let cluster = Cluster::new_private();
    let db = TestDb::demo_on(&cluster);
    db.login("ab123456789");
    let mut shell = Piped::spawn(db.shell());
    assert_eq!(shell.ask("count clients"), "6");
    for round in 0..3 {
        cluster.restart();
        // A read, then a write, each right after a restart.
        let count = shell.ask("count contracts where remain > 0");
        assert_eq!(count, "3", "round {round}");
        cluster.restart();
        let paid = shell.ask("pay contract kc555 1");
        assert!(paid.starts_with("paid 1.00 € on contract kc555"), "{paid}");
        assert_eq!(shell.ask("count clients"), "6");
    }
    let (code, errors) = shell.finish();
    assert_eq!(code, 0, "{errors}");
    assert_eq!(errors, "");
    let remain: rust_decimal::Decimal = db
        .admin()
        .query_one("SELECT remain FROM crm.contract WHERE id = 'kc555'", &[])
        .unwrap()
        .get(0);
    assert_eq!(remain.to_string(), "996.99", "three payments, each once");
}

/// A writer the test can read back while the session still holds it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// A session as the interactive prompt holds one, through the library.
fn session(db: &TestDb, registration: &str) -> (Session, Printer<Shared>, Shared) {
    let env: HashMap<String, String> = [
        ("OC12_HOME", db.home.path().to_str().unwrap()),
        ("OC12_DATABASE_URL", db.url.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = Config::from_env(&env).unwrap();
    let mut session = Session::new(config, Format::Table, false, false);
    session.login(registration, DEMO_PASSWORD).unwrap();
    let shared = Shared::default();
    let printer = Printer::new(shared.clone(), Format::Table, false);
    (session, printer, shared)
}

fn run(session: &mut Session, out: &mut Printer<Shared>, text: &str) -> Result<(), Error> {
    session.run_text(text, out).map(|_| ())?;
    out.flush().unwrap();
    Ok(())
}

#[test]
fn a_session_survives_a_server_that_goes_down_and_comes_back() {
    let cluster = Cluster::new_private();
    let db = TestDb::demo_on(&cluster);
    let (mut session, mut out, printed) = session(&db, "ac123456789");
    run(&mut session, &mut out, "count events").unwrap();
    assert_eq!(printed.take(), "7\n");

    // Restarted between two statements: nothing to see.
    cluster.restart();
    run(&mut session, &mut out, "count events").unwrap();
    assert_eq!(printed.take(), "7\n");

    // Down: the statement fails once, quickly, as `connection`, and
    // nothing hangs (a read fails the same way: see the test below).
    cluster.local.stop().unwrap();
    let statement = "set event geg2021 support = af123456789";
    let started = Instant::now();
    let e = run(&mut session, &mut out, statement).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connection, "{statement}: {}", e.message);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{statement}: {:?}",
        started.elapsed()
    );
    assert_eq!(e.kind.exit_code(), 4);
    assert_eq!(printed.take(), "");

    // Back: the next statement works, the refused write never happened.
    cluster.local.start(None).unwrap();
    run(&mut session, &mut out, "format csv").unwrap();
    run(&mut session, &mut out, "list events where support = none").unwrap();
    let listed = printed.take();
    assert!(listed.contains("geg2021"), "{listed}");
    run(
        &mut session,
        &mut out,
        "set event geg2021 support = af123456789",
    )
    .unwrap();
    assert!(
        printed
            .take()
            .starts_with("changed event geg2021 (support)")
    );
    let audit: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE tbl = 'event' AND record = 'geg2021' AND op = 'update'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        audit, 1,
        "one change: the one made after the server came back"
    );
}

#[test]
fn a_restart_inside_a_single_transaction_script_applies_nothing() {
    let cluster = Cluster::new_private();
    let db = TestDb::demo_on(&cluster);
    db.login("ab123456789");
    let mut shell = Piped::spawn(db.shell().args(["-1"]));
    assert!(
        shell
            .ask("pay contract kc555 100")
            .starts_with("paid 100.00 €")
    );
    cluster.restart();
    let stdin = shell.stdin.as_mut().unwrap();
    writeln!(stdin, "pay contract kc555 200").unwrap();
    let (code, errors) = shell.finish();
    assert_eq!(code, 4, "{errors}");
    assert!(errors.contains("error[connection]"), "{errors}");
    assert!(
        errors.contains("nothing was applied: the whole script was rolled back"),
        "{errors}"
    );
    assert!(!errors.contains("panicked"), "{errors}");
    let remain: rust_decimal::Decimal = db
        .admin()
        .query_one("SELECT remain FROM crm.contract WHERE id = 'kc555'", &[])
        .unwrap()
        .get(0);
    assert_eq!(remain.to_string(), "999.99");
}

#[test]
fn a_server_down_at_start_is_a_connection_error_within_seconds() {
    let cluster = Cluster::new_private();
    let db = TestDb::demo_on(&cluster);
    db.login("ab123456789");
    cluster.local.stop().unwrap();
    let nowhere = format!(
        "postgresql://x@/crm?host={}",
        db.home.path().join("no-server").display()
    );
    // Each case waits for the pool's connection timeout: run them at once.
    let cases: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["-c", "count clients"], None),
        (vec!["-c", "pay contract kc555 1"], None),
        (
            vec![
                "--continue-on-error",
                "-c",
                "list clients",
                "-c",
                "list events",
            ],
            None,
        ),
        (
            vec!["--continue-on-error", "-c", "count clients; count events"],
            None,
        ),
        (vec!["whoami"], None),
        (vec!["login", "ab123456789", "--password-stdin"], None),
        // A server that was never there (no socket at all).
        (vec!["-c", "count clients"], Some(nowhere.as_str())),
    ];
    std::thread::scope(|scope| {
        for (args, url) in &cases {
            let db = &db;
            scope.spawn(move || {
                let mut shell = db.shell().args(args).stdin(DEMO_PASSWORD);
                if let Some(url) = url {
                    shell = shell.env("OC12_DATABASE_URL", url);
                }
                let started = Instant::now();
                let run = shell.run();
                let took = started.elapsed();
                let stderr = run.stderr();
                assert_eq!(run.code(), 4, "{args:?}: {stderr}");
                assert!(
                    stderr.starts_with("error[connection]: "),
                    "{args:?}: {stderr}"
                );
                assert_eq!(
                    stderr.matches("error[").count(),
                    1,
                    "one error, then stop: {stderr}"
                );
                assert!(!stderr.contains("panicked"), "{stderr}");
                assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
            });
        }
    });
}
