//! The connection pool of the application role, and the one way statements
//! reach PostgreSQL: inside a transaction, under the collaborator's own role.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::error::SqlState;
use r2d2_postgres::PostgresConnectionManager;

use crate::db::{self, Roles, quote_ident};
use crate::error::{Error, ErrorKind, Result};
use crate::tls::{self, Tls};

pub type Pool = r2d2::Pool<PostgresConnectionManager<Tls>>;
pub type Connection = r2d2::PooledConnection<PostgresConnectionManager<Tls>>;

const MAX_CONNECTIONS: u32 = 4;

/// A CRM database, reached as its application role.
pub struct Database {
    pool: Pool,
    config: postgres::Config,
    /// Why the pool last failed to connect, in full: r2d2 keeps only
    /// postgres's summary of it ("error performing TLS handshake").
    failure: Arc<Mutex<Option<String>>>,
    pub roles: Roles,
    pub name: String,
}

/// What the login function returns for a registration number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub hash: String,
    pub department: String,
}

impl Database {
    /// Opens a pool that connects lazily: nothing is dialled until the first
    /// statement, and an unreachable server fails within seconds instead of
    /// blocking.
    pub fn open(url: &str) -> Result<Database> {
        let (config, tls) = tls::configure(url)?;
        let name = db::database_of(&config)
            .unwrap_or(db::DEFAULT_DATABASE)
            .to_owned();
        let roles = Roles::for_database(&name)?;
        let manager = PostgresConnectionManager::new(config.clone(), tls);
        let failure = Arc::new(Mutex::new(None));
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(0))
            // A checkout would otherwise cost a round trip; a dead
            // connection shows itself on first use and is then dropped.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(4))
            .error_handler(Box::new(KeepFailure(failure.clone())))
            .build_unchecked(manager);
        Ok(Database {
            pool,
            config,
            failure,
            roles,
            name,
        })
    }

    /// Opens a connection in the background, so that the first statement
    /// (or Tab) that needs one finds it ready instead of waiting for a new
    /// server process. Failures are left for that first use to report.
    pub fn warm_up(&self) {
        let pool = self.pool.clone();
        std::thread::spawn(move || drop(pool.get()));
    }

    pub fn connection(&self) -> Result<Connection> {
        self.pool.get().map_err(|e| {
            let summary = e.to_string();
            let summary = summary.trim_start_matches("timed out waiting for connection: ");
            let detail = match self.failure.lock().ok().and_then(|f| f.clone()) {
                // r2d2 had a failure to report: the same one, in full.
                Some(full) if summary != "timed out waiting for connection" => full,
                _ => summary.to_owned(),
            };
            Error::connection(format!(
                "cannot connect to {}: {detail}",
                db::describe(&self.config),
            ))
        })
    }

    /// The scrypt hash and department of a registration number, read by the
    /// application role through the one function it may call.
    pub fn login_lookup(&self, registration: &str) -> Result<Option<LoginRecord>> {
        let mut attempts = 0;
        let row = loop {
            let mut conn = self.connection()?;
            // Outside a transaction, so unnamed and in one round trip: a
            // named statement could outlive it on a server connection that
            // a pooler (pgbouncer) hands to somebody else.
            match conn.query_typed_opt(
                "SELECT hash, department FROM crm.login_lookup($1)",
                &[(&registration, postgres::types::Type::TEXT)],
            ) {
                Ok(row) => break row,
                // A pooled connection that died while idle: see `begin`.
                Err(e) if connection_lost(&conn, &e) && attempts < MAX_CONNECTIONS => {
                    attempts += 1;
                    wait_until_closed(&conn);
                }
                Err(e) => return Err(map_error(&e)),
            }
        };
        Ok(row.map(|r| LoginRecord {
            hash: r.get(0),
            department: r.get(1),
        }))
    }

    /// Opens a transaction as the collaborator `registration`, after
    /// checking that they still exist in `department`, in one round trip.
    /// The role is set with `SET LOCAL`, so it ends with the transaction and
    /// never leaks to the next user of the pooled connection.
    pub fn begin(&self, registration: &str, department: &str) -> Result<Work> {
        let role = self.roles.collaborator(registration);
        let sql = format!(
            "BEGIN; SET LOCAL ROLE {}; SELECT department FROM crm.collaborator WHERE id = crm.me()",
            quote_ident(&role)
        );
        // An idle pooled connection may have died since its last use (the
        // server restarted). That shows on this first message, before
        // anything of the statement ran: dropped, it leaves the pool, and
        // the next one (fresh, in the end) is tried instead.
        let mut attempts = 0;
        let (work, rows) = loop {
            let conn = self.connection()?;
            let mut work = Work { conn, open: true };
            match work.conn.simple_query(&sql) {
                Ok(rows) => break (work, rows),
                Err(e) if connection_lost(&work.conn, &e) && attempts < MAX_CONNECTIONS => {
                    attempts += 1;
                    work.open = false;
                    wait_until_closed(&work.conn);
                }
                Err(e) => {
                    return Err(match e.code() {
                        Some(c)
                            // A dropped role: `SET ROLE` says 22023 "role
                            // ... does not exist".
                            if *c == SqlState::UNDEFINED_OBJECT
                                || *c == SqlState::INVALID_PARAMETER_VALUE
                                || *c == SqlState::INSUFFICIENT_PRIVILEGE =>
                        {
                            gone(registration)
                        }
                        _ => map_error(&e),
                    });
                }
            }
        };
        let current = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        });
        match current {
            Some(d) if d == department => Ok(work),
            Some(d) => Err(Error::auth(format!(
                "{registration} moved from {department} to {d}; log in again"
            ))),
            None => Err(gone(registration)),
        }
    }
}

#[derive(Debug)]
struct KeepFailure(Arc<Mutex<Option<String>>>);

impl r2d2::HandleError<postgres::Error> for KeepFailure {
    fn handle_error(&self, e: postgres::Error) {
        if let Ok(mut failure) = self.0.lock() {
            *failure = Some(db::connection_detail(&e));
        }
    }
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

fn gone(registration: &str) -> Error {
    Error::auth(format!(
        "collaborator {registration} no longer exists; log in again"
    ))
}

/// An open transaction under a collaborator's role. Dropped without
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
            // this transaction (nor under this role).
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
        text = "the statement was canceled; nothing was changed".to_owned();
    }
    Error::new(kind, text)
}
