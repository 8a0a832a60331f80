//! Sessions as the shell holds them: the token the server signed (a JWT,
//! HS256, under a key only the server has) and the session secret, the
//! password of the session's own PostgreSQL role.
//!
//! The shell cannot check the token's signature and does not need to: the
//! token grants nothing. It is read for the prompt, `whoami` and messages;
//! what PostgreSQL checks is the secret, on every connection, and the
//! session row, at the start of every statement (sql/SECURITY.md).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// 9999-12-31T23:59:59Z.
const LAST_TIMESTAMP: u64 = 253_402_300_799;

/// The longest session the server grants (`session_max_seconds`).
pub const MAX_SESSION: Duration = Duration::from_secs(7 * 86_400);

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The collaborator's registration number.
    pub sub: String,
    /// The collaborator's department when the session began.
    pub dept: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, in seconds since the Unix epoch.
    pub exp: u64,
    /// The session's id (128 bits, hex).
    pub jti: String,
    /// The session's PostgreSQL role.
    pub role: String,
}

impl Claims {
    /// The expiry as a date and time, for `whoami` and messages.
    pub fn expires_at(&self) -> DateTime<Utc> {
        timestamp(self.exp)
    }
}

/// A session: the token and the secret, as the server issued them. Neither
/// appears in `Debug` output or in an error message.
#[derive(Clone)]
pub struct Credential {
    pub claims: Claims,
    token: String,
    secret: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Credential) -> bool {
        self.token == other.token && self.secret == other.secret
    }
}

impl Credential {
    /// A session the server has just issued.
    pub fn new(token: &str, secret: &str) -> Result<Credential, Error> {
        Credential::parse(&format!("{token}:{secret}"))
    }

    /// Reads `TOKEN:SECRET` (the token file's line, or `OC12_JWT`): the
    /// token's shape and claims, and its expiry with zero leeway.
    pub fn parse(text: &str) -> Result<Credential, Error> {
        let (token, secret) = text.trim().split_once(':').ok_or_else(|| {
            Error::auth(
                "the session token has no session secret (it predates team mode); log in again",
            )
        })?;
        if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(malformed());
        }
        let claims = decode(token)?;
        let credential = Credential {
            claims,
            token: token.to_owned(),
            secret: secret.to_owned(),
        };
        credential.check_expiry()?;
        Ok(credential)
    }

    /// Refused from the `exp` second on.
    pub fn check_expiry(&self) -> Result<(), Error> {
        if self.claims.exp <= now() {
            return Err(Error::auth(format!(
                "your session expired at {}; log in again",
                crate::output::time_labelled(timestamp(self.claims.exp))
            )));
        }
        Ok(())
    }

    /// The line the token file holds.
    pub fn to_line(&self) -> String {
        format!("{}:{}", self.token, self.secret)
    }

    /// The password of the session's role.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// The token's claims, after checking its header says HS256 and its claims
/// are all there and sane. The signature is the server's business.
fn decode(token: &str) -> Result<Claims, Error> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
    if header.alg != jsonwebtoken::Algorithm::HS256 {
        return Err(Error::auth(format!(
            "the session token uses algorithm `{:?}`; only HS256 is issued; log in again",
            header.alg
        )));
    }
    let data =
        jsonwebtoken::dangerous::insecure_decode::<Claims>(token).map_err(|_| malformed())?;
    let claims = data.claims;
    let registration_like = |s: &str| {
        (10..=11).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let role_ok = claims.role.len() <= 63
        && claims
            .role
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && claims.role.contains(&format!("_{}_s", claims.sub));
    if !registration_like(&claims.sub) || !role_ok || claims.exp > LAST_TIMESTAMP {
        return Err(malformed());
    }
    Ok(claims)
}

fn malformed() -> Error {
    Error::auth("the session token is malformed; log in again")
}

/// Parses a session lifetime: a positive whole number followed by `s`, `m`,
/// `h` or `d` (`90s`, `30m`, `8h`, `1d`), at most 7 days.
pub fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::usage(format!(
            "invalid session lifetime `{text}`: expected a number and a unit, \
             like `90s`, `30m`, `8h` or `1d`"
        ))
    };
    let t = text.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let digits = &t[..t.len() - unit.len_utf8()];
    let seconds_per_unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(Error::usage(format!(
            "invalid session lifetime `{text}`: it must be longer than zero"
        )));
    }
    let seconds = n
        .checked_mul(seconds_per_unit)
        .filter(|&s| s <= MAX_SESSION.as_secs())
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid session lifetime `{text}`: the server grants at most 7 days"
            ))
        })?;
    Ok(Duration::from_secs(seconds))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn timestamp(secs: u64) -> DateTime<Utc> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "aa123456789".into(),
            dept: "gestion".into(),
            iat: now() - 60,
            exp,
            jti: "0123456789abcdef0123456789abcdef".into(),
            role: "oc12_aa123456789_s0123456789abcdef".into(),
        }
    }

    fn token(header: &str, claims: &Claims) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        )
    }

    fn line(header: &str, claims: &Claims) -> String {
        format!("{}:0a1b2c3d", token(header, claims))
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[track_caller]
    fn refused(text: &str, fragment: &str) {
        let e = Credential::parse(text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.message.contains(fragment), "{}", e.message);
        assert!(!e.message.contains("0a1b2c3d"), "leaks the secret");
    }

    #[test]
    fn a_session_line_reads_back() {
        let c = claims(now() + 3600);
        let cred = Credential::parse(&format!("{}\n", line(HS256, &c))).unwrap();
        assert_eq!(cred.claims, c);
        assert_eq!(cred.secret(), "0a1b2c3d");
        assert_eq!(cred.to_line(), line(HS256, &c));
        assert!(!format!("{cred:?}").contains("0a1b2c3d"));
    }

    #[test]
    fn expired_by_one_second_is_refused() {
        refused(&line(HS256, &claims(now() - 1)), "your session expired at ");
        // In the user's zone (Europe/Paris in unit tests), which it names.
        refused(
            &line(HS256, &claims(now() - 1)),
            "(Europe/Paris); log in again",
        );
        // Zero leeway: the `exp` second itself is already too late.
        refused(&line(HS256, &claims(now())), "expired");
        assert!(Credential::parse(&line(HS256, &claims(now() + 30))).is_ok());
    }

    #[test]
    fn other_algorithms_and_garbage_are_refused() {
        refused(
            &line(r#"{"alg":"HS512"}"#, &claims(now() + 60)),
            "only HS256",
        );
        refused(&line(r#"{"alg":"none"}"#, &claims(now() + 60)), "malformed");
        refused(&token(HS256, &claims(now() + 60)), "no session secret");
        for text in ["", "garbage", "a.b.c:x", "a:b", ":"] {
            let e = Credential::parse(text).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Auth, "{text}");
        }
        let mut c = claims(now() + 60);
        c.role = "postgres".into();
        refused(&line(HS256, &c), "malformed");
        let mut c = claims(now() + 60);
        c.sub = "x'; DROP".into();
        refused(&line(HS256, &c), "malformed");
        refused(
            &format!("{}:se cret", token(HS256, &claims(now() + 60))),
            "malformed",
        );
    }

    #[test]
    fn lifetimes() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse_ttl("7d").unwrap(), MAX_SESSION);
        for bad in ["", "h", "0h", "8", "8x", "-1h", "1.5h", "8d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
