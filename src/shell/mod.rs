//! The three ways in: the interactive prompt, scripts (`-f`, stdin) and
//! one-off statements (`-c`), all over one [`Session`]. This file runs
//! them; the subcommands `login`, `logout` and `whoami` too.
//!
//! - `cli.rs`: the command line, defined once (parsing, `--help`,
//!   completions).
//! - `script.rs`: a script's statements, with the line each starts on.
//! - `repl.rs`: the line editor (rustyline) and its private history.
//! - `complete.rs`: Tab completion and hints, over a [`complete::CompletionSource`];
//!   `walker.rs`: the walk of a statement they and the highlighter share.
//! - `ids.rs`: the completion source: the catalogue, and ids from the
//!   database, cached.
//! - `highlight.rs`: colours for the line being typed.
//! - `ask.rs`: asking for the required fields an `add` left out.
//!
//! May use: `interpreter` and all it uses (`language`, `db`, `output`,
//! `auth`, `config`, `terminal`, `fs`, `error`).

pub(crate) mod ask;
pub(crate) mod cli;
pub mod complete;
pub(crate) mod highlight;
pub mod ids;
pub(crate) mod repl;
pub mod script;
pub(crate) mod walker;

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};

use crate::auth;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::interpreter::session::{Flow, Session};
use crate::output::{Format, Printer, Screen};
use crate::shell::cli::{Command, RunArgs, Source};
use crate::shell::repl::ReadOutcome;
use crate::terminal;

/// `login`, `logout`, `whoami` as subcommands.
pub fn run_command(config: &Config, command: Command) -> Result<i32> {
    let mut session = Session::new(
        config.clone(),
        Format::Table,
        false,
        terminal::interactive(),
    );
    let mut out = Printer::new(io::stdout(), Format::Table, false);
    let text = match command {
        Command::Login {
            registration,
            password_stdin,
            print_token,
        } => {
            let registration = match registration {
                Some(r) => r,
                None if session.interactive => terminal::ask("registration number: ")?,
                None => return Err(Error::usage("login needs a registration number")),
            };
            let password = if password_stdin {
                terminal::password_from_stdin()?
            } else {
                terminal::read_password("password")?
            };
            let greeting = session.login(&registration, &password)?;
            if print_token {
                let token = auth::load_token(&session.config().paths.state, None)?;
                println!("{token}");
                return Ok(0);
            }
            greeting
        }
        Command::Logout => {
            session.run_text("logout", &mut out)?;
            return Ok(0);
        }
        Command::Whoami => {
            session.run_text("whoami", &mut out)?;
            return Ok(0);
        }
        _ => unreachable!("handled by app"),
    };
    let _ = out.message(&text);
    Ok(0)
}

/// The shell: statements from `-c`/`-f`, from piped standard input, or
/// typed at the prompt.
pub fn run_shell(config: &Config, args: &RunArgs) -> Result<i32> {
    let interactive_stdin = io::stdin().is_terminal();
    let script = !args.commands.is_empty() || !args.files.is_empty() || !interactive_stdin;
    let stdout_tty = io::stdout().is_terminal();
    let color = stdout_tty && !args.no_color && !config.no_color();
    let format = args.format.unwrap_or_default();
    if let Some(example) = config.get(crate::config::MONEY).filter(|e| !e.is_empty()) {
        let style = crate::output::MoneyStyle::from_example(example)
            .map_err(|e| Error::usage(format!("{}: {e}", crate::config::MONEY)))?;
        crate::output::set_money_style(style);
    }
    let mut session = Session::new(config.clone(), format, color, interactive_stdin && !script);
    // A person reads the results: fit them to the terminal.
    let screen = stdout_tty.then(|| screen(config, args));
    let chosen = args.format.is_some();
    if !script {
        return interactive(&mut session, screen, chosen);
    }
    session.set_single_transaction(args.single_transaction);
    crate::db::cancel::install_for_scripts();
    let mut out = Printer::new(io::stdout().lock(), format, color);
    if let Some(screen) = screen {
        out = out.on_screen(screen, chosen);
    }
    let mut failure: Option<ErrorKind> = None;
    let mut sources: Vec<(String, Box<dyn Iterator<Item = script::Item>>)> = Vec::new();
    // `-c` and `-f` in the order given; standard input when neither.
    let given = if args.sources.is_empty() {
        vec![Source::File("-".to_owned())]
    } else {
        args.sources.clone()
    };
    for source in given {
        match source {
            Source::Command(c) => {
                let units: Vec<script::Item> = script::Reader::new(c.as_bytes()).collect();
                sources.push(("-c".to_owned(), Box::new(units.into_iter())));
            }
            Source::File(f) => {
                let (name, reader): (String, Box<dyn BufRead>) = if f == "-" {
                    ("<stdin>".to_owned(), Box::new(BufReader::new(io::stdin())))
                } else {
                    let file = File::open(&f)
                        .map_err(|e| Error::usage(format!("cannot open {f}: {e}")))?;
                    (f.clone(), Box::new(BufReader::new(file)))
                };
                sources.push((name, Box::new(script::Reader::new(reader))));
            }
        }
    }
    for (name, units) in sources {
        let echo = args.echo;
        let outcome = run_units(
            &mut session,
            &mut out,
            &name,
            units,
            echo,
            args.continue_on_error,
        )?;
        match outcome {
            Outcome::Done(None) => {}
            Outcome::Done(Some(kind)) => {
                failure.get_or_insert(kind);
                // As within one source: auth and connection failures would
                // fail every statement of the next sources too.
                if !args.continue_on_error
                    || matches!(kind, ErrorKind::Auth | ErrorKind::Connection)
                {
                    break;
                }
            }
            Outcome::Stop => break,
        }
    }
    let committed = session.finish(failure.is_none());
    if let Err(e) = committed {
        eprintln!("{}", e.render("", None));
        failure.get_or_insert(e.kind);
    }
    if args.single_transaction && failure.is_some() {
        eprintln!("nothing was applied: the whole script was rolled back");
    }
    Ok(failure.map_or(0, ErrorKind::exit_code))
}

/// Standard output's terminal and the pager: `--no-pager`, else
/// `OC12_PAGER`, else `PAGER`, else `less -FRSX`.
fn screen(config: &Config, args: &RunArgs) -> Screen {
    let pager = if args.no_pager {
        None
    } else {
        crate::output::pager_command(config.var(crate::config::PAGER), config.var("PAGER"))
    };
    Screen::terminal(pager)
}

enum Outcome {
    /// The source ran to its end (or to the first error), with the kind of
    /// its first error.
    Done(Option<ErrorKind>),
    /// `quit`, or the reader of our output went away.
    Stop,
}

fn run_units(
    session: &mut Session,
    out: &mut Printer<impl Write>,
    name: &str,
    units: impl Iterator<Item = script::Item>,
    echo: bool,
    continue_on_error: bool,
) -> Result<Outcome> {
    let mut first: Option<ErrorKind> = None;
    for item in units {
        crate::db::cancel::end_if_interrupted();
        let (unit, result) = match item {
            Ok(unit) => {
                if echo && !unit.text.trim().is_empty() {
                    let _ = out.message(&unit.text);
                }
                let result = session.run_text(&unit.text, out);
                // A result the statement left half printed ends before its
                // error is said.
                let _ = out.settle();
                // Ctrl-C: the statement was canceled; nothing more runs.
                crate::db::cancel::end_if_interrupted();
                (unit, result)
            }
            Err((e, unit)) => (unit, Err(e)),
        };
        match result {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit | Flow::Closed) => return Ok(Outcome::Stop),
            Err(mut e) => {
                // Inside a statement, what the command line calls a usage
                // error is the statement's own fault.
                if e.kind == ErrorKind::Usage {
                    e.kind = ErrorKind::Invalid;
                }
                let origin = (name != "-c").then_some((name, unit.line));
                eprintln!("{}", e.render(&unit.text, origin));
                first.get_or_insert(e.kind);
                // Auth and connection failures would fail every statement
                // after them, as would anything inside a single transaction,
                // which is now aborted: stop at once even when told to go on.
                if !continue_on_error
                    || session.single_transaction()
                    || matches!(e.kind, ErrorKind::Auth | ErrorKind::Connection)
                {
                    return Ok(Outcome::Done(first));
                }
            }
        }
    }
    Ok(Outcome::Done(first))
}

/// The prompt: read, run, print, never die of an error.
fn interactive(session: &mut Session, screen: Option<Screen>, chosen: bool) -> Result<i32> {
    crate::db::cancel::install();
    let history = session.config().paths.history_file();
    let source = crate::shell::ids::CatalogSource::new(session);
    let ids = source.cache();
    let helper = repl::ReplHelper::new(Box::new(source), session.color);
    let mut editor = repl::editor(&history, helper)
        .map_err(|e| Error::usage(format!("cannot start the line editor: {e}")))?;
    banner(session);
    let mut out = Printer::new(io::stdout(), session.format, session.color);
    if let Some(screen) = screen {
        out = out.on_screen(screen, chosen);
    }
    loop {
        let prompt = match session.user() {
            Some(user) => format!("{user}@{}> ", session.database_name()),
            None => "oc12> ".to_owned(),
        };
        let buffer = match repl::read_statement(&mut editor, &prompt) {
            Ok(ReadOutcome::Line(b)) => b,
            Ok(ReadOutcome::Interrupted) => continue,
            Ok(ReadOutcome::Eof) => break,
            Err(e) => return Err(Error::usage(format!("cannot read the prompt: {e}"))),
        };
        if let Some(note) = session.saved_session_note() {
            eprintln!("{note}");
        }
        let _ = repl::record(&mut editor, &history, &buffer);
        for text in repl::statements(&buffer) {
            let text = match crate::shell::ask::ask_missing(session, &text) {
                Ok(crate::shell::ask::Asked::Ready(t)) => t,
                Ok(crate::shell::ask::Asked::Canceled(built)) => {
                    // Nothing lost: the statement as built goes to the history.
                    if built != text {
                        let _ = repl::record(&mut editor, &history, &built);
                    }
                    eprintln!("canceled: nothing was changed");
                    continue;
                }
                Err(e) => {
                    eprintln!("{}", e.render(&text, None));
                    continue;
                }
            };
            if text != buffer.trim_end() {
                // The statement as completed by the answers is the one to recall.
                let _ = repl::record(&mut editor, &history, &text);
            }
            let result = session.run_text(&text, &mut out);
            // Before the error, and before the prompt takes the terminal
            // back from a pager.
            let _ = out.settle();
            match result {
                Ok(Flow::Continue | Flow::Closed) => {}
                Ok(Flow::Quit) => return Ok(0),
                Err(e) => eprintln!("{}", e.render(&text, None)),
            }
            if session.wrote {
                ids.clear();
                session.wrote = false;
            }
        }
    }
    Ok(0)
}

fn banner(session: &Session) {
    let mut text = format!(
        "oc12-shell {} — the CRM of Epic Events. `help` lists the statements; Tab completes; Ctrl-D quits.",
        env!("CARGO_PKG_VERSION")
    );
    if session.config().database_url().is_none() {
        text.push_str(
            "\nThis is the local demo CRM. Demo accounts (password @pplepie94):\n\
             \x20 commercial  aa123456789 Donald Duck (manager), ab123456789 Bill Boquet\n\
             \x20 gestion     ac123456789 Daisy Duck (manager), ad123456789 Loulou Duck\n\
             \x20 support     ae123456789 Louloute Duck, af123456789 Aliénor Vichum, ag123456789 Kate Hastroff",
        );
    }
    if session.user().is_none() {
        text.push_str("\nLog in with `login REGISTRATION`.");
    }
    println!("{text}");
    let _ = io::stdout().flush();
}
