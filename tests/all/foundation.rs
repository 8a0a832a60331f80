//! `init`, the migrations, the demo data and the embedded local cluster.

use crate::support;

use oc12::db::init::{InitOptions, MIGRATIONS, Migration, init};
use support::{Shell, TestDb, cluster, new_db_name};

fn rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

#[test]
fn init_demo_loads_exactly_the_demo_data() {
    let db = TestDb::demo();
    let mut admin = db.admin();
    admin
        .batch_execute("SET timezone = 'Europe/Paris'")
        .unwrap();
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, name, email, department, role) FROM crm.collaborator ORDER BY id"
        ),
        [
            "aa123456789|Donald Duck|donald.duck@epic-events.example|commercial|manager",
            "ab123456789|Bill Boquet|bill.boquet@epic-events.example|commercial|employee",
            "ac123456789|Daisy Duck|daisy.duck@epic-events.example|gestion|manager",
            "ad123456789|Loulou Duck|loulou.duck@epic-events.example|gestion|employee",
            "ae123456789|Louloute Duck|louloute.duck@epic-events.example|support|employee",
            "af123456789|Aliénor Vichum|alienor.vichum@epic-events.example|support|employee",
            "ag123456789|Kate Hastroff|kate.hastroff@epic-events.example|support|employee",
        ]
    );
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, address, coalesce(complement, ''), postcode, city, region, country) \
             FROM crm.location ORDER BY id"
        ),
        [
            "PARRV751|Place de la Nation|Rue du rendez-vous|75011|Paris|Ile de France|France",
            "csb41120|53 av. Bobet|Petite Avenue|41120|Candé-sur-Beuvron|Centre-Val de Loire|France",
            "ggg56110|20 Rue de Carhaix|Résidence Coquelicot|56110|Gourin|Bretagne|France",
            "llb44430|Place de Bretagne||44430|Le Loroux-Bottereau|Pays de la Loire|France",
            "p22240|9 av Jean Moulin|2 Bourg de la reine|22240|Plurien|Bretagne|France",
        ]
    );
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, name, siren, location) FROM crm.company ORDER BY id"
        ),
        [
            "CSLLC12345|Cool Startup LLC|999222888|p22240",
            "NFEPG12345|Nantes Free Escape Games|999333883|llb44430",
            "SCOU3541|The Mystery Machine|999686686|llb44430",
        ]
    );
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, name, email, phone, company, job, commercial, created::date) \
             FROM crm.client ORDER BY id"
        ),
        [
            "DBLATT85|Daphné Blake|daphne.blake@tmmachine.xe|0671426385|SCOU3541|Ingénieur cloud computing|aa123456789|2020-02-19",
            "FJONIC35|Fred Jones|fred.jones@tmmachine.xe|0699248635|SCOU3541|Ingénieur cloud computing|ab123456789|2020-02-19",
            "SRODAP37|Sammy Rodgers|sammy.rodgers@tmmachine.xe|0615684937|SCOU3541|Assistant|aa123456789|2020-02-19",
            "VDINPR25|Velma Dinkley|velma.dinkley@tmmachine.xe|0695368525|SCOU3541|Présentatrice radio|ab123456789|2020-02-19",
            "axs40|Alexia Strak|a.strak@startup.io|067812345678|NFEPG12345|Assistante|ab123456789|2020-10-15",
            "mkc111|Kevin Casey|kevin@startup.io|067812345678|CSLLC12345|Assistant|ab123456789|2021-12-25",
        ]
    );
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, client, total, remain, status, created::date) FROM crm.contract ORDER BY id"
        ),
        [
            "av123|SRODAP37|155.60|0.00|signed|2020-06-02",
            "aw231|FJONIC35|255.60|0.00|signed|2020-06-22",
            "ax312|DBLATT85|355.60|0.00|signed|2020-07-12",
            "ay312|VDINPR25|455.60|0.00|signed|2020-07-22",
            "ff555|mkc111|444.55|20.99|signed|2022-01-16",
            "kc555|mkc111|999.99|999.99|unsigned|2023-06-03",
            "xx55555|VDINPR25|500.00|500.00|unsigned|2022-06-15",
            "zz123|axs40|72.50|0.00|signed|2021-04-15",
        ]
    );
    assert_eq!(
        rows(
            &mut admin,
            "SELECT concat_ws('|', id, title, contract, coalesce(support, 'none'), \
             to_char(start_at, 'YYYY-MM-DD HH24:MI'), to_char(end_at, 'YYYY-MM-DD HH24:MI'), location, attendees) \
             FROM crm.event ORDER BY id"
        ),
        [
            "ay322|Summer Python|ay312|ag123456789|2022-07-23 09:00|2022-07-23 23:00|PARRV751|100",
            "dkap520|Summer OWASP|ax312|ag123456789|2021-05-23 09:00|2021-05-24 23:00|PARRV751|50",
            "evav123|Summer Bootstrap|av123|ag123456789|2020-08-09 16:00|2020-08-09 22:00|PARRV751|100",
            "geg2021|Gourin escape game 2021|zz123|none|2021-07-25 16:00|2021-07-25 22:00|ggg56110|35",
            "geg2022|Gourin escape game 2022|ff555|af123456789|2022-07-25 16:00|2022-07-25 22:00|ggg56110|35",
            "hob2023|Holiday on beach|ff555|ae123456789|2023-07-25 16:00|2023-07-25 22:00|llb44430|500",
            "zawx235|Summer Javascript|aw231|af123456789|2020-08-15 17:00|2020-08-15 23:00|PARRV751|150",
        ]
    );
    assert_eq!(
        rows(&mut admin, "SELECT id FROM crm.department ORDER BY id"),
        ["commercial", "gestion", "support"]
    );
    // Every demo password is stored as scrypt parameters, a salt and the
    // verifier sha256(scrypt output): the proof of the demo password checks.
    let stored = rows(
        &mut admin,
        "SELECT '$scrypt$' || params || '$' || salt || '|' || encode(verifier, 'hex') \
         FROM crm.collaborator_password",
    );
    assert_eq!(stored.len(), 7);
    for s in &stored {
        let (salt_phc, verifier) = s.split_once('|').unwrap();
        let proof = oc12::auth::proof(support::DEMO_PASSWORD, salt_phc).unwrap();
        let expected: String = admin
            .query_one(
                "SELECT encode(sha256(decode(rpad($1, 44, '='), 'base64')), 'hex')",
                &[&proof],
            )
            .unwrap()
            .get(0);
        assert_eq!(verifier, expected, "{s}");
    }
}

#[test]
fn init_again_changes_nothing_and_says_so() {
    let db = TestDb::demo();
    let before = db.snapshot();
    let report = init(&InitOptions {
        admin_url: &db.admin_url,
        demo_hash: Some("$scrypt$unused".into()),
        migrations: MIGRATIONS,
        ..Default::default()
    })
    .unwrap();
    assert!(!report.changed_anything(), "{report:?}");
    assert!(report.summary().contains("nothing changed"));
    assert_eq!(db.snapshot(), before);
}

#[test]
fn a_new_migration_is_applied_once() {
    let db = TestDb::demo();
    let mut migrations = MIGRATIONS.to_vec();
    migrations.push(Migration {
        name: "999_extra.sql",
        sql: "CREATE TABLE crm.extra (n int); INSERT INTO crm.extra VALUES (1);",
    });
    let opts = InitOptions {
        admin_url: &db.admin_url,
        migrations: &migrations,
        ..Default::default()
    };
    let first = init(&opts).unwrap();
    assert_eq!(first.applied, ["999_extra.sql"]);
    let second = init(&opts).unwrap();
    assert!(second.applied.is_empty());
    let n: i64 = db
        .admin()
        .query_one("SELECT count(*) FROM crm.extra", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_failed_init_leaves_nothing_behind() {
    let c = cluster();
    let name = new_db_name();
    let mut migrations = MIGRATIONS.to_vec();
    migrations.push(Migration {
        name: "999_broken.sql",
        sql: "CREATE TABLE crm.half (n int); SELECT no_such_function();",
    });
    let err = init(&InitOptions {
        admin_url: &c.admin_url(&name),
        migrations: &migrations,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.message.contains("999_broken.sql"), "{err:?}");
    let mut admin = c.admin("postgres");
    let dbs = admin
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .unwrap();
    assert!(dbs.is_empty(), "the database was left behind");
    let prefix = format!("{}%", oc12::db::role_prefix(&name).unwrap());
    let roles = admin
        .query(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
            &[&prefix],
        )
        .unwrap();
    assert!(roles.is_empty(), "roles were left behind: {}", roles.len());
}

#[test]
fn init_on_an_existing_empty_database_creates_the_crm() {
    let c = cluster();
    let name = new_db_name();
    c.admin("postgres")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let report = init(&InitOptions {
        admin_url: &c.admin_url(&name),
        migrations: MIGRATIONS,
        ..Default::default()
    })
    .unwrap();
    assert!(!report.created_database);
    assert_eq!(report.applied.len(), MIGRATIONS.len());
    let n: i64 = c
        .admin(&name)
        .query_one("SELECT count(*) FROM crm.collaborator", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "no demo data without --demo");
}

#[test]
fn init_through_the_binary_prints_the_url_and_writes_a_private_config() {
    use std::os::unix::fs::PermissionsExt;
    let c = cluster();
    let home = tempfile::tempdir().unwrap();
    let name = new_db_name();
    let run = Shell::bare(home.path())
        .args(["init", "--demo", "--admin-url", &c.admin_url(&name)])
        .run()
        .status(0);
    let out = run.stdout();
    assert!(out.contains("OC12_DATABASE_URL=postgresql://"), "{out}");
    assert!(out.contains("loaded the demo data"), "{out}");
    let config = home.path().join("config.env");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let vars = oc12::config::read_env_file(&config).unwrap();
    // The server's address and nothing else: no user, no password, no key.
    let url = &vars["OC12_DATABASE_URL"];
    assert!(
        url.starts_with(&format!("postgresql:///{name}?host=")),
        "{url}"
    );
    assert!(!url.contains('@'), "{url}");
    assert!(!vars.contains_key("OC12_SECRET_KEY"));
    assert!(
        out.contains(&format!("    OC12_DATABASE_URL={url}\n")),
        "{out}"
    );

    let again = Shell::bare(home.path())
        .args(["init", "--demo", "--admin-url", &c.admin_url(&name)])
        .run()
        .status(0);
    assert!(
        again.stdout().contains("nothing changed"),
        "{}",
        again.stdout()
    );
    let vars2 = oc12::config::read_env_file(&config).unwrap();
    assert_eq!(vars, vars2, "a second init keeps the URL and the key");
}

#[test]
fn bad_admin_urls_are_one_line_errors() {
    let home = tempfile::tempdir().unwrap();
    let unreachable = Shell::bare(home.path())
        .args([
            "init",
            "--admin-url",
            "postgresql://postgres@/crm?host=/nonexistent&port=5999",
        ])
        .run()
        .status(4);
    let err = unreachable.stderr();
    assert!(
        err.starts_with("error[connection]: cannot connect"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let malformed = Shell::bare(home.path())
        .args(["init", "--admin-url", "postgresql://[::1"])
        .run()
        .status(2);
    assert!(
        malformed.stderr().starts_with("error[usage]:"),
        "{}",
        malformed.stderr()
    );

    let c = cluster();
    let wrong_user = Shell::bare(home.path())
        .args([
            "init",
            "--admin-url",
            &c.local.url("nobody_at_all", &new_db_name()),
        ])
        .run()
        .status(4);
    assert!(
        wrong_user.stderr().contains("nobody_at_all"),
        "{}",
        wrong_user.stderr()
    );
    assert!(!home.path().join("config.env").exists());
}

#[test]
fn an_unusable_home_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let home = file.join("home");
    let mut shell = Shell::bare(&home);
    shell.cmd.current_dir(dir.path());
    let run = shell.args(["local", "start"]).run();
    // Not bad usage (exit 2): a file of the shell's own that cannot be made.
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().starts_with("error[file]: "),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("OC12_HOME"), "{}", run.stderr());
}

#[test]
fn missing_server_binaries_say_what_to_install() {
    let home = tempfile::tempdir().unwrap();
    let run = Shell::bare(home.path())
        .env("OC12_PG_BINDIR", "/nonexistent")
        .args(["local", "start"])
        .run()
        .status(4);
    let err = run.stderr();
    assert!(err.contains("apt-get install postgresql"), "{err}");
    assert!(err.contains("OC12_DATABASE_URL"), "{err}");
    assert!(!home.path().join("pgdata").join("PG_VERSION").exists());
}

/// Removes a local cluster when the test ends, however it ends, wherever
/// its data lives.
struct StopOnDrop(std::path::PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = Shell::bare(&self.0)
            .args(["local", "destroy", "--yes"])
            .run();
    }
}

#[test]
fn the_local_cluster_is_created_once_and_survives_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let _guard = StopOnDrop(home.path().to_owned());
    let status = || {
        Shell::bare(home.path())
            .args(["local", "status"])
            .run()
            .status(0)
            .stdout()
    };
    assert!(status().contains("no local cluster"));

    let first = Shell::bare(home.path())
        .args(["local", "start"])
        .run()
        .status(0);
    assert!(
        first.stderr().contains("creating the local cluster"),
        "{}",
        first.stderr()
    );
    assert!(status().contains("running"));
    let vars = oc12::config::read_env_file(&home.path().join("config.env")).unwrap();
    assert!(!vars.contains_key("OC12_SECRET_KEY"));
    assert!(!vars.contains_key("OC12_DATABASE_URL"));

    // Write through the superuser, then stop and start: the data is kept.
    let local = oc12::db::local::LocalCluster::new(home.path().join("pgdata"));
    let mut admin =
        postgres::Client::connect(&local.url("postgres", "crm"), postgres::NoTls).unwrap();
    admin
        .batch_execute("UPDATE crm.location SET region = 'Armor' WHERE id = 'p22240'")
        .unwrap();
    drop(admin);

    // Logging in keeps a private token in the same folder, which must not
    // shut the server (the postgres user, as root) out of its data.
    Shell::bare(home.path())
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    let again = Shell::bare(home.path())
        .args(["local", "start"])
        .run()
        .status(0);
    assert!(
        !again.stderr().contains("creating"),
        "started twice is harmless"
    );
    Shell::bare(home.path())
        .args(["local", "stop"])
        .run()
        .status(0);
    assert!(status().contains("stopped"));
    Shell::bare(home.path())
        .args(["local", "start"])
        .run()
        .status(0);
    assert!(status().contains("running"));
    let mut admin =
        postgres::Client::connect(&local.url("postgres", "crm"), postgres::NoTls).unwrap();
    let region: String = admin
        .query_one("SELECT region FROM crm.location WHERE id = 'p22240'", &[])
        .unwrap()
        .get(0);
    assert_eq!(region, "Armor");
    let n: i64 = admin
        .query_one("SELECT count(*) FROM crm.collaborator", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 7);
    let listed = Shell::bare(home.path())
        .args(["--format", "csv", "-c", "count collaborators"])
        .run()
        .status(0);
    assert_eq!(listed.stdout(), "count\n7\n");

    // Removing it asks first: without a terminal, only with --yes.
    let refused = Shell::bare(home.path())
        .args(["local", "destroy"])
        .run()
        .status(2);
    assert!(refused.stderr().contains("--yes"), "{}", refused.stderr());
    assert!(status().contains("running"));
    let real = std::fs::canonicalize(home.path().join("pgdata")).unwrap();
    let removed = Shell::bare(home.path())
        .args(["local", "destroy", "--yes"])
        .run()
        .status(0);
    assert!(
        removed
            .stdout()
            .starts_with("removed the local cluster at "),
        "{}",
        removed.stdout()
    );
    // Wherever its data lived (as root: behind a link), nothing is left.
    assert!(!real.exists(), "{} is still there", real.display());
    assert!(home.path().join("pgdata").symlink_metadata().is_err());
    assert!(status().contains("no local cluster"));
    // A login where there is no cluster makes one, as the shell does.
    let login = Shell::bare(home.path())
        .args(["login", "ad123456789", "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    assert!(
        login.stderr().contains("creating the local cluster"),
        "{}",
        login.stderr()
    );
    assert_eq!(login.stdout(), "logged in as ad123456789 (gestion)\n");
    assert!(status().contains("running"));
}

#[test]
fn local_start_listen_adds_tcp_for_a_graphical_tool() {
    let home = tempfile::tempdir().unwrap();
    let _guard = StopOnDrop(home.path().to_owned());
    // A free loopback port, found by binding and letting go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let run = Shell::bare(home.path())
        .args(["local", "start", "--listen", &listen])
        .run()
        .status(0);
    assert!(
        run.stdout().contains(&format!("also on 127.0.0.1:{port}")),
        "{}",
        run.stdout()
    );
    let vars = oc12::config::read_env_file(&home.path().join("config.env")).unwrap();
    let password = &vars["OC12_LOCAL_ADMIN_PASSWORD"];
    let url = format!("postgresql://postgres:{password}@127.0.0.1:{port}/crm");
    let mut tcp =
        postgres::Client::connect(&url, postgres::NoTls).expect("TCP with the admin password");
    let n: i64 = tcp
        .query_one("SELECT count(*) FROM crm.client", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 6);
    let wrong = format!("postgresql://postgres:wrong@127.0.0.1:{port}/crm");
    assert!(
        postgres::Client::connect(&wrong, postgres::NoTls).is_err(),
        "TCP needs the password"
    );
    // The shell itself goes on working over its socket.
    Shell::bare(home.path())
        .args(["login", "ad123456789", "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    let out = Shell::bare(home.path())
        .args(["--format", "csv", "-c", "count events"])
        .run()
        .status(0)
        .stdout();
    assert_eq!(out, "count\n7\n");
    Shell::bare(home.path())
        .args(["local", "start", "--listen", "nonsense"])
        .run()
        .status(2);
}

#[test]
fn the_command_line_explains_itself() {
    let home = tempfile::tempdir().unwrap();
    let help = Shell::bare(home.path())
        .args(["--help"])
        .run()
        .status(0)
        .stdout();
    for needle in [
        "--format",
        "--single-transaction",
        "--continue-on-error",
        "Examples:",
        "login",
        "init",
        "local",
    ] {
        assert!(help.contains(needle), "{needle} in\n{help}");
    }
    let version = Shell::bare(home.path())
        .args(["--version"])
        .run()
        .status(0)
        .stdout();
    assert_eq!(
        version.trim(),
        format!("oc12-shell {}", env!("CARGO_PKG_VERSION"))
    );
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef oc12-shell"),
        ("fish", "complete -c oc12-shell"),
    ] {
        let script = Shell::bare(home.path())
            .args(["completions", shell])
            .run()
            .status(0)
            .stdout();
        assert!(script.contains(needle), "{shell}: {script}");
        assert!(script.contains("continue-on-error"), "{shell}");
        // The hidden benchmark loader is never offered.
        assert!(
            !script.contains("\"generate\"") && !script.contains("'generate:"),
            "{shell}"
        );
        if shell == "bash" {
            assert!(!script.contains(" generate "), "bash offers generate");
            // Every state the script moves to has its case: subcommands
            // (and their options) complete.
            let states: std::collections::BTreeSet<&str> = script
                .lines()
                .filter_map(|l| l.trim().strip_prefix("cmd=\""))
                .map(|l| l.trim_end_matches('"'))
                .filter(|l| !l.is_empty())
                .collect();
            for state in states {
                assert!(
                    script.contains(&format!("        {state})")),
                    "bash: no case for {state}"
                );
            }
            assert!(script.contains("oc12__shell__subcmd__local)"));
        }
    }
    Shell::bare(home.path())
        .args(["completions", "powershell"])
        .run()
        .status(2);
}

/// A program the tests need, found on `PATH`, or a failure that names it.
fn required(program: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: the completion tests run it (Debian/Ubuntu: \
                 `apt-get install -y {program}`; see the README's prerequisites)"
            )
        })
}

/// What a shell's completion script offers, each script run by its shell:
/// `program` with `code` after the script is loaded from `script`.
fn complete_with(program: &str, script: &std::path::Path, code: &str) -> Vec<String> {
    let out = std::process::Command::new(required(program))
        .args(["-c", &format!("source {}\n{code}", script.display())])
        .env("HOME", script.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| line.split([':', '\t']).next().unwrap().trim().to_owned())
        .filter(|word| !word.is_empty())
        .collect();
    words.sort();
    words
}

#[test]
fn completion_scripts_complete_when_their_shell_runs_them() {
    let home = tempfile::tempdir().unwrap();
    let script = |shell: &str| {
        let text = Shell::bare(home.path())
            .args(["completions", shell])
            .run()
            .status(0)
            .stdout();
        let path = home.path().join(format!("oc12-shell.{shell}"));
        std::fs::write(&path, text).unwrap();
        path
    };
    let top = ["local", "login", "logout"];
    let local = ["start", "status", "stop"];

    // bash: the function `complete -p` names, called as bash calls it.
    let bash = script("bash");
    let call = |words: &str| {
        format!(
            "f=$(complete -p oc12-shell | sed 's/.* -F \\([^ ]*\\) .*/\\1/')\n\
             COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
             $f oc12-shell \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
    };
    assert_eq!(complete_with("bash", &bash, &call("oc12-shell lo")), top);
    assert_eq!(
        complete_with("bash", &bash, &call("oc12-shell local s")),
        local
    );
    assert_eq!(
        complete_with("bash", &bash, &call("oc12-shell --format ''")),
        ["csv", "json", "table", "vertical"]
    );
    let every = complete_with("bash", &bash, &call("oc12-shell ''"));
    assert!(every.contains(&"whoami".to_owned()), "{every:?}");
    assert!(!every.contains(&"generate".to_owned()), "{every:?}");

    // fish: its own completion engine, `complete -C`.
    let fish = script("fish");
    assert_eq!(
        complete_with("fish", &fish, "complete -C 'oc12-shell lo'"),
        top
    );
    assert_eq!(
        complete_with("fish", &fish, "complete -C 'oc12-shell local s'"),
        local
    );
    let every = complete_with("fish", &fish, "complete -C 'oc12-shell '");
    assert!(every.contains(&"whoami".to_owned()), "{every:?}");
    assert!(!every.contains(&"generate".to_owned()), "{every:?}");

    // zsh: the script's own functions, with `_describe` (from compinit)
    // printing what it is handed.
    let zsh = script("zsh");
    let describe = "compdef() { :; }\n_describe() { print -l -- ${(P)4} }";
    let zsh_words = |function: &str| {
        let mut words = complete_with("zsh", &zsh, &format!("{describe}\n{function}"));
        words.retain(|w| w != "help");
        words
    };
    assert_eq!(
        zsh_words("_oc12-shell_commands"),
        ["completions", "init", "local", "login", "logout", "whoami"]
    );
    assert_eq!(
        zsh_words("_oc12-shell__subcmd__local_commands"),
        ["destroy", "start", "status", "stop"]
    );
}

#[test]
fn an_open_shell_starts_the_stopped_local_cluster_again() {
    let home = tempfile::tempdir().unwrap();
    let _guard = StopOnDrop(home.path().to_owned());
    Shell::bare(home.path())
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin(support::DEMO_PASSWORD)
        .run()
        .status(0);
    let mut pty = support::Pty::spawn(Shell::bare(home.path()).env("NO_COLOR", "1").cmd);
    let wait = std::time::Duration::from_secs(20);
    pty.expect_from(0, "ac123456789@crm> ", wait);
    let from = pty.len();
    pty.send("count clients\r");
    pty.expect_from(from, "\n6\r\n", wait);
    Shell::bare(home.path())
        .args(["local", "stop"])
        .run()
        .status(0);
    let from = pty.len();
    pty.send("count contracts\r");
    let seen = pty.expect_from(from, "\n8\r\n", wait);
    assert!(
        seen.contains("(the local cluster was not running: started it again)"),
        "{seen}"
    );
    assert!(!seen.contains("error["), "{seen}");
    let from = pty.len();
    pty.expect_from(from.saturating_sub(40), "ac123456789@crm> ", wait);
    pty.send("\x04");
    pty.wait_exit(wait);
}
