//! The benchmark of PERFORMANCE.md: P1–P6, oc12-shell side by side with
//! psql on one private cluster, alternating the two, several runs each,
//! medians and ratios. Run with `cargo bench --bench shell` (see
//! BENCHMARKS.md); the tables it prints are what BENCHMARKS.md reports.
//!
//! Settings (environment):
//! - `OC12_BENCH_EVENTS` (default 1000000): events generated;
//! - `OC12_BENCH_RUNS` (default 7): runs of each side per scenario;
//! - `OC12_BENCH_DIR` (default `$TMPDIR/oc12-bench`): where the cluster
//!   lives; it is kept, and reused by the next run when it holds the same
//!   amount of data (delete the folder to start afresh);
//! - `OC12_BENCH_ONLY` (e.g. `P2,P5`): run only these scenarios (`P2L` is
//!   the one-row lookups);
//! - `OC12_BENCH_BEFORE`: another build of oc12-shell (an earlier commit's
//!   release binary); P1, P2, P2L and P3 then run it too, in the same
//!   alternation on the same cluster, and a before-and-after table follows.
//!
//! psql runs as the cluster's superuser with the SQL the shell's planner
//! makes, its parameters written inline: the "equivalent SQL" of
//! PERFORMANCE.md, without the shell's role switch and token check (which
//! are part of what the shell's figure measures).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oc12::db::local::{CreateOptions, LocalCluster, SUPERUSER};
use oc12::language::analyzer::{Checked, analyze};
use oc12::language::planner::{self, Plan};
use oc12::language::value::Param;

/// The tests' pseudo-terminal driver, the same file.
#[path = "../tests/all/support/pty.rs"]
mod pty;
use pty::Pty;

const SUPPORT: &str = "af123456789";
const GESTION: &str = "ac123456789";
const P4_STATEMENT: &str =
    "list events where support = af123456789 and start >= 2025-01-01 limit 50";

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let events: u64 = env_or("OC12_BENCH_EVENTS", 1_000_000);
    let runs: usize = env_or("OC12_BENCH_RUNS", 7);
    let only = std::env::var("OC12_BENCH_ONLY").unwrap_or_default();
    let wanted = |p: &str| only.is_empty() || only.split(',').any(|o| o.trim() == p);
    let dir = std::env::var_os("OC12_BENCH_DIR")
        .map_or_else(|| std::env::temp_dir().join("oc12-bench"), PathBuf::from);

    let bench = Bench::set_up(&dir, events, runs);
    let mut report = String::new();
    let _ = writeln!(report, "{}\n", machine(&bench));
    let _ = writeln!(
        report,
        "| id | oc12-shell | psql | ratio | target | met |\n|---|---|---|---|---|---|"
    );
    print!("{report}");
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    if wanted("P1") {
        line(bench.p1());
    }
    if wanted("P2") {
        line(bench.p2());
    }
    if wanted("P2L") {
        line(bench.p2_lookups());
    }
    if wanted("P3") {
        line(bench.p3());
    }
    if wanted("P4") {
        line(bench.p4());
    }
    if wanted("P5") || wanted("P6") {
        for l in bench.p5_p6() {
            line(l);
        }
    }
    if let Some(before) = &bench.before {
        line(format!(
            "\nBefore ({}) and after (this build), the same runs:\n\n\
             | scenario | before | after | psql | before / psql | after / psql |\n\
             |---|---|---|---|---|---|",
            before.display()
        ));
        for (what, before, after, psql) in bench.before_after.borrow().iter() {
            line(format!(
                "| {what} | {} | {} | {} | {:.2} | {:.2} |",
                human(before.ms),
                human(after.ms),
                human(psql.ms),
                before.ratio(psql),
                after.ratio(psql)
            ));
        }
    }
    let out = dir.join("results.md");
    let _ = fs::write(&out, &report);
    println!("\n(saved in {})", out.display());
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Bench {
    shell: PathBuf,
    /// An earlier build, compared in the same runs (`OC12_BENCH_BEFORE`).
    before: Option<PathBuf>,
    /// Its medians: (scenario, before, after, psql).
    before_after: RefCell<Vec<(String, Measure, Measure, Measure)>>,
    psql: PathBuf,
    dir: PathBuf,
    cluster: LocalCluster,
    url: String,
    admin_url: String,
    support_token: String,
    gestion_token: String,
    runs: usize,
    events: u64,
}

impl Bench {
    fn set_up(dir: &Path, events: u64, runs: usize) -> Bench {
        fs::create_dir_all(dir).expect("the bench folder");
        let cluster = LocalCluster::new(dir.join("pgdata"));
        // The cluster is kept between runs, for as long as the migrations
        // it was made with are the binary's, text for text.
        let schema = {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let mut hasher = DefaultHasher::new();
            for migration in oc12::db::init::MIGRATIONS {
                migration.sql.hash(&mut hasher);
            }
            hasher.finish()
        };
        let marker = dir.join(format!("generated-{events}-{schema:016x}"));
        if !marker.exists() {
            cluster.stop_immediately();
            let _ = fs::remove_dir_all(cluster.socket_dir());
            let _ = fs::remove_file(dir.join("pgdata"));
            for f in fs::read_dir(dir).expect("the bench folder").flatten() {
                if f.file_name().to_string_lossy().starts_with("generated-") {
                    let _ = fs::remove_file(f.path());
                }
            }
            eprintln!("creating a cluster in {}", dir.display());
            // The settings a user's own local cluster has (fsync on).
            cluster
                .create(&CreateOptions::default())
                .expect("initdb of the bench cluster");
        }
        cluster.start(None).expect("the bench cluster starts");
        let admin_url = cluster.url(SUPERUSER, "crm");
        let hash = oc12::auth::hash_password(oc12::db::local::DEMO_PASSWORD).expect("hash");
        let init = oc12::db::init::init(&oc12::db::init::InitOptions {
            admin_url: &admin_url,
            demo_hash: Some(hash),
            migrations: oc12::db::init::MIGRATIONS,
            ..Default::default()
        })
        .expect("init --demo");
        let shell = PathBuf::from(env!("CARGO_BIN_EXE_oc12-shell"));
        if !marker.exists() {
            eprintln!("generating {events} events...");
            let out = Command::new(&shell)
                .args(["generate", "--events", &events.to_string(), "--admin-url"])
                .arg(&admin_url)
                .output()
                .expect("oc12-shell generate runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let summary = String::from_utf8_lossy(&out.stdout).into_owned();
            eprint!("{summary}");
            fs::write(&marker, summary).expect("the marker");
        }
        let mut bench = Bench {
            shell,
            before: std::env::var_os("OC12_BENCH_BEFORE").map(PathBuf::from),
            before_after: RefCell::new(Vec::new()),
            psql: find_psql(),
            dir: dir.to_owned(),
            cluster,
            url: init.server_url,
            admin_url,
            support_token: String::new(),
            gestion_token: String::new(),
            runs,
            events,
        };
        bench.support_token = bench.login(SUPPORT);
        bench.gestion_token = bench.login(GESTION);
        bench
    }

    /// The shell with a clean environment, for this cluster.
    fn shell(&self, token: &str) -> Command {
        self.shell_of(&self.shell, token)
    }

    /// `build` of the shell (this one, or the one before) likewise.
    fn shell_of(&self, build: &Path, token: &str) -> Command {
        let mut cmd = Command::new(build);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("OC12_HOME", self.dir.join("home"))
            .env("OC12_DATABASE_URL", &self.url)
            .env("NO_COLOR", "1")
            .current_dir(&self.dir);
        if !token.is_empty() {
            cmd.env("OC12_JWT", token);
        }
        cmd
    }

    fn login(&self, registration: &str) -> String {
        let mut child = self
            .shell("")
            .args(["login", registration, "--password-stdin", "--print-token"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("login runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(oc12::db::local::DEMO_PASSWORD.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "login {registration}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn psql(&self) -> Command {
        let mut cmd = Command::new(&self.psql);
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(&self.admin_url)
            .env_remove("PGPASSWORD")
            .current_dir(&self.dir);
        cmd
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.admin_url, postgres::NoTls).expect("admin connection")
    }

    /// Runs both commands `runs` times, alternating; medians. `ours` runs
    /// the build of the shell it is given. With an earlier build to compare
    /// (`OC12_BENCH_BEFORE`), that one runs too, in the same alternation,
    /// and its median is kept under `what`.
    fn side_by_side(
        &self,
        what: &str,
        mut ours: impl FnMut(&Path) -> Measure,
        mut theirs: impl FnMut() -> Measure,
    ) -> (Measure, Measure) {
        let before = self.before.as_deref().filter(|_| !what.is_empty());
        // One warm-up each: the server's caches, the binaries' pages.
        if let Some(b) = before {
            ours(b);
        }
        ours(&self.shell);
        theirs();
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut earlier = Vec::new();
        for _ in 0..self.runs {
            if let Some(build) = before {
                earlier.push(ours(build));
            }
            a.push(ours(&self.shell));
            b.push(theirs());
        }
        let (a, b) = (Measure::median(a), Measure::median(b));
        if before.is_some() {
            self.before_after
                .borrow_mut()
                .push((what.to_owned(), Measure::median(earlier), a, b));
        }
        (a, b)
    }

    fn p1(&self) -> String {
        let plan = plan_of("list clients limit 1");
        let sql = inline(&plan);
        let (ours, theirs) = self.side_by_side(
            "P1 one `list clients limit 1`",
            |build| {
                run(self
                    .shell_of(build, &self.support_token)
                    .args(["-c", "list clients limit 1"]))
            },
            || run(self.psql().args(["-c", &sql])),
        );
        row(
            "P1 start, `list clients limit 1`, exit",
            &ours,
            &theirs,
            "<= 1.5",
            ours.ratio(&theirs) <= 1.5,
        )
    }

    fn p2(&self) -> String {
        let (script, sql) = self.p2_scripts(10_000);
        let script_path = self.dir.join("p2.oc12");
        let sql_path = self.dir.join("p2.sql");
        fs::write(&script_path, script).unwrap();
        fs::write(&sql_path, sql).unwrap();
        let check = self
            .shell(&self.gestion_token)
            .arg("-f")
            .arg(&script_path)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "the P2 script fails: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let (ours, theirs) = self.side_by_side(
            "P2 10,000 statements",
            |build| {
                run(self
                    .shell_of(build, &self.gestion_token)
                    .arg("-f")
                    .arg(&script_path))
            },
            || run(self.psql().arg("-f").arg(&sql_path)),
        );
        let mut s = row(
            "P2 10,000 mixed statements (`-f`)",
            &ours,
            &theirs,
            "<= 2.0",
            ours.ratio(&theirs) <= 2.0,
        );
        // Without waiting for the disk at each commit, what is left is the
        // clients' own overhead: the harder comparison.
        let mut admin = self.admin();
        admin
            .batch_execute("ALTER SYSTEM SET synchronous_commit = off")
            .unwrap();
        admin.batch_execute("SELECT pg_reload_conf()").unwrap();
        let (ours, theirs) = self.side_by_side(
            "P2 10,000 statements, synchronous_commit off",
            |build| {
                run(self
                    .shell_of(build, &self.gestion_token)
                    .arg("-f")
                    .arg(&script_path))
            },
            || run(self.psql().arg("-f").arg(&sql_path)),
        );
        admin
            .batch_execute("ALTER SYSTEM RESET synchronous_commit")
            .unwrap();
        admin.batch_execute("SELECT pg_reload_conf()").unwrap();
        s.push('\n');
        s.push_str(&row(
            "P2 the same, synchronous_commit = off",
            &ours,
            &theirs,
            "<= 1.25",
            ours.ratio(&theirs) <= 1.25,
        ));
        s
    }

    /// 2,000 one-row lookups from a script against psql's 2,000 `select
    /// 1`: the cost of one statement when the server has next to nothing
    /// to do (start and connection included on both sides). psql running
    /// the lookup's own SQL is shown for reference.
    fn p2_lookups(&self) -> String {
        const N: usize = 2_000;
        const LOOKUP: &str = "list clients where id = mkc111";
        let script_path = self.dir.join("lookups.oc12");
        let select_path = self.dir.join("select1.sql");
        let same_sql_path = self.dir.join("lookups.sql");
        fs::write(&script_path, format!("{LOOKUP}\n").repeat(N)).unwrap();
        fs::write(&select_path, "select 1;\n".repeat(N)).unwrap();
        fs::write(
            &same_sql_path,
            format!("{};\n", inline(&plan_of(LOOKUP))).repeat(N),
        )
        .unwrap();
        let (ours, theirs) = self.side_by_side(
            "P2L 2,000 lookups (psql: 2,000 `select 1`)",
            |build| {
                run(self
                    .shell_of(build, &self.gestion_token)
                    .arg("-f")
                    .arg(&script_path))
            },
            || run(self.psql().arg("-f").arg(&select_path)),
        );
        let (_, same_sql) = self.side_by_side(
            "",
            |_| Measure {
                ms: 0.0,
                max_rss_kb: 0,
            },
            || run(self.psql().arg("-f").arg(&same_sql_path)),
        );
        let mut s = row(
            &format!("P2L {N} one-row lookups `{LOOKUP}` (`-f`) / psql's {N} `select 1`"),
            &ours,
            &theirs,
            "<= 2.5",
            ours.ratio(&theirs) <= 2.5,
        );
        let _ = write!(
            s,
            "\n| P2L psql running the lookup's own SQL {N} times | | {} | {:.2} | | |",
            human(same_sql.ms),
            ours.ratio(&same_sql)
        );
        s
    }

    /// 10,000 statements: lists with filters, shows, sets and pays, as a
    /// gestion collaborator (who may set any event and pay any contract),
    /// and the same as plain SQL.
    fn p2_scripts(&self, n: usize) -> (String, String) {
        let mut admin = self.admin();
        let ids = |admin: &mut postgres::Client, sql: &str| -> Vec<String> {
            admin
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let supports = ids(
            &mut admin,
            "SELECT id FROM crm.collaborator WHERE department = 'support' ORDER BY id",
        );
        let commercials = ids(
            &mut admin,
            "SELECT id FROM crm.collaborator WHERE department = 'commercial' ORDER BY id",
        );
        let events = ids(
            &mut admin,
            "SELECT id FROM crm.event ORDER BY id LIMIT 20000",
        );
        let clients = ids(
            &mut admin,
            "SELECT id FROM crm.client ORDER BY id LIMIT 20000",
        );
        // Enough left to pay a cent per statement and run, for many runs.
        let contracts = ids(
            &mut admin,
            "SELECT id FROM crm.contract WHERE remain >= 1000 ORDER BY id LIMIT 20000",
        );
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut pick = |items: &[String]| -> String {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            items[(rng % items.len() as u64) as usize].clone()
        };
        let mut script = String::new();
        let mut sql = String::new();
        for i in 0..n {
            let statement = match i % 10 {
                0..=2 => format!(
                    "list events where support = {} and start >= 2024-01-01 limit 20",
                    pick(&supports)
                ),
                3 => format!(
                    "list clients where commercial = {} limit 20",
                    pick(&commercials)
                ),
                4 => format!("list contracts where client = {}", pick(&clients)),
                5 => format!("show event {}", pick(&events)),
                6 => format!("show contract {}", pick(&contracts)),
                7 => format!("set event {} attendees = {}", pick(&events), i % 500),
                _ => format!("pay contract {} 0.01", pick(&contracts)),
            };
            let _ = writeln!(script, "{statement}");
            for plan in plans_of(&statement) {
                let _ = writeln!(sql, "{};", inline(&plan));
            }
        }
        (script, sql)
    }

    fn p3(&self) -> String {
        let plan = plan_of("list events");
        let copy = format!("\\copy ({}) to stdout csv header", plan.sql);
        let (ours, theirs) = self.side_by_side(
            "P3 1,000,000 events as CSV",
            |build| {
                run_with_memory(self.shell_of(build, &self.support_token).args([
                    "--format",
                    "csv",
                    "-c",
                    "list events",
                ]))
            },
            || run_with_memory(self.psql().args(["-c", &copy])),
        );
        let flat = ours.max_rss_kb < 64 * 1024;
        let mut s = row(
            &format!("P3 export {} events as CSV", self.events),
            &ours,
            &theirs,
            "time <= 2.0, memory < 64 MB",
            ours.ratio(&theirs) <= 2.0 && flat,
        );
        let _ = write!(
            s,
            "\n| P3 peak memory (max RSS) | {:.1} MB | {:.1} MB | | < 64 MB | {} |",
            ours.max_rss_kb as f64 / 1024.0,
            theirs.max_rss_kb as f64 / 1024.0,
            yes(flat)
        );
        s
    }

    /// Server time of the shell's plan (EXPLAIN ANALYZE as the
    /// collaborator, with the plan's bound parameters) against the same
    /// query with index scans turned off.
    fn p4(&self) -> String {
        let plan = plan_of(P4_STATEMENT);
        let prefix = oc12::db::role_prefix("crm").unwrap();
        let mut admin = self.admin();
        let mut server_time = |forced_scan: bool| -> (f64, String) {
            let mut tx = admin.transaction().unwrap();
            tx.batch_execute(&format!("SET LOCAL ROLE \"{prefix}_{SUPPORT}\""))
                .unwrap();
            if forced_scan {
                tx.batch_execute(
                    "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; \
                     SET LOCAL enable_indexonlyscan = off",
                )
                .unwrap();
            }
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = plan
                .params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            let rows = tx
                .query(
                    &format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}", plan.sql),
                    &params,
                )
                .unwrap();
            let json: serde_json::Value = rows[0].get(0);
            let top = &json[0];
            let ms =
                top["Execution Time"].as_f64().unwrap() + top["Planning Time"].as_f64().unwrap();
            let text = tx
                .query(&format!("EXPLAIN {}", plan.sql), &params)
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n");
            (ms, text)
        };
        server_time(false);
        server_time(true);
        let mut ours = Vec::new();
        let mut scan = Vec::new();
        let mut plan_text = (String::new(), String::new());
        for _ in 0..self.runs {
            let (ms, text) = server_time(false);
            ours.push(ms);
            plan_text.0 = text;
            let (ms, text) = server_time(true);
            scan.push(ms);
            plan_text.1 = text;
        }
        let ours = median(ours);
        let scan = median(scan);
        let index_backed =
            plan_text.0.contains("Index") && !plan_text.0.contains("Seq Scan on event");
        eprintln!(
            "P4 plan:\n{}\nP4 forced scan:\n{}",
            plan_text.0, plan_text.1
        );
        format!(
            "| P4 `{P4_STATEMENT}` (server time) | {ours:.2} ms | seq scan {scan:.2} ms | {:.0}x faster | index-backed, >= 100x | {} |",
            scan / ours,
            yes(index_backed && scan / ours >= 100.0)
        )
    }

    /// P6 (spawn to prompt) and P5 (Tab to the candidates) under a pseudo-
    /// terminal: each run starts the shell, waits for the prompt, then
    /// completes event ids at several prefixes (the first Tab of a shell
    /// also connects the completer's pool).
    fn p5_p6(&self) -> Vec<String> {
        let mut startup = Vec::new();
        let mut psql_startup = Vec::new();
        let mut first_tab = Vec::new();
        let mut tabs = Vec::new();
        let mut prefix = 1200u32;
        for run in 0..=self.runs {
            let started = Instant::now();
            let mut pty = Pty::spawn(self.shell(&self.support_token));
            pty.expect_within("@crm> ", Duration::from_secs(10));
            let at = Instant::now();
            if run > 0 {
                startup.push(ms(at - started));
            }
            std::thread::sleep(Duration::from_millis(50));
            for k in 0..5 {
                prefix += 1;
                let typed = format!("show event gev{prefix:06}");
                pty.send(&typed);
                pty.settle(Duration::from_millis(100));
                let sent = Instant::now();
                pty.send("\t");
                let first = format!("gev{prefix:06}0");
                pty.expect_within(&first, Duration::from_secs(5));
                let at = Instant::now();
                if run > 0 {
                    if k == 0 {
                        first_tab.push(ms(at - sent));
                    } else {
                        tabs.push(ms(at - sent));
                    }
                }
                // Ctrl-U: an empty line again.
                pty.send("\x15");
                pty.settle(Duration::from_millis(50));
            }
            pty.send("\x04");
            pty.finish();

            let started = Instant::now();
            let mut cmd = self.psql();
            cmd.env("TERM", "xterm");
            let mut pty = Pty::spawn(cmd);
            pty.expect_within("crm=# ", Duration::from_secs(10));
            let at = Instant::now();
            if run > 0 {
                psql_startup.push(ms(at - started));
            }
            pty.send("\\q\n");
            pty.finish();
        }
        let first_tab = median(first_tab);
        let tabs = median(tabs);
        let startup = median(startup);
        let psql_startup = median(psql_startup);
        vec![
            format!(
                "| P5 Tab completion of event ids, {} events: first Tab of a shell | {first_tab:.1} ms | | | < 20 ms | {} |",
                self.events,
                yes(first_tab < 20.0)
            ),
            format!(
                "| P5 Tab completion of event ids: later Tabs, new prefixes | {tabs:.1} ms | | | < 20 ms | {} |",
                yes(tabs < 20.0)
            ),
            format!(
                "| P6 startup to the prompt (pty) | {startup:.1} ms | {psql_startup:.1} ms | {:.2} | < 50 ms | {} |",
                startup / psql_startup,
                yes(startup < 50.0)
            ),
        ]
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "**no**" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Wall time and peak memory of one run.
#[derive(Debug, Clone, Copy)]
struct Measure {
    ms: f64,
    max_rss_kb: i64,
}

impl Measure {
    fn median(v: Vec<Measure>) -> Measure {
        Measure {
            ms: median(v.iter().map(|m| m.ms).collect()),
            max_rss_kb: v.iter().map(|m| m.max_rss_kb).max().unwrap_or(0),
        }
    }

    fn ratio(&self, other: &Measure) -> f64 {
        self.ms / other.ms
    }
}

fn row(what: &str, ours: &Measure, theirs: &Measure, target: &str, met: bool) -> String {
    format!(
        "| {what} | {} | {} | {:.2} | {target} | {} |",
        human(ours.ms),
        human(theirs.ms),
        ours.ratio(theirs),
        yes(met)
    )
}

fn human(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

/// Runs a command to its end, output discarded; its wall time.
fn run(cmd: &mut Command) -> Measure {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let status = cmd.status().expect("the command runs");
    let elapsed = started.elapsed();
    assert!(status.success(), "{cmd:?} failed: {status}");
    Measure {
        ms: ms(elapsed),
        max_rss_kb: 0,
    }
}

/// Like [`run`], also sampling the child's peak resident memory (VmHWM,
/// a high-water mark, read every few milliseconds until it ends). Not
/// getrusage: a child's ru_maxrss starts from its parent's size at fork.
fn run_with_memory(cmd: &mut Command) -> Measure {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("the command runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(&status_file) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    assert!(status.success(), "{cmd:?} failed: {status}");
    Measure {
        ms: ms(elapsed),
        max_rss_kb: peak,
    }
}

fn vm_hwm_kb(status_file: &str) -> Option<i64> {
    fs::read_to_string(status_file)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .ok()
}

fn find_psql() -> PathBuf {
    if let Some(dir) = oc12::db::local::find_bindir()
        && dir.join("psql").is_file()
    {
        return dir.join("psql");
    }
    PathBuf::from("psql")
}

fn machine(bench: &Bench) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_kb: u64 = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|m| m.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0);
    let version: String = bench
        .admin()
        .query_one("SHOW server_version", &[])
        .map(|r| r.get(0))
        .unwrap_or_default();
    let psql = Command::new(&bench.psql)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "machine: {} CPUs ({cpu}), {:.1} GB memory; PostgreSQL {version} ({psql}); cluster {}; {} runs each, medians",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        mem_kb as f64 / 1024.0 / 1024.0,
        bench.cluster.pgdata.display(),
        bench.runs
    )
}

/// The plans of one statement of the language.
fn plans_of(text: &str) -> Vec<Plan> {
    let statement = oc12::language::parser::parse(text)
        .expect("parses")
        .remove(0);
    let Checked::Data(data) = analyze(&statement).expect("checks") else {
        panic!("{text} is not a data statement");
    };
    planner::plan(&data).plans().into_iter().cloned().collect()
}

fn plan_of(text: &str) -> Plan {
    plans_of(text).remove(0)
}

/// The plan's SQL with its parameters written inline, for psql.
fn inline(plan: &Plan) -> String {
    let mut sql = plan.sql.clone();
    for (i, p) in plan.params.iter().enumerate().rev() {
        let literal = match p {
            Param::Null => "NULL".to_owned(),
            Param::Text(s) => oc12::db::quote_literal(s),
            Param::Integer(n) => n.to_string(),
            Param::Money(d) => d.to_string(),
            Param::Date(d) => format!("'{d}'"),
            Param::DateTime(t) => format!("'{t}'"),
        };
        sql = sql.replace(&format!("${}", i + 1), &literal);
    }
    sql
}
