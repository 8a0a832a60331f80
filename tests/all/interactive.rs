//! The interactive prompt, driven through a real pseudo-terminal the way a
//! person at a keyboard would: what is typed goes in byte by byte, what the
//! shell draws comes back with rustyline's cursor codes and all.
//!
//! The pseudo-terminal driver is `support::pty`, shared with the
//! benchmark.

use crate::support;

use support::{DEMO_PASSWORD, Pty, Shell, TestDb};

const UP: &str = "\x1b[A";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// The shell on a new 50x200 terminal.
fn spawn(shell: Shell) -> Pty {
    Pty::spawn(shell.cmd)
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

/// A shell of the gestion manager, logged in, at its prompt.
fn logged_in_shell(db: &TestDb) -> Pty {
    login(db);
    let mut pty = spawn(db.shell());
    pty.expect(&prompt(db));
    pty
}

#[test]
fn prompt_shows_who_is_logged_in_and_ctrl_d_exits_0() {
    let db = TestDb::demo();
    let mut pty = spawn(db.shell());
    pty.expect("Log in with `login REGISTRATION`.");
    pty.expect("oc12> ");
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    let mut pty = logged_in_shell(&db);
    pty.send("count contracts where status = signed\r");
    pty.expect("\r\n6\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn tab_completes_entities_fields_enum_values_and_ids_from_the_database() {
    let db = TestDb::demo();
    let mut pty = logged_in_shell(&db);

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

    // Only what the database would take: support collaborators for
    // `support` (not aa…, ab… of commercial nor ac…, ad… of gestion).
    pty.keys("count events where support = a\t");
    let shown = pty.expect("ag123456789");
    // The listing, under the line being typed (whose prompt names ac…).
    let listed = shown.rsplit("\r\n").next().unwrap_or_default();
    assert!(
        listed.contains("ae123456789") && listed.contains("af123456789"),
        "{listed:?}"
    );
    for other in ["aa123456789", "ab123456789", "ac123456789", "ad123456789"] {
        assert!(!listed.contains(other), "{other} offered: {listed:?}");
    }
    pty.keys("e123456789\r");
    pty.expect("\r\n1\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn up_arrow_recalls_the_previous_statement_of_an_earlier_session() {
    let db = TestDb::demo();
    let mut pty = logged_in_shell(&db);
    pty.send("count events where attendees > 99\r");
    pty.expect("\r\n4\r\n");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    // Without colour the recalled line shows as typed.
    let mut pty = spawn(db.shell().env("NO_COLOR", "1"));
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
    let mut pty = logged_in_shell(&db);
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
    let mut pty = logged_in_shell(&db);
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
    let mut pty = spawn(db.shell());
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
    let mut pty = spawn(db.shell());
    pty.expect(&prompt(&db));
    pty.send(statement);
    pty.expect("1 row");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
    assert!(has_sgr(&pty.all()), "{:?}", pty.all());

    let mut pty = spawn(db.shell().env("NO_COLOR", "1"));
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
fn an_open_shell_keeps_its_identity_when_another_terminal_logs_in_or_out() {
    let db = TestDb::demo();
    let mut pty = logged_in_shell(&db);
    // Another terminal, same home: somebody else logs in, saving their token.
    db.shell()
        .args(["login", "ae123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    pty.send("whoami\r");
    // Said once, before the statement, so nobody is surprised.
    pty.expect("note: another terminal logged in as ae123456789; this shell stays ac123456789");
    pty.expect("ac123456789 Daisy Duck (gestion)");
    pty.expect(&prompt(&db));
    // A manager's statement still runs as the manager.
    pty.send("count collaborators where department = gestion\r");
    pty.expect("\r\n2\r\n");
    pty.expect(&prompt(&db));
    // The other terminal logging out ends its own session, not this one.
    db.shell().args(["logout"]).run().status(0);
    pty.send("whoami\r");
    pty.expect("note: another terminal logged out; this shell stays ac123456789");
    pty.expect("ac123456789 Daisy Duck (gestion)");
    pty.expect(&prompt(&db));
    // Told once per change, not at every statement.
    pty.send("whoami\r");
    let again = pty.expect("ac123456789 Daisy Duck (gestion)");
    assert!(!again.contains("note:"), "{again:?}");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn a_logout_elsewhere_of_the_session_this_shell_shares_is_said_as_such() {
    let db = TestDb::demo();
    let mut pty = logged_in_shell(&db);
    // The other terminal logs out the saved session: this shell's own.
    db.shell().args(["logout"]).run().status(0);
    pty.send("whoami\r");
    pty.expect("note: another terminal logged out of this shell's session (ac123456789); log in again to go on");
    pty.expect("error[auth]");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

/// A shell where `registration` is logged in, in a home of its own.
fn shell_of(db: &TestDb, registration: &str) -> (Pty, tempfile::TempDir, String) {
    let home = db.user_home(registration);
    let pty = spawn(db.shell_in(home.path()).env("NO_COLOR", "1"));
    (pty, home, format!("{registration}@{}> ", db.name))
}

#[test]
fn a_prompted_add_checks_each_answer_and_ctrl_c_cancels_it_keeping_it_in_history() {
    let db = TestDb::demo();
    let before = db.value("SELECT count(*)::text FROM crm.client");
    let (mut pty, home, prompt) = shell_of(&db, "aa123456789");
    pty.expect(&prompt);
    pty.keys("add client\r");
    pty.expect("name: ");
    pty.keys("Zed Zed\r");
    pty.expect("email: ");
    // A wrong answer is said at once, and asked again.
    pty.keys("bad\r");
    pty.expect("`bad` is not an email address");
    pty.expect("email: ");
    pty.keys(CTRL_C);
    pty.expect("canceled: nothing was changed");
    pty.expect(&prompt);
    assert_eq!(db.value("SELECT count(*)::text FROM crm.client"), before);
    // What was built so far is one Up arrow away.
    let history = std::fs::read_to_string(home.path().join("history")).unwrap();
    assert!(
        history
            .lines()
            .any(|l| l.starts_with("add client name=") && l.contains("Zed Zed")),
        "{history}"
    );
    // Ctrl-D at a question cancels too.
    pty.keys("add client\r");
    pty.expect("name: ");
    pty.keys(CTRL_D);
    pty.expect("canceled: nothing was changed");
    pty.expect(&prompt);
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn nobody_is_asked_for_what_they_may_not_add() {
    let db = TestDb::demo();
    let (mut pty, _home, prompt) = shell_of(&db, "ae123456789");
    pty.expect(&prompt);
    pty.keys("add client\r");
    let shown = pty.expect("error[permission]");
    assert!(!shown.contains("name: "), "{shown}");
    pty.expect(&prompt);
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn ctrl_c_at_a_password_question_cancels_the_statement() {
    let db = TestDb::demo();
    let (mut pty, _home, prompt) = shell_of(&db, "ae123456789");
    pty.expect(&prompt);
    pty.keys("passwd\r");
    pty.expect("current password: ");
    pty.keys("half-typ");
    pty.keys(CTRL_C);
    pty.expect("canceled: nothing was changed");
    pty.expect(&prompt);
    // The terminal is itself again: what is typed shows.
    pty.keys("whoami\r");
    pty.expect("ae123456789 Louloute Duck (support)");
    pty.expect(&prompt);
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

/// What a terminal shows of `raw`: its lines, without colour and cursor
/// codes.
fn screen_lines(raw: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: parameters up to a final letter.
            if chars.next_if_eq(&'[').is_some() {
                while chars.next().is_some_and(|c| !c.is_ascii_alphabetic()) {}
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect()
}

const EVENT_IDS: [&str; 7] = [
    "hob2023", "geg2022", "geg2021", "evav123", "zawx235", "dkap520", "ay322",
];

#[test]
fn on_an_80_column_terminal_wide_results_fit_and_show_every_id() {
    let db = TestDb::demo();
    login(&db);
    let mut pty = Pty::spawn_sized(db.shell().env("OC12_PAGER", "").cmd, 200, 80);
    pty.expect(&prompt(&db));
    // As a table `list events` is far wider than 80 columns: records.
    pty.send("list events\r");
    let shown = pty.expect("7 rows; times in Europe/Paris");
    pty.expect(&prompt(&db));
    let lines = screen_lines(&shown);
    let result = &lines[1..];
    assert!(
        result[0].starts_with("(too wide for the terminal: shown as records"),
        "{lines:#?}"
    );
    for line in result {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line:?}",
            line.chars().count()
        );
    }
    for id in EVENT_IDS {
        assert!(
            result.iter().any(|l| l == &format!("id         | {id}")),
            "{id}: {lines:#?}"
        );
    }
    // Said once: the next wide result is records without the note.
    pty.send("list clients\r");
    let shown = pty.expect("6 rows; times in Europe/Paris");
    assert!(!shown.contains("too wide"), "{shown:?}");
    assert!(shown.contains("-[ RECORD 6 ]-"), "{shown:?}");
    pty.expect(&prompt(&db));
    // Named, a table stays a table, long cells cut to fit.
    pty.send("format table\r");
    pty.expect(&prompt(&db));
    pty.send("list events\r");
    let shown = pty.expect("7 rows; times in Europe/Paris");
    assert!(
        shown.contains("│ geg2021 │ Gourin escape game 2021 │"),
        "{shown:?}"
    );
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);
}

#[test]
fn a_result_taller_than_the_terminal_goes_through_the_pager_and_never_into_a_pipe() {
    let db = TestDb::demo();
    login(&db);
    // A pager that marks what it was given, and prints it.
    let pager = "sed s/^/paged:/";
    let mut pty = Pty::spawn_sized(db.shell().env("OC12_PAGER", pager).cmd, 24, 80);
    pty.expect(&prompt(&db));
    // Seven records of thirteen lines: taller than 24 rows.
    pty.send("list events\r");
    pty.expect("paged:-[ RECORD 1 ]-");
    pty.expect("paged:7 rows; times in Europe/Paris");
    pty.expect(&prompt(&db));
    // What fits is not paged.
    pty.send("list departments\r");
    let shown = pty.expect("3 rows");
    assert!(!shown.contains("paged:"), "{shown:?}");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    // `--no-pager`: on the terminal as it is.
    let mut pty = Pty::spawn_sized(
        db.shell().env("OC12_PAGER", pager).args(["--no-pager"]).cmd,
        24,
        80,
    );
    pty.expect(&prompt(&db));
    pty.send("list events\r");
    let shown = pty.expect("7 rows; times in Europe/Paris");
    assert!(!shown.contains("paged:"), "{shown:?}");
    pty.expect(&prompt(&db));
    pty.send(CTRL_D);
    assert_eq!(pty.exit_code(), 0);

    // Into a pipe: the whole table, never paged, nothing cut.
    let piped = db
        .shell()
        .env("OC12_PAGER", pager)
        .env("COLUMNS", "80")
        .env("LINES", "24")
        .args(["-c", "list events"])
        .run()
        .status(0)
        .stdout();
    assert!(!piped.contains("paged:") && !piped.contains('…'), "{piped}");
    assert!(piped.starts_with("┌"), "{piped}");
    assert!(
        piped.lines().next().unwrap().chars().count() > 80,
        "{piped}"
    );
}

#[test]
fn tab_completes_places_and_add_location_asks_which_commune_of_a_postcode() {
    let db = TestDb::demo();
    let mut pty = logged_in_shell(&db);

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
