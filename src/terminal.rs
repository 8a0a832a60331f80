//! Asking the person at the terminal: passwords with echo off, and plain
//! answers. Nothing read here is ever echoed, logged or kept in history.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};

use nix::errno::Errno;
use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices};

use crate::auth;
use crate::error::{Error, Result};

/// Whether standard input is a terminal a person types at.
pub fn interactive() -> bool {
    io::stdin().is_terminal()
}

/// The controlling terminal, opened for reading and writing, so prompts work
/// even when standard output is redirected.
fn tty() -> Result<File> {
    File::options()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            Error::usage(
                "a password must be typed at a terminal, and none is available; without one, \
                 pipe it: printf %s \"$PW\" | oc12-shell login REGISTRATION --password-stdin",
            )
        })
}

/// Reads one line from the terminal with echo off. The terminal's own line
/// editing and signals are off meanwhile, so that the shell decides what a
/// key does: Enter ends the password, Backspace and Ctrl-U edit it, Ctrl-C
/// (or Ctrl-D on an empty line) cancels the whole statement.
pub fn read_password(prompt: &str) -> Result<String> {
    let mut tty = tty()?;
    let saved = termios::tcgetattr(&tty).map_err(|e| io_err(e.into()))?;
    let mut t = saved.clone();
    t.local_flags &= !(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG);
    t.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    t.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    // Never read a password with echo on: retry an interrupted call, give
    // up on any other failure.
    loop {
        match termios::tcsetattr(&tty, SetArg::TCSANOW, &t) {
            Ok(()) => break,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(io_err(e.into())),
        }
    }
    // Echo goes off before the prompt shows: whatever is typed once it is
    // visible stays hidden.
    let result = write!(tty, "{prompt}: ")
        .and_then(|()| tty.flush())
        .map_err(io_err)
        .and_then(|()| read_hidden_line(&mut tty));
    let _ = termios::tcsetattr(&tty, SetArg::TCSANOW, &saved);
    let _ = write!(
        tty,
        "{}\r\n",
        if matches!(&result, Err(e) if e.kind == crate::error::ErrorKind::Canceled) {
            "^C"
        } else {
            ""
        }
    );
    result
}

/// The bytes typed up to Enter, edited by Backspace and Ctrl-U.
fn read_hidden_line(tty: &mut File) -> Result<String> {
    let mut line: Vec<u8> = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tty.read(&mut byte) {
            Ok(0) => return Err(Error::usage("no password given")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        }
        match byte[0] {
            b'\r' | b'\n' => break,
            0x03 => return Err(canceled()),
            0x04 if line.is_empty() => return Err(canceled()),
            0x04 => {}
            0x7f | 0x08 => {
                // One character, however many bytes it took.
                while let Some(b) = line.pop() {
                    if b & 0xC0 != 0x80 {
                        break;
                    }
                }
            }
            0x15 => line.clear(),
            b => line.push(b),
        }
    }
    String::from_utf8(line).map_err(|_| Error::invalid("the password is not valid UTF-8"))
}

/// Ctrl-C or Ctrl-D at a question: the whole statement is dropped.
pub fn canceled() -> Error {
    Error::new(
        crate::error::ErrorKind::Canceled,
        "canceled: nothing was changed",
    )
}

/// Asks twice for a new password on the terminal and checks the policy.
pub fn read_new_password(label: &str) -> Result<String> {
    for _ in 0..3 {
        let first = read_password(&format!("new {label}"))?;
        if let Err(e) = auth::check_password_policy(&first) {
            eprintln!("{e}");
            continue;
        }
        let second = read_password(&format!("new {label} again"))?;
        if first == second {
            return Ok(first);
        }
        eprintln!("the two passwords differ; try again");
    }
    Err(Error::invalid("no acceptable password given"))
}

/// Reads a plain answer at the terminal (echo on, with line editing);
/// Ctrl-C or Ctrl-D cancels.
pub fn ask(prompt: &str) -> Result<String> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|e| Error::usage(format!("cannot ask at the terminal: {e}")))?;
    match editor.readline(prompt) {
        Ok(line) => Ok(line),
        Err(ReadlineError::Interrupted | ReadlineError::Eof) => Err(canceled()),
        Err(e) => Err(Error::usage(format!("cannot ask at the terminal: {e}"))),
    }
}

/// The whole of standard input as a password (`--password-stdin`): one
/// trailing newline is dropped, as `printf %s` or `echo` would leave it.
pub fn password_from_stdin() -> Result<String> {
    let mut s = String::new();
    io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| Error::usage(format!("cannot read the password from standard input: {e}")))?;
    let s = trim_newline(s);
    if s.is_empty() {
        return Err(Error::usage("no password on standard input"));
    }
    Ok(s)
}

fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

fn io_err(e: io::Error) -> Error {
    Error::usage(format!("terminal: {e}"))
}
