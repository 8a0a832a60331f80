//! Session tokens: JWT signed with HS256 under `OC12_SECRET_KEY`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Local, Utc};
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The environment variable holding the signing key.
pub const SECRET_KEY_VAR: &str = "OC12_SECRET_KEY";
/// Shortest accepted signing key, in bytes.
pub const MIN_SECRET_KEY_BYTES: usize = 32;
/// 9999-12-31T23:59:59Z.
const LAST_TIMESTAMP: u64 = 253_402_300_799;

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The collaborator's registration number.
    pub sub: String,
    /// The collaborator's department when the token was issued.
    pub dept: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, in seconds since the Unix epoch.
    pub exp: u64,
    /// A random token id (128 bits, hex).
    pub jti: String,
}

impl Claims {
    /// The expiry as a date and time, for `whoami` and messages.
    pub fn expires_at(&self) -> DateTime<Utc> {
        timestamp(self.exp)
    }
}

/// The HMAC key of the tokens. Its bytes never appear in `Debug`, `Display`
/// or error messages.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// A key of at least 32 bytes; a shorter one is refused, never padded.
    pub fn new(bytes: &[u8]) -> Result<SecretKey, Error> {
        if bytes.is_empty() {
            return Err(missing_key());
        }
        if bytes.len() < MIN_SECRET_KEY_BYTES {
            return Err(Error::auth(format!(
                "{SECRET_KEY_VAR} is too short: {} bytes, it needs at least \
                 {MIN_SECRET_KEY_BYTES}; run `oc12-shell init` to generate one or set a longer key",
                bytes.len()
            )));
        }
        Ok(SecretKey(bytes.to_vec()))
    }

    /// The key from the value of `OC12_SECRET_KEY` (`None` when unset).
    pub fn from_setting(value: Option<&str>) -> Result<SecretKey, Error> {
        match value {
            Some(v) => SecretKey::new(v.as_bytes()),
            None => Err(missing_key()),
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

fn missing_key() -> Error {
    Error::auth(format!(
        "{SECRET_KEY_VAR} is not set; run `oc12-shell init` or set it"
    ))
}

/// Issues a token for registration `sub` of department `dept`, valid for
/// `ttl` from now.
pub fn issue(key: &SecretKey, sub: &str, dept: &str, ttl: Duration) -> Result<String, Error> {
    let iat = now();
    let exp = iat
        .checked_add(ttl.as_secs())
        .ok_or_else(|| Error::usage("the token lifetime is too long"))?;
    let claims = Claims {
        sub: sub.to_owned(),
        dept: dept.to_owned(),
        iat,
        exp,
        jti: new_jti(),
    };
    sign(key, &claims)
}

/// Checks a token's algorithm (HS256 only), signature and expiry (zero
/// leeway) and returns its claims.
pub fn validate(key: &SecretKey, token: &str) -> Result<Claims, Error> {
    let token = token.trim();
    // Read the algorithm ourselves first: `alg: none` and names the JWT
    // library does not know would otherwise be reported as malformed.
    match header_alg(token) {
        None => return Err(malformed()),
        Some(alg) if alg != "HS256" => return Err(wrong_algorithm(&alg)),
        Some(_) => {}
    }
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key.0), &validation())
            .map_err(|e| from_jwt_error(e.kind()))?;
    let claims = data.claims;
    // Expiry is checked here rather than by the library so the message can
    // say when, and so a token is refused from its `exp` second on.
    if claims.exp <= now() {
        return Err(Error::auth(format!(
            "your session expired at {}; log in again",
            timestamp(claims.exp)
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
        )));
    }
    // Nothing we issue lives past 9999; a later date would not even print.
    if claims.exp > LAST_TIMESTAMP {
        return Err(malformed());
    }
    if claims.sub.trim().is_empty() {
        return Err(Error::auth(
            "the session token names no collaborator; log in again",
        ));
    }
    Ok(claims)
}

/// Parses a token lifetime: a positive whole number followed by `s`, `m`,
/// `h` or `d` (`90s`, `30m`, `8h`, `1d`).
pub fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::usage(format!(
            "invalid token lifetime `{text}`: expected a number and a unit, \
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
            "invalid token lifetime `{text}`: it must be longer than zero"
        )));
    }
    // Beyond ten years, the number is a typo, not a wish.
    let seconds = n
        .checked_mul(seconds_per_unit)
        .filter(|&s| s <= 10 * 366 * 86_400)
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid token lifetime `{text}`: at most ten years"
            ))
        })?;
    Ok(Duration::from_secs(seconds))
}

pub(crate) fn sign(key: &SecretKey, claims: &Claims) -> Result<String, Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&key.0),
    )
    .map_err(|e| Error::internal(format!("cannot sign the session token: {e}")))
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256];
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    // See `validate`: checked after decoding, with zero leeway.
    v.validate_exp = false;
    v.validate_nbf = false;
    v
}

/// The `alg` of the token's header, or `None` when the header is not
/// base64url JSON with a string `alg`.
fn header_alg(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let json = URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&json).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

fn from_jwt_error(kind: &JwtErrorKind) -> Error {
    match kind {
        JwtErrorKind::InvalidSignature => Error::auth(
            "the session token's signature does not match (altered, or signed with another \
             key); log in again",
        ),
        JwtErrorKind::InvalidAlgorithm => wrong_algorithm("?"),
        JwtErrorKind::MissingRequiredClaim(claim) => Error::auth(format!(
            "the session token has no `{claim}` claim; log in again"
        )),
        _ => malformed(),
    }
}

fn malformed() -> Error {
    Error::auth("the session token is malformed; log in again")
}

fn wrong_algorithm(alg: &str) -> Error {
    // The name comes from the token: keep it short and printable.
    let shown: String = alg
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(16)
        .collect();
    Error::auth(format!(
        "the session token uses algorithm `{shown}`; only HS256 is accepted; log in again"
    ))
}

fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";

    fn key() -> SecretKey {
        SecretKey::new(KEY).unwrap()
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "aa123456789".into(),
            dept: "gestion".into(),
            iat: now() - 60,
            exp,
            jti: new_jti(),
        }
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Signs `header.payload` with HMAC-SHA256 under the test key, whatever
    /// the header claims.
    fn hs256(header: &str, payload: &str) -> String {
        let message = format!("{header}.{payload}");
        let sig = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(KEY),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{sig}")
    }

    fn assert_auth(result: Result<Claims, Error>, fragment: &str) {
        let e = result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.message.contains(fragment), "{}", e.message);
        assert!(!e.message.contains("0123456789abcdef"), "leaks the key");
    }

    #[test]
    fn issued_tokens_validate() {
        let token = issue(&key(), "aa123456789", "gestion", Duration::from_secs(3600)).unwrap();
        let c = validate(&key(), &token).unwrap();
        assert_eq!(c.sub, "aa123456789");
        assert_eq!(c.dept, "gestion");
        assert_eq!(c.exp - c.iat, 3600);
        assert_eq!(c.jti.len(), 32);
        assert!(c.jti.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(header_alg(&token).as_deref(), Some("HS256"));
        // A trailing newline (token file, `$(...)`) is harmless.
        assert!(validate(&key(), &format!("{token}\n")).is_ok());
    }

    #[test]
    fn every_token_has_its_own_id() {
        let a = issue(&key(), "aa123456789", "gestion", Duration::from_secs(60)).unwrap();
        let b = issue(&key(), "aa123456789", "gestion", Duration::from_secs(60)).unwrap();
        assert_ne!(
            validate(&key(), &a).unwrap().jti,
            validate(&key(), &b).unwrap().jti
        );
    }

    #[test]
    fn expired_by_one_second_is_refused() {
        let token = sign(&key(), &claims(now() - 1)).unwrap();
        assert_auth(validate(&key(), &token), "your session expired at ");
        assert_auth(validate(&key(), &token), "log in again");
        // Zero leeway: the `exp` second itself is already too late.
        let token = sign(&key(), &claims(now())).unwrap();
        assert_auth(validate(&key(), &token), "expired");
        let token = sign(&key(), &claims(now() + 30)).unwrap();
        assert!(validate(&key(), &token).is_ok());
    }

    #[test]
    fn tampered_payload_is_refused() {
        let token = issue(&key(), "ac123456789", "support", Duration::from_secs(3600)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let forged = payload.replace("\"support\"", "\"gestion\"");
        assert_ne!(payload, forged);
        let token = format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2]);
        assert_auth(validate(&key(), &token), "signature does not match");
    }

    #[test]
    fn another_key_is_refused() {
        let other = SecretKey::new(b"another-key-another-key-another-key!").unwrap();
        let token = issue(&other, "aa123456789", "gestion", Duration::from_secs(3600)).unwrap();
        assert_auth(validate(&key(), &token), "signature does not match");
    }

    #[test]
    fn alg_none_is_refused() {
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(&serde_json::to_vec(&claims(now() + 3600)).unwrap());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert_auth(validate(&key(), &token), "algorithm `none`");
        }
        let header = b64(br#"{"alg":"None"}"#);
        assert_auth(
            validate(&key(), &format!("{header}.{payload}.")),
            "only HS256",
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        // HS512 signed with the very same key: right key, wrong algorithm.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(now() + 3600),
            &EncodingKey::from_secret(KEY),
        )
        .unwrap();
        assert_auth(validate(&key(), &hs512), "algorithm `HS512`");

        // RS256 with the key's bytes used as an HMAC secret (the classic
        // algorithm-confusion forgery), signed by hand.
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = b64(&serde_json::to_vec(&claims(now() + 3600)).unwrap());
        assert_auth(
            validate(&key(), &hs256(&header, &payload)),
            "algorithm `RS256`",
        );
    }

    #[test]
    fn garbage_is_refused() {
        for token in [
            "",
            "garbage",
            "a.b.c",
            "a.b",
            "...",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
            "eyJhbGciOiJIUzI1NiJ9.!!!.xyz",
            "x.y.z.w",
        ] {
            assert_auth(validate(&key(), token), "log in again");
        }
    }

    #[test]
    fn missing_claims_are_refused() {
        // Correctly signed, but not one of our tokens.
        let sign_json = |json: &str| {
            hs256(
                &b64(br#"{"alg":"HS256","typ":"JWT"}"#),
                &b64(json.as_bytes()),
            )
        };
        let later = now() + 3600;
        for json in [
            r#"{"sub":"aa123456789"}"#.to_owned(),
            format!(r#"{{"exp":{later}}}"#),
            format!(r#"{{"sub":"aa1","exp":{later}}}"#),
            format!(r#"{{"sub":"aa1","dept":"gestion","iat":1,"exp":"{later}","jti":"00"}}"#),
        ] {
            assert_auth(validate(&key(), &sign_json(&json)), "malformed");
        }
        let far = format!(
            r#"{{"sub":"aa1","dept":"gestion","iat":1,"exp":{},"jti":"00"}}"#,
            u64::MAX
        );
        assert_auth(validate(&key(), &sign_json(&far)), "malformed");
        let nobody = format!(r#"{{"sub":" ","dept":"gestion","iat":1,"exp":{later},"jti":"00"}}"#);
        assert_auth(
            validate(&key(), &sign_json(&nobody)),
            "names no collaborator",
        );
        let ok =
            format!(r#"{{"sub":"aa123456789","dept":"gestion","iat":1,"exp":{later},"jti":"00"}}"#);
        assert!(validate(&key(), &sign_json(&ok)).is_ok());
    }

    #[test]
    fn short_or_missing_keys_are_refused() {
        let e = SecretKey::new(&KEY[..31]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.message.contains("too short: 31 bytes"), "{}", e.message);
        assert!(e.message.contains("at least 32"), "{}", e.message);
        assert!(!e.message.contains("0123456789abcdef"), "leaks the key");
        assert!(SecretKey::new(&KEY[..32]).is_ok());

        for e in [
            SecretKey::from_setting(None).unwrap_err(),
            SecretKey::from_setting(Some("")).unwrap_err(),
        ] {
            assert_eq!(e.kind, ErrorKind::Auth);
            assert_eq!(
                e.message,
                "OC12_SECRET_KEY is not set; run `oc12-shell init` or set it"
            );
        }
    }

    #[test]
    fn the_key_never_shows() {
        assert_eq!(format!("{:?}", key()), "SecretKey(..)");
        assert_eq!(format!("{:#?}", key()), "SecretKey(..)");
    }

    #[test]
    fn ttl_parsing() {
        assert_eq!(parse_ttl("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_ttl(" 2h ").unwrap(), Duration::from_secs(7200));
        for bad in [
            "",
            "h",
            "8",
            "8x",
            "-1h",
            "+1h",
            "1.5h",
            "8 h",
            "0s",
            "0h",
            "99999999999d",
            "8é",
            "１h",
        ] {
            let e = parse_ttl(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{bad:?}");
        }
        assert!(parse_ttl("8x").unwrap_err().message.contains("`8x`"));
    }
}
