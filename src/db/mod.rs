//! PostgreSQL, as the shell reaches it. This file: connecting with a
//! connection string, the naming rules that tie a CRM database to its roles,
//! and quoting.
//!
//! - `url.rs`: connection strings read once (sslmode and sslrootcert set
//!   aside, timeout and application name set, passwords hidden).
//! - `tls.rs`: the rustls connector that honours `sslmode`.
//! - `pool.rs`: logging in through the gate role, and each session's pool,
//!   connected as the session's own role; transactions and single-exchange
//!   reads ([`pool::Work`]).
//! - `link.rs`: a pooled connection and its cache of prepared statements.
//! - `param.rs`: how a statement's parameters are typed and encoded.
//! - `translate.rs`: PostgreSQL's errors as the shell's kinds and sentences,
//!   with `refusal.rs`: one sentence per constraint of `sql/`.
//! - `cancel.rs`: Ctrl-C and signals while a statement runs: the cancel
//!   request for the running query.
//! - `init.rs`: `init`, the migrations of `sql/` in one transaction.
//! - `local.rs`: the embedded cluster under `$OC12_HOME/pgdata`.
//! - `generate.rs`: the seeded data generator of the benchmarks.
//!
//! May use: `language` (the value types, the catalogue, to word errors),
//! `output` (the user's time zone, set on each connection), `auth` (the
//! session's credential, the demo password), `config`, `fs`, `error`.
//! Nothing here prints results or knows of the shell.

pub(crate) mod cancel;
pub mod generate;
pub mod init;
pub mod link;
pub mod local;
mod param;
pub mod pool;
pub mod refusal;
pub mod tls;
pub(crate) mod translate;
pub(crate) mod url;

use postgres::Client;

use crate::error::{Error, Result};
use tls::Tls;

/// The schema that holds the whole CRM.
pub const SCHEMA: &str = "crm";
/// The database name of the embedded cluster and the default for `init`.
pub const DEFAULT_DATABASE: &str = "crm";

/// Roles are global to a PostgreSQL cluster while a CRM lives in one
/// database, so every role name of a CRM starts with a prefix derived from
/// its database: `oc12` for the default `crm`, `oc12_<db>` otherwise. Two
/// CRMs can then share a cluster (the test suite relies on it).
pub fn role_prefix(database: &str) -> Result<String> {
    let valid = database
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && database
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && database.len() <= 40;
    if !valid {
        return Err(Error::usage(format!(
            "database name `{database}` must be lowercase letters, digits and `_`, starting with a letter (at most 40)"
        )));
    }
    Ok(if database == DEFAULT_DATABASE {
        "oc12".to_owned()
    } else {
        format!("oc12_{database}")
    })
}

/// The roles of one CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    pub prefix: String,
}

impl Roles {
    pub fn for_database(database: &str) -> Result<Roles> {
        Ok(Roles {
            prefix: role_prefix(database)?,
        })
    }
    pub fn owner(&self) -> String {
        format!("{}_owner", self.prefix)
    }
    /// The login gate: may call the login functions and nothing else.
    pub fn gate(&self) -> String {
        format!("{}_gate", self.prefix)
    }
    /// The shared application role of the first design, which `init` drops.
    pub fn legacy_app(&self) -> String {
        format!("{}_app", self.prefix)
    }
}

/// Parses a connection URL (or key=value string), adding the connect timeout
/// when it has none so that an unreachable server fails fast. Its `sslmode`
/// and `sslrootcert` are understood but only [`tls::configure`] makes the
/// connector that honours them: dial with that.
pub fn parse_url(url: &str) -> Result<postgres::Config> {
    url::parse(url).map(|(config, _)| config)
}

/// The database a URL names; PostgreSQL's default is the user's name.
pub fn database_of(config: &postgres::Config) -> Option<&str> {
    config.get_dbname().or(config.get_user())
}

/// Connects with the connector [`tls::configure`] made for the URL.
pub fn connect(config: &postgres::Config, tls: &Tls) -> Result<Client> {
    config
        .connect(tls.clone())
        .map_err(|e| connection_error(config, &e))
}

/// An `error[connection]` that says where we tried to go.
pub fn connection_error(config: &postgres::Config, e: &postgres::Error) -> Error {
    let mut msg = format!("cannot connect to {}", describe(config));
    let detail = connection_detail(e);
    if !detail.is_empty() {
        msg.push_str(": ");
        msg.push_str(&detail);
    }
    Error::connection(msg)
}

/// Why a connection attempt failed: the server's message, or the innermost
/// cause (postgres's own text stops at "error performing TLS handshake").
pub fn connection_detail(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| tls::explain(&source_message(e)))
}

fn source_message(e: &postgres::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = inner.to_string();
        source = inner.source();
    }
    s
}

/// `user@host:port/db` for messages, without the password.
pub fn describe(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        database_of(config).unwrap_or("?")
    )
}

/// Quotes an identifier for SQL text. Used only for names the shell itself
/// made and validated (roles, databases), never for user input.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a literal for the few statements PostgreSQL cannot parameterise
/// (`ALTER ROLE ... PASSWORD`), with values the shell generated itself.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(role_prefix("crm").unwrap(), "oc12");
        assert_eq!(role_prefix("t_12").unwrap(), "oc12_t_12");
        assert!(role_prefix("Crm").is_err());
        assert!(role_prefix("a-b").is_err());
        assert!(role_prefix("").is_err());
        assert!(role_prefix("1abc").is_err());
    }

    #[test]
    fn urls() {
        let c = parse_url("postgresql://app:pw@/crm?host=/tmp/x&port=5433").unwrap();
        assert_eq!(database_of(&c), Some("crm"));
        assert_eq!(describe(&c), "app@/tmp/x:5433/crm");
        assert_eq!(
            c.get_connect_timeout(),
            Some(&crate::db::url::CONNECT_TIMEOUT)
        );
        assert!(parse_url("http://[").is_err());
    }
}
