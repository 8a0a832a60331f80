//! One GET to a public API, never longer than [`TIMEOUT`] of waiting: one
//! retry when the first try fails fast (a refused connection, a 5xx) and
//! time is left, and the API's rate limit honoured (a 429 waits as long as
//! its `Retry-After` says, up to [`MAX_RATE_WAIT`], and says so on stderr).

use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one question to a registry may take, retry included.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest `Retry-After` waited for; a longer one is "unreachable".
pub const MAX_RATE_WAIT: Duration = Duration::from_secs(5);
/// A body larger than this is not an answer we asked for.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// Below this, a retry could not be answered in time: not worth trying.
const MIN_TRY: Duration = Duration::from_millis(100);

/// Why an API gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Not reached, or not answering anything usable: the caller goes on
    /// with the offline data.
    Unreachable(String),
    /// The API refused the question itself (HTTP 400): its message.
    Refused(String),
}

/// `GET base + path ? query` as JSON. `who` names the API in the notes
/// (`the company registry`).
pub fn get_json(
    who: &str,
    base: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Value, Failure> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut deadline = Instant::now() + TIMEOUT;
    let mut tries = 0;
    let mut rate_waits = 0;
    let mut last: Option<String> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < MIN_TRY {
            let why = last.unwrap_or_else(|| format!("no answer within {} s", TIMEOUT.as_secs()));
            return Err(Failure::Unreachable(why));
        }
        tries += 1;
        let failed = match once(&url, query, left) {
            Ok(Reply::Json(v)) => return Ok(v),
            Ok(Reply::Refused(why)) => return Err(Failure::Refused(why)),
            Ok(Reply::Malformed(why)) => return Err(Failure::Unreachable(why)),
            Ok(Reply::RateLimited(wait)) => {
                rate_waits += 1;
                if wait > MAX_RATE_WAIT || rate_waits > 2 {
                    return Err(Failure::Unreachable(format!(
                        "rate limited (HTTP 429), asked to wait {} s",
                        wait.as_secs()
                    )));
                }
                eprintln!(
                    "note: {who} limits how often it may be asked (HTTP 429); waiting {} s as it says",
                    wait.as_secs_f64().ceil()
                );
                std::thread::sleep(wait);
                // The wait was the API's: the next try has a full timeout.
                deadline = Instant::now() + TIMEOUT;
                tries -= 1;
                continue;
            }
            Ok(Reply::Status(status)) => format!("HTTP {status}"),
            Err(why) => why,
        };
        if tries >= 2 {
            return Err(Failure::Unreachable(failed));
        }
        last = Some(failed);
    }
}

enum Reply {
    Json(Value),
    Refused(String),
    Malformed(String),
    RateLimited(Duration),
    /// A status worth one retry (5xx, or anything unexpected).
    Status(u16),
}

fn once(url: &str, query: &[(&str, &str)], timeout: Duration) -> Result<Reply, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("oc12-shell/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent.get(url).header("Accept", "application/json");
    for (k, v) in query {
        request = request.query(*k, *v);
    }
    let mut response = request.call().map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string();
    match status {
        200 => {
            let body = body.map_err(|e| describe(&e))?;
            Ok(match serde_json::from_str(&body) {
                Ok(v) => Reply::Json(v),
                Err(e) => Reply::Malformed(format!("its answer is not JSON ({e})")),
            })
        }
        429 => Ok(Reply::RateLimited(retry_after(&response))),
        400 => {
            let message = body
                .ok()
                .and_then(|b| serde_json::from_str::<Value>(&b).ok())
                .and_then(|v| {
                    ["erreur", "message", "description"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
                })
                .unwrap_or_else(|| "HTTP 400".to_owned());
            Ok(Reply::Refused(message))
        }
        s => Ok(Reply::Status(s)),
    }
}

/// `Retry-After: 3` (seconds); an HTTP date or nothing reads as 1 s.
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Duration {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => "its host name is unknown (no network?)".to_owned(),
        ureq::Error::ConnectionFailed => "the connection was refused".to_owned(),
        ureq::Error::Io(io) => format!("{io}"),
        other => other.to_string(),
    }
}
