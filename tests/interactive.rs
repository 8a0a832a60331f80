//! The interactive prompt, driven through a real pseudo-terminal the way a
//! person at a keyboard would: what is typed goes in byte by byte, what the
//! shell draws comes back with rustyline's cursor codes and all.
//!
//! The pseudo-terminal is opened with `openpty` from libc (already a
//! dependency), made the child's controlling terminal, so `/dev/tty`
//! (password prompts) is the same terminal.

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use support::{DEMO_PASSWORD, Shell, TestDb};

const TIMEOUT: Duration = Duration::from_secs(20);
const UP: &str = "\x1b[A";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// Everything the terminal showed so far, filled by a reader thread.
#[derive(Default)]
struct Screen {
    bytes: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

/// The binary running on a pseudo-terminal.
struct Pty {
    child: Child,
    master: File,
    screen: Arc<Screen>,
    /// How much of the output earlier `expect`s consumed.
    seen: usize,
}

impl Pty {
    /// Starts the shell with its standard streams on a new 50x200 terminal.
    fn spawn(shell: Shell) -> Pty {
        let mut cmd = shell.cmd;
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors come from openpty and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // SAFETY: fcntl on our own descriptor.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        let stdio = || Stdio::from(slave.try_clone().expect("dup of the terminal"));
        cmd.stdin(stdio())
            .stdout(stdio())
            .stderr(stdio())
            .env("TERM", "xterm");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("the binary starts on the terminal");
        drop(slave);
        let screen = Arc::new(Screen::default());
        let mut reader = master.try_clone().expect("dup of the master side");
        let filled = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // EIO once the child and every copy of the terminal are gone.
                let n = reader.read(&mut buf).unwrap_or(0);
                let mut bytes = filled.bytes.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    bytes.1 = true;
                    filled.grew.notify_all();
                    return;
                }
                bytes.0.extend_from_slice(&buf[..n]);
                filled.grew.notify_all();
            }
        });
        Pty {
            child,
            master,
            screen,
            seen: 0,
        }
    }

    /// Types keys.
    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Types keys, then gives the editor a moment to draw them: rustyline
    /// reads a burst of bytes as one paste otherwise.
    fn keys(&mut self, keys: &str) {
        self.send(keys);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Everything shown so far, as text.
    fn all(&self) -> String {
        let bytes = self.screen.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes.0).into_owned()
    }

    /// Waits until `text` appears after what earlier calls consumed, and
    /// returns the output up to and including it.
    #[track_caller]
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        let mut bytes = self.screen.bytes.lock().unwrap();
        loop {
            let shown = String::from_utf8_lossy(&bytes.0[self.seen..]).into_owned();
            if let Some(at) = shown.find(text) {
                let end = at + text.len();
                self.seen += shown[..end].len();
                return shown[..end].to_owned();
            }
            let now = Instant::now();
            if bytes.1 || now >= deadline {
                drop(bytes);
                panic!(
                    "`{}` did not appear; after the last match the terminal showed:\n{shown:?}",
                    text.escape_debug(),
                );
            }
            bytes = self
                .screen
                .grew
                .wait_timeout(bytes, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Waits for the process to end and returns its exit code.
    #[track_caller]
    fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the shell did not exit; it showed:\n{:?}",
                self.all()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn login(db: &TestDb) {
    db.shell()
        .args(["login", "ac123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
}

/// The prompt of the logged-in gestion manager on this database.
fn prompt(db: &TestDb) -> String {
    format!("ac123456789@{}> ", db.name)
}

#[test]
fn prompt_shows_who_is_logged_in_and_ctrl_d_exits_0() {
    let db = TestDb::demo();
    let mut pty = Pty::spawn(db.shell());
    pty.expect("Log in with `login REGISTRATION`.");
    pty.expect("oc12> ");
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.send("count contracts where status = signed\r");
    pty.expect("\r\n6\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn tab_completes_entities_fields_enum_values_and_ids_from_the_database() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));

    // An entity: the completed line runs.
    pty.keys("list con\t");
    pty.expect("contracts");
    pty.send("where status = signed limit 1\r");
    pty.expect("1 row");
    pty.expect(&prompt(&db));

    // A field of that entity, then an enum value.
    pty.keys("count contracts where rem\t");
    pty.expect("remain");
    pty.keys("> 0 and stat\t");
    pty.expect("status");
    pty.keys("= si\t");
    pty.expect("signed");
    pty.send("\r");
    // Only ff555 is signed with something left to pay.
    pty.expect("\r\n1\r\n");
    pty.expect(&prompt(&db));

    // Event ids read from the database: two match, both are listed.
    pty.keys("show event geg\t");
    let listed = pty.expect("geg2022");
    assert!(listed.contains("geg2021"), "{listed:?}");
    pty.keys("1\r");
    pty.expect("Gourin escape game 2021");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn up_arrow_recalls_the_previous_statement_of_an_earlier_session() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.send("count events where attendees > 99\r");
    pty.expect("\r\n4\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    // Without colour the recalled line shows as typed.
    let mut pty = Pty::spawn(db.shell().env("NO_COLOR", "1"));
    pty.expect(&prompt(&db));
    pty.keys(UP);
    pty.expect("count events where attendees > 99");
    pty.send("\r");
    pty.expect("\r\n4\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn an_error_shows_carets_and_the_prompt_comes_back() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.send("list contracts order status\r");
    let shown = pty.expect("^");
    assert!(
        shown.contains("error[parse]: expected `by` after `order`"),
        "{shown:?}"
    );
    assert!(
        shown.ends_with("  | list contracts order status\r\n  |                      ^"),
        "{shown:?}"
    );
    pty.expect(&prompt(&db));
    pty.send("list contrats\r");
    let shown = pty.expect("did you mean `contracts`?");
    assert!(
        shown.contains(
            "error[unknown]: no entity `contrats`\r\n  | list contrats\r\n  |      ^^^^^^^^"
        ),
        "{shown:?}"
    );
    // Still alive and working.
    pty.expect(&prompt(&db));
    pty.send("count clients\r");
    pty.expect("\r\n6\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn ctrl_c_clears_the_line_and_the_prompt_goes_on() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.keys("delete client mkc111");
    pty.keys(CTRL_C);
    pty.expect(&prompt(&db));
    // Had the line survived, this would read `delete client mkc111count ...`.
    pty.send("count clients\r");
    pty.expect("\r\n6\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    let mut admin = db.admin();
    let n: i64 = admin
        .query_one("SELECT count(*) FROM crm.client WHERE id = 'mkc111'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_password_typed_at_login_is_not_echoed_nor_kept_in_the_history() {
    let db = TestDb::demo();
    let mut pty = Pty::spawn(db.shell());
    pty.expect("oc12> ");
    pty.send("login ac123456789\r");
    pty.expect("password: ");
    pty.send(&format!("{DEMO_PASSWORD}\r"));
    pty.expect("logged in as ac123456789 (gestion)");
    pty.expect(&prompt(&db));
    pty.send("count clients\r");
    pty.expect("\r\n6\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    let shown = pty.all();
    assert!(!shown.contains(DEMO_PASSWORD), "{shown:?}");

    let history = std::fs::read_to_string(db.home.path().join("history")).unwrap();
    assert!(history.contains("count clients"), "{history:?}");
    assert!(!history.contains(DEMO_PASSWORD), "{history:?}");
    assert!(!history.contains("login"), "{history:?}");
}

/// An SGR sequence (`ESC [ ... m`): colour, bold, dim.
fn has_sgr(text: &str) -> bool {
    text.match_indices('\x1b').any(|(at, _)| {
        let rest = &text[at + 1..];
        rest.strip_prefix('[').is_some_and(|r| {
            let params = r.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
            params.starts_with('m')
        })
    })
}

#[test]
fn no_color_means_no_colour_codes_at_the_prompt_and_plain_results() {
    let db = TestDb::demo();
    login(&db);
    let statement = "list contracts where status = signed and remain > 0\r";

    // With colour, the same session is coloured: the check below can fail.
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.send(statement);
    pty.expect("1 row");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    assert!(has_sgr(&pty.all()), "{:?}", pty.all());

    let mut pty = Pty::spawn(db.shell().env("NO_COLOR", "1"));
    pty.expect(&prompt(&db));
    pty.send(statement);
    pty.expect("\r\n┌");
    let table = pty.expect("1 row");
    pty.send("list contrats\r");
    let error = pty.expect("did you mean `contracts`?");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    assert!(!has_sgr(&pty.all()), "{:?}", pty.all());
    // What the shell prints itself, results and errors, holds no escape at
    // all (the line editor's cursor moves are the terminal's business).
    assert!(!table.contains('\x1b'), "{table:?}");
    assert!(table.contains("│ ff555 │"), "{table:?}");
    let error = error.rsplit("\r\n").take(4).collect::<String>();
    assert!(!error.contains('\x1b'), "{error:?}");
}

#[test]
fn tab_completes_places_and_add_location_asks_which_commune_of_a_postcode() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn(db.shell());
    pty.expect(&prompt(&db));

    // Communes and postcodes come from the bundled data.
    pty.keys("lookup location gouri\t");
    pty.expect("Gourin");
    pty.send("\r");
    pty.expect("56 Morbihan");
    pty.expect(&prompt(&db));

    // A postcode of five communes: the city is asked, with them as the hint.
    pty.keys("add location id=lf1 address='2 quai' postcode=2959\t");
    pty.expect("29590");
    pty.send("\r");
    pty.expect("city (Le Faou|Lopérec|Rosnoën|Saint-Ségal|Pont-de-Buis-lès-Quimerch): ");
    pty.send("Le Faou\r");
    pty.expect("note: from postcode 29590: region=Bretagne country=France");
    pty.expect("added location lf1");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    assert_eq!(
        db.value("SELECT concat_ws('|', city, region, country) FROM crm.location WHERE id = 'lf1'"),
        "Le Faou|Bretagne|France"
    );
}
