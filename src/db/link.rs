//! A pooled connection of a session and the statements prepared on it.
//!
//! A statement's SQL seen for the second time on a connection is prepared
//! (a named statement) and kept, so that every later use is one Bind/Execute
//! exchange and the server reuses its plan instead of parsing and planning
//! the statement again. SQL seen once runs as one unnamed exchange
//! (Parse/Bind/Execute in one message): a one-off `-c` prepares nothing.
//!
//! Named statements outlive the transaction that prepared them, which is
//! only safe when the connection reaches the server itself. Behind a pooler
//! in transaction mode (pgbouncer before 1.21, or without
//! `max_prepared_statements`), the next transaction may run on another
//! server connection, where that name is unknown or, worse, another
//! client's statement. So the cache is used only when the server confirms
//! that it is the one the URL names ([`StatementCache::Auto`]), or when the
//! configuration says so (`OC12_STATEMENT_CACHE=on|off`); otherwise every
//! statement is one unnamed exchange, which no pooler can misroute.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, ToSocketAddrs};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use postgres::config::Host;
use postgres::types::Type;
use postgres::{RowIter, Statement};
use r2d2::ManageConnection;
use r2d2_postgres::PostgresConnectionManager;

use crate::db::tls::Tls;
use crate::error::{Error, Result};
use crate::language::value::Param;

/// The configuration variable that chooses the statement cache.
pub const STATEMENT_CACHE: &str = "OC12_STATEMENT_CACHE";

/// How many named statements a connection keeps; the least recently used
/// one is closed to make room.
const MAX_PREPARED: usize = 256;
/// How many statements seen once a connection remembers (as hashes).
const MAX_SEEN: usize = 4096;

/// Whether named statements are kept across transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementCache {
    /// Kept when the server is reached directly (asked once per pool).
    #[default]
    Auto,
    /// Always kept: a direct server, or a pooler that tracks named
    /// statements itself (pgbouncer 1.21+ with `max_prepared_statements`).
    On,
    /// Never kept: every statement is one unnamed exchange.
    Off,
}

impl StatementCache {
    /// `OC12_STATEMENT_CACHE`: `auto` (or unset), `on` or `off`.
    pub fn parse(value: Option<&str>) -> Result<StatementCache> {
        match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "auto") => Ok(StatementCache::Auto),
            Some("on" | "true" | "1") => Ok(StatementCache::On),
            Some("off" | "false" | "0") => Ok(StatementCache::Off),
            Some(other) => Err(Error::usage(format!(
                "{STATEMENT_CACHE}={other} is not understood: use auto, on or off"
            ))),
        }
    }
}

const UNDECIDED: u8 = 0;
const CACHING: u8 = 1;
const NOT_CACHING: u8 = 2;

/// The pool's decision, shared by its connections.
#[derive(Debug, Clone)]
pub struct Caching {
    state: Arc<AtomicU8>,
    /// How the pool dials the server, to compare with where the server
    /// says the connection arrived.
    config: Arc<postgres::Config>,
}

impl Caching {
    pub fn new(choice: StatementCache, config: &postgres::Config) -> Caching {
        let state = match choice {
            StatementCache::Auto => UNDECIDED,
            StatementCache::On => CACHING,
            StatementCache::Off => NOT_CACHING,
        };
        Caching {
            state: Arc::new(AtomicU8::new(state)),
            config: Arc::new(config.clone()),
        }
    }

    /// Whether this pool keeps named statements, asking the server through
    /// `client` the first time.
    fn allowed(&self, client: &mut postgres::Client) -> Result<bool, postgres::Error> {
        match self.state.load(Ordering::Relaxed) {
            CACHING => Ok(true),
            NOT_CACHING => Ok(false),
            _ => {
                let direct = reaches_server_directly(client, &self.config)?;
                let state = if direct { CACHING } else { NOT_CACHING };
                self.state.store(state, Ordering::Relaxed);
                Ok(direct)
            }
        }
    }

    /// A named statement met an error only a pooler explains: stop caching
    /// for the rest of the process.
    fn give_up(&self) {
        self.state.store(NOT_CACHING, Ordering::Relaxed);
    }
}

/// Whether the server says the connection arrived where the URL points: its
/// own address and port for TCP; over a Unix socket, its port, and (on
/// Linux) the process listening on the socket is the parent of the backend
/// serving us: the postmaster itself, not a pooler in between. Anything
/// else (a pooler, a proxy, a port mapping, a server in another PID
/// namespace) counts as not direct: the cost of a wrong "no" is only speed.
fn reaches_server_directly(
    client: &mut postgres::Client,
    config: &postgres::Config,
) -> Result<bool, postgres::Error> {
    let row = client.query_typed_one(
        "SELECT host(inet_server_addr()), inet_server_port(), \
         current_setting('port')::int4, pg_backend_pid()",
        &[],
    )?;
    let address: Option<String> = row.get(0);
    let tcp_port: Option<i32> = row.get(1);
    let port: i32 = row.get(2);
    let backend: i32 = row.get(3);
    let ports = config.get_ports();
    let port_of = |i: usize| i32::from(ports.get(i).or(ports.first()).copied().unwrap_or(5432));
    let hostaddrs = config.get_hostaddrs();
    Ok(config
        .get_hosts()
        .iter()
        .enumerate()
        .any(|(i, host)| match (host, &address, tcp_port) {
            (Host::Unix(dir), None, None) => {
                port_of(i) == port
                    && postmaster_listens_at(&dir.join(format!(".s.PGSQL.{port}")), backend)
            }
            (Host::Tcp(name), Some(address), Some(server_port)) => {
                let Ok(address) = address.parse::<IpAddr>() else {
                    return false;
                };
                port_of(i) == server_port
                    && (hostaddrs.get(i) == Some(&address)
                        || (name.as_str(), 0)
                            .to_socket_addrs()
                            .is_ok_and(|mut all| all.any(|a| a.ip() == address)))
            }
            _ => false,
        }))
}

/// Whether the process listening on `socket` is the parent of `backend`:
/// the postmaster that forked the server process we talk to. (A pooler
/// listening there has no such child.) The probe connects and closes
/// without a byte, which PostgreSQL does not log.
#[cfg(target_os = "linux")]
fn postmaster_listens_at(socket: &Path, backend: i32) -> bool {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let Ok(probe) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let Ok(peer) = getsockopt(&probe, PeerCredentials) else {
        return false;
    };
    if peer.pid() <= 0 {
        return false;
    }
    std::fs::read_to_string(format!("/proc/{backend}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))
                .and_then(|p| p.trim().parse::<i32>().ok())
        })
        == Some(peer.pid())
}

/// Elsewhere: the socket must be PostgreSQL's, with the lock file the
/// postmaster keeps beside it (a weaker test: a pooler may keep one too).
#[cfg(not(target_os = "linux"))]
fn postmaster_listens_at(socket: &Path, _backend: i32) -> bool {
    let mut lock = socket.as_os_str().to_owned();
    lock.push(".lock");
    Path::new(&lock).exists()
}

/// The pool's manager: r2d2_postgres's, which dials and checks the
/// connections, with each connection given its statement cache.
#[derive(Debug)]
pub struct Manager {
    inner: PostgresConnectionManager<Tls>,
    caching: Caching,
}

impl Manager {
    pub fn new(config: postgres::Config, tls: Tls, choice: StatementCache) -> Manager {
        let caching = Caching::new(choice, &config);
        Manager {
            inner: PostgresConnectionManager::new(config, tls),
            caching,
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Link;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Link, postgres::Error> {
        Ok(Link {
            client: self.inner.connect()?,
            statements: Statements::default(),
            caching: self.caching.clone(),
        })
    }

    fn is_valid(&self, link: &mut Link) -> Result<(), postgres::Error> {
        self.inner.is_valid(&mut link.client)
    }

    fn has_broken(&self, link: &mut Link) -> bool {
        self.inner.has_broken(&mut link.client)
    }
}

/// A connection of a session and what it has prepared. It dereferences to
/// the client for the statements that need nothing more.
pub struct Link {
    client: postgres::Client,
    statements: Statements,
    caching: Caching,
}

impl Deref for Link {
    type Target = postgres::Client;

    fn deref(&self) -> &postgres::Client {
        &self.client
    }
}

impl DerefMut for Link {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// SQLSTATEs that say a named statement is not what this connection
/// prepared: gone (26000), taken (42P05), or planned for another result
/// type since a migration (0A000, "cached plan must not change result
/// type").
const STALE: &[&str] = &["26000", "42P05", "0A000"];

impl Link {
    /// Runs `sql` with `params` in one exchange and streams its rows:
    /// through a named statement when the pool keeps them and `sql` was
    /// seen before on this connection, otherwise unnamed.
    pub fn run(&mut self, sql: &str, params: &[Param]) -> Result<RowIter<'_>, postgres::Error> {
        let mut statement = self.statements.get(sql);
        // Whether the pool keeps statements is asked only when one would be
        // kept: a one-off command never spends a round trip on it.
        if statement.is_none()
            && self.statements.seen_before(sql)
            && self.caching.allowed(&mut self.client)?
        {
            let types: Vec<Type> = params.iter().map(Param::pg_type).collect();
            let prepared = self
                .client
                .prepare_typed(sql, &types)
                .inspect_err(|e| forget_if_stale(&mut self.statements, &self.caching, e))?;
            self.statements.insert(sql, prepared.clone());
            statement = Some(prepared);
        }
        match statement {
            Some(statement) => match self.client.query_raw(&statement, params.iter()) {
                Ok(rows) => Ok(rows),
                Err(e) => {
                    forget_if_stale(&mut self.statements, &self.caching, &e);
                    Err(e)
                }
            },
            None => self
                .client
                .query_typed_raw(sql, params.iter().map(|p| (p, p.pg_type()))),
        }
    }

    /// All the rows of [`Link::run`].
    pub fn query(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        use postgres::fallible_iterator::FallibleIterator;
        self.run(sql, params)?.collect()
    }

    /// Whether an error is one [`Link::run`] recovers from by running the
    /// statement again (outside a transaction): its statement was stale.
    pub fn is_stale(e: &postgres::Error) -> bool {
        e.code().is_some_and(|c| STALE.contains(&c.code()))
    }

    /// How many named statements this connection keeps.
    pub fn prepared(&self) -> usize {
        self.statements.prepared.len()
    }
}

/// After an error that says the named statements are not (or no longer)
/// this connection's, drops them; if a pooler explains it, the pool stops
/// keeping any.
fn forget_if_stale(statements: &mut Statements, caching: &Caching, e: &postgres::Error) {
    let Some(code) = e.code().map(|c| c.code()) else {
        return;
    };
    if STALE.contains(&code) {
        statements.clear();
        if code != "0A000" {
            caching.give_up();
        }
    }
}

/// The named statements of one connection, by SQL, with when each was last
/// used; and the hashes of SQL seen once.
#[derive(Default)]
struct Statements {
    prepared: HashMap<String, (Statement, u64)>,
    seen: HashSet<u64>,
    clock: u64,
}

impl Statements {
    fn get(&mut self, sql: &str) -> Option<Statement> {
        self.clock += 1;
        let clock = self.clock;
        self.prepared.get_mut(sql).map(|(s, used)| {
            *used = clock;
            s.clone()
        })
    }

    /// Remembers `sql`; true if it had been seen already.
    fn seen_before(&mut self, sql: &str) -> bool {
        let mut h = DefaultHasher::new();
        sql.hash(&mut h);
        let hash = h.finish();
        if self.seen.contains(&hash) {
            return true;
        }
        if self.seen.len() >= MAX_SEEN {
            self.seen.clear();
        }
        self.seen.insert(hash);
        false
    }

    fn insert(&mut self, sql: &str, statement: Statement) {
        if self.prepared.len() >= MAX_PREPARED
            && let Some(oldest) = self
                .prepared
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            // Dropping the last copy closes it on the server.
            self.prepared.remove(&oldest);
        }
        self.prepared
            .insert(sql.to_owned(), (statement, self.clock));
    }

    fn clear(&mut self) {
        self.prepared.clear();
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_auto_on_or_off() {
        assert_eq!(StatementCache::parse(None).unwrap(), StatementCache::Auto);
        assert_eq!(
            StatementCache::parse(Some(" Off ")).unwrap(),
            StatementCache::Off
        );
        assert_eq!(
            StatementCache::parse(Some("on")).unwrap(),
            StatementCache::On
        );
        assert!(StatementCache::parse(Some("sometimes")).is_err());
    }
}
