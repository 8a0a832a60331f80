//! The CRM as the shell reaches it: logging in through the gate role, and
//! the connection pool of a session, which connects as the session's own
//! PostgreSQL role so that every statement runs under the collaborator's
//! rights (sql/SECURITY.md). There is no shared login role and no `SET ROLE`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use r2d2_postgres::PostgresConnectionManager;

use crate::auth::{self, Credential};
use crate::db::tls::{self, Tls};
use crate::db::{self, Roles};
use crate::error::{Error, ErrorKind, Result};

pub type Pool = r2d2::Pool<PostgresConnectionManager<Tls>>;
pub type Connection = r2d2::PooledConnection<PostgresConnectionManager<Tls>>;

const MAX_CONNECTIONS: u32 = 4;
/// How long a statement waits for a connection before `error[connection]`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(4);

/// The gate's password is public: the gate may only try logins.
pub const GATE_PASSWORD: &str = "oc12-gate-is-public";

/// A CRM database: its address (no user, no password) and, once a session
/// uses it, that session's pool.
pub struct Database {
    config: postgres::Config,
    tls: Tls,
    pub roles: Roles,
    pub name: String,
    pool: Mutex<Option<SessionPool>>,
}

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
            config,
            tls,
            roles,
            name,
            pool: Mutex::new(None),
        })
    }

    /// Checks a password through the gate role, which may do nothing else:
    /// the server hands out the salt, the proof is computed here, the server
    /// compares, counts failures, and opens a session of `ttl`.
    pub fn login(&self, registration: &str, password: &str, ttl: Duration) -> Result<LoginOutcome> {
        let mut client = self.gate()?;
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
        let pool = self.pool_for(credential).pool;
        std::thread::spawn(move || drop(pool.get()));
    }

    fn pool_for(&self, credential: &Credential) -> SessionPoolRef {
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let role = &credential.claims.role;
        if slot.as_ref().is_none_or(|p| &p.role != role) {
            let mut config = self.config.clone();
            config.user(role).password(credential.secret());
            let failures = Failures::default();
            let manager = PostgresConnectionManager::new(config, self.tls.clone());
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

    /// A connection of the session's pool. A server that refuses the
    /// session itself (revoked, expired) is an `error[auth]` at once.
    pub fn connection(&self, credential: &Credential) -> Result<Connection> {
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
        *self.pool.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Opens a transaction of the session, after the server confirmed that
    /// the session is live, in one round trip; the department it returns
    /// must be the token's.
    pub fn begin(&self, credential: &Credential) -> Result<Work> {
        credential.check_expiry()?;
        let claims = &credential.claims;
        let sql = "BEGIN; SELECT crm.session_check()";
        // An idle pooled connection may have died since its last use (the
        // server restarted, or ended the session). That shows on this first
        // message, before anything of the statement ran: dropped, it leaves
        // the pool, and the next one (fresh, in the end) is tried instead.
        let mut attempts = 0;
        let (work, rows) = loop {
            let conn = self.connection(credential)?;
            let mut work = Work { conn, open: true };
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
        let current = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        });
        match current {
            Some(d) if d == claims.dept => Ok(work),
            Some(d) => Err(Error::auth(format!(
                "{} is in {d}, not {}; log in again",
                claims.sub, claims.dept
            ))),
            None => Err(Error::auth(
                "the server did not confirm the session; log in again",
            )),
        }
    }
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

/// An open transaction of a session. Dropped without
/// [`Work::commit`], it rolls back.
pub struct Work {
    conn: Connection,
    open: bool,
}

impl Work {
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.conn
    }

    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.batch_execute("COMMIT").map_err(|e| map_error(&e))
    }

    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn
            .batch_execute("ROLLBACK")
            .map_err(|e| map_error(&e))
    }
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

/// Rules about the state of other records rather than the value given
/// (PRODUCT.md: "event on an unsigned contract" is a `conflict`).
const STATE_RULES: &[&str] = &["event_contract_signed", "contract_status_events"];

/// Turns a PostgreSQL error into the shell's kinds: refusals are
/// `permission`, broken rules `invalid` or `conflict` (with the constraint's
/// message), a lost server `connection`, and only the unexpected `internal`.
pub fn map_error(e: &postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        return if e.is_closed() || std::error::Error::source(e).is_some() {
            Error::connection(format!("lost the connection to the database: {e}"))
        } else {
            Error::internal(format!("database error: {e}"))
        };
    };
    let code = db.code();
    let message = db.message().to_owned();
    let kind = match code.code() {
        "23514" if db.constraint().is_some_and(|c| STATE_RULES.contains(&c)) => ErrorKind::Conflict,
        "42501" => ErrorKind::Permission,
        // The collaborator functions: `collaborator ... does not exist`.
        "P0002" => ErrorKind::NotFound,
        c if c.starts_with("28") => ErrorKind::Auth,
        "23505" | "23503" | "23P01" | "40001" | "40P01" | "55P03" | "42710" => ErrorKind::Conflict,
        c if c.starts_with("23") || c.starts_with("22") => ErrorKind::Invalid,
        "57014" => ErrorKind::Canceled,
        c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
            ErrorKind::Connection
        }
        _ => ErrorKind::Internal,
    };
    let mut text = match kind {
        ErrorKind::Permission if message.contains("row-level security") => {
            "the database refused: that record is not yours to change".to_owned()
        }
        ErrorKind::Permission => format!("the database refused: {message}"),
        _ => message,
    };
    if let (ErrorKind::Invalid | ErrorKind::Conflict, Some(detail)) = (kind, db.detail())
        && !text.contains(detail)
        && !detail.starts_with("Failing row")
    {
        text.push_str(&format!(" ({detail})"));
    }
    if *code == SqlState::QUERY_CANCELED {
        text = if db.message().contains("statement timeout") {
            "the statement ran longer than the server allows (its statement_timeout); nothing \
             was changed: narrow it with `where` or `limit`"
                .to_owned()
        } else {
            "the statement was canceled; nothing was changed".to_owned()
        };
    }
    Error::new(kind, text)
}

/// Times typed and shown mean the user's zone (`output::zone`): a new
/// connection whose zone differs from the database's default says so once,
/// with `SET TimeZone`, which pgbouncer keeps for the client as well.
#[derive(Debug)]
struct UserZone;

impl r2d2::CustomizeConnection<postgres::Client, postgres::Error> for UserZone {
    fn on_acquire(
        &self,
        client: &mut postgres::Client,
    ) -> std::result::Result<(), postgres::Error> {
        let zone = crate::output::zone();
        if zone == crate::output::DATABASE_ZONE {
            return Ok(());
        }
        client.batch_execute(&format!("SET TimeZone = '{}'", zone.name()))
    }
}
