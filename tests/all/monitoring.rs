//! Monitoring across processes and networks: two shells appending to one
//! `events.jsonl` at once, and an exit that never hangs on Sentry.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oc12::config::Config;
use oc12::error::Error;
use oc12::monitoring;

/// Set to an `OC12_HOME` for [`helper_writes_events`] to write into.
const HELPER_HOME: &str = "OC12_MONITORING_TEST_HOME";
const HELPER_NAME: &str = "OC12_MONITORING_TEST_WRITER";
const EVENTS_PER_WRITER: usize = 500;

fn config(home: &Path, dsn: Option<&str>) -> Config {
    let mut env = HashMap::new();
    env.insert("OC12_HOME".to_owned(), home.display().to_string());
    if let Some(dsn) = dsn {
        env.insert("SENTRY_DSN".to_owned(), dsn.to_owned());
    }
    Config::from_env(&env).unwrap()
}

/// Not a test on its own: run by [`two_processes_appending_at_once_never_interleave_lines`]
/// in child processes, it writes [`EVENTS_PER_WRITER`] events through the
/// shell's own client options (offline transport) and returns.
#[test]
fn helper_writes_events() {
    let (Ok(home), Ok(name)) = (std::env::var(HELPER_HOME), std::env::var(HELPER_NAME)) else {
        return;
    };
    let config = config(Path::new(&home), None);
    let client = Arc::new(sentry::Client::from(monitoring::client_options(&config)));
    let hub = Arc::new(sentry::Hub::new(Some(client.clone()), Default::default()));
    // Long lines (a few kilobytes) make interleaving likely if the writes
    // were not atomic.
    let fields: Vec<String> = (0..40)
        .map(|f| format!("field_{f:02}_{}", "x".repeat(60)))
        .collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let actor = oc12::auth::Claims {
        sub: format!("writer-{name}"),
        dept: "gestion".into(),
        iat: 0,
        exp: 0,
        jti: String::new(),
        role: String::new(),
    };
    sentry::Hub::run(hub, || {
        for i in 0..EVENTS_PER_WRITER {
            monitoring::collaborator_changed(
                &actor,
                &format!("c{i}"),
                monitoring::CollaboratorAction::Changed,
                &fields,
            );
        }
    });
    assert!(client.close(Some(monitoring::SHUTDOWN_TIMEOUT)));
}

#[test]
fn two_processes_appending_at_once_never_interleave_lines() {
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "monitoring::helper_writes_events",
                    "--test-threads=1",
                ])
                .env(HELPER_HOME, home.path())
                .env(HELPER_NAME, name)
                .output_async()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{out:?}"
        );
    }

    let text = std::fs::read_to_string(home.path().join("events.jsonl")).unwrap();
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line:.200}"));
        assert_eq!(v["level"], "info");
        assert_eq!(v["tags"]["statement"], "set collaborator");
        let name = v["tags"]["user"].as_str().unwrap().replace("writer-", "");
        let collaborator = v["extra"]["collaborator"].as_str().unwrap();
        let i: usize = collaborator[1..].parse().unwrap();
        assert_eq!(v["extra"]["fields"].as_array().unwrap().len(), 40);
        seen.entry(name).or_default().push(i);
    }
    assert_eq!(text.lines().count(), 2 * EVENTS_PER_WRITER);
    for name in ["a", "b"] {
        let mut got = seen.remove(name).unwrap_or_default();
        got.sort_unstable();
        assert_eq!(got, (0..EVENTS_PER_WRITER).collect::<Vec<_>>(), "{name}");
    }
}

/// Spawns without waiting, so that both writers run at once.
trait OutputAsync {
    fn output_async(&mut self) -> std::process::Child;
}

impl OutputAsync for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

fn assert_exit_is_bounded(dsn: &str) {
    let home = tempfile::tempdir().unwrap();
    let guard = monitoring::init(&config(home.path(), Some(dsn)));
    monitoring::failed_logins("aa123456789", 5);
    monitoring::unexpected(&Error::internal("boom"), Some("list clients"), None);
    let start = Instant::now();
    drop(guard);
    let took = start.elapsed();
    // A bound on hanging, not a speed test.
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    // Nothing went to the file: the events were Sentry's.
    assert!(!home.path().join("events.jsonl").exists());
}

#[test]
fn exit_is_bounded_when_sentry_refuses_connections() {
    // Port 9 (discard) on the loopback: closed on any test machine.
    assert_exit_is_bounded("https://public@127.0.0.1:9/1");
}

#[test]
fn exit_is_bounded_when_sentry_never_answers() {
    // A listener that never accepts: the connection is made by the kernel,
    // the request is sent, and no response ever comes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_exit_is_bounded(&format!("http://public@127.0.0.1:{port}/1"));
    drop(listener);
}

/// Not a test on its own: run by [`a_panic_outside_a_statement_is_reported_and_printed_once`],
/// it starts monitoring like the shell and panics outside any `catch`.
#[test]
fn helper_panics() {
    let Ok(home) = std::env::var(HELPER_HOME) else {
        return;
    };
    let _guard = monitoring::init(&config(Path::new(&home), None));
    let inside = monitoring::catch("list clients", None, || -> Result<(), Error> {
        panic!("caught inside a statement")
    });
    assert!(inside.is_err());
    panic!("crash outside any statement");
}

#[test]
fn a_panic_outside_a_statement_is_reported_and_printed_once() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "monitoring::helper_panics",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(HELPER_HOME, home.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The caught panic is the statement's error, not a printed panic.
    assert!(!stderr.contains("caught inside a statement"), "{stderr}");
    assert_eq!(
        stderr.matches("crash outside any statement").count(),
        1,
        "{stderr}"
    );

    let text = std::fs::read_to_string(home.path().join("events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["level"], "error");
    assert_eq!(events[0]["tags"]["statement"], "list clients");
    assert_eq!(
        events[0]["exception"]["values"][0]["mechanism"]["handled"],
        true
    );
    assert_eq!(events[1]["level"], "fatal");
    assert_eq!(events[1]["tags"]["statement"], "none");
    assert_eq!(
        events[1]["exception"]["values"][0]["value"],
        "crash outside any statement"
    );
    assert_eq!(
        events[1]["exception"]["values"][0]["mechanism"]["handled"],
        false
    );
}
