use std::collections::HashMap;
use std::str::FromStr;

use sentry::test::{with_captured_events, with_captured_events_options};

use super::scrub::REDACTED;
use super::*;
use crate::error::ErrorKind;

const SECRET_KEY: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
const HASH: &str = "$scrypt$ln=17,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYTEyMyJ9.c2lnbmF0dXJlc2lnbmF0dXJl";

fn claims() -> Claims {
    Claims {
        sub: "aa123456789".into(),
        dept: "gestion".into(),
        iat: 1_700_000_000,
        exp: 1_700_028_800,
        jti: "0f0e0d0c0b0a09080706050403020100".into(),
        role: "oc12_aa123456789_s0f0e0d0c0b0a0908".into(),
    }
}

fn config(home: &std::path::Path, dsn: Option<&str>) -> Config {
    let mut env = HashMap::new();
    env.insert("OC12_HOME".to_owned(), home.display().to_string());
    if let Some(dsn) = dsn {
        env.insert("SENTRY_DSN".to_owned(), dsn.to_owned());
    }
    Config::from_env(&env).unwrap()
}

/// Events captured with the shell's own options (scrubber included).
fn captured(f: impl FnOnce()) -> Vec<Event<'static>> {
    let home = tempfile::tempdir().unwrap();
    with_captured_events_options(f, client_options(&config(home.path(), None)))
}

fn fingerprint_of(event: &Event<'static>) -> Vec<String> {
    event.fingerprint.iter().map(|p| p.to_string()).collect()
}

fn tag<'a>(event: &'a Event<'static>, name: &str) -> &'a str {
    event.tags.get(name).map_or("", String::as_str)
}

fn assert_tags(event: &Event<'static>, department: &str, user: &str, statement: &str) {
    assert_eq!(tag(event, "department"), department, "{event:?}");
    assert_eq!(tag(event, "user"), user, "{event:?}");
    assert_eq!(tag(event, "statement"), statement, "{event:?}");
    assert_eq!(event.release.as_deref(), Some(RELEASE));
}

/// Nothing secret anywhere in the serialized events.
fn assert_no_secrets(events: &[Event<'static>]) {
    for event in events {
        let json = serde_json::to_string(event).unwrap();
        for needle in [
            "$scrypt$",
            "eyJ",
            SECRET_KEY,
            "hunter2",
            "S3cret-passw0rd",
            "Aliénor",
        ] {
            assert!(!json.contains(needle), "{needle} in {json}");
        }
    }
}

#[test]
fn collaborator_changes_are_info_events_with_field_names_only() {
    let events = with_captured_events(|| {
        collaborator_changed(
            &claims(),
            "bb987654321",
            CollaboratorAction::Changed,
            &["email", "password"],
        );
    });
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.level, Level::Info);
    assert_tags(e, "gestion", "aa123456789", "set collaborator");
    // The kind in the message and the fingerprint; the ids in tags.
    assert_eq!(e.message.as_deref(), Some("collaborator changed"));
    assert_eq!(fingerprint_of(e), ["collaborator changed"]);
    assert_eq!(tag(e, "collaborator"), "bb987654321");
    assert_eq!(tag(e, "action"), "changed");
    assert_eq!(e.extra["collaborator"], "bb987654321");
    assert_eq!(e.extra["fields"], serde_json::json!(["email"]));
    assert_eq!(e.extra["password_changed"], true);
    assert_eq!(
        e.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("aa123456789")
    );

    for (action, statement) in [
        (CollaboratorAction::Created, "add collaborator"),
        (CollaboratorAction::Deleted, "delete collaborator"),
    ] {
        let events = with_captured_events(|| {
            collaborator_changed(&claims(), "cc1", action, &[]);
        });
        assert_eq!(events.len(), 1);
        assert_tags(&events[0], "gestion", "aa123456789", statement);
        let kind = format!("collaborator {}", action.past());
        assert_eq!(events[0].message.as_deref(), Some(kind.as_str()));
        assert_eq!(fingerprint_of(&events[0]), [kind]);
        assert_eq!(tag(&events[0], "collaborator"), "cc1");
    }
}

#[test]
fn signed_contracts_are_info_events_with_contract_client_and_total() {
    for how in ["sign", "set", "add"] {
        let events = with_captured_events(|| {
            contract_signed(
                &claims(),
                "ct1001",
                "cl1000",
                &Decimal::from_str("1234.5").unwrap(),
                how,
            );
        });
        assert_eq!(events.len(), 1, "{how}");
        let e = &events[0];
        assert_eq!(e.level, Level::Info);
        assert_tags(e, "gestion", "aa123456789", &format!("{how} contract"));
        assert_eq!(e.message.as_deref(), Some("contract signed"));
        assert_eq!(fingerprint_of(e), ["contract signed"]);
        assert_eq!(tag(e, "contract"), "ct1001");
        assert_eq!(tag(e, "client"), "cl1000");
        assert_eq!(e.extra["contract"], "ct1001");
        assert_eq!(e.extra["client"], "cl1000");
        assert_eq!(e.extra["total"], "1234.50");
    }
}

#[test]
fn failed_logins_are_warnings_at_5_10_20() {
    let events = with_captured_events(|| {
        for count in 1..=25 {
            failed_logins("zz000000001", count);
        }
    });
    let counts: Vec<_> = events.iter().map(|e| e.extra["count"].clone()).collect();
    assert_eq!(counts, [5, 10, 20]);
    for e in &events {
        assert_eq!(e.level, Level::Warning);
        assert_tags(e, "unknown", "zz000000001", "login");
        assert_eq!(e.extra["registration"], "zz000000001");
        assert_eq!(tag(e, "registration"), "zz000000001");
        assert_eq!(e.message.as_deref(), Some("failed logins"));
        assert_eq!(fingerprint_of(e), ["failed logins"]);
    }
    assert!(failed_logins_reported_at(40) && failed_logins_reported_at(80));
    assert!(!failed_logins_reported_at(15) && !failed_logins_reported_at(0));
}

#[test]
fn unexpected_errors_carry_kind_stacktrace_and_no_statement_values() {
    let error = Error::internal("cannot compare 'Aliénor' with the column");
    let events = with_captured_events(|| {
        unexpected(
            &error,
            Some("list clients where name = 'Aliénor'"),
            Some(&claims()),
        );
    });
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.level, Level::Error);
    assert_tags(e, "gestion", "aa123456789", "list clients");
    assert_eq!(
        e.message.as_deref(),
        Some("internal: cannot compare '…' with the column")
    );
    let exception = &e.exception.values[0];
    assert_eq!(exception.ty, "internal");
    assert!(
        exception
            .stacktrace
            .as_ref()
            .is_some_and(|s| !s.frames.is_empty())
    );
    assert_eq!(
        fingerprint_of(e),
        ["internal error", "none", "list clients"]
    );
    assert_eq!(tag(e, "sqlstate"), "none");
    assert_no_secrets(&events);

    // A database error: grouped by its SQLSTATE.
    let db_error = Error::internal("relation does not exist").with_sqlstate("42P01");
    let events = with_captured_events(|| unexpected(&db_error, Some("list events"), None));
    assert_eq!(
        fingerprint_of(&events[0]),
        ["internal error", "42P01", "list events"]
    );
    assert_eq!(tag(&events[0], "sqlstate"), "42P01");

    // Without anyone logged in, and with values where the entity should be.
    let events = with_captured_events(|| {
        unexpected(&Error::internal("boom"), Some("show 'Aliénor'"), None);
        unexpected(&Error::internal("boom"), None, None);
    });
    assert_eq!(events.len(), 2);
    assert_tags(&events[0], "unknown", "unknown", "show ?");
    assert_tags(&events[1], "unknown", "unknown", "none");
    assert!(events[0].user.is_none());
    assert_no_secrets(&events);
}

/// Made in a function of its own, reported from elsewhere: the report must
/// point here.
#[inline(never)]
fn a_failing_step() -> Error {
    Error::internal("the step failed")
}

#[test]
fn an_internal_error_is_reported_with_the_stack_where_it_arose() {
    let error = a_failing_step();
    let events = with_captured_events(|| unexpected(&error, Some("list clients"), None));
    let frames = &events[0].exception.values[0]
        .stacktrace
        .as_ref()
        .expect("a stack trace")
        .frames;
    // Innermost last: the function that made the error, not the error's
    // constructor nor the reporting code.
    let innermost = frames.last().unwrap().function.as_deref().unwrap_or("");
    assert!(innermost.ends_with("a_failing_step"), "{frames:#?}");
    assert!(
        !frames.iter().any(|f| f
            .function
            .as_deref()
            .is_some_and(|n| n.contains("unexpected"))),
        "{frames:#?}"
    );
}

#[test]
fn catch_turns_a_panic_into_an_internal_error_reported_once() {
    let mut result = None;
    let events = with_captured_events(|| {
        result = Some(catch(
            "sign contract",
            Some(&claims()),
            || -> Result<(), Error> { panic!("index out of range") },
        ));
    });
    let error = result.unwrap().unwrap_err();
    assert_eq!(error.kind, ErrorKind::Internal);
    assert!(
        error.message.contains("index out of range") && error.message.contains("reported"),
        "{}",
        error.message
    );
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.level, Level::Error);
    assert_tags(e, "gestion", "aa123456789", "sign contract");
    let exception = &e.exception.values[0];
    assert_eq!(exception.ty, "panic");
    assert_eq!(exception.value.as_deref(), Some("index out of range"));
    assert!(exception.stacktrace.is_some());
    assert!(e.extra["location"].as_str().unwrap().contains("tests.rs"));
    let fingerprint = fingerprint_of(e);
    assert_eq!(fingerprint[0], "panic");
    assert!(fingerprint[1].contains("tests.rs"), "{fingerprint:?}");
    assert_eq!(fingerprint[2], "sign contract");

    // Success and ordinary errors go through untouched and unreported.
    let events = with_captured_events(|| {
        assert_eq!(catch("list clients", None, || Ok(3)), Ok(3));
        let refused = catch("list clients", None, || -> Result<(), Error> {
            Err(Error::permission("no"))
        });
        assert_eq!(refused.unwrap_err().kind, ErrorKind::Permission);
    });
    assert!(events.is_empty());

    // The shell goes on: the next statement is caught again.
    let again = catch("list events", None, || -> Result<(), Error> {
        panic!("second")
    });
    assert_eq!(again.unwrap_err().kind, ErrorKind::Internal);
}

#[test]
fn the_scrubber_removes_hashes_tokens_and_session_secrets() {
    let events = captured(|| {
        let mut event = base_event(
            Level::Error,
            "set collaborator",
            Some(&claims()),
            format!("hash {HASH} and token {JWT} and key {SECRET_KEY}"),
        );
        event.tags.insert("token".into(), JWT.into());
        event
            .tags
            .insert("note".into(), format!("key={SECRET_KEY}"));
        event.extra.insert("hash".into(), Value::from(HASH));
        event.extra.insert(
            "nested".into(),
            serde_json::json!({"list": [format!("Bearer {JWT}"), HASH], "password": "hunter2"}),
        );
        event.exception = vec![Exception {
            ty: "internal".into(),
            value: Some(format!("bad {HASH}")),
            ..Default::default()
        }]
        .into();
        sentry::capture_event(event);
    });
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        e.message.as_deref(),
        Some("hash [redacted] and token [redacted] and key [redacted]")
    );
    assert_eq!(tag(e, "token"), REDACTED);
    assert_eq!(tag(e, "note"), "key=[redacted]");
    assert_eq!(e.extra["nested"]["list"][0], "Bearer [redacted]");
    assert_eq!(e.extra["nested"]["password"], REDACTED);
    assert_eq!(
        e.exception.values[0].value.as_deref(),
        Some("bad [redacted]")
    );
    // The tags of every event survive the scrubber.
    assert_tags(e, "gestion", "aa123456789", "set collaborator");
    assert!(e.server_name.is_none());
    assert_no_secrets(&events);
}

#[test]
fn no_event_contains_a_secret() {
    let events = captured(|| {
        collaborator_changed(
            &claims(),
            "bb1",
            CollaboratorAction::Created,
            &["name", "password"],
        );
        contract_signed(&claims(), "ct1", "cl1", &Decimal::new(99999, 2), "sign");
        failed_logins("aa123456789", 5);
        // Even a careless caller is scrubbed.
        unexpected(
            &Error::internal(format!("verify {HASH} with {JWT} under {SECRET_KEY}")),
            Some("login"),
            Some(&claims()),
        );
        failed_logins(JWT, 5);
        let _ = catch(
            "passwd collaborator",
            Some(&claims()),
            || -> Result<(), Error> { panic!("token {JWT}") },
        );
    });
    assert_eq!(events.len(), 6);
    for e in &events {
        assert!(e.server_name.is_none());
        assert_eq!(e.release.as_deref(), Some(RELEASE));
        for t in ["department", "user", "statement"] {
            assert!(e.tags.contains_key(t), "{t} missing in {e:?}");
        }
    }
    assert_no_secrets(&events);
}

#[test]
fn the_offline_transport_writes_json_lines() {
    let home = tempfile::tempdir().unwrap();
    let config = config(home.path(), None);
    let client = Arc::new(sentry::Client::from(client_options(&config)));
    let hub = Arc::new(sentry::Hub::new(Some(client.clone()), Default::default()));
    sentry::Hub::run(hub, || {
        contract_signed(&claims(), "ct1", "cl1", &Decimal::new(100, 0), "sign");
        failed_logins("aa1", 5);
        unexpected(&Error::internal("boom"), Some("list events"), None);
    });
    assert!(client.close(Some(SHUTDOWN_TIMEOUT)));
    let text = std::fs::read_to_string(config.paths.events_file()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let levels: Vec<_> = lines.iter().map(|l| l["level"].clone()).collect();
    assert_eq!(levels, ["info", "warning", "error"]);
    for l in &lines {
        assert_eq!(l["release"], RELEASE);
        assert!(l["tags"]["department"].is_string());
        assert!(l["tags"]["user"].is_string());
        assert!(l["tags"]["statement"].is_string());
        assert!(l.get("server_name").is_none());
    }
    assert_eq!(lines[0]["tags"]["statement"], "sign contract");
}

#[test]
fn threads_appending_at_once_never_interleave_lines() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("events.jsonl");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let t = JsonLinesTransport::new(&path);
            std::thread::spawn(move || {
                for i in 0..500 {
                    let mut event = base_event(
                        Level::Info,
                        "add collaborator",
                        None,
                        format!("writer {w} event {i} {}", "x".repeat(2000)),
                    );
                    event.extra.insert("i".into(), Value::from(i));
                    t.append(&event).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let mut seen = [0; 2];
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let message = v["message"].as_str().unwrap();
        seen[usize::from(message.starts_with("writer 1"))] += 1;
    }
    assert_eq!(seen, [500, 500]);
}

#[test]
fn strip_values_keeps_the_words_and_drops_quoted_values() {
    assert_eq!(strip_values("no 'a' or 'b' here"), "no '…' or '…' here");
    assert_eq!(strip_values("it's"), "it's");
    assert_eq!(statement_kind("sign contract kc555"), "sign contract");
    assert_eq!(statement_kind("  "), "none");
    assert_eq!(statement_kind("whoami"), "whoami");
}
