//! Ctrl-C while a statement runs: PostgreSQL's cancel request for the
//! running query, and the prompt comes back. (While the user types, Ctrl-C
//! is a key the line editor handles: it clears the line.)
//!
//! SIGTERM (the shell is killed) and SIGHUP (its terminal closed) end the
//! process, with status 128 + the signal, but first cancel the running
//! query on the server: the server does not notice that its client is gone
//! while a statement runs, and would run it to its end, holding its locks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
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
/// SIGTERM or SIGHUP, once received (the first of them); 0 before.
static TERMINATE: AtomicI32 = AtomicI32::new(0);
/// How long a terminated shell waits for the server to stop its statement
/// before it ends anyway (an unreachable server must not keep it alive).
const TERMINATE_GRACE: Duration = Duration::from_secs(5);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only atomic stores: all that is safe in a signal handler.
    REQUESTED.store(true, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
}

extern "C" fn on_terminate(signal: libc::c_int) {
    // Only an atomic operation: all that is safe in a signal handler.
    let _ = TERMINATE.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// Ends the process at once, as a process ended by `signal` is reported by
/// a shell: status 128 + the signal. No destructor runs and nothing is
/// flushed: the process was told to go.
fn exit_terminated(signal: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and takes no pointer.
    unsafe { libc::_exit(128 + signal) }
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

/// Installs `handler` for `signal`, with SA_RESTART. With `keep_ignored`,
/// a signal the process was started with ignored stays ignored (`nohup`
/// ignores SIGHUP, so must we).
fn catch(signal: libc::c_int, handler: extern "C" fn(libc::c_int), keep_ignored: bool) {
    // SAFETY: installs a handler that only touches atomics; reads the old
    // action into a zeroed struct of ours.
    unsafe {
        if keep_ignored {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                return;
            }
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Catches SIGINT, SIGTERM and SIGHUP for the rest of the process and
/// starts the thread that turns them into cancel requests (and, for the
/// last two, the end of the process).
pub fn install() {
    catch(libc::SIGINT, on_sigint, false);
    catch(libc::SIGTERM, on_terminate, true);
    catch(libc::SIGHUP, on_terminate, true);
    std::thread::spawn(|| {
        // The token keeps the connection's sslmode: a server reached
        // under `require` or stricter wants the request over TLS too.
        let tls = crate::db::tls::Tls::encrypt_only();
        // The statement being canceled, and when the request last went.
        let mut canceling: Option<(u64, Option<Instant>)> = None;
        let mut terminating = 0;
        loop {
            std::thread::sleep(Duration::from_millis(20));
            // Read before RUNNING: a statement that starts after this
            // read sees the signal in `Watch::new` and never runs.
            let terminate = TERMINATE.load(Ordering::SeqCst);
            let running = RUNNING.lock().ok().and_then(|t| t.clone());
            if terminate != 0 && terminating == 0 {
                terminating = terminate;
                match &running {
                    Some((statement, _)) => {
                        canceling = Some((*statement, None));
                        std::thread::spawn(move || {
                            std::thread::sleep(TERMINATE_GRACE);
                            exit_terminated(terminate);
                        });
                    }
                    None => exit_terminated(terminate),
                }
            }
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
                // The statement returned: the server has stopped it.
                _ if terminating != 0 => exit_terminated(terminating),
                _ => canceling = None,
            }
        }
    });
}

/// While it lives, Ctrl-C, SIGTERM and SIGHUP cancel the query of this
/// connection. Created once SIGTERM or SIGHUP came, it ends the process.
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
            // Checked under the lock: either the canceling thread sees this
            // statement, or this sees the signal and runs nothing more.
            let terminate = TERMINATE.load(Ordering::SeqCst);
            if terminate != 0 {
                exit_terminated(terminate);
            }
            *t = Some((statement, token));
        }
        Watch(())
    }
}

/// The running statement moved to another connection (the first one was
/// found dead before anything ran): Ctrl-C now cancels it there.
pub fn retarget(token: CancelToken) {
    if let Ok(mut running) = RUNNING.lock()
        && let Some((_, current)) = running.as_mut()
    {
        *current = token;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(mut t) = RUNNING.lock() {
            *t = None;
        }
        // The statement is over (canceled, most likely): nothing more runs.
        let terminate = TERMINATE.load(Ordering::SeqCst);
        if terminate != 0 {
            exit_terminated(terminate);
        }
    }
}
