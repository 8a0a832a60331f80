//! The CRM as the shell reaches it: logging in through the gate role, and
//! the connection pool of a session, which connects as the session's own
//! PostgreSQL role so that every statement runs under the collaborator's
//! rights (sql/SECURITY.md). There is no shared login role and no `SET ROLE`.
//!
//! Round trips: a read outside a transaction is one exchange, the session
//! check folded into the statement itself ([`Database::reads`]); a write is
//! `BEGIN; SELECT crm.session_check()` in one message, the statement, then
//! `COMMIT` ([`Database::begin`]). Statements go through the connection's
//! cache of prepared statements ([`crate::db::link`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{CancelToken, Row};

use crate::auth::{self, Credential};
use crate::db::link::{Link, Manager, StatementCache};
use crate::db::tls::{self, Tls};
use crate::db::translate::map_error;
use crate::db::{self, Roles};
use crate::error::{Error, ErrorKind, Result};
use crate::language::value::Param;

pub type Pool = r2d2::Pool<Manager>;
pub type Connection = r2d2::PooledConnection<Manager>;

const MAX_CONNECTIONS: u32 = 4;
/// How long a statement waits for a connection before `error[connection]`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(4);

/// The gate's password is public: the gate may only try logins.
pub const GATE_PASSWORD: &str = "oc12-gate-is-public";

/// Puts the rest of the transaction under the server's export timeout.
macro_rules! export_timeout {
    () => {
        "SELECT set_config('statement_timeout', crm.export_timeout(), true)"
    };
}

/// A CRM database: its address (no user, no password) and, once a session
/// uses it, that session's pool.
pub struct Database {
    inner: Arc<Inner>,
}

/// What a connection of a session is made from, shared with the [`Work`]
/// that may need another connection.
struct Inner {
    config: postgres::Config,
    tls: Tls,
    roles: Roles,
    statement_cache: Mutex<StatementCache>,
    pool: Mutex<Option<SessionPool>>,
    /// Brings an unreachable server back, if it can: true when it did.
    revive: Mutex<Option<Revive>>,
}

type Revive = Arc<dyn Fn() -> Result<bool> + Send + Sync>;

struct SessionPool {
    role: String,
    pool: Pool,
    failures: Failures,
}

/// Why the pool's connection attempts failed, in full (r2d2 keeps only
/// postgres's summary of it, "error performing TLS handshake").
#[derive(Debug, Clone, Default)]
struct Failures {
    /// The last failure, whatever it was.
    last: Arc<Mutex<Option<String>>>,
    /// A refusal that waiting will not change: the session itself refused
    /// (revoked, expired: 28xxx), or all its connections taken (53300).
    refused: Arc<Mutex<Option<(String, String)>>>,
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(Credential),
    /// Wrong registration or password; the server's count of failures in a row.
    Wrong {
        failures: u32,
    },
    /// Too many failures: the server checks nothing for that many seconds.
    Throttled {
        retry_after: u32,
        failures: u32,
    },
}

impl r2d2::HandleError<postgres::Error> for Failures {
    fn handle_error(&self, e: postgres::Error) {
        if let Some(db) = e.as_db_error()
            && (db.code().code().starts_with("28") || db.code() == &SqlState::TOO_MANY_CONNECTIONS)
            && let Ok(mut slot) = self.refused.lock()
        {
            *slot = Some((db.code().code().to_owned(), db.message().to_owned()));
        }
        if let Ok(mut slot) = self.last.lock() {
            *slot = Some(db::connection_detail(&e));
        }
    }
}

impl Database {
    /// The CRM at `url`, which names the server and database only: a user
    /// or password in it is refused (team mode: nobody shares a login).
    /// Nothing is dialled until the first login or statement.
    pub fn open(url: &str) -> Result<Database> {
        let (config, tls) = tls::configure(url)?;
        if config.get_password().is_some() {
            return Err(Error::usage(format!(
                "the database URL `{}` holds a password: a collaborator's configuration names \
                 only the server (user and password come from `login`); remove `user:password@` \
                 from OC12_DATABASE_URL",
                crate::db::url::redact_url(url)
            )));
        }
        let name = config
            .get_dbname()
            .unwrap_or(db::DEFAULT_DATABASE)
            .to_owned();
        let roles = Roles::for_database(&name)?;
        Ok(Database {
            inner: Arc::new(Inner {
                config,
                tls,
                roles,
                statement_cache: Mutex::new(StatementCache::Auto),
                pool: Mutex::new(None),
                revive: Mutex::new(None),
            }),
        })
    }

    /// Whether sessions keep prepared statements across transactions
    /// (`OC12_STATEMENT_CACHE`); for the pools made from now on.
    pub fn set_statement_cache(&self, choice: StatementCache) {
        *lock(&self.inner.statement_cache) = choice;
    }

    /// What to do when no connection reaches the server: `revive` says
    /// whether it brought the server back, and the connection is tried
    /// once more (the local cluster is started again).
    pub fn when_unreachable(&self, revive: impl Fn() -> Result<bool> + Send + Sync + 'static) {
        *lock(&self.inner.revive) = Some(Arc::new(revive));
    }

    /// Checks a password through the gate role, which may do nothing else:
    /// the server hands out the salt, the proof is computed here, the server
    /// compares, counts failures, and opens a session of `ttl`.
    pub fn login(&self, registration: &str, password: &str, ttl: Duration) -> Result<LoginOutcome> {
        let mut client = self.inner.gate()?;
        let salt: String = client
            .query_one("SELECT crm.login_salt($1)", &[&registration])
            .map_err(|e| map_error(&e))?
            .get(0);
        let proof = auth::proof(password, &salt)?;
        let ttl = i32::try_from(ttl.as_secs()).unwrap_or(i32::MAX);
        let row = client
            .query_one(
                "SELECT status, failures, retry_after, token, secret FROM crm.login($1, $2, $3)",
                &[&registration, &proof, &ttl],
            )
            .map_err(|e| map_error(&e))?;
        let status: String = row.get(0);
        let failures = u32::try_from(row.get::<_, i32>(1)).unwrap_or(0);
        Ok(match status.as_str() {
            "ok" => LoginOutcome::LoggedIn(Credential::new(
                row.get::<_, Option<&str>>(3).unwrap_or_default(),
                row.get::<_, Option<&str>>(4).unwrap_or_default(),
            )?),
            "throttled" => LoginOutcome::Throttled {
                retry_after: u32::try_from(row.get::<_, i32>(2)).unwrap_or(1),
                failures,
            },
            _ => LoginOutcome::Wrong { failures },
        })
    }

    /// Opens a connection in the background, so that the first statement
    /// (or Tab) that needs one finds it ready instead of waiting for a new
    /// server process. Failures are left for that first use to report.
    pub fn warm_up(&self, credential: &Credential) {
        let pool = self.inner.pool_for(credential).pool;
        std::thread::spawn(move || drop(pool.get()));
    }

    /// A connection of the session's pool. A server that refuses the
    /// session itself (revoked, expired) is an `error[auth]` at once.
    pub fn connection(&self, credential: &Credential) -> Result<Connection> {
        self.inner.connection(credential)
    }

    /// Ends the session on the server, for every copy of its token. A
    /// session already over is not an error.
    pub fn logout(&self, credential: &Credential) -> Result<()> {
        let mut conn = match self.connection(credential) {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::Auth => return Ok(()),
            Err(e) => return Err(e),
        };
        conn.batch_execute("SELECT crm.logout()")
            .map_err(|e| map_error(&e))?;
        drop(conn);
        *lock(&self.inner.pool) = None;
        Ok(())
    }

    /// What `need` asks for: a transaction ([`Database::begin`]), one under
    /// the export timeout, or reads each in one exchange
    /// ([`Database::reads`]).
    pub fn work(&self, credential: &Credential, need: Need) -> Result<Work> {
        match need {
            Need::Transaction => self.begin(credential),
            Need::Export => self.open_transaction(credential, true),
            Need::Reads => self.reads(credential),
        }
    }

    /// Opens a transaction of the session, after the server confirmed that
    /// the session is live, in one round trip; the department it returns
    /// must be the token's.
    pub fn begin(&self, credential: &Credential) -> Result<Work> {
        self.open_transaction(credential, false)
    }

    /// [`Database::begin`]; for an export, the server's longer statement
    /// timeout set in the same message.
    fn open_transaction(&self, credential: &Credential, export: bool) -> Result<Work> {
        credential.check_expiry()?;
        let sql = if export {
            concat!("BEGIN; SELECT crm.session_check(); ", export_timeout!())
        } else {
            "BEGIN; SELECT crm.session_check()"
        };
        // An idle pooled connection may have died since its last use (the
        // server restarted, or ended the session). That shows on this first
        // message, before anything of the statement ran: dropped, it leaves
        // the pool, and the next one (fresh, in the end) is tried instead.
        let mut attempts = 0;
        let (work, rows) = loop {
            let conn = self.connection(credential)?;
            let mut work = Work {
                conn,
                open: true,
                export,
                reads: None,
            };
            match work.conn.simple_query(sql) {
                Ok(rows) => break (work, rows),
                Err(e) if connection_lost(&work.conn, &e) && attempts < MAX_CONNECTIONS => {
                    attempts += 1;
                    work.open = false;
                    wait_until_closed(&work.conn);
                }
                Err(e) => return Err(map_error(&e)),
            }
        };
        // The check's row comes first.
        let current = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        });
        confirm_department(current, credential)?;
        Ok(work)
    }

    /// A connection of the session for reads that need no transaction:
    /// each query is then one exchange, the statement wrapped so that the
    /// server checks the session (`crm.session_check()`, and that it
    /// returns the token's department) before it reads a row. Nothing is
    /// sent yet.
    pub fn reads(&self, credential: &Credential) -> Result<Work> {
        credential.check_expiry()?;
        Ok(Work {
            conn: self.connection(credential)?,
            open: false,
            export: false,
            reads: Some(Reads {
                inner: self.inner.clone(),
                credential: credential.clone(),
            }),
        })
    }
}

/// The department `crm.session_check()` returned must be the token's.
fn confirm_department(current: Option<String>, credential: &Credential) -> Result<()> {
    let claims = &credential.claims;
    match current {
        Some(d) if d == claims.dept => Ok(()),
        Some(d) => Err(Error::auth(format!(
            "{} is in {d}, not {}; log in again",
            claims.sub, claims.dept
        ))),
        None => Err(Error::auth(
            "the server did not confirm the session; log in again",
        )),
    }
}

impl Inner {
    fn pool_for(&self, credential: &Credential) -> SessionPoolRef {
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let role = &credential.claims.role;
        if slot.as_ref().is_none_or(|p| &p.role != role) {
            let mut config = self.config.clone();
            config.user(role).password(credential.secret());
            let failures = Failures::default();
            let manager = Manager::new(config, self.tls.clone(), *lock(&self.statement_cache));
            let pool = r2d2::Pool::builder()
                .max_size(MAX_CONNECTIONS)
                .min_idle(Some(0))
                // A checkout would otherwise cost a round trip; a dead
                // connection shows itself on first use and is then dropped.
                .test_on_check_out(false)
                .connection_timeout(CHECKOUT_TIMEOUT)
                .error_handler(Box::new(failures.clone()))
                .connection_customizer(Box::new(UserZone))
                .build_unchecked(manager);
            *slot = Some(SessionPool {
                role: role.clone(),
                pool,
                failures,
            });
        }
        let p = slot.as_ref().expect("set above");
        SessionPoolRef {
            pool: p.pool.clone(),
            failures: p.failures.clone(),
        }
    }

    fn connection(&self, credential: &Credential) -> Result<Connection> {
        match self.checkout(credential) {
            Err(e) if e.kind == ErrorKind::Connection => {
                let revive = lock(&self.revive).clone();
                match revive {
                    Some(revive) if revive()? => self.checkout(credential),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    fn checkout(&self, credential: &Credential) -> Result<Connection> {
        let SessionPoolRef { pool, failures } = self.pool_for(credential);
        let refused = &failures.refused;
        let start = Instant::now();
        if let Some(conn) = pool.try_get() {
            return Ok(conn);
        }
        // One wait that also asks the pool for one more connection (each
        // call of `get_timeout` does, up to the pool's size)...
        if let Ok(conn) = pool.get_timeout(Duration::from_millis(50)) {
            return Ok(conn);
        }
        // ...then, while that connection is being made (the pool retries a
        // failed attempt by itself), watch for a refusal that waiting will
        // not change, instead of waiting for the whole timeout.
        loop {
            if let Some(why) = refused.lock().ok().and_then(|mut s| s.take()) {
                return Err(self.refusal(credential, why));
            }
            if let Some(conn) = pool.try_get() {
                return Ok(conn);
            }
            if start.elapsed() >= CHECKOUT_TIMEOUT {
                let detail = failures
                    .last
                    .lock()
                    .ok()
                    .and_then(|f| f.clone())
                    .unwrap_or_else(|| "timed out waiting for a connection".to_owned());
                return Err(Error::connection(format!(
                    "cannot connect to {}: {detail}",
                    db::describe(&self.config),
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What a refused connection of the session means for the user. For a
    /// session that is over, the gate says why and when.
    fn refusal(&self, credential: &Credential, (code, message): (String, String)) -> Error {
        if code == SqlState::TOO_MANY_CONNECTIONS.code() {
            return Error::connection(format!(
                "this session has all the connections the server allows it ({message}); \
                 close another shell of this session, or log in again for a session of its own"
            ));
        }
        let why = self.gate().ok().and_then(|mut gate| {
            // Its times in the user's zone, as every time the shell shows.
            use_user_zone(&mut gate).ok()?;
            gate.query_one("SELECT crm.session_end($1)", &[&credential.claims.role])
                .ok()
                .and_then(|row| row.get::<_, Option<String>>(0))
        });
        Error::auth(match why {
            Some(why) => format!("{why}; log in again"),
            None => format!("the server refused this session ({message}); log in again"),
        })
    }

    /// A connection as the gate, which may only log in (and say why a
    /// session ended).
    fn gate(&self) -> Result<postgres::Client> {
        let mut gate = self.config.clone();
        gate.user(&self.roles.gate()).password(GATE_PASSWORD);
        db::connect(&gate, &self.tls)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct SessionPoolRef {
    pool: Pool,
    failures: Failures,
}

/// Whether an error on a statement's first message says the connection
/// itself is gone (rather than the statement being refused): a transport
/// failure, or the server's notice that it shut the session down. The
/// client may not have marked the connection closed yet when the error
/// comes back.
fn connection_lost(conn: &postgres::Client, e: &postgres::Error) -> bool {
    conn.is_closed()
        || match e.as_db_error() {
            None => true,
            Some(db) => {
                let code = db.code().code();
                code.starts_with("57P") || code.starts_with("08")
            }
        }
}

/// The pool keeps a connection unless it shows closed, which the client
/// notices a moment after the error: wait for it (briefly), so that the
/// next try gets another connection.
fn wait_until_closed(conn: &postgres::Client) {
    for _ in 0..50 {
        if conn.is_closed() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// What a statement needs of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A transaction: a write, or statements that must see each other.
    Transaction,
    /// A transaction under the server's longer timeout for exports (csv,
    /// json), which stream at their reader's pace.
    Export,
    /// Reads, each one exchange of its own.
    Reads,
}

/// Statements of a session: inside a transaction ([`Database::begin`]),
/// or, for reads, each its own guarded exchange ([`Database::reads`]).
/// Dropped inside a transaction without [`Work::commit`], it rolls back.
pub struct Work {
    conn: Connection,
    /// A transaction is open: COMMIT or ROLLBACK is owed.
    open: bool,
    /// The transaction runs under the export timeout.
    export: bool,
    /// Outside a transaction: what a guarded read needs.
    reads: Option<Reads>,
}

/// What reads outside a transaction need: the department the server must
/// confirm, and the way to another connection when this one is found dead.
struct Reads {
    inner: Arc<Inner>,
    credential: Credential,
}

/// The SQL of a read outside a transaction: the session check is a filter
/// with no column in it, which PostgreSQL evaluates once, before the
/// statement reads anything (a "One-Time Filter"); it raises when the
/// session is over, and is false when the department is not the token's
/// (the department is parameter `params + 1`). The check is parallel
/// restricted (sql/009), so a large read keeps its parallel plan.
pub fn guarded(sql: &str, params: usize) -> String {
    format!(
        "SELECT q.* FROM ({sql}) q WHERE crm.session_check() = ${}::text",
        params + 1
    )
}

impl Work {
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.conn
    }

    /// The token to cancel what runs on this connection (Ctrl-C).
    pub fn cancel_token(&self) -> CancelToken {
        self.conn.cancel_token()
    }

    /// Puts the rest of the transaction under the server's longer timeout
    /// for exports, unless it already is (opened for [`Need::Export`]).
    pub fn export_timeout(&mut self) -> Result<()> {
        if self.export || self.reads.is_some() {
            return Ok(());
        }
        self.conn
            .batch_execute(export_timeout!())
            .map_err(|e| map_error(&e))?;
        self.export = true;
        Ok(())
    }

    /// Runs a statement of the open transaction (a write, or a read that
    /// must see it) and returns its rows, or PostgreSQL's error for the
    /// caller to explain.
    pub fn execute(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, postgres::Error> {
        debug_assert!(self.reads.is_none(), "a write outside a transaction");
        self.conn.query(sql, params)
    }

    /// The rows of a read.
    pub fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.each_row(sql, params, |row| {
            rows.push(row.clone());
            Ok::<_, Error>(())
        })?;
        Ok(rows)
    }

    /// The one row of a read, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Param]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Streams the rows of a read to `f`, one by one (constant memory
    /// however many); returns how many. Outside a transaction the read is
    /// one guarded exchange; a connection found dead before any answer is
    /// replaced and the read sent again, and a read that finds nothing asks
    /// the server why (nothing there, or a department that changed).
    pub fn each_row<E: From<Error>>(
        &mut self,
        sql: &str,
        params: &[Param],
        mut f: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<usize, E> {
        let Some(reads) = &self.reads else {
            let rows = self.conn.run(sql, params).map_err(|e| map_error(&e))?;
            return stream_rows(rows, &mut f);
        };
        let sql = guarded(sql, params.len());
        let mut all = Vec::with_capacity(params.len() + 1);
        all.extend_from_slice(params);
        all.push(Param::Text(reads.credential.claims.dept.clone()));
        let mut attempts = 0;
        loop {
            // The rows borrow the connection: consumed within this statement.
            let outcome = match self.conn.run(&sql, &all) {
                Ok(rows) => Ok(stream_rows(rows, &mut f)),
                Err(e) => Err(e),
            };
            let error = match outcome {
                Ok(streamed) => {
                    let n = streamed?;
                    if n == 0 {
                        confirm_session(&mut self.conn, &reads.credential)?;
                    }
                    return Ok(n);
                }
                Err(e) => e,
            };
            let lost = connection_lost(&self.conn, &error);
            if attempts >= MAX_CONNECTIONS || !(lost || Link::is_stale(&error)) {
                return Err(map_error(&error).into());
            }
            attempts += 1;
            if lost {
                // Nothing of the read ran: another connection, the same read.
                wait_until_closed(&self.conn);
                self.conn = reads.inner.connection(&reads.credential)?;
                crate::db::cancel::retarget(self.conn.cancel_token());
            }
        }
    }

    pub fn commit(mut self) -> Result<()> {
        if !std::mem::take(&mut self.open) {
            return Ok(());
        }
        self.conn.batch_execute("COMMIT").map_err(|e| map_error(&e))
    }

    pub fn rollback(mut self) -> Result<()> {
        if !std::mem::take(&mut self.open) {
            return Ok(());
        }
        self.conn
            .batch_execute("ROLLBACK")
            .map_err(|e| map_error(&e))
    }
}

fn stream_rows<E: From<Error>>(
    mut rows: postgres::RowIter<'_>,
    f: &mut impl FnMut(&Row) -> Result<(), E>,
) -> Result<usize, E> {
    let mut n = 0;
    while let Some(row) = rows.next().map_err(|e| map_error(&e))? {
        f(&row)?;
        n += 1;
    }
    Ok(n)
}

/// A guarded read found nothing: either there is nothing, or the server's
/// department for the session is not the token's. Asks, on the same
/// connection.
fn confirm_session(link: &mut Link, credential: &Credential) -> Result<()> {
    let current = link
        .query_typed_one("SELECT crm.session_check()", &[])
        .map_err(|e| map_error(&e))?
        .get(0);
    confirm_department(current, credential)
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.open && !self.conn.is_closed() {
            // The connection goes back to the pool: it must not stay inside
            // this transaction.
            let _ = self.conn.batch_execute("ROLLBACK");
        }
    }
}

/// Times typed and shown mean the user's zone (`output::zone`): a
/// connection whose zone differs from the database's default says so once,
/// with `SET TimeZone`, which pgbouncer keeps for the client as well.
fn use_user_zone(client: &mut postgres::Client) -> std::result::Result<(), postgres::Error> {
    let zone = crate::output::zone();
    if zone == crate::output::DATABASE_ZONE {
        return Ok(());
    }
    client.batch_execute(&format!("SET TimeZone = '{}'", zone.name()))
}

/// Every new connection of a session pool takes the user's zone.
#[derive(Debug)]
struct UserZone;

impl r2d2::CustomizeConnection<crate::db::link::Link, postgres::Error> for UserZone {
    fn on_acquire(
        &self,
        client: &mut crate::db::link::Link,
    ) -> std::result::Result<(), postgres::Error> {
        use_user_zone(client)
    }
}
