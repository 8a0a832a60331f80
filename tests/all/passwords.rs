//! Passwords through the binary: checked against scrypt PHC hashes, reset
//! by gestion with a generated password shown once, and never written
//! anywhere — not in the audit, not in the home folder, not in arguments.

use crate::support;

use std::path::{Path, PathBuf};

use support::{DEMO_PASSWORD, TEST_SCRYPT_LOG_N, TestDb};

/// What the server stores, as a PHC string: scrypt parameters and salt, and
/// the verifier (sha256 of the scrypt output) in place of the output.
fn hash_of(db: &TestDb, registration: &str) -> String {
    db.value(&format!(
        "SELECT '$scrypt$' || params || '$' || salt || '$' || encode(verifier, 'base64') \
         FROM crm.collaborator_password WHERE collaborator = '{registration}'"
    ))
}

fn login(db: &TestDb, home: &Path, registration: &str, password: &str) -> support::Run {
    db.shell_in(home)
        .args(["login", registration, "--password-stdin"])
        .stdin(password)
        .run()
}

/// A PHC string of scrypt: `$scrypt$ln=N,r=R,p=P$salt$hash`.
#[track_caller]
fn assert_scrypt_phc(hash: &str, log_n: Option<&str>) {
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts.len(), 5, "{hash}");
    assert_eq!(parts[1], "scrypt", "{hash}");
    let params: Vec<&str> = parts[2].split(',').collect();
    assert!(params.len() == 3 && params[0].starts_with("ln="), "{hash}");
    assert_eq!(&params[1..], ["r=8", "p=1"], "{hash}");
    if let Some(n) = log_n {
        assert_eq!(params[0], format!("ln={n}"), "{hash}");
    }
    assert!(parts[3].len() >= 16 && parts[4].len() >= 32, "{hash}");
}

/// The password a script prints once after `label`.
fn printed_password(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in\n{out}"))
        .trim()
        .to_owned()
}

#[test]
fn a_wrong_password_or_registration_is_refused() {
    let db = TestDb::demo();
    let home = tempfile::tempdir().unwrap();
    for (registration, password) in [
        ("ab123456789", "@pplepie95"),
        ("ab123456789", &DEMO_PASSWORD.to_uppercase()),
        ("zz123456789", DEMO_PASSWORD),
    ] {
        let run = login(&db, home.path(), registration, password);
        assert_eq!(run.code(), 3, "{registration}: {}", run.stderr());
        assert!(
            run.stderr().contains(&format!(
                "error[auth]: wrong registration number or password for `{registration}`"
            )),
            "{}",
            run.stderr()
        );
        assert!(!home.path().join("token").exists());
    }
    let run = login(&db, home.path(), "ab123456789", "").status(2);
    assert!(run.stderr().contains("no password"), "{}", run.stderr());
    login(&db, home.path(), "AB123456789", DEMO_PASSWORD).status(0);
    assert!(home.path().join("token").exists());
}

#[test]
fn stored_verifiers_are_scrypt_based_and_nobody_reads_them() {
    let db = TestDb::demo();
    for registration in db.rows("SELECT collaborator FROM crm.collaborator_password ORDER BY 1") {
        assert_scrypt_phc(&hash_of(&db, &registration), None);
    }
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.collaborator_password"),
        "7"
    );
    // Through the shell there is no field for it.
    let daisy = db.user("ac123456789");
    let out = daisy.ok("show collaborator ab123456789");
    assert!(!out.contains("scrypt"), "{out}");
    let e = daisy.run("list collaborators where hash ~ scrypt");
    assert_eq!(e.code(), 1, "{}", e.stderr());
    // And no department may read the table.
    for (registration, _) in [
        ("ab123456789", "commercial"),
        ("ac123456789", "gestion"),
        ("ae123456789", "support"),
    ] {
        let e = support::as_collaborator(
            &db,
            registration,
            "SELECT verifier FROM crm.collaborator_password",
        )
        .unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{registration}: {e}");
    }
}

#[test]
fn gestion_resets_a_password_and_only_the_new_one_works() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let old_hash = hash_of(&db, "ab123456789");
    let out = daisy.ok("passwd ab123456789");
    assert!(out.contains("shown once"), "{out}");
    let password = printed_password(&out, "new password for ab123456789: ");
    assert!(password.len() >= 8, "{password}");
    let new_hash = hash_of(&db, "ab123456789");
    assert_ne!(new_hash, old_hash);
    assert_scrypt_phc(&new_hash, Some(TEST_SCRYPT_LOG_N));
    assert!(!new_hash.contains(&password));

    let home = tempfile::tempdir().unwrap();
    login(&db, home.path(), "ab123456789", DEMO_PASSWORD).status(3);
    login(&db, home.path(), "ab123456789", &password).status(0);
    db.shell_in(home.path()).args(["whoami"]).run().status(0);
    // The others' passwords did not change.
    login(&db, home.path(), "aa123456789", DEMO_PASSWORD).status(0);

    // A second reset: the first generated password stops working.
    let out = daisy.ok("passwd ab123456789");
    let second = printed_password(&out, "new password for ab123456789: ");
    assert_ne!(second, password);
    login(&db, home.path(), "ab123456789", &password).status(3);
    login(&db, home.path(), "ab123456789", &second).status(0);

    daisy.fails("passwd zz123456789", "not-found", 1, "zz123456789");
}

#[test]
fn only_gestion_resets_another_password_and_ones_own_needs_a_terminal() {
    let db = TestDb::demo();
    for registration in ["ab123456789", "ae123456789"] {
        let user = db.user(registration);
        let out = user.refused(
            "passwd ac123456789",
            "only gestion may reset another collaborator's password",
        );
        assert!(!out.contains("new password"));
        // One's own: asked on a terminal, never generated in a script. The
        // statement fails (exit 1); the command line itself was fine.
        let before = db.snapshot();
        let run = user.run("passwd").status(1);
        assert!(
            run.stderr().contains("needs a terminal"),
            "{}",
            run.stderr()
        );
        assert!(!run.stdout().contains("password:"), "{}", run.stdout());
        assert_eq!(db.snapshot(), before);
        // Nor `login` inside a script, where a password would be typed.
        user.run("login ac123456789").status(1);
    }
    // The command line takes no password at all.
    let home = tempfile::tempdir().unwrap();
    let run = db
        .shell_in(home.path())
        .args(["login", "ab123456789", DEMO_PASSWORD])
        .run()
        .status(2);
    assert!(!run.stderr().contains("logged in"));
    db.shell_in(home.path())
        .args(["login", "ab123456789", "--password", DEMO_PASSWORD])
        .run()
        .status(2);
    assert!(!home.path().join("token").exists());
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_password_is_never_written_down() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let wrong = "Wr0ng-passw0rd!";
    // Wrong attempts first: they are counted, never recorded.
    for _ in 0..2 {
        login(&db, daisy.home.path(), "ab123456789", wrong).status(3);
    }
    let out = daisy.ok(
        "add collaborator id=xy123456789 name='Xavier Yon' email=xavier.yon@epic-events.example \
         department=support",
    );
    let initial = printed_password(&out, "initial password: ");
    let xavier = db.user_with("xy123456789", &initial);
    let out = daisy.ok("passwd xy123456789");
    let reset = printed_password(&out, "new password for xy123456789: ");
    login(&db, xavier.home.path(), "xy123456789", &reset).status(0);
    xavier.ok("list events where support = me");
    daisy.ok("set collaborator xy123456789 name='Xavier Yon-Duck'");
    daisy.ok("delete collaborator xy123456789");

    let secrets = [DEMO_PASSWORD, wrong, &initial, &reset];
    let audit = db.rows("SELECT a::text FROM crm.audit a ORDER BY pk");
    assert!(
        audit.iter().any(|r| r.contains("xy123456789")),
        "the audit saw the collaborator: {audit:#?}"
    );
    for row in &audit {
        assert!(!row.contains("scrypt"), "a hash in the audit: {row}");
        for secret in secrets {
            assert!(!row.contains(secret), "{secret} in the audit: {row}");
        }
    }
    // Nothing in anybody's home: token, failure counters, history, event
    // log (events.jsonl), whatever is there.
    for home in [db.home.path(), daisy.home.path(), xavier.home.path()] {
        for file in files_under(home) {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{secret} written to {}:\n{text}",
                    file.display()
                );
            }
            assert!(!text.contains("$scrypt"), "a hash in {}", file.display());
        }
    }
}

/// Runs the shell on a pseudo-terminal (util-linux `script`), typing each
/// line after a pause; returns the transcript, or `None` without `script`.
fn at_a_terminal(db: &TestDb, home: &Path, lines: &[&str]) -> Option<String> {
    let script = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("script"))
        .find(|p| p.is_file())?;
    let mut typing = String::from("sleep 1.5");
    for line in lines {
        // Single-quoted for sh: the lines hold no quote.
        assert!(!line.contains('\''));
        typing.push_str(&format!("; printf '%s\\r' '{line}'; sleep 1.5"));
    }
    typing.push_str("; printf '\\004'; sleep 1");
    let shell = db.shell_in(home);
    let mut cmd = std::process::Command::new("sh");
    cmd.env_clear();
    for (k, v) in shell.cmd.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("TERM", "dumb")
        .current_dir(home)
        .arg("-c")
        .arg(format!(
            "({typing}) | {} -qec {} /dev/null",
            script.display(),
            env!("CARGO_BIN_EXE_oc12-shell")
        ));
    let out = cmd.output().expect("sh runs");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn at_the_prompt_passwd_changes_ones_own_and_nothing_is_echoed_or_kept() {
    let db = TestDb::demo();
    let home = tempfile::tempdir().unwrap();
    let new = "N3w-secret-pass";
    let Some(transcript) = at_a_terminal(
        &db,
        home.path(),
        &[
            "login ab123456789",
            DEMO_PASSWORD,
            "passwd",
            DEMO_PASSWORD,
            new,
            new,
            "whoami",
        ],
    ) else {
        eprintln!("no `script` command: the terminal is not tested");
        return;
    };
    assert!(
        transcript.contains("logged in as ab123456789")
            && transcript.contains("ab123456789 Bill Boquet (commercial)"),
        "{transcript}"
    );
    assert!(!transcript.contains(DEMO_PASSWORD), "echoed:\n{transcript}");
    assert!(!transcript.contains(new), "echoed:\n{transcript}");
    assert_scrypt_phc(&hash_of(&db, "ab123456789"), Some(TEST_SCRYPT_LOG_N));
    let other = tempfile::tempdir().unwrap();
    login(&db, other.path(), "ab123456789", DEMO_PASSWORD).status(3);
    login(&db, other.path(), "ab123456789", new).status(0);
    // The history holds statements, not what was typed at password prompts.
    let history = std::fs::read_to_string(home.path().join("history")).unwrap();
    assert!(history.contains("whoami"), "{history}");
    for file in files_under(home.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !text.contains(DEMO_PASSWORD) && !text.contains(new),
            "a password in {}:\n{text}",
            file.display()
        );
    }
}

#[test]
fn login_without_a_terminal_says_how_to_pipe_the_password() {
    use std::os::unix::process::CommandExt;
    let db = TestDb::demo();
    let mut shell = db.shell().args(["login", "ab123456789"]);
    // SAFETY: setsid only, between fork and exec: no controlling terminal.
    unsafe {
        shell.cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let run = shell.stdin("").run().status(2);
    assert!(
        run.stderr()
            .contains("oc12-shell login REGISTRATION --password-stdin"),
        "{}",
        run.stderr()
    );
}
