//! Monitoring across processes and networks: two shells appending to one
//! `events.jsonl` at once; what a Sentry endpoint (a local stand-in that
//! accepts, refuses or never answers) receives: levels written out, one
//! fingerprint per kind of event; what it does not take kept in the file
//! with why; and an exit that never waits more than half a second for it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
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

/// What a stand-in for Sentry does with each request.
#[derive(Clone, Copy)]
enum Answer {
    /// Reads the request and answers with this status.
    Status(u16),
    /// Reads the request and never answers (the connection stays open).
    Hang,
}

/// A local stand-in for Sentry on 127.0.0.1: it accepts connections,
/// reads each request, keeps its body, and answers as told.
struct Stub {
    port: u16,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Stub {
    fn start(answer: Answer) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            // Connections that are never answered stay open here.
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(body) = read_request(&mut stream) else {
                    continue;
                };
                kept.lock().unwrap().push(body);
                match answer {
                    Answer::Status(code) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} Stub\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                    Answer::Hang => held.push(stream),
                }
            }
        });
        Stub { port, bodies }
    }

    fn dsn(&self) -> String {
        format!("http://public@127.0.0.1:{}/1", self.port)
    }

    /// The events of every envelope received, as JSON.
    fn events(&self) -> Vec<serde_json::Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .flat_map(|body| envelope_events(body))
            .collect()
    }
}

/// One HTTP/1.1 request with a Content-Length body; its body.
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// The event items of a Sentry envelope: a header line, then for each
/// item a header line with its length and the payload.
fn envelope_events(body: &[u8]) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let mut rest = match body.iter().position(|&b| b == b'\n') {
        Some(i) => &body[i + 1..],
        None => return events,
    };
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        let header: serde_json::Value = serde_json::from_slice(&rest[..i]).unwrap();
        let length = header["length"].as_u64().unwrap() as usize;
        let payload = &rest[i + 1..i + 1 + length];
        if header["type"] == "event" {
            events.push(serde_json::from_slice(payload).unwrap());
        }
        rest = rest.get(i + 2 + length..).unwrap_or_default();
    }
    events
}

fn actor() -> oc12::auth::Claims {
    oc12::auth::Claims {
        sub: "aa123456789".into(),
        dept: "gestion".into(),
        iat: 0,
        exp: 0,
        jti: String::new(),
        role: String::new(),
    }
}

/// One event of each kind, sent through the shell's own client options to
/// `dsn`, then the client closed as the shell closes it at exit; how long
/// that close took.
fn report_each_kind(home: &Path, dsn: &str) -> Duration {
    let client = Arc::new(sentry::Client::from(monitoring::client_options(&config(
        home,
        Some(dsn),
    ))));
    let hub = Arc::new(sentry::Hub::new(Some(client.clone()), Default::default()));
    sentry::Hub::run(hub, || {
        let broken = Error::internal("relation crm.nothing does not exist").with_sqlstate("42P01");
        monitoring::unexpected(&broken, Some("list clients"), Some(&actor()));
        monitoring::contract_signed(
            &actor(),
            "kc555",
            "mkc111",
            &"999.99".parse().unwrap(),
            "sign",
        );
        monitoring::collaborator_changed(
            &actor(),
            "ab123456789",
            monitoring::CollaboratorAction::Changed,
            &["email"],
        );
        monitoring::failed_logins("ab123456789", 5);
    });
    let start = Instant::now();
    client.close(Some(monitoring::SHUTDOWN_TIMEOUT));
    start.elapsed()
}

/// (level, fingerprint, tag) of each kind, in the order [`report_each_kind`]
/// reports them.
fn expected_kinds() -> [(
    &'static str,
    serde_json::Value,
    (&'static str, &'static str),
); 4] {
    [
        (
            "error",
            serde_json::json!(["internal error", "42P01", "list clients"]),
            ("sqlstate", "42P01"),
        ),
        (
            "info",
            serde_json::json!(["contract signed"]),
            ("contract", "kc555"),
        ),
        (
            "info",
            serde_json::json!(["collaborator changed"]),
            ("collaborator", "ab123456789"),
        ),
        (
            "warning",
            serde_json::json!(["failed logins"]),
            ("registration", "ab123456789"),
        ),
    ]
}

fn assert_kinds(events: &[serde_json::Value]) {
    assert_eq!(events.len(), 4, "{events:#?}");
    for (event, (level, fingerprint, (tag, value))) in events.iter().zip(expected_kinds()) {
        // Written out, "error" included: the SDK leaves the default out.
        assert_eq!(event["level"], level, "{event}");
        assert_eq!(event["fingerprint"], fingerprint, "{event}");
        assert_eq!(event["tags"][tag], value, "{event}");
        // No id in the message: the same kind, the same title.
        let message = event["message"].as_str().unwrap_or_default();
        assert!(!message.contains(value), "{message}");
    }
    // The internal error's stack is the one where it was made.
    let frames = events[0]["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    let innermost = frames.last().unwrap()["function"].as_str().unwrap();
    assert!(innermost.contains("report_each_kind"), "{innermost}");
}

fn file_events(home: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(home.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sentry_receives_explicit_levels_and_one_fingerprint_per_kind() {
    let stub = Stub::start(Answer::Status(200));
    let home = tempfile::tempdir().unwrap();
    report_each_kind(home.path(), &stub.dsn());
    assert_kinds(&stub.events());
    // Delivered: nothing in the file.
    assert_eq!(file_events(home.path()), Vec::<serde_json::Value>::new());
}

#[test]
fn events_sentry_refuses_go_to_the_file_with_why() {
    for (status, why) in [(500, "answered 500"), (429, "answered 429")] {
        let stub = Stub::start(Answer::Status(status));
        let home = tempfile::tempdir().unwrap();
        report_each_kind(home.path(), &stub.dsn());
        assert_eq!(stub.events().len(), 4, "Sentry was asked");
        let kept = file_events(home.path());
        assert_kinds(&kept);
        for event in &kept {
            let note = event["not_delivered"].as_str().unwrap();
            assert!(note.contains(why), "{note}");
        }
    }
}

#[test]
fn events_go_to_the_file_when_sentry_cannot_be_reached() {
    // A port nobody listens on: the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    report_each_kind(home.path(), &format!("http://public@127.0.0.1:{port}/1"));
    let kept = file_events(home.path());
    assert_kinds(&kept);
    assert!(
        kept.iter().all(|e| e["not_delivered"]
            .as_str()
            .unwrap()
            .contains("not delivered")),
        "{kept:#?}"
    );
}

#[test]
fn an_endpoint_that_never_answers_holds_the_exit_half_a_second_at_most() {
    let stub = Stub::start(Answer::Hang);
    let home = tempfile::tempdir().unwrap();
    let took = report_each_kind(home.path(), &stub.dsn());
    // The shell waits SHUTDOWN_TIMEOUT (0.5 s) for Sentry, then keeps what
    // is pending. Waiting for the hanging request would take its 10 s
    // timeout; the bound asserted leaves room for a loaded machine.
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    assert_eq!(monitoring::SHUTDOWN_TIMEOUT, Duration::from_millis(500));
    let kept = file_events(home.path());
    assert_kinds(&kept);
    for event in &kept {
        let note = event["not_delivered"].as_str().unwrap();
        assert!(note.contains("before the shell exited"), "{note}");
    }
}

#[test]
fn the_guard_of_a_one_off_command_bounds_its_exit() {
    // A listener that never accepts: the kernel completes the connection,
    // the request is sent, and no answer ever comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let home = tempfile::tempdir().unwrap();
    let guard = monitoring::init(&config(
        home.path(),
        Some(&format!("http://public@127.0.0.1:{port}/1")),
    ));
    monitoring::failed_logins("zz000000009", 5);
    let start = Instant::now();
    drop(guard);
    let took = start.elapsed();
    // 0.5 s, with room for a loaded machine.
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
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
