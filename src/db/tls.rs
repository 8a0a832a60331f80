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
//! Unix-socket hosts never use TLS, whatever the URL says. The parameters
//! come out of the connection string in `url.rs`.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use postgres::Socket;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::db::url::{Mode, Params, over_socket, parse};
use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::url::strip;

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
}
