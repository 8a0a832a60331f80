//! Team mode, attacked (sql/SECURITY.md): a collaborator with everything an
//! ordinary installation gives them — their configuration, their token
//! file, and a raw PostgreSQL connection (`psql`) with their own session —
//! cannot act as anyone else, read anyone's password material, outlive a
//! logout, a reset, a move or a deletion, or stop the others from working.
//! Each test asserts the exact refusal.

use crate::support;

use std::str::FromStr;
use std::time::Duration;

use oc12::auth::Credential;
use oc12::db::pool::{Database, GATE_PASSWORD, LoginOutcome};
use support::{DEMO_PASSWORD, TestDb};

const COMMERCIAL: &str = "ab123456789";
const MANAGER: &str = "ac123456789";
const SUPPORT: &str = "ae123456789";

/// The token file's line of a home.
fn token_line(home: &std::path::Path) -> String {
    std::fs::read_to_string(home.join("token"))
        .unwrap()
        .trim()
        .to_owned()
}

fn credential(home: &std::path::Path) -> Credential {
    Credential::parse(&token_line(home)).unwrap()
}

/// The SQLSTATE of a refused statement.
#[track_caller]
fn refused(client: &mut postgres::Client, sql: &str) -> String {
    let e = client
        .batch_execute(sql)
        .expect_err(&format!("PostgreSQL accepted `{sql}`"));
    e.code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}

/// A connection attempt with a session that PostgreSQL must refuse.
#[track_caller]
fn connect_refused(db: &TestDb, credential: &Credential) -> postgres::Error {
    match db.connect_as(credential) {
        Ok(_) => panic!("PostgreSQL accepted the session {}", credential.claims.role),
        Err(e) => e,
    }
}

/// `psql` as the gate role, whose password is public.
fn gate(db: &TestDb) -> postgres::Client {
    let mut config = postgres::Config::from_str(&db.url).unwrap();
    config
        .user(&format!("{}_gate", db.prefix()))
        .password(GATE_PASSWORD);
    config.connect(postgres::NoTls).unwrap()
}

/// A statement through the binary that must be refused as `error[auth]`
/// (exit 3) mentioning `needle`.
#[track_caller]
fn auth_refused(run: support::Run, needle: &str) -> String {
    let run = run.status(3);
    let stderr = run.stderr();
    assert!(
        stderr.starts_with("error[auth]: ") && stderr.contains(needle),
        "expected error[auth] mentioning {needle:?}, got: {stderr}"
    );
    assert_eq!(run.stdout(), "");
    stderr
}

#[test]
fn a_session_is_its_collaborator_and_nobody_else() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let mine = credential(bill.home.path());
    assert_eq!(mine.claims.sub, COMMERCIAL);
    assert_eq!(mine.claims.dept, "commercial");
    let mut psql = db.connect_as(&mine).unwrap();
    let row = psql
        .query_one(
            "SELECT current_user::text, crm.me(), crm.session_check()",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), mine.claims.role);
    assert_eq!(row.get::<_, String>(1), COMMERCIAL);
    assert_eq!(row.get::<_, String>(2), "commercial");

    // No way into another collaborator, a department or the owner.
    let prefix = db.prefix();
    for role in [
        format!("{prefix}_{MANAGER}"),
        format!("{prefix}_gestion"),
        format!("{prefix}_owner"),
        format!("{prefix}_gate"),
        "postgres".to_owned(),
    ] {
        assert_eq!(
            refused(&mut psql, &format!("SET ROLE \"{role}\"")),
            "42501",
            "{role}"
        );
    }
    // No password material, no sessions, no key, no settings to change.
    for table in [
        "collaborator_password",
        "session",
        "server_key",
        "login_failure",
    ] {
        assert_eq!(
            refused(&mut psql, &format!("SELECT * FROM crm.{table}")),
            "42501",
            "{table}"
        );
    }
    assert_eq!(
        refused(&mut psql, "UPDATE crm.settings SET value = '0'"),
        "42501"
    );
    // Nothing of the server's session machinery is callable.
    for call in [
        "SELECT crm.revoke_sessions(NULL, 'x', NULL, NULL, false)",
        "SELECT crm.store_password('ac123456789', 'x')",
        "SELECT crm.set_password('ac123456789', 'x')",
        "SELECT * FROM crm.login('ac123456789', 'x', 60)",
        "SELECT crm.hmac_sha256('k', 'm')",
    ] {
        assert_eq!(refused(&mut psql, call), "42501", "{call}");
    }
    // The salt of anyone is no secret, and no hash comes with it.
    let salt: String = psql
        .query_one("SELECT crm.login_salt($1)", &[&MANAGER])
        .unwrap()
        .get(0);
    assert_eq!(salt.matches('$').count(), 3, "{salt}");
    // Roles: none to create, none to change, not even one's own expiry.
    assert_eq!(refused(&mut psql, "CREATE ROLE x LOGIN"), "42501");
    assert_eq!(
        refused(
            &mut psql,
            &format!("ALTER ROLE \"{prefix}_gate\" PASSWORD 'mine'")
        ),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            &format!("ALTER ROLE \"{}\" VALID UNTIL 'infinity'", mine.claims.role)
        ),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            &format!("ALTER ROLE \"{}\" CONNECTION LIMIT -1", mine.claims.role)
        ),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            &format!("ALTER ROLE \"{prefix}_{MANAGER}\" LOGIN")
        ),
        "42501"
    );
    // A manager's statement, tried directly, is refused by PostgreSQL.
    assert_eq!(
        refused(&mut psql, "DELETE FROM crm.client WHERE id = 'mkc111'"),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            "SELECT crm.add_collaborator(NULL, 'Mal Lory', 'mal@x.fr', 'gestion', 'manager', NULL)"
        ),
        "42501"
    );
}

#[test]
fn a_session_cannot_stop_the_others() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let daisy = db.user(MANAGER);
    // Daisy has a connection open.
    let hers = credential(daisy.home.path());
    let mut her_psql = db.connect_as(&hers).unwrap();
    let her_pid: i32 = her_psql
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    // Bill, with his own session, tries to end it, and to lock her out.
    let mut psql = db.connect_as(&credential(bill.home.path())).unwrap();
    assert_eq!(
        refused(
            &mut psql,
            &format!("SELECT pg_terminate_backend({her_pid})")
        ),
        "42501"
    );
    assert_eq!(
        refused(&mut psql, &format!("SELECT pg_cancel_backend({her_pid})")),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            &format!("ALTER ROLE \"{}\" PASSWORD 'locked'", hers.claims.role)
        ),
        "42501"
    );
    assert_eq!(
        refused(
            &mut psql,
            &format!(
                "ALTER ROLE \"{}\" SET default_transaction_read_only = on",
                hers.claims.role
            )
        ),
        "42501"
    );
    // She goes on working.
    her_psql.batch_execute("SELECT 1").unwrap();
    daisy.ok("count clients");

    // Each session's connections are limited, and so are the gate's.
    let limit: i32 = db
        .value(&format!(
            "SELECT rolconnlimit::text FROM pg_roles WHERE rolname = '{}'",
            hers.claims.role
        ))
        .parse()
        .unwrap();
    assert_eq!(limit, 8);
    let mine = credential(bill.home.path());
    let mut open = Vec::new();
    let refusal = loop {
        match db.connect_as(&mine) {
            Ok(c) => open.push(c),
            Err(e) => break e,
        }
        assert!(open.len() <= 8, "more connections than the limit");
    };
    assert_eq!(open.len(), 8 - 1, "psql above holds one");
    assert_eq!(refusal.code().unwrap().code(), "53300", "{refusal}");
    assert_eq!(
        db.value(&format!(
            "SELECT rolconnlimit::text FROM pg_roles WHERE rolname = '{}_gate'",
            db.prefix()
        )),
        "32"
    );
    // Every session runs with the server's statement timeout.
    let timeout: String = psql
        .query_one("SHOW statement_timeout", &[])
        .unwrap()
        .get(0);
    assert_eq!(timeout, "30s");
    let idle: String = psql
        .query_one("SHOW idle_in_transaction_session_timeout", &[])
        .unwrap()
        .get(0);
    assert_eq!(idle, "5min");
}

#[test]
fn a_changed_token_grants_nothing() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let daisy = db.user(MANAGER);
    let line = token_line(bill.home.path());
    let (token, secret) = line.split_once(':').unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload = |edit: &dyn Fn(&mut serde_json::Value)| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        edit(&mut claims);
        format!(
            "{}.{}.{}:{secret}",
            parts[0],
            b64.encode(serde_json::to_vec(&claims).unwrap()),
            parts[2]
        )
    };
    let with = |line: &str| {
        db.shell_in(tempfile::tempdir().unwrap().keep().as_path())
            .env("OC12_JWT", line)
            .args(["-c", "delete client mkc111"])
            .run()
    };
    // Claiming gestion: the server says who he is.
    auth_refused(
        with(&payload(&|c| c["dept"] = "gestion".into())),
        "ab123456789 is in commercial, not gestion; log in again",
    );
    // Claiming to be Daisy, with her session's role but his secret.
    let hers = credential(daisy.home.path());
    auth_refused(
        with(&payload(&|c| {
            c["sub"] = MANAGER.into();
            c["dept"] = "gestion".into();
            c["role"] = hers.claims.role.clone().into();
        })),
        "the server refused this session (password authentication failed for user",
    );
    // Pushing the expiry far away: the server's expiry stands.
    let far = payload(&|c| c["exp"] = 4_000_000_000u64.into());
    db.shell_in(tempfile::tempdir().unwrap().keep().as_path())
        .env("OC12_JWT", &far)
        .args(["-c", "count clients"])
        .run()
        .status(0);
    db.rows(&format!(
        "UPDATE crm.session SET expires = now() - interval '1 second' WHERE role = '{}' RETURNING jti",
        credential(bill.home.path()).claims.role
    ));
    auth_refused(
        db.shell_in(tempfile::tempdir().unwrap().keep().as_path())
            .env("OC12_JWT", &far)
            .args(["-c", "count clients"])
            .run(),
        "your session expired at ",
    );
    // A token of the first design (no session secret) is refused.
    auth_refused(with(token), "predates team mode");
    // Nothing was deleted.
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.client WHERE id = 'mkc111'"),
        "1"
    );
}

#[test]
fn the_token_is_a_jwt_signed_with_a_key_only_the_server_holds() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let line = token_line(bill.home.path());
    let token = line.split_once(':').unwrap().0;
    let key = db.value("SELECT encode(key, 'hex') FROM crm.server_key");
    let key: Vec<u8> = (0..key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key[i..i + 2], 16).unwrap())
        .collect();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<oc12::auth::Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&key),
        &validation,
    )
    .expect("the server's signature checks");
    assert_eq!(data.claims.sub, COMMERCIAL);
    let (exp, jti): (String, String) = {
        let row = db.rows(&format!(
            "SELECT extract(epoch FROM expires)::bigint::text || ' ' || jti FROM crm.session WHERE role = '{}'",
            data.claims.role
        ));
        let (a, b) = row[0].split_once(' ').unwrap();
        (a.to_owned(), b.to_owned())
    };
    assert_eq!(data.claims.exp.to_string(), exp);
    assert_eq!(data.claims.jti, jti);
    // Signed with another key (what a client could make), it does not check.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &data.claims,
        &jsonwebtoken::EncodingKey::from_secret(b"any key a client could have chosen"),
    )
    .unwrap();
    assert!(
        jsonwebtoken::decode::<oc12::auth::Claims>(
            &forged,
            &jsonwebtoken::DecodingKey::from_secret(&key),
            &validation
        )
        .is_err()
    );
    // Nothing on the machine holds the key.
    for (name, _) in std::env::vars() {
        assert_ne!(name, "OC12_SECRET_KEY");
    }
    let config = std::fs::read_to_string(bill.home.path().join("config.env")).unwrap_or_default();
    assert!(!config.contains("SECRET"), "{config}");
}

#[test]
fn logout_ends_every_copy_of_the_session_on_the_server() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let stolen = credential(bill.home.path());
    // A copy in another home, and an open psql connection with it.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(
        bill.home.path().join("token"),
        elsewhere.path().join("token"),
    )
    .unwrap();
    let copy = || {
        db.shell_in(elsewhere.path())
            .args(["-c", "count clients"])
            .run()
    };
    assert_eq!(copy().status(0).stdout(), "6\n");
    let mut psql = db.connect_as(&stolen).unwrap();
    psql.batch_execute("SELECT 1").unwrap();

    assert_eq!(
        bill.shell().args(["logout"]).run().status(0).stdout(),
        "logged out\n"
    );
    assert!(!bill.home.path().join("token").exists());
    auth_refused(copy(), "your session was ended at ");
    auth_refused(copy(), "(logged out); log in again");
    // When, in the user's zone like every time the shell shows.
    let tokyo = db
        .shell_in(elsewhere.path())
        .env("TZ", "Asia/Tokyo")
        .args(["-c", "count clients"])
        .run();
    auth_refused(tokyo, " +09:00 (logged out)");
    // The open connection was terminated, and no new one is accepted.
    assert!(
        psql.batch_execute("SELECT 1").is_err(),
        "the connection was ended"
    );
    let e = connect_refused(&db, &stolen);
    assert_eq!(e.code().unwrap().code(), "28000", "{e}");
    assert!(
        e.as_db_error()
            .unwrap()
            .message()
            .contains("not permitted to log in"),
        "{e}"
    );
    assert_eq!(
        db.value(&format!(
            "SELECT why FROM crm.session WHERE role = '{}'",
            stolen.claims.role
        )),
        "logged out"
    );
    // Logging out again, or with the dead copy, is harmless.
    db.shell_in(elsewhere.path())
        .args(["logout"])
        .run()
        .status(0);
}

#[test]
fn a_password_reset_a_move_and_a_deletion_end_sessions_at_once() {
    let db = TestDb::demo();
    let daisy = db.user(MANAGER);
    // Reset: every session of the target ends.
    let bill = db.user(COMMERCIAL);
    let mut bill_psql = db.connect_as(&credential(bill.home.path())).unwrap();
    daisy.ok("passwd ab123456789");
    auth_refused(bill.run("count clients"), "password reset by ac123456789");
    assert!(bill_psql.batch_execute("SELECT 1").is_err());

    // A move: the session ends (and the department's rights with it).
    let louloute = db.user(SUPPORT);
    daisy.ok("set event hob2023 support = af123456789");
    daisy.ok("set collaborator ae123456789 department = gestion");
    auth_refused(louloute.run("count clients"), "moved to gestion");

    // A deletion, then a new collaborator with the same registration: the
    // old person's token is worth nothing.
    let out = daisy.ok(
        "add collaborator id=zz123456789 name='Zoe Zed' email=zoe@epic-events.example department=support",
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("initial password: "))
        .unwrap()
        .to_owned();
    let zoe = db.user_with("zz123456789", &password);
    let old = token_line(zoe.home.path());
    daisy.ok("delete collaborator zz123456789");
    auth_refused(
        zoe.run("count clients"),
        "(the collaborator was deleted); log in again",
    );
    daisy.ok(
        "add collaborator id=zz123456789 name='Zoe New' email=zoe.new@epic-events.example department=support",
    );
    let reused = tempfile::tempdir().unwrap();
    std::fs::write(reused.path().join("token"), &old).unwrap();
    auth_refused(
        db.shell_in(reused.path())
            .args(["-c", "count clients"])
            .run(),
        "your session",
    );
}

#[test]
fn ones_own_password_change_ends_the_other_sessions_only() {
    let db = TestDb::demo();
    let here = db.login_session(COMMERCIAL);
    let there = db.login_session(COMMERCIAL);
    let mut psql = db.connect_as(&here).unwrap();
    let salt: String = psql
        .query_one("SELECT crm.login_salt($1)", &[&COMMERCIAL])
        .unwrap()
        .get(0);
    let new = oc12::auth::hash_password_with_cost("n3w-password", 4).unwrap();
    // The wrong current password changes nothing.
    let wrong = oc12::auth::proof("not-it-1", &salt).unwrap();
    let e = psql
        .execute("SELECT crm.change_password($1, $2)", &[&wrong, &new])
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "28P01");
    assert!(db.connect_as(&there).is_ok());
    let right = oc12::auth::proof(DEMO_PASSWORD, &salt).unwrap();
    psql.execute("SELECT crm.change_password($1, $2)", &[&right, &new])
        .unwrap();
    // Ended: its role cannot log in (or is gone already).
    let e = connect_refused(&db, &there);
    assert!(e.code().unwrap().code().starts_with("28"), "{e}");
    // This session goes on, and the new password is the one that works.
    psql.batch_execute("SELECT crm.session_check()").unwrap();
    let database = Database::open(&db.url).unwrap();
    let ttl = Duration::from_secs(60);
    assert!(matches!(
        database.login(COMMERCIAL, DEMO_PASSWORD, ttl).unwrap(),
        LoginOutcome::Wrong { .. }
    ));
    assert!(matches!(
        database.login(COMMERCIAL, "n3w-password", ttl).unwrap(),
        LoginOutcome::LoggedIn(_)
    ));
}

#[test]
fn failed_logins_are_counted_and_slowed_down_on_the_server() {
    let db = TestDb::demo();
    let try_login_in = |home: &std::path::Path, password: &str| {
        db.shell_in(home)
            .args(["login", MANAGER, "--password-stdin"])
            .stdin(password.to_owned())
            .run()
    };
    // A new home every time: nothing local to delete or get around.
    let try_login =
        |password: &str| try_login_in(tempfile::tempdir().unwrap().keep().as_path(), password);
    for n in 1..=5 {
        // The fifth from the home whose event log we read.
        let home = if n == 5 {
            db.home.path().to_owned()
        } else {
            tempfile::tempdir().unwrap().keep()
        };
        auth_refused(
            try_login_in(&home, "wrong-password-1"),
            "wrong registration number or password for `ac123456789`",
        );
        assert_eq!(
            db.value(
                "SELECT failures::text FROM crm.login_failure WHERE registration = 'ac123456789'"
            ),
            n.to_string()
        );
    }
    // Now even the right password waits: nothing is checked meanwhile.
    let stderr = auth_refused(
        try_login(DEMO_PASSWORD),
        "too many failed logins for `ac123456789`",
    );
    assert!(stderr.contains("5 in a row); try again in 1 s"), "{stderr}");
    std::thread::sleep(Duration::from_millis(1100));
    auth_refused(
        try_login("wrong-password-1"),
        "wrong registration number or password",
    );
    let stderr = auth_refused(try_login(DEMO_PASSWORD), "too many failed logins");
    assert!(stderr.contains("try again in 2 s"), "{stderr}");
    // Twenty in a row: locked for an hour, until a manager resets it.
    db.rows("UPDATE crm.login_failure SET failures = 20 RETURNING registration");
    let stderr = auth_refused(
        try_login(DEMO_PASSWORD),
        "(20 in a row); try again in 3600 s",
    );
    assert!(!stderr.contains("logged in"), "{stderr}");
    let anna = db.user("ad123456789");
    let out = anna.ok("passwd ac123456789");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("new password for ac123456789: "))
        .unwrap()
        .to_owned();
    try_login(&password).status(0);
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.login_failure WHERE registration = 'ac123456789'"),
        "0"
    );
    // The monitoring event of the fifth failure carries the server's count,
    // although every attempt came from a fresh home.
    let events = std::fs::read_to_string(db.home.path().join("events.jsonl")).unwrap();
    assert!(
        events.lines().any(|line| {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            e["message"] == "failed logins"
                && e["extra"]["count"] == 5
                && e["tags"]["registration"] == "ac123456789"
        }),
        "{events}"
    );
}

#[test]
fn unknown_registrations_look_like_known_ones() {
    let db = TestDb::demo();
    let mut gate = gate(&db);
    let salt = |gate: &mut postgres::Client, reg: &str| -> String {
        gate.query_one("SELECT crm.login_salt($1)", &[&reg])
            .unwrap()
            .get(0)
    };
    let unknown = salt(&mut gate, "zz000000000");
    assert_eq!(unknown, salt(&mut gate, "zz000000000"));
    assert_ne!(unknown, salt(&mut gate, "zz000000001"));
    let known = salt(&mut gate, MANAGER);
    assert_eq!(unknown.matches('$').count(), known.matches('$').count());
    // A login of an unknown registration is refused like a wrong password.
    auth_refused(
        db.shell()
            .args(["login", "zz000000000", "--password-stdin"])
            .stdin(DEMO_PASSWORD)
            .run(),
        "wrong registration number or password for `zz000000000`",
    );
}

#[test]
fn the_server_decides_the_expiry_and_the_number_of_sessions() {
    let db = TestDb::demo();
    let mut gate = gate(&db);
    let salt: String = gate
        .query_one("SELECT crm.login_salt($1)", &[&COMMERCIAL])
        .unwrap()
        .get(0);
    let proof = oc12::auth::proof(DEMO_PASSWORD, &salt).unwrap();
    // Asking for ten years gives seven days.
    let row = gate
        .query_one(
            "SELECT status, token FROM crm.login($1, $2, $3)",
            &[&COMMERCIAL, &proof, &i32::MAX],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "ok");
    let days = db.value(
        "SELECT round(extract(epoch FROM max(expires) - max(issued)) / 86400)::text FROM crm.session",
    );
    assert_eq!(days, "7");
    // And the client refuses to ask for more.
    let run = db
        .shell()
        .env("OC12_TOKEN_TTL", "30d")
        .args(["login", COMMERCIAL, "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(2);
    assert!(run.stderr().contains("at most 7 days"), "{}", run.stderr());

    // At most N open sessions per collaborator: a new login ends the oldest.
    db.rows("UPDATE crm.settings SET value = '2' WHERE name = 'sessions_per_collaborator' RETURNING name");
    let first = db.login_session(SUPPORT);
    let second = db.login_session(SUPPORT);
    let third = db.login_session(SUPPORT);
    assert!(db.connect_as(&second).is_ok());
    assert!(db.connect_as(&third).is_ok());
    let e = connect_refused(&db, &first);
    assert!(e.code().unwrap().code().starts_with("28"), "{e}");
    assert_eq!(
        db.value(&format!(
            "SELECT why FROM crm.session WHERE role = '{}'",
            first.claims.role
        )),
        "too many sessions: ended by a newer login"
    );
}

#[test]
fn expired_sessions_are_refused_by_postgresql_and_swept() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let mine = credential(bill.home.path());
    // The server's own expiry, as the role's VALID UNTIL.
    db.rows(&format!(
        "ALTER ROLE \"{}\" VALID UNTIL '2000-01-01'",
        mine.claims.role
    ));
    let e = connect_refused(&db, &mine);
    assert_eq!(e.code().unwrap().code(), "28P01", "{e}");
    auth_refused(
        bill.run("count clients"),
        "the server refused this session (password authentication failed",
    );
    // The next login sweeps expired sessions: their roles go.
    db.rows(&format!(
        "UPDATE crm.session SET expires = now() - interval '1 minute' WHERE role = '{}' RETURNING jti",
        mine.claims.role
    ));
    db.login_session(MANAGER);
    assert_eq!(
        db.value(&format!(
            "SELECT count(*)::text FROM pg_roles WHERE rolname = '{}'",
            mine.claims.role
        )),
        "0"
    );
}

#[test]
fn init_again_from_another_home_changes_no_credential() {
    let db = TestDb::demo();
    let bill = db.user(COMMERCIAL);
    let before = db.rows(&format!(
        "SELECT rolname || ' ' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname LIKE '{}\\_%' ORDER BY 1",
        db.prefix()
    ));
    let key = db.value("SELECT encode(key, 'hex') FROM crm.server_key");
    let other = tempfile::tempdir().unwrap();
    let run = db
        .shell_in(other.path())
        .env_remove("OC12_DATABASE_URL")
        .args(["init", "--admin-url", &db.admin_url])
        .run()
        .status(0);
    assert!(run.stdout().contains("nothing changed"), "{}", run.stdout());
    assert!(
        run.stdout()
            .contains(&format!("OC12_DATABASE_URL={}", db.url))
    );
    let after = db.rows(&format!(
        "SELECT rolname || ' ' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname LIKE '{}\\_%' ORDER BY 1",
        db.prefix()
    ));
    assert_eq!(before, after);
    assert_eq!(
        db.value("SELECT encode(key, 'hex') FROM crm.server_key"),
        key
    );
    assert_eq!(bill.ok("count clients"), "6\n");
}

#[test]
fn security_definer_functions_never_look_in_pg_temp_first() {
    let db = TestDb::demo();
    let loose = db.rows(
        "SELECT p.oid::regprocedure::text FROM pg_proc p \
         WHERE p.pronamespace = 'crm'::regnamespace AND p.prosecdef \
           AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, crm, pg_temp']",
    );
    assert_eq!(loose, Vec::<String>::new());
    // And a temporary table named like a catalogue view changes nothing:
    // the login of a collaborator whose session planted one still works.
    let bill = db.user(COMMERCIAL);
    let mut psql = db.connect_as(&credential(bill.home.path())).unwrap();
    let planted = psql.batch_execute("CREATE TEMP TABLE pg_roles (rolname name)");
    assert!(planted.is_err(), "no temporary tables for sessions");
    assert_eq!(bill.ok("count clients"), "6\n");
}

#[test]
fn gestion_sees_who_is_being_locked_out() {
    let db = TestDb::demo();
    let run = db
        .shell()
        .args(["login", COMMERCIAL, "--password-stdin"])
        .stdin("wrong-password-1")
        .run();
    auth_refused(run, "wrong registration number or password");
    let seen = db.with_session(MANAGER, |c| {
        c.query_one(
            "SELECT failures FROM crm.login_failure WHERE registration = $1",
            &[&COMMERCIAL],
        )
        .unwrap()
        .get::<_, i32>(0)
    });
    assert_eq!(seen, 1);
    let e = db.with_session(SUPPORT, |c| {
        c.query("SELECT * FROM crm.login_failure", &[]).unwrap_err()
    });
    assert_eq!(e.code().unwrap().code(), "42501");
}

#[test]
fn a_url_with_a_password_is_refused() {
    let db = TestDb::demo();
    let url = db
        .url
        .replace("postgresql:///", "postgresql://someone:s3cret@/");
    let run = db
        .shell()
        .env("OC12_DATABASE_URL", &url)
        .args(["login", COMMERCIAL, "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(2);
    assert!(
        run.stderr()
            .starts_with("error[usage]: the database URL `postgresql://someone:***@/"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("s3cret"));
}

#[test]
fn the_statement_timeout_is_the_servers() {
    let db = TestDb::demo();
    let home = tempfile::tempdir().unwrap();
    db.shell_in(home.path())
        .env_remove("OC12_DATABASE_URL")
        .args([
            "init",
            "--admin-url",
            &db.admin_url,
            "--statement-timeout",
            "1s",
        ])
        .run()
        .status(0);
    let bill = db.user(COMMERCIAL);
    let mut psql = db.connect_as(&credential(bill.home.path())).unwrap();
    let shown: String = psql
        .query_one("SHOW statement_timeout", &[])
        .unwrap()
        .get(0);
    assert_eq!(shown, "1s");
    let e = psql.batch_execute("SELECT pg_sleep(3)").unwrap_err();
    assert_eq!(e.code().unwrap().code(), "57014", "{e}");
    let bad = db
        .shell_in(home.path())
        .args([
            "init",
            "--admin-url",
            &db.admin_url,
            "--statement-timeout",
            "soon",
        ])
        .run()
        .status(2);
    assert!(
        bad.stderr().contains("invalid --statement-timeout `soon`"),
        "{}",
        bad.stderr()
    );
}
