//! The one pseudo-terminal driver, used by the tests and by the benchmark
//! (`benches/shell.rs` includes this file): the program runs with its
//! standard streams on a new terminal that is its controlling terminal (so
//! Ctrl-C typed on it is SIGINT, and `/dev/tty` is the same terminal), and
//! everything it draws is collected by a reader thread, which answers the
//! line editor's cursor-position queries as a terminal would.
//!
//! Only std and libc: the benchmark has no other test code.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long `expect` waits by default.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Everything the terminal showed so far, and whether the program's side
/// has closed.
#[derive(Default)]
struct Screen {
    bytes: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

/// A program on a pseudo-terminal.
pub struct Pty {
    pub child: Child,
    master: File,
    screen: Arc<Screen>,
    /// How much of the output earlier `expect`s consumed.
    seen: usize,
}

impl Pty {
    /// Starts `cmd` on a new 50x200 terminal.
    pub fn spawn(cmd: Command) -> Pty {
        Pty::spawn_sized(cmd, 50, 200)
    }

    /// Starts `cmd` on a new terminal of this many rows and columns.
    pub fn spawn_sized(mut cmd: Command, rows: u16, columns: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: rows,
            ws_col: columns,
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
        // SAFETY: both descriptors are ours from here on.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
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
        let child = cmd.spawn().expect("the program runs under a pty");
        // The parent's copies of the terminal's side close with `cmd`.
        drop(cmd);
        let master = File::from(master);
        let screen = Arc::new(Screen::default());
        let (mut reader, mut answer) = (master.try_clone().unwrap(), master.try_clone().unwrap());
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            // Ends when the program's side closes (EIO) or it exits.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                // The line editor asks where the cursor is: at the left.
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answer.write_all(b"\x1b[1;1R");
                }
                let mut bytes = sink.bytes.lock().unwrap_or_else(|e| e.into_inner());
                bytes.0.extend_from_slice(chunk);
                sink.grew.notify_all();
            }
            let mut bytes = sink.bytes.lock().unwrap_or_else(|e| e.into_inner());
            bytes.1 = true;
            sink.grew.notify_all();
        });
        Pty {
            child,
            master,
            screen,
            seen: 0,
        }
    }

    /// Types `keys` (`\r` is Enter, `\x03` Ctrl-C, `\x04` Ctrl-D).
    pub fn send(&mut self, keys: &str) {
        self.send_bytes(keys.as_bytes());
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }

    /// Types keys, then gives the line editor a moment to draw them: it
    /// reads a burst of bytes as one paste otherwise.
    pub fn keys(&mut self, keys: &str) {
        self.send(keys);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Everything shown so far, escape sequences and all.
    pub fn all(&self) -> String {
        let bytes = self.screen.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes.0).into_owned()
    }

    /// How many bytes were shown so far.
    pub fn len(&self) -> usize {
        self.screen
            .bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .len()
    }

    /// What was shown after byte `from`.
    pub fn since(&self, from: usize) -> String {
        let bytes = self.screen.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes.0[from.min(bytes.0.len())..]).into_owned()
    }

    /// Waits until `text` appears after what earlier `expect`s consumed,
    /// consumes up to its end and returns that part of the output.
    #[track_caller]
    pub fn expect(&mut self, text: &str) -> String {
        self.expect_within(text, TIMEOUT)
    }

    #[track_caller]
    pub fn expect_within(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut bytes = self.screen.bytes.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let shown =
                String::from_utf8_lossy(&bytes.0[self.seen.min(bytes.0.len())..]).into_owned();
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
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until `needle` appears after byte `from` (consuming nothing)
    /// and returns everything after `from`.
    #[track_caller]
    pub fn expect_from(&self, from: usize, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut bytes = self.screen.bytes.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let shown = String::from_utf8_lossy(&bytes.0[from.min(bytes.0.len())..]).into_owned();
            if shown.contains(needle) {
                return shown;
            }
            let now = Instant::now();
            if bytes.1 || now >= deadline {
                drop(bytes);
                panic!("`{needle}` not printed within {timeout:?}; output:\n{shown}");
            }
            bytes = self
                .screen
                .grew
                .wait_timeout(bytes, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Lets the program draw for `d`, then treats everything shown as seen.
    pub fn settle(&mut self, d: Duration) {
        std::thread::sleep(d);
        self.seen = self.len();
    }

    /// Waits for the program to end; kills it and fails after `timeout`, so
    /// that a lost keystroke never hangs the suite.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the program did not end within {timeout:?}; it showed:\n{:?}",
                    self.all()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit code, once the program ends (within [`TIMEOUT`]).
    #[track_caller]
    pub fn exit_code(&mut self) -> i32 {
        self.wait_exit(TIMEOUT).code().unwrap_or(-1)
    }

    /// Gives the program a few seconds to end by itself, then ends it.
    pub fn finish(mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
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
