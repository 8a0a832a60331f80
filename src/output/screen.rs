//! Results on a terminal: what psql and pgcli users expect when the output
//! is a person's screen rather than a pipe or a file.
//!
//! - A table cell is cut to [`CELL_WIDTH`] columns, on one line, ending
//!   with `…` ([`super::text::cut`]); `show`, vertical, csv and json keep
//!   every value whole.
//! - A table still wider than the terminal is shown as records (vertical)
//!   instead, as psql's `\x auto` does, unless the user asked for a table
//!   by name (`--format table`, `format table`): then it stays a table, and
//!   the pager's `-S` lets them scroll it sideways.
//! - A result taller than the terminal goes through a pager: `OC12_PAGER`,
//!   else `PAGER`, else `less -FRSX` (what psql users run); one of them set
//!   to nothing, or `--no-pager`, turns it off. So does a table kept wider
//!   than the terminal, which `less -S` shows unwrapped.
//!
//! Nothing here applies when standard output is not a terminal: there is no
//! [`Screen`] then, and every format prints exactly what it always did.

use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The widest a table cell is drawn on a terminal, in columns. Wide enough
/// for every name, email, title and date of the demo CRM (the longest email
/// has 34 characters), narrow enough that one long note does not make every
/// row hundreds of columns wide.
pub const CELL_WIDTH: usize = 40;

/// The pager when neither `OC12_PAGER` nor `PAGER` names one: as psql's
/// users have it. `-F` quits at once when the text fits after all, `-R`
/// passes the bold headers through, `-S` chops long lines (scroll them
/// sideways) instead of wrapping them, `-X` leaves the text on the screen
/// after quitting.
pub const DEFAULT_PAGER: &str = "less -FRSX";

/// The terminal the results are printed on.
#[derive(Debug, Clone)]
pub struct Screen {
    size: Size,
    /// The pager's command line, or None for no pager.
    pager: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Size {
    /// Asked of the terminal before each result: the window may have been
    /// resized since the last one.
    Terminal,
    /// Given (tests).
    Fixed { columns: usize, rows: usize },
}

impl Screen {
    /// Standard output's terminal, with the pager the environment names
    /// (see [`pager_command`]).
    pub fn terminal(pager: Option<String>) -> Screen {
        Screen {
            size: Size::Terminal,
            pager,
        }
    }

    /// A terminal of this size (for tests and for callers that know it).
    pub fn fixed(columns: usize, rows: usize, pager: Option<String>) -> Screen {
        Screen {
            size: Size::Fixed { columns, rows },
            pager,
        }
    }

    /// Columns and rows now; None when the terminal does not say (then
    /// nothing is switched to vertical nor paged).
    pub fn size(&self) -> Option<(usize, usize)> {
        match self.size {
            Size::Fixed { columns, rows } => Some((columns, rows)),
            Size::Terminal => terminal_size(),
        }
    }

    pub fn pager(&self) -> Option<&str> {
        self.pager.as_deref()
    }
}

/// The size of the terminal on standard output, else `COLUMNS` and `LINES`
/// (a terminal that does not answer, e.g. a serial line).
fn terminal_size() -> Option<(usize, usize)> {
    // SAFETY: TIOCGWINSZ fills the winsize it is given, nothing else.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let asked = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    if asked == 0 && size.ws_col > 0 && size.ws_row > 0 {
        return Some((usize::from(size.ws_col), usize::from(size.ws_row)));
    }
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    };
    Some((var("COLUMNS")?, var("LINES")?))
}

/// The pager to use, from the values of `OC12_PAGER` and `PAGER` (None
/// when unset): the first one set wins, and set to nothing (or blanks) it
/// means no pager; with neither, `DEFAULT_PAGER` if `less` can be found.
pub fn pager_command(oc12_pager: Option<&str>, pager: Option<&str>) -> Option<String> {
    match oc12_pager.or(pager) {
        Some(p) if p.trim().is_empty() => None,
        Some(p) => Some(p.trim().to_owned()),
        None => on_path("less").then(|| DEFAULT_PAGER.to_owned()),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file()))
    })
}

/// Where one result goes on a terminal: held back until it is known to be
/// taller than the screen, then handed to the pager, which gets the rest as
/// it comes (a long vertical listing streams into it).
pub(super) struct Page {
    /// More lines than this go to the pager: the screen's rows but one,
    /// which the next prompt needs.
    room: usize,
    /// Paged whatever its height: lines wider than the screen, which the
    /// terminal would wrap and the pager's `-S` keeps whole.
    wide: bool,
    pager: Option<String>,
    state: State,
}

enum State {
    /// Not taller than the screen so far.
    Held {
        bytes: Vec<u8>,
        lines: usize,
    },
    /// Straight to the output (no pager, or it could not be started).
    Direct,
    Paging {
        child: Child,
        stdin: ChildStdin,
    },
    /// The pager was quit before the end: the rest is dropped, as psql
    /// does, and is not an error.
    Quit {
        child: Child,
    },
}

impl Page {
    pub(super) fn new(rows: usize, pager: Option<String>) -> Page {
        Page {
            room: rows.saturating_sub(1).max(1),
            wide: false,
            pager,
            state: State::Held {
                bytes: Vec::new(),
                lines: 0,
            },
        }
    }

    /// What comes is wider than the screen: page it however short.
    pub(super) fn too_wide(&mut self) {
        self.wide = true;
    }

    /// A writer for `bytes` of this result; `out` is where what is not
    /// paged goes.
    pub(super) fn writer<'a, W: Write>(&'a mut self, out: &'a mut W) -> PageWriter<'a, W> {
        PageWriter { page: self, out }
    }

    /// The end of the result: what was held is printed, or the pager gets
    /// its end of file and is waited for (the user reads, then quits it).
    pub(super) fn end(self, out: &mut impl Write) -> io::Result<()> {
        match self.state {
            State::Held { bytes, .. } => out.write_all(&bytes),
            State::Direct => Ok(()),
            State::Paging { mut child, stdin } => {
                drop(stdin);
                child.wait().map(drop)
            }
            State::Quit { mut child } => child.wait().map(drop),
        }
    }
}

pub(super) struct PageWriter<'a, W: Write> {
    page: &'a mut Page,
    out: &'a mut W,
}

impl<W: Write> Write for PageWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let page = &mut *self.page;
        match &mut page.state {
            State::Held { bytes, lines } => {
                bytes.extend_from_slice(buf);
                *lines += buf.iter().filter(|&&b| b == b'\n').count();
                if *lines > page.room || page.wide {
                    let held = std::mem::take(bytes);
                    page.state = match page.pager.as_deref().and_then(spawn) {
                        Some((child, stdin)) => State::Paging { child, stdin },
                        None => State::Direct,
                    };
                    match &mut page.state {
                        State::Direct => self.out.write_all(&held)?,
                        _ => self.page_bytes(&held)?,
                    }
                }
                Ok(buf.len())
            }
            State::Direct => self.out.write(buf),
            State::Paging { .. } => {
                self.page_bytes(buf)?;
                Ok(buf.len())
            }
            State::Quit { .. } => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.page.state {
            State::Direct => self.out.flush(),
            // Held text waits for the end; the pager's pipe is not
            // buffered on our side.
            _ => Ok(()),
        }
    }
}

impl<W: Write> PageWriter<'_, W> {
    /// Sends to the pager; a pager that was quit takes no more, silently.
    fn page_bytes(&mut self, buf: &[u8]) -> io::Result<()> {
        let State::Paging { stdin, .. } = &mut self.page.state else {
            return Ok(());
        };
        match stdin.write_all(buf) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                let state = std::mem::replace(&mut self.page.state, State::Direct);
                if let State::Paging { child, stdin } = state {
                    drop(stdin);
                    self.page.state = State::Quit { child };
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Starts the pager with its input from a pipe and its output on our
/// terminal. A command line of plain words is run directly (so that a
/// missing program is known, and the text printed instead); one with shell
/// syntax goes through `sh -c`, as psql and git do. `LESS` gets psql's
/// options when the user has none, for a `PAGER=less` without them.
fn spawn(command: &str) -> Option<(Child, ChildStdin)> {
    let shell_syntax = command.contains(|c: char| "|&;<>()$`\\\"'*?[#~=%{}".contains(c));
    let mut cmd = if shell_syntax {
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(command);
        sh
    } else {
        let mut words = command.split_whitespace();
        let mut cmd = Command::new(words.next()?);
        cmd.args(words);
        cmd
    };
    if std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRSX");
    }
    let mut child = cmd.stdin(Stdio::piped()).spawn().ok()?;
    let stdin = child.stdin.take()?;
    Some((child, stdin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_comes_from_the_environment_and_nothing_turns_it_off() {
        assert_eq!(
            pager_command(Some("most"), Some("more")).as_deref(),
            Some("most")
        );
        assert_eq!(pager_command(None, Some("more")).as_deref(), Some("more"));
        assert_eq!(pager_command(Some(""), Some("more")), None);
        assert_eq!(pager_command(Some("  "), None), None);
        assert_eq!(pager_command(None, Some("")), None);
    }

    fn through(page: &mut Page, text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = page.writer(&mut out);
        w.write_all(text.as_bytes()).unwrap();
        w.flush().unwrap();
        out
    }

    #[test]
    fn what_fits_is_printed_at_the_end_and_what_does_not_is_paged() {
        let dir = tempfile::tempdir().unwrap();
        let paged = dir.path().join("paged");
        let pager = format!("cat > '{}'", paged.display());

        // Four lines fit on five rows (the fifth is the prompt's).
        let mut page = Page::new(5, Some(pager.clone()));
        assert!(through(&mut page, "1\n2\n3\n4\n").is_empty());
        let mut out = Vec::new();
        page.end(&mut out).unwrap();
        assert_eq!(out, b"1\n2\n3\n4\n");
        assert!(!paged.exists());

        let mut page = Page::new(5, Some(pager));
        assert!(through(&mut page, "1\n2\n3\n4\n").is_empty());
        assert!(through(&mut page, "5\n6\n").is_empty());
        let mut out = Vec::new();
        page.end(&mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(
            std::fs::read_to_string(&paged).unwrap(),
            "1\n2\n3\n4\n5\n6\n"
        );
    }

    #[test]
    fn no_pager_or_a_missing_one_prints_as_it_goes() {
        let mut page = Page::new(2, None);
        assert!(through(&mut page, "1\n").is_empty());
        assert_eq!(through(&mut page, "2\n3\n"), b"1\n2\n3\n");
        assert_eq!(through(&mut page, "4\n"), b"4\n");
        page.end(&mut Vec::new()).unwrap();

        let mut page = Page::new(2, Some("oc12-no-such-pager -x".to_owned()));
        assert_eq!(through(&mut page, "1\n2\n3\n"), b"1\n2\n3\n");
    }

    #[test]
    fn a_pager_quit_early_takes_the_rest_silently() {
        // `head -1` reads one line and leaves.
        let mut page = Page::new(2, Some("head -n 1 >/dev/null".to_owned()));
        let long = "line\n".repeat(100_000);
        assert!(through(&mut page, &long).is_empty());
        assert!(through(&mut page, &long).is_empty());
        page.end(&mut Vec::new()).unwrap();
    }
}
