//! TLS to PostgreSQL, on rustls: libpq's `sslmode` and `sslrootcert` in a
//! connection URL, and the connector `postgres` and the pool dial with.
//!
//! | sslmode | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | when the server offers it | only with `sslrootcert`: the chain |
//! | `require` | always | only with `sslrootcert`: the chain (libpq's rule) |
//! | `verify-ca` | always | the chain, against `sslrootcert` or the system's roots |
//! | `verify-full` | always | the chain and the host name (or IP address) |
//!
//! Unix-socket hosts never use TLS, whatever the URL says.
//!
//! Connection strings are read here, once: split into URL or key=value
//! pairs, the TLS parameters taken out, the rest parsed by `postgres`, and
//! a password hidden for messages ([`redact_url`]).

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use postgres::Socket;
use postgres::config::Host;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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

fn over_socket(config: &postgres::Config) -> bool {
    let hosts = config.get_hosts();
    !hosts.is_empty() && hosts.iter().all(|h| matches!(h, Host::Unix(_)))
}

/// The connection settings of a URL and the TLS connector that honours its
/// `sslmode` and `sslrootcert`.
pub fn configure(url: &str) -> Result<(postgres::Config, Tls)> {
    let (config, params) = parse(url)?;
    let tls = if over_socket(&config) || params.mode == Mode::Disable {
        Tls::build(None, false, params)
    } else {
        let roots = match (&params.rootcert, params.mode) {
            (Some(path), _) => Some((read_roots(path)?, path.display().to_string())),
            (None, Mode::VerifyCa | Mode::VerifyFull) => Some((
                system_roots(params.mode)?,
                "the system's trusted certificates".to_owned(),
            )),
            (None, _) => None,
        };
        let check_name = params.mode == Mode::VerifyFull;
        Tls::build(roots, check_name, params)
    };
    Ok((config, tls))
}

fn read_roots(path: &Path) -> Result<RootCertStore> {
    let bad = |why: String| Error::usage(format!("sslrootcert {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("holds no certificate".to_owned()));
    }
    Ok(roots)
}

fn system_roots(mode: Mode) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if roots.is_empty() {
        return Err(Error::usage(format!(
            "sslmode={} needs trusted certificates: this system has none; give sslrootcert=PATH",
            mode.as_str()
        )));
    }
    Ok(roots)
}

/// What `postgres` and the pool dial with: rustls on the `ring` provider.
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<ClientConfig>,
    /// Where trusted certificates come from, for messages.
    trusted: Arc<str>,
    params: Params,
}

impl Tls {
    fn build(roots: Option<(RootCertStore, String)>, check_name: bool, params: Params) -> Tls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (roots, trusted) = roots.unzip();
        let verifier = Verifier {
            roots,
            check_name,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Tls {
            config: Arc::new(config),
            trusted: trusted.unwrap_or_default().into(),
            params,
        }
    }

    /// Encrypts without checking the certificate: for cancel requests,
    /// which carry only a key that lets one cancel the session's queries
    /// (whoever could intercept it could as well cut the connection).
    pub fn encrypt_only() -> Tls {
        Tls::build(None, false, Params::default())
    }

    /// `url` with this connector's sslmode and sslrootcert (made absolute)
    /// appended, so that a URL derived from another keeps its protection.
    pub fn with_params(&self, url: String) -> String {
        const VALUE: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'/')
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let mut added = Vec::new();
        if self.params.mode != Mode::Prefer {
            added.push(format!("sslmode={}", self.params.mode.as_str()));
        }
        if let Some(path) = &self.params.rootcert {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let path = path.to_string_lossy();
            added.push(format!("sslrootcert={}", utf8_percent_encode(&path, VALUE)));
        }
        if added.is_empty() {
            return url;
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{}", added.join("&"))
    }
}

/// The server's certificate, checked as the sslmode says. `roots: None`
/// takes any certificate (encryption only); the handshake's signatures are
/// checked always.
#[derive(Debug)]
struct Verifier {
    roots: Option<RootCertStore>,
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
            if self.check_name {
                rustls::client::verify_server_name(&cert, server_name)?;
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl MakeTlsConnect<Socket> for Tls {
    type Stream = TlsStream;
    type TlsConnect = Connect;
    type Error = std::convert::Infallible;

    fn make_tls_connect(&mut self, host: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            host: host.to_owned(),
            trusted: self.trusted.clone(),
        })
    }
}

/// One TLS handshake with the server `host`.
pub struct Connect {
    connector: tokio_rustls::TlsConnector,
    host: String,
    trusted: Arc<str>,
}

type Handshake = Pin<Box<dyn Future<Output = Result<TlsStream, HandshakeError>> + Send>>;

impl TlsConnect<Socket> for Connect {
    type Stream = TlsStream;
    type Error = HandshakeError;
    type Future = Handshake;

    fn connect(self, socket: Socket) -> Handshake {
        Box::pin(async move {
            let name = ServerName::try_from(self.host.clone()).map_err(|_| {
                HandshakeError(format!("`{}` is not a host name TLS can check", self.host))
            })?;
            match self.connector.connect(name, socket).await {
                Ok(stream) => Ok(TlsStream(stream)),
                Err(e) => Err(HandshakeError(describe(&e, &self.host, &self.trusted))),
            }
        })
    }
}

/// A failed handshake, said for people.
#[derive(Debug)]
pub struct HandshakeError(String);

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HandshakeError {}

fn describe(e: &io::Error, host: &str, trusted: &str) -> String {
    use rustls::CertificateError as C;
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return format!("the TLS handshake failed ({e})");
    };
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                let names = match c {
                    C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                        let names: Vec<&str> = presented.iter().map(|n| bare_name(n)).collect();
                        format!(" (it is for {})", names.join(", "))
                    }
                    _ => String::new(),
                };
                format!("the server's certificate does not match host {host}{names}")
            }
            C::UnknownIssuer => {
                format!("the server's certificate is not trusted (its issuer is not in {trusted})")
            }
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate is not trusted (it has expired)".to_owned()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not trusted (it is not valid yet)".to_owned()
            }
            other => format!("the server's certificate is not trusted ({other:?})"),
        },
        rustls::Error::AlertReceived(alert) => {
            format!("the server ended the TLS handshake ({alert:?})")
        }
        other => format!("the TLS handshake failed ({other})"),
    }
}

/// `DnsName("localhost")` → `localhost`, `IpAddress(127.0.0.1)` → `127.0.0.1`.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once('(')
        .and_then(|(_, inner)| inner.strip_suffix(')'))
        .map_or(presented, |inner| inner.trim_matches('"'))
}

/// A connection error's detail as the user should read it: tokio-postgres
/// words a plaintext-only server and wraps handshake failures.
pub fn explain(detail: &str) -> String {
    let detail = detail
        .strip_prefix("error performing TLS handshake: ")
        .unwrap_or(detail);
    if detail == "server does not support TLS" {
        "the server does not accept TLS connections, which the URL's sslmode requires".to_owned()
    } else {
        detail.to_owned()
    }
}

/// An encrypted connection to the server.
pub struct TlsStream(tokio_rustls::client::TlsStream<Socket>);

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl postgres::tls::TlsStream for TlsStream {
    /// `tls-server-end-point` (RFC 5929): the hash of the server's
    /// certificate, so that SCRAM authentication cannot be relayed by a man
    /// in the middle (SCRAM-SHA-256-PLUS).
    fn channel_binding(&self) -> ChannelBinding {
        let cert = self
            .0
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first());
        match cert.and_then(|c| end_point_hash(c).map(|h| (c, h))) {
            Some((cert, hash)) => ChannelBinding::tls_server_end_point(
                ring::digest::digest(hash, cert).as_ref().to_vec(),
            ),
            None => ChannelBinding::none(),
        }
    }
}

/// The hash of the certificate's signature algorithm (SHA-256 for MD5 and
/// SHA-1), or `None` for algorithms without one (then no channel binding).
fn end_point_hash(cert: &[u8]) -> Option<&'static ring::digest::Algorithm> {
    use ring::digest::{SHA256, SHA384, SHA512};
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, ... }
    let (certificate, _) = der(cert, 0x30)?;
    let (_tbs, rest) = der(certificate, 0x30)?;
    let (algorithm, _) = der(rest, 0x30)?;
    let (oid, _) = der(algorithm, 0x06)?;
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA_SHA2: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    match oid {
        _ if oid == ECDSA_SHA1 => Some(&SHA256),
        [prefix @ .., last] if prefix == RSA => match last {
            4 | 5 | 11 => Some(&SHA256),
            12 => Some(&SHA384),
            13 => Some(&SHA512),
            _ => None,
        },
        [prefix @ .., last] if prefix == ECDSA_SHA2 => match last {
            2 => Some(&SHA256),
            3 => Some(&SHA384),
            4 => Some(&SHA512),
            _ => None,
        },
        _ => None,
    }
}

/// One DER element with the given tag: its contents and what follows it.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if t != tag {
        return None;
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
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
    fn bad_values_are_usage_errors_naming_the_parameter() {
        let e = strip("postgresql://app:secret@h/crm?sslmode=verify").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Usage);
        assert_eq!(
            e.message,
            "sslmode `verify` is not one of disable, prefer, require, verify-ca, verify-full"
        );
        let e = strip("host=h sslrootcert=''").unwrap_err();
        assert!(
            e.message.starts_with("sslrootcert is empty"),
            "{}",
            e.message
        );
        let e = configure(
            "postgresql://app:secret@h/crm?sslmode=verify-full&sslrootcert=/nowhere/ca.pem",
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Usage);
        assert!(
            e.message.starts_with("sslrootcert /nowhere/ca.pem: "),
            "{}",
            e.message
        );
        assert!(!e.message.contains("secret"));
    }

    #[test]
    fn modes_map_to_what_postgres_attempts() {
        use postgres::config::SslMode;
        let mode = |url: &str| parse(url).unwrap().0.get_ssl_mode();
        assert_eq!(mode("postgresql://a@h/crm"), SslMode::Prefer);
        assert_eq!(
            mode("postgresql://a@h/crm?sslmode=disable"),
            SslMode::Disable
        );
        assert_eq!(mode("host=h sslmode=verify-ca"), SslMode::Require);
        assert_eq!(
            mode("postgresql://a@h/crm?sslmode=verify-full"),
            SslMode::Require
        );
        // Sockets never use TLS, and their sslrootcert is not even read.
        let socket = "postgresql://a@/crm?host=/tmp/x&sslmode=verify-full&sslrootcert=/nowhere";
        assert_eq!(mode(socket), SslMode::Disable);
        assert!(configure(socket).is_ok());
        // The connect timeout and application name are still added.
        let (config, _) = configure("host=h sslmode=require").unwrap();
        assert_eq!(config.get_application_name(), Some("oc12-shell"));
        assert!(config.get_connect_timeout().is_some());
    }

    #[test]
    fn derived_urls_keep_the_tls_parameters() {
        // (a socket host: the missing file is not read)
        let (_, tls) = configure("host=/tmp sslmode=require sslrootcert='/etc/c a.pem'").unwrap();
        assert_eq!(
            tls.with_params("postgresql://u:p@h:5432/crm".to_owned()),
            "postgresql://u:p@h:5432/crm?sslmode=require&sslrootcert=/etc/c%20a.pem"
        );
        let (_, tls) = configure("postgresql://a@/crm?host=/tmp").unwrap();
        assert_eq!(
            tls.with_params("postgresql://x@/y?host=/z".to_owned()),
            "postgresql://x@/y?host=/z"
        );
    }

    #[test]
    fn handshake_failures_read_well() {
        assert_eq!(
            explain("error performing TLS handshake: server does not support TLS"),
            "the server does not accept TLS connections, which the URL's sslmode requires"
        );
        assert_eq!(
            explain("server does not support TLS"),
            explain("error performing TLS handshake: server does not support TLS")
        );
        assert_eq!(bare_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(bare_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(
            describe(&e, "localhost", "/x/ca.pem"),
            "the server's certificate is not trusted (its issuer is not in /x/ca.pem)"
        );
    }

    #[test]
    fn der_reading() {
        assert_eq!(
            der(&[0x30, 0x01, 0xaa, 0xbb], 0x30),
            Some((&[0xaa][..], &[0xbb][..]))
        );
        assert_eq!(
            der(&[0x30, 0x81, 0x01, 0xaa], 0x30),
            Some((&[0xaa][..], &[][..]))
        );
        assert_eq!(der(&[0x30, 0x05, 0xaa], 0x30), None);
        assert_eq!(der(&[0x02, 0x01, 0xaa], 0x30), None);
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
