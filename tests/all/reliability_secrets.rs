//! Secrets: private files stay private, a copied token dies with its
//! expiry, and session secrets and passwords never leak into any output but
//! the one that hands them over, nor into a log, event file, history or
//! audit row.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use support::{DEMO_PASSWORD, Pty, TestDb};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_token_and_config_files_are_private() {
    let db = TestDb::demo();
    db.login("ab123456789");
    assert_eq!(mode(&db.home.path().join("token")), 0o600);
    assert_eq!(mode(db.home.path()), 0o700);
    // `init` on an existing server writes config.env: the address only.
    let home = tempfile::tempdir().unwrap();
    db.shell_in(home.path())
        .env_remove("OC12_DATABASE_URL")
        .args(["init", "--admin-url", &db.admin_url])
        .run()
        .status(0);
    let config = home.path().join("config.env");
    assert_eq!(mode(&config), 0o600);
    let vars = oc12::config::read_env_file(&config).unwrap();
    assert_eq!(vars.keys().collect::<Vec<_>>(), ["OC12_DATABASE_URL"]);
    assert_eq!(vars["OC12_DATABASE_URL"], db.url);
}

/// The `exp` claim of a token, in seconds since the epoch.
fn expiry(token: &str) -> u64 {
    let payload = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
    claims["exp"].as_u64().unwrap()
}

#[test]
fn a_copied_token_works_only_until_it_expires() {
    let db = TestDb::demo();
    db.shell()
        .env("OC12_TOKEN_TTL", "2s")
        .args(["login", "ab123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    let token = std::fs::read_to_string(db.home.path().join("token")).unwrap();
    // The session's role expires on the server at the same second.
    let role = token.trim().split(':').next().map(|t| {
        let payload = t.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()["role"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    let valid_until: i64 = db
        .value(&format!(
            "SELECT extract(epoch FROM rolvaliduntil)::bigint::text FROM pg_roles WHERE rolname = '{}'",
            role.unwrap()
        ))
        .parse()
        .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(db.home.path().join("token"), elsewhere.path().join("token")).unwrap();
    // Copied to another home, or given in OC12_JWT: it works for now.
    let copied = || db.shell_in(elsewhere.path()).args(["-c", "count clients"]);
    let exported = || {
        db.shell_in(tempfile::tempdir().unwrap().keep().as_path())
            .env("OC12_JWT", token.trim())
            .args(["-c", "count clients"])
    };
    assert_eq!(copied().run().status(0).stdout(), "6\n");
    assert_eq!(exported().run().status(0).stdout(), "6\n");
    // Past its expiry (whole seconds, no leeway), it is refused.
    let exp = expiry(token.trim().split(':').next().unwrap());
    assert_eq!(valid_until, exp as i64);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let wait = Duration::from_secs(exp + 1).saturating_sub(now);
    assert!(wait <= Duration::from_secs(3), "{wait:?}");
    std::thread::sleep(wait);
    for run in [copied().run(), exported().run()] {
        let run = run.status(3);
        assert!(
            run.stderr()
                .starts_with("error[auth]: your session expired at "),
            "{}",
            run.stderr()
        );
        assert_eq!(run.stdout(), "");
    }
}

/// Every file under `dir`, recursively, as bytes.
fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn session_secrets_and_passwords_never_leak() {
    let db = TestDb::demo();
    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |what: &str, run: support::Run| {
        seen.push((format!("{what} stdout"), run.0.stdout.clone()));
        seen.push((format!("{what} stderr"), run.0.stderr.clone()));
        run
    };
    // Logins, right and wrong, and a bad token.
    keep(
        "wrong login",
        db.shell()
            .args(["login", "ac123456789", "--password-stdin"])
            .stdin("not-the-password")
            .run(),
    );
    let login = keep(
        "login",
        db.shell()
            .args(["login", "ac123456789", "--password-stdin", "--print-token"])
            .stdin(DEMO_PASSWORD)
            .run()
            .status(0),
    );
    // The session secret: printed on purpose by --print-token, nowhere else.
    let secret = login.stdout().trim().rsplit(':').next().unwrap().to_owned();
    assert!(secret.len() >= 32, "{}", login.stdout());
    keep(
        "tampered token",
        db.shell()
            .env(
                "OC12_JWT",
                "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhYzEyMzQ1Njc4OSJ9.",
            )
            .args(["-c", "count clients"])
            .run()
            .status(3),
    );
    // Statements, good and bad, and the two that print a password.
    let script = "whoami\n\
                  list collaborators\n\
                  list collaborators where password ~ x\n\
                  show collaborator ae123456789\n\
                  add collaborator id=zz123456789 name='Zed Zed' email=zed@example.com department=support\n\
                  passwd ae123456789\n\
                  set collaborator zz123456789 role = manager\n\
                  history collaborator zz123456789\n\
                  delete collaborator zz123456789\n\
                  set client nosuch job = x\n\
                  list clients where name = 'unterminated\n\
                  help passwd\n";
    let run = keep(
        "script",
        db.shell()
            .args(["--continue-on-error", "--echo"])
            .stdin(script)
            .run()
            .status(1),
    );
    let printed = run.stdout();
    let passwords: Vec<String> = printed
        .lines()
        .filter_map(|l| {
            l.strip_prefix("initial password: ")
                .or_else(|| l.strip_prefix("new password for ae123456789: "))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(passwords.len(), 2, "{printed}");
    // The new password works (it really is a password), once printed.
    db.shell_in(tempfile::tempdir().unwrap().keep().as_path())
        .args(["login", "ae123456789", "--password-stdin"])
        .stdin(passwords[1].clone())
        .run()
        .status(0);
    // At the prompt: a login whose password is typed, then a statement.
    let mut pty = Pty::spawn(db.shell().cmd);
    pty.expect_from(0, "@", Duration::from_secs(10));
    let from = pty.len();
    pty.send("login ad123456789\r");
    pty.expect_from(from, "password", Duration::from_secs(10));
    let from = pty.len();
    pty.send(&format!("{DEMO_PASSWORD}\r"));
    pty.expect_from(from, "logged in as ad123456789", Duration::from_secs(10));
    let from = pty.len();
    pty.send("count clients\r");
    let shown = pty.expect_from(from, "\n6\r\n", Duration::from_secs(10));
    // Ctrl-D once the next prompt is there: typed earlier, the line editor
    // may drop it while it sets the terminal up.
    let after = from + shown.find("\n6\r\n").unwrap() + 4;
    pty.expect_from(after, "@", Duration::from_secs(10));
    pty.send("\x04");
    pty.wait_exit(Duration::from_secs(10));
    seen.push(("terminal".into(), pty.all().into_bytes()));
    let history = std::fs::read_to_string(db.home.path().join("history")).unwrap();
    // Remembered: the statement; never the login (nor what followed it).
    assert!(history.contains("count clients"), "{history}");
    assert!(!history.contains("login"), "{history}");

    // Everything the runs printed, and every file they left.
    seen.extend(all_files(db.home.path()));
    let mut admin = db.admin();
    let audit: String = admin
        .query_one(
            "SELECT coalesce(string_agg(a::text, '\n'), '') FROM crm.audit a",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        audit.contains("zz123456789"),
        "the audit saw the new collaborator"
    );
    seen.push(("audit".into(), audit.into_bytes()));
    let hashes: Vec<String> = admin
        .query(
            "SELECT encode(verifier, 'base64') FROM crm.collaborator_password",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (what, bytes) in &seen {
        if what != "login stdout" && !what.ends_with("/token") {
            assert!(!contains(bytes, &secret), "the session secret is in {what}");
        }
        for h in &hashes {
            assert!(!contains(bytes, h), "a password hash is in {what}");
        }
        assert!(!contains(bytes, "$scrypt$"), "a password hash is in {what}");
        let is_output = what.ends_with("stdout") || what == "terminal";
        if !is_output {
            for p in &passwords {
                assert!(!contains(bytes, p), "a generated password is in {what}");
            }
        }
        if what != "wrong login stdout" && what != "wrong login stderr" {
            // The demo password was typed or piped, never written down.
            let typed_on = what == "terminal";
            assert!(
                typed_on || !contains(bytes, DEMO_PASSWORD),
                "the password is in {what}"
            );
        }
        assert!(
            !contains(bytes, "not-the-password"),
            "a tried password is in {what}"
        );
    }
    // The terminal never echoed the typed password either.
    let terminal = pty.all();
    assert!(!terminal.contains(DEMO_PASSWORD), "{terminal}");
}

#[test]
fn a_dotenv_in_the_working_directory_cannot_send_the_user_elsewhere() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let db = TestDb::demo();
    // The stranger's server: it counts who connects, and hangs up on them
    // (a client that reached it fails instead of waiting forever).
    let stranger = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = stranger.local_addr().unwrap().port();
    let visits = Arc::new(AtomicUsize::new(0));
    let counted = visits.clone();
    std::thread::spawn(move || {
        for stream in stranger.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    // The user's own configuration names the real server.
    oc12::config::update_config_file(
        &oc12::config::Paths::in_home(db.home.path()),
        &[("OC12_DATABASE_URL", &db.url)],
    )
    .unwrap();
    // A repository they cloned and run the shell in.
    let repo = tempfile::tempdir().unwrap();
    let elsewhere = repo.path().join("elsewhere");
    std::fs::write(
        repo.path().join(".env"),
        format!(
            "OC12_DATABASE_URL=postgresql://evil@127.0.0.1:{port}/x\n\
             OC12_HOME={}\n",
            elsewhere.display()
        ),
    )
    .unwrap();
    let shell = || {
        let mut shell = db.shell().env_remove("OC12_DATABASE_URL");
        shell.cmd.current_dir(repo.path());
        shell
    };

    shell()
        .args(["login", "ab123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    let run = shell().args(["-c", "count clients"]).run().status(0);
    assert_eq!(run.stdout(), "6\n");
    assert_eq!(run.stderr(), "");

    assert_eq!(
        visits.load(Ordering::SeqCst),
        0,
        "nobody reached the stranger"
    );
    assert_eq!(mode(&db.home.path().join("token")), 0o600);
    assert!(!elsewhere.exists(), "OC12_HOME from .env was not used");
}
