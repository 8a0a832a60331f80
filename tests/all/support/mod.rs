//! The test harness: one private, throwaway PostgreSQL cluster per test
//! binary (socket only, fsync off, in a temporary folder that is removed when
//! the binary exits, whether its tests passed or not), and a fresh CRM
//! database with the demo data for every test that asks, so that tests never
//! see each other's writes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use oc12::db::local::{CreateOptions, LocalCluster, SUPERUSER};

pub mod pty;
pub use pty::Pty;

/// The scrypt cost the tests use: hashing at the real cost (ln=17) takes a
/// good part of a second per password.
pub const TEST_SCRYPT_LOG_N: &str = "4";
pub const DEMO_PASSWORD: &str = "@pplepie94";

pub struct Cluster {
    pub dir: PathBuf,
    pub local: LocalCluster,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

extern "C" fn tear_down() {
    if let Some(c) = CLUSTER.get() {
        let _ = c.local.destroy();
        let _ = std::fs::remove_dir_all(&c.dir);
    }
}

/// The cluster of this test binary, created on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("oc12-test-")
            .tempdir()
            .expect("a temporary folder")
            .keep();
        let local = LocalCluster::new(dir.join("pgdata"));
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(tear_down) };
        local
            .create(&CreateOptions {
                admin_password: None,
                no_fsync: true,
            })
            .expect("initdb of the test cluster");
        local.start(None).expect("the test cluster starts");
        Cluster { dir, local }
    })
}

impl Cluster {
    pub fn admin_url(&self, database: &str) -> String {
        self.local.url(SUPERUSER, database)
    }

    pub fn admin(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(&self.admin_url(database), postgres::NoTls)
            .expect("admin connection to the test cluster")
    }
}

/// A CRM database of its own, with the demo data, and an `OC12_HOME`.
pub struct TestDb {
    pub name: String,
    /// What a collaborator's configuration holds: the server, no user.
    pub url: String,
    pub admin_url: String,
    pub home: tempfile::TempDir,
    /// Sessions opened by [`TestDb::with_session`], by registration.
    sessions: std::sync::Mutex<std::collections::HashMap<String, postgres::Client>>,
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(1);

/// A new database name, unique in this binary's cluster.
pub fn new_db_name() -> String {
    format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed))
}

impl TestDb {
    /// A fresh CRM with the demo data.
    pub fn demo() -> TestDb {
        TestDb::demo_on(cluster())
    }

    /// A superuser connection to this database.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.admin_url, postgres::NoTls).expect("admin connection")
    }

    /// Logs `registration` in (demo password) the way the shell does, and
    /// returns the session.
    pub fn login_session(&self, registration: &str) -> oc12::auth::Credential {
        let database = oc12::db::pool::Database::open(&self.url).expect("the CRM's URL");
        match database
            .login(
                registration,
                DEMO_PASSWORD,
                std::time::Duration::from_secs(3600),
            )
            .expect("a login")
        {
            oc12::db::pool::LoginOutcome::LoggedIn(c) => c,
            other => panic!("{registration} cannot log in: {other:?}"),
        }
    }

    /// A plain PostgreSQL connection as a session of `registration`: what
    /// anybody holding that session's token file can open with `psql`.
    pub fn session(&self, registration: &str) -> postgres::Client {
        let credential = self.login_session(registration);
        self.connect_as(&credential).expect("a session connection")
    }

    /// Connects with a session's role and secret.
    pub fn connect_as(
        &self,
        credential: &oc12::auth::Credential,
    ) -> Result<postgres::Client, postgres::Error> {
        use std::str::FromStr;
        let mut config = postgres::Config::from_str(&self.url).expect("the CRM's URL");
        config
            .user(&credential.claims.role)
            .password(credential.secret());
        config.connect(postgres::NoTls)
    }

    /// Runs `f` on this test's session of `registration` (opened once).
    pub fn with_session<R>(
        &self,
        registration: &str,
        f: impl FnOnce(&mut postgres::Client) -> R,
    ) -> R {
        let mut sessions = self.sessions.lock().unwrap();
        if !sessions.contains_key(registration) {
            let client = self.session(registration);
            sessions.insert(registration.to_owned(), client);
        }
        f(sessions.get_mut(registration).unwrap())
    }

    /// The role prefix of this CRM (`oc12_t3`).
    pub fn prefix(&self) -> String {
        oc12::db::role_prefix(&self.name).unwrap()
    }

    /// The binary, configured for this database.
    pub fn shell(&self) -> Shell {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oc12-shell"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("OC12_HOME", self.home.path())
            .env("OC12_DATABASE_URL", &self.url)
            .env("OC12_TEST_SCRYPT_LOG_N", TEST_SCRYPT_LOG_N)
            // France's registries are never asked unless a test says so
            // (tests/registry.rs serves them from 127.0.0.1).
            .env("OC12_OFFLINE", "1")
            // Times are shown in the user's zone: the one the demo data is
            // written in, whatever this machine's.
            .env("TZ", "Europe/Paris")
            .current_dir(self.home.path());
        Shell { cmd, stdin: None }
    }
}

pub fn test_cost() -> u8 {
    TEST_SCRYPT_LOG_N.parse().unwrap()
}

/// Runs the real binary: `db.shell().args([...]).stdin("...").run()`.
pub struct Shell {
    pub cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Shell {
    /// The binary with an empty environment and the given home (no database).
    pub fn bare(home: &Path) -> Shell {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oc12-shell"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("OC12_HOME", home)
            .env("OC12_TEST_SCRYPT_LOG_N", TEST_SCRYPT_LOG_N)
            .env("OC12_OFFLINE", "1")
            .env("TZ", "Europe/Paris")
            .current_dir(home);
        Shell { cmd, stdin: None }
    }

    pub fn args<I, S>(mut self, args: I) -> Shell
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Shell {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(mut self, k: &str) -> Shell {
        self.cmd.env_remove(k);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Shell {
        self.stdin = Some(input.into());
        self
    }

    pub fn run(mut self) -> Run {
        use std::io::Write;
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("the binary runs");
        let input = self.stdin.take().unwrap_or_default();
        let mut pipe = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let out = child.wait_with_output().expect("the binary ends");
        writer.join().unwrap();
        Run(out)
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn status(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Runs `sql` in one transaction as a session of the given collaborator,
/// connected with the session's own role as the shell does.
pub fn as_collaborator(db: &TestDb, registration: &str, sql: &str) -> Result<u64, postgres::Error> {
    db.with_session(registration, |client| {
        let mut tx = client.transaction()?;
        let n = tx.execute(sql, &[])?;
        tx.commit()?;
        Ok(n)
    })
}

impl TestDb {
    /// The binary for this database, but with another `OC12_HOME`: a second
    /// person logged in at the same time, with a token file of their own.
    pub fn shell_in(&self, home: &Path) -> Shell {
        let mut shell = self.shell();
        shell
            .cmd
            .env("HOME", home)
            .env("OC12_HOME", home)
            .current_dir(home);
        shell
    }

    /// A new `OC12_HOME` where `registration` is logged in with `password`.
    pub fn home_logged_in(&self, registration: &str, password: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("a home");
        self.shell_in(home.path())
            .args(["login", registration, "--password-stdin"])
            .stdin(password)
            .run()
            .status(0);
        home
    }
}

impl TestDb {
    /// The first column of every row of `sql`, run as the superuser, as text.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        self.admin()
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| {
                r.get::<_, Option<String>>(0)
                    .unwrap_or_else(|| "<null>".into())
            })
            .collect()
    }

    /// The one value `sql` returns, as text (`<null>` for NULL).
    #[track_caller]
    pub fn value(&self, sql: &str) -> String {
        let mut rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows.pop().unwrap()
    }

    /// Every row of every CRM table (audit and password hashes included),
    /// as text in a stable order: equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> Vec<String> {
        let tables = [
            "department",
            "collaborator",
            "collaborator_password",
            "location",
            "company",
            "client",
            "contract",
            "event",
            "audit",
            "migrations",
        ];
        let mut admin = self.admin();
        let mut all = Vec::new();
        for t in tables {
            for r in admin
                .query(&format!("SELECT t::text FROM crm.{t} t ORDER BY 1"), &[])
                .unwrap()
            {
                all.push(format!("{t}: {}", r.get::<_, String>(0)));
            }
        }
        // Roles and their department groups: collaborator management
        // changes them too.
        let prefix = self.prefix();
        for r in admin
            .query(
                "SELECT m.rolname || ' in ' || g.rolname FROM pg_auth_members a \
                 JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.roleid \
                 WHERE m.rolname LIKE $1 ORDER BY 1",
                &[&format!("{prefix}\\_%")],
            )
            .unwrap()
        {
            all.push(format!("role: {}", r.get::<_, String>(0)));
        }
        all
    }

    /// Somebody logged in in a home of their own.
    pub fn user(&self, registration: &str) -> User<'_> {
        self.user_with(registration, DEMO_PASSWORD)
    }

    pub fn user_with(&self, registration: &str, password: &str) -> User<'_> {
        User {
            db: self,
            registration: registration.to_owned(),
            home: self.home_logged_in(registration, password),
        }
    }
}

/// A logged-in collaborator running statements through the binary.
pub struct User<'a> {
    pub db: &'a TestDb,
    pub registration: String,
    pub home: tempfile::TempDir,
}

impl User<'_> {
    /// The binary in this user's home.
    pub fn shell(&self) -> Shell {
        self.db.shell_in(self.home.path())
    }

    /// Runs one statement with `-c`.
    pub fn run(&self, statement: &str) -> Run {
        self.shell().args(["-c", statement]).run()
    }

    /// Runs a statement that must succeed; returns its output.
    #[track_caller]
    pub fn ok(&self, statement: &str) -> String {
        let run = self.run(statement);
        assert_eq!(
            run.code(),
            0,
            "{} may `{statement}`\n--- stdout\n{}\n--- stderr\n{}",
            self.registration,
            run.stdout(),
            run.stderr()
        );
        run.stdout()
    }

    /// Runs a statement that must fail with `error[kind]` (exit code
    /// `code`), mentioning `needle`, and change nothing in the database.
    #[track_caller]
    pub fn fails(&self, statement: &str, kind: &str, code: i32, needle: &str) -> String {
        let before = self.db.snapshot();
        let run = self.run(statement);
        let stderr = run.stderr();
        assert!(
            run.code() == code
                && stderr.contains(&format!("error[{kind}]"))
                && stderr.contains(needle),
            "{} `{statement}`: expected error[{kind}] (exit {code}) mentioning {needle:?}\n\
             got exit {}\n--- stdout\n{}\n--- stderr\n{stderr}",
            self.registration,
            run.code(),
            run.stdout(),
        );
        assert_eq!(
            self.db.snapshot(),
            before,
            "{} `{statement}` was refused but changed the database",
            self.registration
        );
        stderr
    }

    /// A refusal: `error[permission]`, exit code 1, nothing changed.
    #[track_caller]
    pub fn refused(&self, statement: &str, needle: &str) -> String {
        self.fails(statement, "permission", 1, needle)
    }
}

// ---------------------------------------------------------------------------
// Clusters of their own, users' homes and pseudo-terminals: for the tests
// that restart servers, run many shells at once, or type at the prompt.

impl Cluster {
    /// A cluster for one test alone (one that stops or restarts its server,
    /// which would break the other tests of the binary on the shared one).
    /// Stopped and removed when dropped.
    pub fn new_private() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("oc12-private-")
            .tempdir()
            .expect("a temporary folder")
            .keep();
        let local = LocalCluster::new(dir.join("pgdata"));
        let cluster = Cluster { dir, local };
        cluster
            .local
            .create(&CreateOptions {
                admin_password: None,
                no_fsync: true,
            })
            .expect("initdb of a private cluster");
        cluster.local.start(None).expect("a private cluster starts");
        cluster
    }

    /// Stops the server (fast shutdown: sessions are cut) and starts it again.
    pub fn restart(&self) {
        self.local.stop().expect("the server stops");
        self.local.start(None).expect("the server starts again");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Only private clusters are ever dropped: the shared one is static.
        let _ = self.local.destroy();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestDb {
    /// A fresh CRM with the demo data on the given cluster.
    pub fn demo_on(c: &Cluster) -> TestDb {
        let name = new_db_name();
        let admin_url = c.admin_url(&name);
        let hash = oc12::auth::hash_password_with_cost(DEMO_PASSWORD, test_cost()).expect("hash");
        let report = oc12::db::init::init(&oc12::db::init::InitOptions {
            admin_url: &admin_url,
            demo_hash: Some(hash),
            migrations: oc12::db::init::MIGRATIONS,
            ..Default::default()
        })
        .expect("init --demo");
        // Tests open many sessions of one collaborator (one per home, plus
        // plain connections); the limit itself is tested on its own.
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).expect("admin");
        admin
            .batch_execute(
                "UPDATE crm.settings SET value = '1000' WHERE name = 'sessions_per_collaborator'",
            )
            .expect("the test settings");
        TestDb {
            name,
            url: report.server_url,
            admin_url,
            home: tempfile::tempdir().expect("a home"),
            sessions: Default::default(),
        }
    }

    /// Logs `registration` in, in this database's own home.
    pub fn login(&self, registration: &str) {
        self.shell()
            .args(["login", registration, "--password-stdin"])
            .stdin(DEMO_PASSWORD)
            .run()
            .status(0);
    }

    /// A new home where `registration` is logged in.
    pub fn user_home(&self, registration: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("a home");
        self.shell_in(home.path())
            .args(["login", registration, "--password-stdin"])
            .stdin(DEMO_PASSWORD)
            .run()
            .status(0);
        home
    }
}
