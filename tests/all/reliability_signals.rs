//! Signals and pipes: Ctrl-C cancels the running query on the server (and
//! gives the prompt back at a terminal), SIGTERM and SIGHUP cancel it too
//! and end the shell (143, 129) unless it was started with them ignored, a
//! reader that goes away ends the output quietly, and a killed shell never
//! takes the local cluster with it.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Pty, Shell, TestDb};

/// Events enough that the statement below runs for many seconds.
fn slow_data(db: &TestDb) {
    db.admin()
        .batch_execute(
            "SET session_replication_role = replica;
             INSERT INTO crm.event (id, title, contract, start_at, end_at, attendees, notes)
             SELECT 'slow' || i, 'Slow ' || i, 'ff555', now(), now(), 1, 'Penser au catering ' || i
             FROM generate_series(1, 50000) i;
             ANALYZE crm.event;",
        )
        .unwrap();
}

/// A genuine CRM statement (a long list of searches in the notes) that
/// takes seconds on [`slow_data`]: every note is searched for every word.
fn slow_statement() -> String {
    let searches: Vec<String> = (0..600).map(|i| format!("notes ~ zq{i}")).collect();
    format!("count events where {}", searches.join(" or "))
}

/// The backends of this database running a statement, as the server sees
/// them.
fn active(db: &TestDb) -> i64 {
    db.admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND state = 'active' AND query LIKE '%ILIKE%'",
            &[],
        )
        .unwrap()
        .get(0)
}

#[track_caller]
fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_at_the_prompt_cancels_the_query_on_the_server_and_the_prompt_comes_back() {
    let db = TestDb::demo();
    slow_data(&db);
    db.login("ab123456789");
    let mut pty = Pty::spawn(db.shell().cmd);
    pty.expect_from(0, "ab123456789@", Duration::from_secs(10));
    let from = pty.len();
    // Pasted, as a long statement would be.
    pty.send(&format!("\x1b[200~{}\x1b[201~\r", slow_statement()));
    wait_until("the query runs", Duration::from_secs(10), || {
        active(&db) == 1
    });
    let from_cancel = pty.len();
    let pressed = Instant::now();
    pty.send("\x03");
    wait_until("the server stops the query", Duration::from_secs(3), || {
        active(&db) == 0
    });
    let seen = pty.expect_from(from_cancel, "ab123456789@", Duration::from_secs(3));
    assert!(seen.contains("canceled"), "{seen}");
    assert!(pressed.elapsed() < Duration::from_secs(3));
    // The prompt works on.
    let from_next = pty.len();
    pty.send("count clients\r");
    let seen = pty.expect_from(from_next, "\n6\r\n", Duration::from_secs(10));
    assert!(!seen.contains("error["), "{seen}");
    // Ctrl-D once the next prompt is there: typed earlier, the line editor
    // may drop it while it sets the terminal up.
    let after = from_next + seen.find("\n6\r\n").unwrap() + 4;
    pty.expect_from(after, "ab123456789@", Duration::from_secs(10));
    pty.send("\x04");
    let status = pty.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", pty.since(from));
    assert!(!pty.all().contains("panicked"));
}

#[test]
fn ctrl_c_in_a_script_cancels_the_query_on_the_server_and_ends_the_script() {
    let db = TestDb::demo();
    slow_data(&db);
    db.login("ab123456789");
    for args in [
        vec!["-c".to_owned(), slow_statement()],
        vec![
            "--continue-on-error".to_owned(),
            "-c".to_owned(),
            slow_statement(),
            "-c".to_owned(),
            "count clients".to_owned(),
        ],
    ] {
        let child = db
            .shell()
            .args(&args)
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("the query runs", Duration::from_secs(10), || {
            active(&db) == 1
        });
        // SAFETY: a signal to the child we started.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        wait_until("the server stops the query", Duration::from_secs(3), || {
            active(&db) == 0
        });
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Ended as Ctrl-C ends a program, and nothing ran after it.
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGINT), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let db = TestDb::demo();
    db.login("ab123456789");
    for format in ["table", "csv", "json", "vertical"] {
        // Megabytes of output: far more than a pipe holds.
        let mut args = vec!["--format", format];
        for _ in 0..2_000 {
            args.extend(["-c", "list clients"]);
        }
        let mut child = db
            .shell()
            .args(&args)
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}

/// A home of its own for the local cluster, which is stopped and removed
/// whatever happens to the test.
struct LocalHome {
    home: tempfile::TempDir,
}

impl LocalHome {
    fn shell(&self) -> Shell {
        Shell::bare(self.home.path())
    }
    fn cluster(&self) -> oc12::db::local::LocalCluster {
        oc12::db::local::LocalCluster::new(self.home.path().join("pgdata"))
    }
}

impl Drop for LocalHome {
    fn drop(&mut self) {
        let cluster = self.cluster();
        cluster.stop_immediately();
        // As root the data lives elsewhere, behind a link.
        if let Ok(real) = std::fs::read_link(&cluster.pgdata) {
            let _ = std::fs::remove_dir_all(real);
        }
    }
}

/// Sends `signal` to the process group of a child started with
/// `process_group(0)`: everything it started too, as a terminal would.
fn signal_group(child: &std::process::Child, signal: i32) {
    // SAFETY: a signal to the group of the child we started.
    unsafe { libc::kill(-(child.id() as i32), signal) };
}

#[test]
fn killing_a_shell_never_takes_the_local_cluster_with_it() {
    let local = LocalHome {
        home: tempfile::tempdir().unwrap(),
    };
    // Killed while it creates the cluster, with everything it started:
    // the next run finds a half-made cluster and makes it again.
    let mut first = local.shell().args(["local", "start"]).cmd;
    first
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let first = first.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    signal_group(&first, libc::SIGTERM);
    let _ = first.wait_with_output();
    local.shell().args(["local", "start"]).run().status(0);
    local
        .shell()
        .args(["login", "ab123456789", "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    local.shell().args(["local", "stop"]).run().status(0);

    // A shell that starts the cluster, then is killed with its process
    // group while it waits for the next statement, then while a statement
    // runs.
    for during_statement in [false, true] {
        let mut cmd = local.shell().cmd;
        cmd.process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut shell = cmd.spawn().unwrap();
        let mut stdin = shell.stdin.take().unwrap();
        let mut stdout = BufReader::new(shell.stdout.take().unwrap());
        writeln!(stdin, "count clients").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "6\n");
        if during_statement {
            let statement = format!(
                "count events where {}",
                (0..30_000)
                    .map(|i| format!("notes ~ zq{i}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
            writeln!(stdin, "{statement}").unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
        signal_group(&shell, libc::SIGTERM);
        let status = shell.wait().unwrap();
        assert!(!status.success());
        let status = local
            .shell()
            .args(["local", "status"])
            .run()
            .status(0)
            .stdout();
        assert!(status.contains(": running (pid "), "{status}");
        let run = local.shell().args(["-c", "count clients"]).run().status(0);
        assert_eq!(run.stdout(), "6\n");
    }
    local.shell().args(["local", "stop"]).run().status(0);
    let status = local
        .shell()
        .args(["local", "status"])
        .run()
        .status(0)
        .stdout();
    assert!(status.contains(": stopped"), "{status}");
}

/// The shell's backends running a statement, as the server sees them.
fn shell_active(db: &TestDb) -> i64 {
    db.admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND application_name = 'oc12-shell' AND state = 'active'",
            &[],
        )
        .unwrap()
        .get(0)
}

/// An admin transaction holding client mkc111's row: a shell's `set client
/// mkc111 ...` waits for it, running, until it is released.
fn lock_client(admin: &mut postgres::Client) -> postgres::Transaction<'_> {
    let mut lock = admin.transaction().unwrap();
    lock.execute(
        "SELECT 1 FROM crm.client WHERE id = 'mkc111' FOR UPDATE",
        &[],
    )
    .unwrap();
    lock
}

/// Waits for the child to end; kills it and fails after `timeout`.
#[track_caller]
fn exit_within(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("the shell did not end within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn job_of_mkc111(db: &TestDb) -> String {
    db.value("SELECT job FROM crm.client WHERE id = 'mkc111'")
}

#[test]
fn a_killed_script_cancels_its_query_on_the_server_and_exits_143() {
    let db = TestDb::demo();
    db.login("ab123456789");
    let mut admin = db.admin();
    let lock = lock_client(&mut admin);
    let mut child = db
        .shell()
        .args(["-c", "set client mkc111 job = 'Killed'"])
        .cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(
        "the statement waits for the lock",
        Duration::from_secs(10),
        || shell_active(&db) == 1,
    );
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    wait_until(
        "the server stops the statement",
        Duration::from_secs(3),
        || shell_active(&db) == 0,
    );
    let status = exit_within(&mut child, Duration::from_secs(3));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lock.rollback().unwrap();
    assert_eq!(job_of_mkc111(&db), "Assistant");

    // Killed at the prompt, with nothing running: it just ends.
    let mut pty = Pty::spawn(db.shell().cmd);
    pty.expect_from(0, "ab123456789@", Duration::from_secs(10));
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(pty.child.id() as i32, libc::SIGTERM) };
    let status = pty.wait_exit(Duration::from_secs(3));
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{}", pty.all());
    assert!(!pty.all().contains("panicked"));
}

#[test]
fn a_hung_up_prompt_cancels_its_query_on_the_server_and_exits_129() {
    let db = TestDb::demo();
    db.login("ab123456789");
    let mut admin = db.admin();
    let lock = lock_client(&mut admin);
    let mut pty = Pty::spawn(db.shell().cmd);
    pty.expect_from(0, "ab123456789@", Duration::from_secs(10));
    pty.send("set client mkc111 job = 'Hung up'\r");
    wait_until(
        "the statement waits for the lock",
        Duration::from_secs(10),
        || shell_active(&db) == 1,
    );
    // What the terminal sends when its window is closed.
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(pty.child.id() as i32, libc::SIGHUP) };
    wait_until(
        "the server stops the statement",
        Duration::from_secs(3),
        || shell_active(&db) == 0,
    );
    let status = pty.wait_exit(Duration::from_secs(3));
    assert_eq!(status.code(), Some(128 + libc::SIGHUP), "{}", pty.all());
    assert!(!pty.all().contains("panicked"));
    lock.rollback().unwrap();
    assert_eq!(job_of_mkc111(&db), "Assistant");
}

#[test]
fn a_shell_started_under_nohup_keeps_running_when_hung_up() {
    let db = TestDb::demo();
    db.login("ab123456789");
    let mut admin = db.admin();
    let lock = lock_client(&mut admin);
    let mut cmd = db
        .shell()
        .args(["-c", "set client mkc111 job = 'Stayed'"])
        .cmd;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only an async-signal-safe call between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    wait_until(
        "the statement waits for the lock",
        Duration::from_secs(10),
        || shell_active(&db) == 1,
    );
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(shell_active(&db), 1, "the statement still runs");
    assert!(child.try_wait().unwrap().is_none(), "the shell still runs");
    lock.rollback().unwrap();
    let status = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert_eq!(job_of_mkc111(&db), "Stayed");
}
