//! Ctrl-C while a statement runs: PostgreSQL's cancel request for the
//! running query, and the prompt comes back. (While the user types, Ctrl-C
//! is a key the line editor handles: it clears the line.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::{CancelToken, NoTls};

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Scripts: after the cancel request, the process ends as Ctrl-C ends it.
static THEN_END: AtomicBool = AtomicBool::new(false);
static RUNNING: Mutex<Option<CancelToken>> = Mutex::new(None);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: all that is safe in a signal handler.
    REQUESTED.store(true, Ordering::SeqCst);
}

/// For scripts and `-c`: Ctrl-C cancels the running query on the server
/// (which would otherwise run on until it has a row to send to a process
/// that is gone), then ends the process as SIGINT does.
pub fn install_for_scripts() {
    THEN_END.store(true, Ordering::SeqCst);
    install();
}

/// Catches SIGINT for the rest of the process and starts the thread that
/// turns it into a cancel request.
pub fn install() {
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(Duration::from_millis(20));
            if REQUESTED.swap(false, Ordering::SeqCst) {
                let token = RUNNING.lock().ok().and_then(|t| t.clone());
                if let Some(token) = token {
                    let _ = token.cancel_query(NoTls);
                }
                if THEN_END.load(Ordering::SeqCst) {
                    // SAFETY: restores the default action and raises the
                    // signal again: the process ends as if never caught.
                    unsafe {
                        libc::signal(libc::SIGINT, libc::SIG_DFL);
                        libc::raise(libc::SIGINT);
                    }
                }
            }
        }
    });
}

/// While it lives, Ctrl-C cancels the query of this connection.
pub struct Watch(());

impl Watch {
    pub fn new(token: CancelToken) -> Watch {
        REQUESTED.store(false, Ordering::SeqCst);
        if let Ok(mut t) = RUNNING.lock() {
            *t = Some(token);
        }
        Watch(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(mut t) = RUNNING.lock() {
            *t = None;
        }
    }
}
