//! The shell through pgbouncer in transaction pooling mode: a session's
//! server connection is shared by its statements one transaction at a
//! time, so nothing of one statement may outlive it; logins (through the
//! gate) and sessions authenticate through pgbouncer with SCRAM.
//!
//! pgbouncer must be installed (Debian: `apt-get install pgbouncer`): the
//! test fails, not skips, without it.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{TestDb, cluster};

const PORT: u16 = 6432;

fn pgbouncer_binary() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([
            "/usr/sbin".into(),
            "/usr/local/sbin".into(),
            "/usr/bin".into(),
        ]);
    for dir in candidates {
        let path = dir.join("pgbouncer");
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "pgbouncer is not installed: this test needs it (Debian/Ubuntu: \
         `apt-get install -y pgbouncer`; macOS: `brew install pgbouncer`)"
    );
}

/// A pgbouncer of its own in front of the test cluster, listening on a
/// Unix socket in its folder; stopped when dropped.
struct Bouncer {
    child: Child,
    dir: PathBuf,
}

impl Bouncer {
    fn start(db: &TestDb, pool_size: u32) -> Bouncer {
        let binary = pgbouncer_binary();
        // Inside the cluster's folder, which the postgres user may enter.
        let dir = cluster().dir.join(format!("pgbouncer-{}", db.name));
        std::fs::create_dir_all(&dir).unwrap();
        // Sessions are roles made at login: pgbouncer reads their SCRAM
        // secrets from the server (as the superuser, trusted on the
        // cluster's socket) and passes the client's proof through.
        std::fs::write(dir.join("userlist.txt"), "\"postgres\" \"\"\n").unwrap();
        let server = cluster().local.socket_dir();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n\
                 {db} = host={server} port=5432 dbname={db}\n\
                 [pgbouncer]\n\
                 unix_socket_dir = {dir}\n\
                 listen_port = {PORT}\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {dir}/userlist.txt\n\
                 auth_user = postgres\n\
                 auth_query = SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1\n\
                 pool_mode = transaction\n\
                 default_pool_size = {pool_size}\n\
                 max_client_conn = 200\n\
                 logfile = {dir}/pgbouncer.log\n\
                 pidfile = {dir}/pgbouncer.pid\n",
                db = db.name,
                server = server.display(),
                dir = dir.display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(binary);
        // pgbouncer refuses to run as root.
        if oc12::db::local::is_root() {
            chown_to_postgres(&dir);
            cmd.args(["-u", "postgres"]);
        }
        let child = cmd
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer starts");
        let bouncer = Bouncer { child, dir };
        let socket = bouncer.dir.join(format!(".s.PGSQL.{PORT}"));
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen: {}",
                std::fs::read_to_string(bouncer.dir.join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        bouncer
    }

    /// The CRM's address through pgbouncer.
    fn url(&self, db: &TestDb) -> String {
        format!(
            "postgresql:///{}?host={}&port={PORT}",
            db.name,
            self.dir.display()
        )
    }
}

fn chown_to_postgres(dir: &Path) {
    let status = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The binary for `home`, through pgbouncer.
fn shell(db: &TestDb, bouncer: &Bouncer, home: &Path) -> support::Shell {
    db.shell_in(home).env("OC12_DATABASE_URL", bouncer.url(db))
}

fn login(db: &TestDb, bouncer: &Bouncer, registration: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    shell(db, bouncer, home.path())
        .args(["login", registration, "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    home
}

#[test]
fn permissions_hold_through_pgbouncer_in_transaction_pooling_mode() {
    let db = TestDb::demo();
    // One server connection per session: every statement of a session
    // goes through the same one, one transaction after the other.
    let bouncer = Bouncer::start(&db, 1);
    let bill = login(&db, &bouncer, "ab123456789");
    let louloute = login(&db, &bouncer, "ae123456789");

    // A commercial: an allowed write, a refused write, a read of their own.
    let commercial = [
        (
            "set client mkc111 job = 'Chef'",
            Ok("changed client mkc111 (job)"),
        ),
        (
            "set client SRODAP37 job = 'Chef'",
            Err("error[permission]: client SRODAP37 belongs to aa123456789"),
        ),
        ("count clients where commercial = me", Ok("4")),
    ];
    // A support: the same, on events.
    let support_user = [
        (
            "set event hob2023 notes = 'Bring chairs'",
            Ok("changed event hob2023 (notes)"),
        ),
        (
            "set event geg2022 notes = 'x'",
            Err("error[permission]: event geg2022 is supported by af123456789"),
        ),
        ("count events where support = me", Ok("1")),
    ];
    // Interleaved: one statement of each, in turn, each its own process,
    // and both at once.
    for round in 0..3 {
        for i in 0..3 {
            std::thread::scope(|s| {
                for (home, (statement, expected)) in
                    [(&bill, commercial[i]), (&louloute, support_user[i])]
                {
                    let (db, bouncer) = (&db, &bouncer);
                    s.spawn(move || {
                        let run = shell(db, bouncer, home.path())
                            .args(["-c", statement])
                            .run();
                        match expected {
                            Ok(out) => {
                                assert_eq!(run.code(), 0, "{statement}: {}", run.stderr());
                                assert_eq!(run.stdout().trim_end(), out, "round {round}");
                            }
                            Err(err) => {
                                assert_eq!(run.code(), 1, "{statement}");
                                assert!(run.stderr().starts_with(err), "{}", run.stderr());
                            }
                        }
                    });
                }
            });
        }
    }

    // Two long sessions at once, each checking at every statement that it
    // is still itself (`me`) and sees its own rows.
    let bill_script =
        "whoami\ncount clients where commercial = me\nset client axs40 job = 'Lead'\n".repeat(30);
    let louloute_script =
        "whoami\ncount events where support = me\nset event hob2023 attendees = 501\n".repeat(30);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            shell(&db, &bouncer, bill.path())
                .stdin(bill_script)
                .run()
                .status(0)
                .stdout()
        });
        let b = s.spawn(|| {
            shell(&db, &bouncer, louloute.path())
                .stdin(louloute_script)
                .run()
                .status(0)
                .stdout()
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    for (out, me, count, changed) in [
        (
            &a,
            "ab123456789 Bill Boquet (commercial)",
            "4",
            "changed client axs40 (job)",
        ),
        (
            &b,
            "ae123456789 Louloute Duck (support)",
            "1",
            "changed event hob2023 (attendees)",
        ),
    ] {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 90, "{out}");
        for chunk in lines.chunks(3) {
            assert!(chunk[0].starts_with(me), "{}", chunk[0]);
            assert_eq!(chunk[1], count);
            assert_eq!(chunk[2], changed);
        }
    }

    // The database agrees: each change was made by the right person, and
    // the refused ones were not made at all.
    let mut admin = db.admin();
    let actors: Vec<(String, String, String)> = admin
        .query(
            "SELECT tbl, record, actor FROM crm.audit WHERE op = 'update' GROUP BY 1, 2, 3 ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        actors,
        [
            ("client".into(), "axs40".into(), "ab123456789".into()),
            ("client".into(), "mkc111".into(), "ab123456789".into()),
            ("event".into(), "hob2023".into(), "ae123456789".into()),
        ]
    );
    let untouched: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.client WHERE id = 'SRODAP37' AND job = 'Assistant'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(untouched, 1);
    // Nothing of a statement outlived it: no server connection is left
    // inside a transaction.
    let stuck: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stuck, 0);
}

#[test]
fn statements_are_never_kept_prepared_behind_pgbouncer() {
    let db = TestDb::demo();
    let bouncer = Bouncer::start(&db, 1);
    let home = login(&db, &bouncer, "ab123456789");
    // Two shells of one session at once: through one server connection,
    // a statement one of them kept prepared would be unknown to, or
    // clash with, the other's. The shells see a pooler (the server is not
    // where the URL points) and keep none.
    let script = "list clients where id = mkc111\ncount clients where commercial = me\n".repeat(20);
    let outputs: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    shell(&db, &bouncer, home.path())
                        .args(["--format", "csv"])
                        .stdin(script.clone())
                        .run()
                        .status(0)
                        .stdout()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in outputs {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 80, "{out}");
        for chunk in lines.chunks(4) {
            assert_eq!(
                chunk[0],
                "id,name,email,phone,company,job,commercial,created,updated"
            );
            assert!(chunk[1].starts_with("mkc111,Kevin Casey,"), "{}", chunk[1]);
            assert_eq!(chunk[2..], ["count", "4"]);
        }
    }
    // The session's one server connection holds no statement of theirs.
    let line = std::fs::read_to_string(home.path().join("token")).unwrap();
    let credential = oc12::auth::Credential::parse(line.trim()).unwrap();
    let mut config: postgres::Config = bouncer.url(&db).parse().unwrap();
    config
        .user(&credential.claims.role)
        .password(credential.secret());
    let mut session = config.connect(postgres::NoTls).unwrap();
    let kept: i64 = session
        .query_typed_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, 0);
}
