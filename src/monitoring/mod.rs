//! Monitoring (MONITORING.md): unexpected errors, panics, collaborator
//! changes, signed contracts and repeated failed logins, reported through
//! the `sentry` crate.
//!
//! With `SENTRY_DSN` the events go to Sentry over HTTPS (`http.rs`); one
//! Sentry did not take, or that was still pending when the shell exited
//! (it waits at most [`SHUTDOWN_TIMEOUT`]), goes to `events.jsonl` with a
//! note saying why. Without a DSN they all go, the very same events,
//! through [`JsonLinesTransport`] to `$OC12_HOME/events.jsonl`, one JSON
//! object per line.
//!
//! Every event is built here with its level, its tags `department`, `user`
//! and `statement`, the user id and the release set on the event itself:
//! nothing is kept in a scope that could leak into the next statement.
//! Its message names the kind of event, never an id, and its fingerprint
//! is that kind (an internal error's: its SQLSTATE and statement kind), so
//! that Sentry makes one issue per kind; ids are tags and extra data.
//! A `before_send` scrubber then redacts anything that looks like a
//! password hash, a token or a session secret, wherever it is in the event.
//!
//! The executor calls the event functions only after the statement's
//! transaction has committed.
//!
//! The files: `http.rs` (the transport to Sentry, on our own thread),
//! `jsonl.rs` (the `events.jsonl` transport), `scrub.rs` (secrets redacted
//! from any event), `tests.rs`.
//!
//! May use: `auth` (the claims an event names), `config`, `fs`, `error`.

mod http;
mod jsonl;
mod scrub;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::{Arc, Once};
use std::time::Duration;

use rust_decimal::Decimal;
use sentry::protocol::{Event, Exception, Frame, Level, Mechanism, Stacktrace, User, Value};
use sentry::types::Dsn;
use sentry::{ClientOptions, Transport, TransportFactory, TransportOptions};

use crate::auth::Claims;
use crate::config::{Config, SENTRY_DSN};
use crate::error::Error;

pub use jsonl::JsonLinesTransport;
pub use scrub::redact;

/// The release every event carries.
pub const RELEASE: &str = concat!("oc12-shell@", env!("CARGO_PKG_VERSION"));

/// The longest the shell waits for pending events when it exits; what is
/// still pending then goes to `events.jsonl`. A one-off command that
/// raised an event ends at most this much later than it would have.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(500);

/// Failed logins for one registration number are reported at this count,
/// then each time the count doubles (5, 10, 20, 40, ...): an operator
/// learns that it goes on without one event per attempt.
pub const FAILED_LOGINS_REPORTED_FROM: u32 = 5;

/// The DSN given to the client when events go to the file: the client sends
/// nothing without one, but [`JsonLinesTransport`] never uses it.
const OFFLINE_DSN: &str = "https://offline@localhost/0";

/// Tag values when nobody is logged in or nothing is running.
const UNKNOWN: &str = "unknown";
const NO_STATEMENT: &str = "none";

/// Keeps monitoring running; dropping it sends what is pending, waiting at
/// most [`SHUTDOWN_TIMEOUT`], so an unreachable network never hangs the
/// shell on exit.
#[must_use = "dropping the guard stops monitoring"]
pub struct Guard {
    client: Option<sentry::ClientInitGuard>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            client.close(Some(SHUTDOWN_TIMEOUT));
        }
    }
}

/// Starts monitoring for the process and installs the panic hook.
///
/// A `SENTRY_DSN` that does not parse is reported on stderr and events go
/// to the file instead.
pub fn init(config: &Config) -> Guard {
    install_panic_hook();
    if let Some(dsn) = config.get(SENTRY_DSN)
        && dsn.parse::<Dsn>().is_err()
    {
        eprintln!(
            "warning: SENTRY_DSN is not a valid Sentry DSN; monitoring events go to {}",
            config.paths.events_file().display()
        );
    }
    Guard {
        client: Some(sentry::init(client_options(config))),
    }
}

/// The client options [`init`] uses: the transport chosen by the
/// configuration, the release, no personal data, the scrubber. Public so
/// that tests can build a client the same way.
pub fn client_options(config: &Config) -> ClientOptions {
    let mut options = ClientOptions::new()
        .release(RELEASE)
        .send_default_pii(false)
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        .max_breadcrumbs(0)
        // Chosen here rather than by the crate: its panic integration would
        // print and report a panic that `catch` turns into an error.
        .default_integrations(false)
        .before_send(scrub::event);
    options.server_name = None;
    options.integrations = vec![
        Arc::new(sentry::integrations::contexts::ContextIntegration::new()),
        Arc::new(sentry::integrations::backtrace::ProcessStacktraceIntegration),
    ];
    let file = JsonLinesTransport::new(config.paths.events_file());
    match config.get(SENTRY_DSN).and_then(|d| d.parse::<Dsn>().ok()) {
        Some(dsn) => {
            options.dsn = Some(dsn);
            options.transport = Some(Arc::new(SentryTransportFactory { file }));
        }
        None => {
            options.dsn = OFFLINE_DSN.parse().ok();
            options.transport = Some(Arc::new(Arc::new(file)));
        }
    }
    options
}

/// Makes the HTTP transport, with the file for what it cannot deliver.
struct SentryTransportFactory {
    file: JsonLinesTransport,
}

impl TransportFactory for SentryTransportFactory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        Arc::new(http::HttpTransport::new(&options, self.file.clone()))
    }
}

/// What happened to a collaborator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollaboratorAction {
    Created,
    Changed,
    Deleted,
}

impl CollaboratorAction {
    /// The statement verb.
    pub const fn verb(self) -> &'static str {
        match self {
            CollaboratorAction::Created => "add",
            CollaboratorAction::Changed => "set",
            CollaboratorAction::Deleted => "delete",
        }
    }

    pub const fn past(self) -> &'static str {
        match self {
            CollaboratorAction::Created => "created",
            CollaboratorAction::Changed => "changed",
            CollaboratorAction::Deleted => "deleted",
        }
    }
}

/// A collaborator was created, changed or deleted (info): one issue per
/// action (`collaborator changed`), the collaborator as a tag. `fields`
/// are field names only; `password` among them is reported as
/// `password_changed`, never with a value.
pub fn collaborator_changed(
    actor: &Claims,
    collaborator: &str,
    action: CollaboratorAction,
    fields: &[&str],
) {
    let collaborator = tag_value(collaborator);
    let names: Vec<String> = fields.iter().map(|f| tag_value(f)).collect();
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "password")
        .collect();
    let password = names.iter().any(|f| f == "password");
    let statement = format!("{} collaborator", action.verb());
    let kind = format!("collaborator {}", action.past());
    let mut event = base_event(Level::Info, &statement, Some(actor), kind.clone());
    event.fingerprint = fingerprint(&[&kind]);
    event
        .tags
        .insert("collaborator".into(), collaborator.clone());
    event.tags.insert("action".into(), action.past().into());
    event
        .extra
        .insert("collaborator".into(), Value::from(collaborator));
    event
        .extra
        .insert("action".into(), Value::from(action.past()));
    event.extra.insert("fields".into(), Value::from(others));
    event
        .extra
        .insert("password_changed".into(), Value::from(password));
    sentry::capture_event(event);
}

/// A contract became signed (info): by `sign`, by `set ... status=signed`
/// or by `add contract ... status=signed` (`how` is that verb). One issue,
/// `contract signed`; the contract and client as tags, the total as extra.
pub fn contract_signed(actor: &Claims, contract: &str, client: &str, total: &Decimal, how: &str) {
    let contract = tag_value(contract);
    let client = tag_value(client);
    let total = format!("{total:.2}");
    let statement = statement_kind(&format!("{how} contract"));
    let kind = "contract signed";
    let mut event = base_event(Level::Info, &statement, Some(actor), kind.to_owned());
    event.fingerprint = fingerprint(&[kind]);
    event.tags.insert("contract".into(), contract.clone());
    event.tags.insert("client".into(), client.clone());
    event.extra.insert("contract".into(), Value::from(contract));
    event.extra.insert("client".into(), Value::from(client));
    event.extra.insert("total".into(), Value::from(total));
    sentry::capture_event(event);
}

/// Whether the `count`-th consecutive failed login is reported: at 5, then
/// each time the count doubles.
pub fn failed_logins_reported_at(count: u32) -> bool {
    count >= FAILED_LOGINS_REPORTED_FROM
        && count.is_multiple_of(FAILED_LOGINS_REPORTED_FROM)
        && (count / FAILED_LOGINS_REPORTED_FROM).is_power_of_two()
}

/// The login code calls this after every wrong password with the count of
/// consecutive failures for `registration`; a warning is reported when
/// [`failed_logins_reported_at`] says so.
pub fn failed_logins(registration: &str, count: u32) {
    if !failed_logins_reported_at(count) {
        return;
    }
    let registration = tag_value(registration);
    let kind = "failed logins";
    let mut event = base_event(Level::Warning, "login", None, kind.to_owned());
    event.fingerprint = fingerprint(&[kind]);
    event.tags.insert("user".into(), registration.clone());
    event
        .tags
        .insert("registration".into(), registration.clone());
    event.user = Some(User {
        id: Some(registration.clone()),
        ..Default::default()
    });
    event
        .extra
        .insert("registration".into(), Value::from(registration));
    event.extra.insert("count".into(), Value::from(count));
    sentry::capture_event(event);
}

/// An unexpected error (error level): an `internal` error, a database error
/// the shell did not expect. `statement` is the kind of statement (`list
/// contracts`): only its first two words, when they are plain words, are
/// kept, so its values never reach the event. Quoted text in the message is
/// replaced by `'…'` for the same reason. One issue per SQLSTATE (`none`
/// for the shell's own) and statement kind; the stack trace is the one
/// taken where the error was made.
pub fn unexpected(error: &Error, statement: Option<&str>, actor: Option<&Claims>) {
    let statement = statement.map_or_else(|| NO_STATEMENT.to_owned(), statement_kind);
    let message = strip_values(&error.message);
    let sqlstate = error.sqlstate.as_deref().map_or("none", |c| c);
    let mut event = base_event(
        Level::Error,
        &statement,
        actor,
        format!("{}: {message}", error.kind),
    );
    event.fingerprint = fingerprint(&["internal error", sqlstate, &statement]);
    event.tags.insert("sqlstate".into(), tag_value(sqlstate));
    let stacktrace = error
        .trace
        .as_ref()
        .and_then(|t| where_it_arose(t.backtrace()))
        .or_else(sentry::integrations::backtrace::current_stacktrace);
    event.exception = vec![Exception {
        ty: error.kind.name().into(),
        value: Some(message),
        stacktrace,
        mechanism: Some(Mechanism {
            ty: "oc12".into(),
            handled: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }]
    .into();
    event
        .extra
        .insert("kind".into(), Value::from(error.kind.name()));
    sentry::capture_event(event);
}

/// Runs one statement, turning a panic into an `internal` error (reported
/// as an error event with the panic's message, place and stack trace) so
/// that the interactive shell keeps running. Nothing is printed for the
/// panic itself: the caller prints the returned error.
///
/// Errors returned by `f` are passed through unreported: the executor
/// reports the unexpected ones with [`unexpected`].
pub fn catch<T>(
    statement_kind: &str,
    actor: Option<&Claims>,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    install_panic_hook();
    CATCHING.with(|c| c.set(c.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    match outcome {
        Ok(result) => result,
        Err(payload) => {
            let caught = CAUGHT
                .with(|c| c.borrow_mut().take())
                .unwrap_or_else(|| Caught {
                    message: payload_message(payload.as_ref()),
                    location: None,
                    stacktrace: None,
                });
            let statement = self::statement_kind(statement_kind);
            capture_panic(&caught, &statement, actor, Level::Error, true);
            let place = caught
                .location
                .as_deref()
                .map_or_else(String::new, |l| format!(" at {l}"));
            Err(Error::internal(format!(
                "the shell failed on this statement ({}{place}); this is a bug; it was reported",
                strip_values(&caught.message)
            )))
        }
    }
}

/// Installs, once, the panic hook: a panic inside [`catch`] is recorded for
/// `catch` to report, and not printed; any other panic is reported (fatal)
/// and flushed, then handed to the previous hook, which prints it as usual.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let caught = Caught::from_hook(info);
            if CATCHING.with(Cell::get) > 0 {
                CAUGHT.with(|c| *c.borrow_mut() = Some(caught));
                return;
            }
            capture_panic(&caught, NO_STATEMENT, None, Level::Fatal, false);
            if let Some(client) = sentry::Hub::current().client() {
                client.flush(Some(SHUTDOWN_TIMEOUT));
            }
            previous(info);
        }));
    });
}

thread_local! {
    /// How many [`catch`] calls are running on this thread.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// The panic the hook saw inside [`catch`], for `catch` to report.
    static CAUGHT: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// A panic, as seen by the hook (where the stack is still the panic's).
struct Caught {
    message: String,
    location: Option<String>,
    stacktrace: Option<Stacktrace>,
}

impl Caught {
    fn from_hook(info: &PanicHookInfo<'_>) -> Caught {
        Caught {
            message: payload_message(info.payload()),
            location: info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            stacktrace: sentry::integrations::backtrace::current_stacktrace(),
        }
    }
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned())
}

fn capture_panic(
    caught: &Caught,
    statement: &str,
    actor: Option<&Claims>,
    level: Level,
    handled: bool,
) {
    let message = strip_values(&caught.message);
    let mut event = base_event(level, statement, actor, format!("panic: {message}"));
    let place = caught.location.as_deref().unwrap_or("unknown place");
    event.fingerprint = fingerprint(&["panic", place, statement]);
    event.exception = vec![Exception {
        ty: "panic".into(),
        value: Some(message),
        stacktrace: caught.stacktrace.clone(),
        mechanism: Some(Mechanism {
            ty: "panic".into(),
            handled: Some(handled),
            ..Default::default()
        }),
        ..Default::default()
    }]
    .into();
    if let Some(location) = &caught.location {
        event
            .extra
            .insert("location".into(), Value::from(location.as_str()));
    }
    sentry::capture_event(event);
}

/// An event with the level, message, release, user and the three tags every
/// event carries.
fn base_event(
    level: Level,
    statement: &str,
    actor: Option<&Claims>,
    message: String,
) -> Event<'static> {
    let (user, department) = actor.map_or_else(
        || (UNKNOWN.to_owned(), UNKNOWN.to_owned()),
        |a| (tag_value(&a.sub), tag_value(&a.dept)),
    );
    let mut tags = BTreeMap::new();
    tags.insert("department".to_owned(), department);
    tags.insert("user".to_owned(), user.clone());
    tags.insert("statement".to_owned(), statement.to_owned());
    Event {
        level,
        message: Some(message),
        release: Some(Cow::Borrowed(RELEASE)),
        logger: Some("oc12-shell".into()),
        user: actor.map(|_| User {
            id: Some(user),
            ..Default::default()
        }),
        tags,
        ..Default::default()
    }
}

/// A fingerprint of fixed words: Sentry groups the events that share it.
fn fingerprint(parts: &[&str]) -> Cow<'static, [Cow<'static, str>]> {
    parts
        .iter()
        .map(|p| Cow::Owned((*p).to_owned()))
        .collect::<Vec<_>>()
        .into()
}

/// A captured backtrace as Sentry's stack trace, without the frames that
/// only made the error (its constructors, the capture itself): the
/// innermost frame left is where the error arose.
fn where_it_arose(backtrace: &std::backtrace::Backtrace) -> Option<Stacktrace> {
    let mut frames = parse_backtrace(&backtrace.to_string());
    // Sentry's order: innermost last. The outermost frame that made the
    // error (and all within it) goes; the frame that called it is where the
    // error arose.
    let made = frames.iter().position(|f| {
        f.function.as_deref().is_some_and(|name| {
            ["oc12::error::", "oc12::db::translate::map_error"]
                .iter()
                .any(|p| name.starts_with(p))
        })
    })?;
    frames.truncate(made);
    if frames.is_empty() {
        return None;
    }
    Some(Stacktrace {
        frames,
        ..Default::default()
    })
}

/// The frames of `std::backtrace::Backtrace`'s text, outermost first:
/// `  N: symbol` lines (an inlined symbol has no number), each followed by
/// an optional `at file:line:column` line.
fn parse_backtrace(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(place) = line.strip_prefix("at ") {
            let Some(frame) = frames.last_mut() else {
                continue;
            };
            let mut parts = place.rsplitn(3, ':');
            let (column, number, path) = (parts.next(), parts.next(), parts.next());
            let (path, lineno, colno) = match (path, number, column) {
                (Some(p), Some(l), Some(c)) => (p, l.parse().ok(), c.parse().ok()),
                _ => (place, None, None),
            };
            frame.filename = std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            frame.abs_path = Some(path.to_owned());
            frame.lineno = lineno;
            frame.colno = colno;
        } else if !line.is_empty() {
            let symbol = match line.split_once(": ") {
                Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest,
                _ => line,
            };
            // The shell's own code is what a team triages: Sentry names
            // the innermost in-app frame as the culprit.
            let in_app = symbol.starts_with("oc12::") || symbol.starts_with("<oc12::");
            frames.push(Frame {
                function: Some(symbol.to_owned()),
                in_app: Some(in_app),
                ..Default::default()
            });
        }
    }
    frames.reverse();
    frames
}

/// The verb and entity of a statement: its first two words, each kept only
/// if it is a plain lowercase word. `"sign contract kc555"` gives
/// `"sign contract"`; a value in their place gives `"?"`.
pub fn statement_kind(statement: &str) -> String {
    let words: Vec<&str> = statement
        .split_whitespace()
        .take(2)
        .map(|w| {
            let plain = w.len() <= 32
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
            if plain { w } else { "?" }
        })
        .collect();
    if words.is_empty() {
        NO_STATEMENT.to_owned()
    } else {
        words.join(" ")
    }
}

/// A value fit for a tag: one line, at most 64 characters, no secrets.
fn tag_value(text: &str) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(64)
        .collect();
    redact(&one_line).unwrap_or(one_line)
}

/// The message of an unexpected error without the values it may quote:
/// single-quoted text becomes `'…'`, then hashes and tokens are redacted.
fn strip_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('\'');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    // Pairs of quotes enclose values; an unpaired last quote is kept as is.
    let mut i = 0;
    while i < rest.len() {
        if i + 1 < rest.len() {
            out.push_str("'…'");
            out.push_str(rest[i + 1]);
            i += 2;
        } else {
            out.push('\'');
            out.push_str(rest[i]);
            i += 1;
        }
    }
    redact(&out).unwrap_or(out)
}

#[cfg(test)]
mod tests;
