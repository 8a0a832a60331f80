//! Ctrl-C while a statement runs: PostgreSQL's cancel request for the
//! running query, and the prompt comes back. (While the user types, Ctrl-C
//! is a key the line editor handles: it clears the line.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use postgres::CancelToken;

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Scripts: Ctrl-C ends the process, once the running query is canceled.
static THEN_END: AtomicBool = AtomicBool::new(false);
/// Ctrl-C was pressed (never reset: a script does not go on after it).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The running statement (a number of its own) and its cancel token.
static RUNNING: Mutex<Option<(u64, CancelToken)>> = Mutex::new(None);
static STATEMENTS: AtomicU64 = AtomicU64::new(0);
/// How often a cancel request is repeated while the statement runs on.
const RESEND: Duration = Duration::from_millis(250);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only atomic stores: all that is safe in a signal handler.
    REQUESTED.store(true, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// For scripts and `-c`: Ctrl-C cancels the running query on the server
/// (which would otherwise run on until it has a row to send to a process
/// that is gone), and the process ends as SIGINT ends it: at once when no
/// query runs, otherwise as soon as the canceled statement returns (the
/// script calls [`end_if_interrupted`] after each statement and before the
/// next).
pub fn install_for_scripts() {
    THEN_END.store(true, Ordering::SeqCst);
    install();
}

/// Scripts: ends the process if Ctrl-C was pressed.
pub fn end_if_interrupted() {
    if THEN_END.load(Ordering::SeqCst) && INTERRUPTED.load(Ordering::SeqCst) {
        end();
    }
}

fn end() {
    // SAFETY: restores the default action and raises the signal again: the
    // process ends as if it had never been caught.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::raise(libc::SIGINT);
    }
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
        // The token keeps the connection's sslmode: a server reached
        // under `require` or stricter wants the request over TLS too.
        let tls = crate::tls::Tls::encrypt_only();
        // The statement being canceled, and when the request last went.
        let mut canceling: Option<(u64, Option<Instant>)> = None;
        loop {
            std::thread::sleep(Duration::from_millis(20));
            let running = RUNNING.lock().ok().and_then(|t| t.clone());
            if REQUESTED.swap(false, Ordering::SeqCst) {
                match &running {
                    Some((statement, _)) => canceling = Some((*statement, None)),
                    // A script between statements, or waiting for input.
                    None if THEN_END.load(Ordering::SeqCst) => end(),
                    None => {}
                }
            }
            let Some((statement, sent)) = canceling else {
                continue;
            };
            match running {
                // A request that lands between two messages of the
                // statement (its prepare, then its execution) is ignored
                // by the server: ask again until the statement returns.
                Some((now, token)) if now == statement => {
                    if sent.is_none_or(|at| at.elapsed() >= RESEND) {
                        let _ = token.cancel_query(tls.clone());
                        canceling = Some((statement, Some(Instant::now())));
                    }
                }
                _ => canceling = None,
            }
        }
    });
}

/// While it lives, Ctrl-C cancels the query of this connection.
pub struct Watch(());

impl Watch {
    pub fn new(token: CancelToken) -> Watch {
        // At the prompt, a Ctrl-C from before is forgotten; a script ends
        // on it whenever it came.
        if !THEN_END.load(Ordering::SeqCst) {
            REQUESTED.store(false, Ordering::SeqCst);
        }
        let statement = STATEMENTS.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut t) = RUNNING.lock() {
            *t = Some((statement, token));
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
