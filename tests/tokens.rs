//! Session tokens through the binary: only a valid HS256 token, signed with
//! this CRM's key, naming a collaborator who still exists in the same
//! department, runs a statement. Everything else is `error[auth]`, exit 3.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{DEMO_PASSWORD, TestDb};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The claims the shell issues, expiring `ttl` seconds from now.
fn claims(sub: &str, dept: &str, ttl: i64) -> Value {
    json!({
        "sub": sub,
        "dept": dept,
        "iat": now() - 60,
        "exp": now() + ttl,
        "jti": "00112233445566778899aabbccddeeff",
    })
}

fn sign(algorithm: Algorithm, key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Runs `list clients` with `token` in `OC12_JWT` from an empty home.
fn with_token(db: &TestDb, token: &str) -> support::Run {
    let home = tempfile::tempdir().unwrap();
    db.shell_in(home.path())
        .env("OC12_JWT", token)
        .args(["-c", "list clients"])
        .run()
}

#[track_caller]
fn auth_refused(run: support::Run, needle: &str) -> String {
    let stderr = run.stderr();
    assert!(
        run.code() == 3 && stderr.contains("error[auth]") && stderr.contains(needle),
        "expected error[auth] (exit 3) mentioning {needle:?}, got exit {}\n--- stdout\n{}\n--- stderr\n{stderr}",
        run.code(),
        run.stdout()
    );
    assert!(
        !run.stdout().contains("mkc111"),
        "nothing is shown:\n{}",
        run.stdout()
    );
    stderr
}

#[test]
fn a_well_made_token_works_and_every_forgery_is_refused() {
    let db = TestDb::demo();
    let key = db.secret_key.as_bytes();
    let good = sign(
        Algorithm::HS256,
        key,
        &claims("ab123456789", "commercial", 600),
    );
    // The control: the tokens below differ from this one in one way each.
    let run = with_token(&db, &good).status(0);
    assert!(run.stdout().contains("mkc111"), "{}", run.stdout());

    // Expired, and expiring this very second (zero leeway).
    auth_refused(
        with_token(
            &db,
            &sign(
                Algorithm::HS256,
                key,
                &claims("ab123456789", "commercial", -1),
            ),
        ),
        "expired",
    );
    auth_refused(
        with_token(
            &db,
            &sign(
                Algorithm::HS256,
                key,
                &claims("ab123456789", "commercial", 0),
            ),
        ),
        "expired",
    );

    // A tampered payload: a commercial's token made to say gestion.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(&claims("ab123456789", "gestion", 600));
    auth_refused(with_token(&db, &parts.join(".")), "signature");
    parts[1] = b64(&claims("ac123456789", "gestion", 600));
    auth_refused(with_token(&db, &parts.join(".")), "signature");

    // Signed with another key.
    let other_key = "another-key-of-forty-bytes-xxxxxxxxxxxxx";
    auth_refused(
        with_token(
            &db,
            &sign(
                Algorithm::HS256,
                other_key.as_bytes(),
                &claims("ab123456789", "commercial", 600),
            ),
        ),
        "signature",
    );

    // `alg: none`, with and without a signature part.
    let payload = b64(&claims("ac123456789", "gestion", 600));
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "None", "typ": "JWT"}),
    ] {
        let unsigned = format!("{}.{payload}.", b64(&header));
        auth_refused(with_token(&db, &unsigned), "only HS256");
        let signature = &good.split('.').nth(2).unwrap();
        auth_refused(
            with_token(&db, &format!("{}.{payload}.{signature}", b64(&header))),
            "only HS256",
        );
    }

    // Other algorithms, even with the right key.
    for algorithm in [Algorithm::HS384, Algorithm::HS512] {
        auth_refused(
            with_token(
                &db,
                &sign(algorithm, key, &claims("ab123456789", "commercial", 600)),
            ),
            "only HS256",
        );
    }

    // Garbage.
    for garbage in [
        "garbage",
        "a.b.c",
        "..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        &good[..good.len() - 3],
    ] {
        let run = with_token(&db, garbage);
        assert_eq!(run.code(), 3, "{garbage}: {}", run.stderr());
        assert!(run.stderr().contains("error[auth]"), "{}", run.stderr());
    }

    // Well signed, but the claims do not match the database: another
    // department than the collaborator's, or nobody at all.
    auth_refused(
        with_token(
            &db,
            &sign(
                Algorithm::HS256,
                key,
                &claims("ab123456789", "gestion", 600),
            ),
        ),
        "log in again",
    );
    auth_refused(
        with_token(
            &db,
            &sign(
                Algorithm::HS256,
                key,
                &claims("zz123456789", "gestion", 600),
            ),
        ),
        "zz123456789",
    );
}

#[test]
fn an_expired_token_file_is_refused_too() {
    let db = TestDb::demo();
    let expired = sign(
        Algorithm::HS256,
        db.secret_key.as_bytes(),
        &claims("ab123456789", "commercial", -3600),
    );
    std::fs::write(db.home.path().join("token"), format!("{expired}\n")).unwrap();
    auth_refused(db.shell().args(["-c", "list clients"]).run(), "expired");
    auth_refused(db.shell().args(["whoami"]).run(), "expired");
}

#[test]
fn oc12_jwt_stands_in_for_the_token_file() {
    let db = TestDb::demo();
    let run = db
        .shell()
        .args(["login", "ab123456789", "--password-stdin", "--print-token"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    let token = run.stdout().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");

    // A home with no token file at all.
    let empty = tempfile::tempdir().unwrap();
    auth_refused(
        db.shell_in(empty.path()).args(["-c", "list clients"]).run(),
        "not logged in",
    );
    let run = db
        .shell_in(empty.path())
        .env("OC12_JWT", &token)
        .args(["-c", "whoami", "-c", "list clients where commercial = me"])
        .run()
        .status(0);
    assert!(
        run.stdout()
            .contains("ab123456789 Bill Boquet (commercial)")
    );
    assert!(run.stdout().contains("mkc111") && !run.stdout().contains("SRODAP37"));
    assert!(!empty.path().join("token").exists());

    // It wins over the token file of somebody else.
    let daisy = db.user("ac123456789");
    let run = daisy
        .shell()
        .env("OC12_JWT", &token)
        .args(["whoami"])
        .run()
        .status(0);
    assert!(run.stdout().starts_with("ab123456789 "), "{}", run.stdout());
    daisy
        .shell()
        .env("OC12_JWT", &token)
        .args(["-c", "delete client mkc111"])
        .run()
        .status(1);
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.client WHERE id = 'mkc111'"),
        "1"
    );
}

#[test]
fn not_logged_in_or_logged_out_is_refused() {
    let db = TestDb::demo();
    auth_refused(
        db.shell().args(["-c", "list clients"]).run(),
        "not logged in",
    );
    auth_refused(db.shell().stdin("list clients\n").run(), "not logged in");
    auth_refused(db.shell().args(["whoami"]).run(), "not logged in");
    db.shell()
        .args(["login", "ab123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    db.shell().args(["-c", "list clients"]).run().status(0);
    db.shell().args(["logout"]).run().status(0);
    assert!(!db.home.path().join("token").exists());
    auth_refused(
        db.shell().args(["-c", "list clients"]).run(),
        "not logged in",
    );
}

/// The initial password `add collaborator` prints once in a script.
fn initial_password(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("initial password: "))
        .unwrap_or_else(|| panic!("no initial password in\n{out}"))
        .trim()
        .to_owned()
}

#[test]
fn a_deleted_collaborator_is_refused_at_the_next_statement() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let out = daisy.ok(
        "add collaborator id=xy123456789 name='Xavier Yon' email=xavier.yon@epic-events.example \
         department=support",
    );
    let xavier = db.user_with("xy123456789", &initial_password(&out));
    xavier.ok("list events");
    daisy.ok("delete collaborator xy123456789");
    auth_refused(xavier.run("list events"), "no longer exists");
    auth_refused(xavier.shell().args(["whoami"]).run(), "no longer exists");
    // Statements after it in the same script do not run.
    let run = xavier
        .shell()
        .args([
            "--continue-on-error",
            "-c",
            "list events",
            "-c",
            "count events",
        ])
        .run();
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert_eq!(run.stderr().matches("error[auth]").count(), 1);
}

#[test]
fn a_moved_collaborator_must_log_in_again() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let out = daisy.ok(
        "add collaborator id=xy123456789 name='Xavier Yon' email=xavier.yon@epic-events.example \
         department=support",
    );
    let password = initial_password(&out);
    let xavier = db.user_with("xy123456789", &password);
    xavier.ok("list events where support = me");
    daisy.ok("set collaborator xy123456789 department=commercial");
    auth_refused(
        xavier.run("list clients"),
        "moved from support to commercial",
    );
    // Logged in again, they act as a commercial.
    let xavier = db.user_with("xy123456789", &password);
    xavier.ok("add client id=new1 name='New Client' email=new@client.fr");
    assert_eq!(
        db.value("SELECT commercial FROM crm.client WHERE id = 'new1'"),
        "xy123456789"
    );
}

#[test]
fn a_missing_or_short_secret_key_is_refused() {
    let db = TestDb::demo();
    let user = db.user("ab123456789");
    // No OC12_SECRET_KEY and no config.env.
    assert!(!user.home.path().join("config.env").exists());
    auth_refused(
        user.shell()
            .env_remove("OC12_SECRET_KEY")
            .args(["-c", "list clients"])
            .run(),
        "OC12_SECRET_KEY is not set",
    );
    auth_refused(
        db.shell()
            .env_remove("OC12_SECRET_KEY")
            .args(["login", "ab123456789", "--password-stdin"])
            .stdin(DEMO_PASSWORD)
            .run(),
        "OC12_SECRET_KEY is not set",
    );
    assert!(!db.home.path().join("token").exists());

    // 31 bytes: refused, never padded, even for a token it signed itself.
    let short = "k".repeat(31);
    let signed_short = sign(
        Algorithm::HS256,
        short.as_bytes(),
        &claims("ab123456789", "commercial", 600),
    );
    auth_refused(
        user.shell()
            .env("OC12_SECRET_KEY", &short)
            .env("OC12_JWT", &signed_short)
            .args(["-c", "list clients"])
            .run(),
        "too short",
    );
    auth_refused(
        db.shell()
            .env("OC12_SECRET_KEY", &short)
            .args(["login", "ab123456789", "--password-stdin"])
            .stdin(DEMO_PASSWORD)
            .run(),
        "too short",
    );
    assert!(!db.home.path().join("token").exists());

    // The key from config.env, when the environment has none, works.
    std::fs::write(
        user.home.path().join("config.env"),
        format!("OC12_SECRET_KEY={}\n", db.secret_key),
    )
    .unwrap();
    user.shell()
        .env_remove("OC12_SECRET_KEY")
        .args(["-c", "list clients"])
        .run()
        .status(0);
}
