//! Connection strings, read here once: a URL or key=value pairs, libpq's
//! `sslmode` and `sslrootcert` taken out (`postgres` does not know them;
//! `tls.rs` acts on them), the rest parsed by `postgres`, a connect timeout
//! and the application name set when the string does not say, and a
//! password hidden for messages ([`redact_url`]).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use postgres::config::Host;

use crate::error::{Error, Result};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

const MODES: &str = "disable, prefer, require, verify-ca, verify-full";

impl Mode {
    pub fn parse(value: &str) -> Result<Mode> {
        Ok(match value {
            "disable" => Mode::Disable,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => {
                return Err(Error::usage(format!(
                    "sslmode `{value}` is not one of {MODES}"
                )));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

/// The TLS parameters of a URL, which `postgres::Config` cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params {
    pub mode: Mode,
    pub rootcert: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of a URL or key=value string: the
/// rest, untouched (percent-encoding and quoting included), and the values.
pub fn strip(url: &str) -> Result<(String, Params)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        strip_url(url, &mut found)
    } else {
        strip_pairs(url, &mut found)
    };
    let mut params = Params::default();
    for (key, value) in found {
        if key == "sslmode" {
            params.mode = Mode::parse(&value)?;
        } else if value.is_empty() {
            return Err(Error::usage(
                "sslrootcert is empty: give the path of a PEM file",
            ));
        } else {
            params.rootcert = Some(PathBuf::from(value));
        }
    }
    Ok((rest, params))
}

fn is_tls_key(key: &str) -> bool {
    key == "sslmode" || key == "sslrootcert"
}

fn strip_url(url: &str, found: &mut Vec<(String, String)>) -> String {
    // As postgres parses it: everything up to the first `@` is credentials.
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let from = url[after_scheme..]
        .find('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    let Some(q) = url[from..].find('?').map(|i| from + i) else {
        return url.to_owned();
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut kept = Vec::new();
    for part in url[q + 1..].split('&') {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let key = decode(key);
        if is_tls_key(&key) {
            found.push((key, decode(value)));
        } else {
            kept.push(part);
        }
    }
    if kept.is_empty() {
        url[..q].to_owned()
    } else {
        format!("{}?{}", &url[..q], kept.join("&"))
    }
}

fn strip_pairs(s: &str, found: &mut Vec<(String, String)>) -> String {
    let Some(pairs) = key_value_pairs(s) else {
        return s.to_owned();
    };
    let mut kept = Vec::new();
    for pair in pairs {
        if is_tls_key(&pair.key) {
            found.push((pair.key, pair.value));
        } else {
            kept.push(&s[pair.start..pair.end]);
        }
    }
    kept.join(" ")
}

/// One `key = value` of a connection string, and where it is in it.
pub(crate) struct Pair {
    pub key: String,
    pub value: String,
    pub start: usize,
    /// Where the value's text starts (at its quote, if quoted).
    pub value_start: usize,
    pub end: usize,
}

/// The `key = value` pairs of a connection string, values bare or
/// single-quoted with `\` escapes, as postgres reads them; `None` when it
/// is not of that form (postgres will say so).
pub(crate) fn key_value_pairs(s: &str) -> Option<Vec<Pair>> {
    let mut pairs = Vec::new();
    let mut it = s.char_indices().peekable();
    let skip_ws = |it: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while it.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    let at = |it: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        it.peek().map_or(s.len(), |&(i, _)| i)
    };
    loop {
        skip_ws(&mut it);
        let start = at(&mut it);
        if start == s.len() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some((_, c)) = it.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        skip_ws(&mut it);
        if key.is_empty() || it.next_if(|(_, c)| *c == '=').is_none() {
            return None;
        }
        skip_ws(&mut it);
        let value_start = at(&mut it);
        let quoted = it.next_if(|(_, c)| *c == '\'').is_some();
        let mut value = String::new();
        loop {
            match it.peek().copied() {
                None if quoted => return None,
                Some((_, '\'')) if quoted => {
                    it.next();
                    break;
                }
                Some((_, c)) if !quoted && c.is_whitespace() => break,
                None => break,
                Some((_, c)) => {
                    it.next();
                    if c == '\\' {
                        value.extend(it.next().map(|(_, c)| c));
                    } else {
                        value.push(c);
                    }
                }
            }
        }
        let end = at(&mut it);
        pairs.push(Pair {
            key,
            value,
            start,
            value_start,
            end,
        });
    }
}

/// A URL parsed for `postgres` with its TLS parameters set aside; the
/// `Config`'s own sslmode says whether to attempt TLS (never on sockets).
pub fn parse(url: &str) -> Result<(postgres::Config, Params)> {
    let (rest, params) = strip(url)?;
    let mut config = parse_plain(&rest, url)?;
    config.ssl_mode(match params.mode {
        _ if over_socket(&config) => postgres::config::SslMode::Disable,
        Mode::Disable => postgres::config::SslMode::Disable,
        Mode::Prefer => postgres::config::SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => postgres::config::SslMode::Require,
    });
    Ok((config, params))
}

pub fn over_socket(config: &postgres::Config) -> bool {
    let hosts = config.get_hosts();
    !hosts.is_empty() && hosts.iter().all(|h| matches!(h, Host::Unix(_)))
}

/// How long a connection attempt may take before `error[connection]`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// [`crate::db::parse_url`] for a string without the TLS parameters postgres does not
/// know; `shown` is what messages name (without its password).
pub(crate) fn parse_plain(url: &str, shown: &str) -> Result<postgres::Config> {
    let mut config = postgres::Config::from_str(url).map_err(|e| {
        Error::usage(format!(
            "`{}` is not a PostgreSQL URL: {e}",
            redact_url(shown)
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("oc12-shell");
    }
    Ok(config)
}

/// A URL (or key=value string) with its password replaced by `***`, for
/// messages: in the credentials, and as a `password` parameter.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return redact_pairs(url);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let url = match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    };
    match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<&str> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some(("password", _)) => "password=***",
                    _ => p,
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url,
    }
}

fn redact_pairs(s: &str) -> String {
    match key_value_pairs(s) {
        Some(pairs) => {
            let mut out = s.to_owned();
            for p in pairs.iter().rev().filter(|p| p.key == "password") {
                out.replace_range(p.value_start..p.end, "***");
            }
            out
        }
        // Not a connection string postgres reads: it may hide one anywhere.
        None if s.contains("password") => "(a connection string with a password)".to_owned(),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(url: &str) -> (String, Params) {
        strip(url).unwrap()
    }

    #[test]
    fn url_parameters_are_taken_out_and_the_rest_kept_as_written() {
        let (rest, p) = stripped(
            "postgresql://app:p%40ss@db.example:5433/crm?application_name=a%20b&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem&connect_timeout=3",
        );
        assert_eq!(
            rest,
            "postgresql://app:p%40ss@db.example:5433/crm?application_name=a%20b&connect_timeout=3"
        );
        assert_eq!(p.mode, Mode::VerifyFull);
        assert_eq!(p.rootcert, Some(PathBuf::from("/etc/ca dir/ca.pem")));

        let (rest, p) = stripped("postgres://app@h/crm?sslmode=require");
        assert_eq!(rest, "postgres://app@h/crm");
        assert_eq!(p.mode, Mode::Require);
        assert_eq!(p.rootcert, None);

        let (rest, p) = stripped("postgresql://app@/crm?host=%2Ftmp%2Fx&port=5433");
        assert_eq!(rest, "postgresql://app@/crm?host=%2Ftmp%2Fx&port=5433");
        assert_eq!(p, Params::default());
        // A `?` in the credentials is not the query (postgres reads them
        // up to the first `@`).
        let (rest, p) = stripped("postgresql://u:a?b@h/crm?sslmode=disable");
        assert_eq!(rest, "postgresql://u:a?b@h/crm");
        assert_eq!(p.mode, Mode::Disable);
    }

    #[test]
    fn key_value_parameters_are_taken_out_and_the_rest_kept_as_written() {
        let (rest, p) = stripped(
            "host=db.example  sslmode = verify-ca password='it\\'s x' sslrootcert='/a b/ca.pem' dbname=crm",
        );
        assert_eq!(rest, "host=db.example password='it\\'s x' dbname=crm");
        assert_eq!(p.mode, Mode::VerifyCa);
        assert_eq!(p.rootcert, Some(PathBuf::from("/a b/ca.pem")));

        let (rest, p) = stripped("sslrootcert=/x\\ y/ca.pem user=app");
        assert_eq!(rest, "user=app");
        assert_eq!(p.rootcert, Some(PathBuf::from("/x y/ca.pem")));
        assert_eq!(p.mode, Mode::Prefer);
        // Not key=value at all: left for postgres to refuse.
        assert_eq!(stripped("nonsense").0, "nonsense");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgresql://app:s3cret@localhost:5432/crm"),
            "postgresql://app:***@localhost:5432/crm"
        );
        assert_eq!(redact_url("postgresql://app@/crm"), "postgresql://app@/crm");
        assert_eq!(
            redact_url("postgresql://app@h/crm?password=s3cret&sslmode=require"),
            "postgresql://app@h/crm?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("host=h password='s3 cret' user=app"),
            "host=h password=*** user=app"
        );
        assert_eq!(
            redact_url("host=h password = s3cret"),
            "host=h password = ***"
        );
        assert!(!redact_url("host=h password='s3cret").contains("s3cret"));
    }
}
