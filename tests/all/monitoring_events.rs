//! What the shell reports to monitoring while it runs statements: one event
//! per collaborator change and per signature, only once committed; one
//! error event for an unexpected failure; never a secret.

use crate::support;

use std::collections::HashMap;

use oc12::config::Config;
use oc12::interpreter::session::Session;
use oc12::output::{Format, Printer};
use sentry::protocol::{Event, Level};
use support::{DEMO_PASSWORD, TestDb};

fn session(db: &TestDb, registration: &str) -> Session {
    let env: HashMap<String, String> = [
        ("OC12_HOME", db.home.path().display().to_string()),
        ("OC12_DATABASE_URL", db.url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_env(&env).unwrap();
    let mut session = Session::new(config, Format::Csv, false, false);
    session.login(registration, DEMO_PASSWORD).unwrap();
    session
}

/// Runs statements, each its own line, and returns the events captured
/// (the statements' errors are ignored: some are meant to fail).
fn events_of(session: &mut Session, statements: &[&str]) -> Vec<Event<'static>> {
    sentry::test::with_captured_events(|| {
        let mut out = Printer::new(Vec::new(), Format::Csv, false);
        for s in statements {
            let _ = session.run_text(s, &mut out);
        }
    })
}

fn tag<'a>(e: &'a Event<'_>, name: &str) -> &'a str {
    e.tags.get(name).map_or("", String::as_str)
}

#[test]
fn one_info_event_per_collaborator_change_and_none_for_a_refused_one() {
    let db = TestDb::demo();
    let mut gestion = session(&db, "ac123456789");
    let events = events_of(
        &mut gestion,
        &[
            "add collaborator id=ah123456789 name='Nouveau Venu' email=nouveau.venu@epic-events.example department=support",
            "set collaborator ah123456789 role=manager",
            "delete collaborator ah123456789",
            // Refused: oneself; and one who still supports events.
            "delete collaborator ac123456789",
            "delete collaborator af123456789",
        ],
    );
    assert_eq!(events.len(), 3, "{events:#?}");
    for e in &events {
        assert_eq!(e.level, Level::Info);
        assert_eq!(tag(e, "user"), "ac123456789");
        assert_eq!(tag(e, "department"), "gestion");
        assert!(
            e.release
                .as_deref()
                .unwrap_or("")
                .starts_with("oc12-shell@")
        );
    }
    assert_eq!(tag(&events[0], "statement"), "add collaborator");
    assert_eq!(tag(&events[1], "statement"), "set collaborator");
    assert_eq!(tag(&events[2], "statement"), "delete collaborator");
    let changed = serde_json::to_string(&events[1]).unwrap();
    assert!(
        changed.contains("ah123456789") && changed.contains("role"),
        "{changed}"
    );
}

#[test]
fn one_event_per_signature_whichever_way_and_none_when_rolled_back() {
    let db = TestDb::demo();
    let mut commercial = session(&db, "ab123456789");
    let signed = events_of(
        &mut commercial,
        &[
            "sign contract kc555",
            "sign contract kc555", // already signed: nothing new
            "set contract xx55555 status=signed",
            "set contract ff555 remain=10", // not a signature
        ],
    );
    assert_eq!(signed.len(), 2, "{signed:#?}");
    assert_eq!(tag(&signed[0], "statement"), "sign contract");
    assert_eq!(tag(&signed[1], "statement"), "set contract");
    let text = serde_json::to_string(&signed[0]).unwrap();
    assert!(
        text.contains("kc555") && text.contains("mkc111") && text.contains("999.99"),
        "{text}"
    );

    let mut gestion = session(&db, "ac123456789");
    let added = events_of(
        &mut gestion,
        &[
            "add contract id=new1 client=axs40 total=100 status=signed",
            // Refused by the database (remain > total): rolled back, no event.
            "add contract id=new2 client=axs40 total=100 remain=200 status=signed",
        ],
    );
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(tag(&added[0], "statement"), "add contract");
    let stored: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM crm.contract WHERE id IN ('new1', 'new2')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
}

#[test]
fn an_unexpected_database_failure_is_one_error_event_without_values() {
    let db = TestDb::demo();
    let mut support = session(&db, "af123456789");
    // Break the schema under the shell's feet: its query no longer fits.
    db.admin()
        .batch_execute("ALTER TABLE crm.location RENAME COLUMN city TO town")
        .unwrap();
    let events = events_of(
        &mut support,
        &[
            "list locations where address ~ 'secret-value-42'",
            "list clients where name ~ 'x'", // fine
            "list clintes",                  // the user's mistake: not reported
        ],
    );
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e.level, Level::Error);
    assert_eq!(tag(e, "statement"), "list location");
    assert_eq!(tag(e, "user"), "af123456789");
    assert_eq!(tag(e, "department"), "support");
    let text = serde_json::to_string(e).unwrap();
    assert!(!text.contains("secret-value-42"), "{text}");
    // One issue per SQLSTATE and statement kind, whatever the values.
    let fingerprint: Vec<&str> = e.fingerprint.iter().map(|p| p.as_ref()).collect();
    assert_eq!(fingerprint, ["internal error", "42703", "list location"]);
    assert_eq!(tag(e, "sqlstate"), "42703");
    // The stack is the one where the database's answer became an error,
    // not where it was reported.
    let frames = &e.exception.values[0].stacktrace.as_ref().unwrap().frames;
    let culprit = frames
        .iter()
        .rev()
        .find(|f| f.in_app == Some(true))
        .and_then(|f| f.function.as_deref())
        .unwrap();
    assert!(culprit.starts_with("oc12::db::pool::"), "{frames:#?}");
    assert!(!frames.iter().any(|f| {
        f.function
            .as_deref()
            .is_some_and(|n| n.contains("monitoring::unexpected"))
    }));
}

#[test]
fn no_event_ever_holds_a_password_hash_token_or_key() {
    let db = TestDb::demo();
    let mut gestion = session(&db, "ac123456789");
    let mut events = events_of(
        &mut gestion,
        &[
            "add collaborator id=ai123456789 name='Pass Word' email=pass.word@epic-events.example department=commercial",
            "passwd ab123456789",
            "sign contract kc555",
        ],
    );
    // Failed logins, reported from the fifth on.
    events.extend(sentry::test::with_captured_events(|| {
        let mut s = session(&db, "ad123456789");
        for _ in 0..5 {
            assert!(s.login("ab123456789", "wrong-password-1").is_err());
        }
    }));
    assert!(events.len() >= 3, "{events:#?}");
    assert!(events.iter().any(|e| e.level == Level::Warning));
    let hashes: Vec<String> = db
        .admin()
        .query(
            "SELECT encode(verifier, 'base64') FROM crm.collaborator_password",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let token = std::fs::read_to_string(db.home.path().join("token")).unwrap();
    for e in &events {
        let text = serde_json::to_string(e).unwrap();
        for secret in [
            DEMO_PASSWORD,
            "wrong-password-1",
            token.trim(),
            token.trim().rsplit(':').next().unwrap(),
        ] {
            assert!(!text.contains(secret), "a secret in {text}");
        }
        for h in &hashes {
            assert!(!text.contains(h.as_str()), "a hash in {text}");
        }
        assert!(!text.contains("$scrypt$"), "{text}");
    }
}
