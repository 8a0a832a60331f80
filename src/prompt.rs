//! Asking the person at the terminal: passwords with echo off, and plain
//! answers. Nothing read here is ever echoed, logged or kept in history.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::os::fd::AsRawFd;

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
        .map_err(|_| Error::usage("a password must be typed at a terminal; none is available"))
}

/// Reads one line from the terminal with echo off.
pub fn read_password(prompt: &str) -> Result<String> {
    let mut tty = tty()?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios calls on a descriptor we own; the previous settings
    // are restored before returning, whatever happens in between.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err(io_err(io::Error::last_os_error()));
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // Never read a password with echo on: retry an interrupted call,
        // give up on any other failure.
        loop {
            if libc::tcsetattr(fd, libc::TCSANOW, &t) == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(io_err(e));
            }
        }
        saved
    };
    // Echo goes off before the prompt shows: whatever is typed once it is
    // visible stays hidden.
    let shown = write!(tty, "{prompt}: ").and_then(|()| tty.flush());
    let mut line = String::new();
    if let Err(e) = shown {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
        return Err(io_err(e));
    }
    let read = BufReader::new(&tty).read_line(&mut line);
    // SAFETY: as above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    match read {
        Ok(0) => Err(Error::usage("no password given")),
        Ok(_) => Ok(trim_newline(line)),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(Error::usage("canceled")),
        Err(e) => Err(io_err(e)),
    }
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

/// Reads a plain answer at the terminal (echo on).
pub fn ask(prompt: &str) -> Result<String> {
    let mut tty = tty()?;
    write!(tty, "{prompt}")
        .and_then(|()| tty.flush())
        .map_err(io_err)?;
    let mut line = String::new();
    BufReader::new(&tty).read_line(&mut line).map_err(io_err)?;
    Ok(trim_newline(line))
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
