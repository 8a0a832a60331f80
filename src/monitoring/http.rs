//! Sending events to Sentry over HTTP (ureq, rustls) from a thread of our
//! own, so that a statement never waits for the network, with two promises
//! the SDK's own transport does not keep:
//!
//! - an event Sentry did not take (an error status, a refused or broken
//!   connection, no answer in time, still queued when the shell exits) is
//!   appended to `events.jsonl`, with a `not_delivered` note saying why,
//!   instead of being dropped;
//! - the shell waits at most the shutdown timeout (0.5 s) for pending
//!   events when it exits; what is still pending then goes to the file.
//!
//! Each event is sent with its `level` written out (the SDK leaves out
//! `error`, the default, which some servers then show as no level).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use sentry::protocol::{EnvelopeItem, Event};
use sentry::{Envelope, Transport, TransportOptions};

use super::jsonl::JsonLinesTransport;

/// The longest one request may take; a hanging endpoint holds the queue
/// this long per event, while the shell goes on.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Events waiting to be sent; more go to the file at once.
const QUEUE_CAPACITY: usize = 64;

/// The HTTP transport.
pub struct HttpTransport {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when work arrives, and when the queue empties.
    changed: Condvar,
    fallback: JsonLinesTransport,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Envelope>,
    /// The envelope being sent, if any.
    sending: Option<Envelope>,
    /// Shut down: the thread takes nothing more; what it was sending, if
    /// anything, is already in the file.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends the events of `envelope` to the file, with why.
    fn keep(&self, envelope: &Envelope, why: &str) {
        for item in envelope.items() {
            if let EnvelopeItem::Event(event) = item {
                // Monitoring never breaks the shell: a file that cannot be
                // written loses the event, nothing else.
                let _ = self.fallback.append_with_note(event, Some(why));
            }
        }
    }
}

impl HttpTransport {
    pub fn new(options: &TransportOptions, fallback: JsonLinesTransport) -> HttpTransport {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            fallback,
        });
        let url = options.dsn.envelope_api_url().to_string();
        let auth = options.dsn.to_auth(Some(&options.user_agent)).to_string();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .build(),
            )
            .build()
            .new_agent();
        let worker = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("sentry-send".into())
            .spawn(move || send_loop(&worker, &agent, &url, &auth));
        if spawned.is_err() {
            shared.lock().closed = true;
        }
        HttpTransport { shared }
    }

    /// Waits until nothing is queued or being sent, at most `timeout`;
    /// whether that happened.
    fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !state.queue.is_empty() || state.sending.is_some() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || state.closed {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Stops the sending thread and keeps in the file, saying `why`, what
    /// it had not sent.
    fn close_keeping(&self, why: &str) {
        let mut state = self.shared.lock();
        state.closed = true;
        let left: Vec<Envelope> = state
            .sending
            .take()
            .into_iter()
            .chain(state.queue.drain(..))
            .collect();
        self.shared.changed.notify_all();
        drop(state);
        for envelope in &left {
            self.shared.keep(envelope, why);
        }
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        let mut state = self.shared.lock();
        if state.closed {
            drop(state);
            self.shared
                .keep(&envelope, "not sent to Sentry: monitoring had shut down");
        } else if state.queue.len() >= QUEUE_CAPACITY {
            drop(state);
            self.shared.keep(
                &envelope,
                "not sent to Sentry: too many events waiting to be sent",
            );
        } else {
            state.queue.push_back(envelope);
            self.shared.changed.notify_all();
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.wait_idle(timeout)
    }

    /// Waits for pending events at most `timeout`, then writes whatever is
    /// left to the file and stops: an unreachable Sentry never holds the
    /// shell's exit longer than that.
    fn shutdown(&self, timeout: Duration) -> bool {
        let delivered = self.wait_idle(timeout);
        self.close_keeping(&format!(
            "not delivered to Sentry: no answer within {} ms before the shell exited",
            timeout.as_millis()
        ));
        delivered
    }
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        // A client dropped without `close`: nothing waits, nothing is lost.
        if self.shared.lock().closed {
            return;
        }
        self.close_keeping("not delivered to Sentry: monitoring stopped first");
    }
}

/// The sending thread: one envelope at a time, in order. It never joins
/// anybody: a request stuck on the network is simply abandoned at exit.
fn send_loop(shared: &Shared, agent: &ureq::Agent, url: &str, auth: &str) {
    loop {
        let envelope = {
            let mut state = shared.lock();
            loop {
                if state.closed {
                    return;
                }
                if let Some(e) = state.queue.pop_front() {
                    state.sending = Some(e.clone());
                    break e;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        let failure = send(agent, url, auth, &envelope).err();
        let mut state = shared.lock();
        // Shut down meanwhile: the envelope went to the file already.
        // Otherwise it is kept before it stops counting as pending, so
        // that a shutdown never returns before the file has it.
        if state.sending.is_some()
            && let Some(why) = failure
        {
            shared.keep(&envelope, &why);
        }
        state.sending = None;
        shared.changed.notify_all();
    }
}

/// Posts one envelope; `Err` says why Sentry did not take it.
fn send(agent: &ureq::Agent, url: &str, auth: &str, envelope: &Envelope) -> Result<(), String> {
    let body = body(envelope).map_err(|e| format!("not sent to Sentry: {e}"))?;
    match agent
        .post(url)
        .header("X-Sentry-Auth", auth)
        .header("Content-Type", "application/x-sentry-envelope")
        .send(&body[..])
    {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                let reason = status.canonical_reason().unwrap_or("");
                Err(format!(
                    "not delivered to Sentry: it answered {} {reason}",
                    status.as_u16()
                ))
            }
        }
        Err(ureq::Error::Timeout(_)) => Err(format!(
            "not delivered to Sentry: no answer within {} s",
            REQUEST_TIMEOUT.as_secs()
        )),
        Err(e) => Err(format!("not delivered to Sentry: {e}")),
    }
}

/// The envelope as sent: its events with their level written out, other
/// items as the SDK writes them.
fn body(envelope: &Envelope) -> std::io::Result<Vec<u8>> {
    let events: Vec<&Event<'static>> = envelope
        .items()
        .filter_map(|item| match item {
            EnvelopeItem::Event(e) => Some(&**e),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if events.is_empty() {
        envelope.to_writer(&mut out)?;
        return Ok(out);
    }
    let sent_at = humantime_rfc3339(SystemTime::now());
    let header = serde_json::json!({
        "event_id": events[0].event_id.to_string(),
        "sent_at": sent_at,
    });
    serde_json::to_writer(&mut out, &header)?;
    out.push(b'\n');
    for event in events {
        let payload = serde_json::to_vec(&super::jsonl::with_level(event)?)?;
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"type": "event", "length": payload.len()}),
        )?;
        out.push(b'\n');
        out.extend_from_slice(&payload);
        out.push(b'\n');
    }
    Ok(out)
}

/// `2026-11-27T10:00:00.123Z`.
fn humantime_rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
