//! Defence in depth: whatever ends up in an event, no password hash, no
//! token and no session secret leaves the process. Every string of the event
//! (message, tags, extra, exception values, contexts, ...) is scanned.

use sentry::protocol::Event;
use serde_json::Value;

/// What a redacted part is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Keys whose string values are never kept, whatever they look like.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "hash",
    "token",
    "secret",
    "jwt",
    "authorization",
    "cookie",
];

/// A run of this many hexadecimal digits is a session secret (64), not an
/// id (a session id has 32).
const MIN_SECRET_HEX: usize = 48;

/// Redacts every string of `event`. `None` only if the event cannot be
/// represented as JSON, in which case it is safer not to send it.
pub fn event(event: Event<'static>) -> Option<Event<'static>> {
    let mut value = serde_json::to_value(&event).ok()?;
    walk(&mut value);
    let mut event: Event<'static> = serde_json::from_value(value).ok()?;
    // The contexts integration fills in the host name; it says nothing about
    // the shell's behaviour and identifies a person's machine.
    event.server_name = None;
    Some(event)
}

fn walk(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(clean) = redact(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && v.is_string() {
                    *v = Value::String(REDACTED.into());
                } else {
                    walk(v);
                }
            }
        }
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| key.contains(k))
}

/// `text` with every password hash, token-looking string and session
/// secret replaced by `REDACTED`; `None` when there was nothing to redact.
pub fn redact(text: &str) -> Option<String> {
    let mut out = text.to_owned();
    let mut changed = false;
    if let Some(clean) = redact_shapes(&out) {
        out = clean;
        changed = true;
    }
    if let Some(clean) = redact_hex_runs(&out) {
        out = clean;
        changed = true;
    }
    changed.then_some(out)
}

/// Replaces runs of at least [`MIN_SECRET_HEX`] hexadecimal digits.
fn redact_hex_runs(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last, mut changed) = (0, 0, false);
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if run >= MIN_SECRET_HEX {
            out.push_str(&text[last..i]);
            out.push_str(REDACTED);
            last = i + run;
            changed = true;
        }
        i += run.max(1);
    }
    out.push_str(&text[last..]);
    changed.then_some(out)
}

/// Replaces the words that look like a PHC scrypt hash (`$scrypt$...`) or a
/// JWT (`eyJ...`, base64url with dots).
fn redact_shapes(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while !rest.is_empty() {
        let hash = rest.find("$scrypt$");
        let jwt = find_jwt(rest);
        let start = match (hash, jwt) {
            (Some(h), Some((j, _))) => h.min(j),
            (Some(h), None) => h,
            (None, Some((j, _))) => j,
            (None, None) => break,
        };
        let end = if hash == Some(start) {
            start + hash_len(&rest[start..])
        } else {
            start + jwt.map_or(0, |(_, len)| len)
        };
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        rest = &rest[end..];
        changed = true;
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// A PHC string runs until white space, a quote or a closing bracket; it
/// ends with base64, so trailing punctuation is the sentence's.
fn hash_len(s: &str) -> usize {
    let end = s
        .find(|c: char| c.is_whitespace() || "\"'`)]}>".contains(c))
        .unwrap_or(s.len());
    s[..end].trim_end_matches([',', '.', ';', ':']).len()
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The first `eyJ...` word of at least 16 base64url characters and dots
/// (a JWT header starts with `{"` which encodes as `eyJ`): its start and
/// length.
fn find_jwt(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find("eyJ").map(|i| i + from) {
        let starts_word = i == 0 || !is_base64url(bytes[i - 1]);
        let len = bytes[i..]
            .iter()
            .take_while(|&&b| is_base64url(b) || b == b'.' || b == b'=')
            .count();
        if starts_word && len >= 16 {
            return Some((i, len));
        }
        from = i + 3;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$scrypt$ln=17,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYTEyMyJ9.c2lnbmF0dXJlc2lnbmF0dXJl";

    const SECRET: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

    #[test]
    fn redacts_hashes_tokens_and_session_secrets_inside_text() {
        let text = format!("hash {HASH}, token={JWT}; secret {SECRET}!");
        let clean = redact(&text).unwrap();
        assert_eq!(
            clean,
            "hash [redacted], token=[redacted]; secret [redacted]!"
        );
        // A token file's line, token and secret together.
        assert_eq!(
            redact(&format!("line {JWT}:{SECRET}")).unwrap(),
            "line [redacted]:[redacted]"
        );
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        assert_eq!(redact("collaborator ab123 changed: name, email"), None);
        assert_eq!(redact("eyJ"), None);
        assert_eq!(redact("money $12"), None);
        // A session id (32 hex digits) is not a secret.
        assert_eq!(redact("session 0f0e0d0c0b0a09080706050403020100"), None);
    }

    #[test]
    fn redacts_values_under_secret_keys() {
        let mut v = serde_json::json!({"extra": {"Password": "hunter2", "count": 3}});
        walk(&mut v);
        assert_eq!(v["extra"]["Password"], REDACTED);
        assert_eq!(v["extra"]["count"], 3);
    }
}
