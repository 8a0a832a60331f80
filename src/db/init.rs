//! `init`: creates the CRM in a database — roles, schema, migrations, and
//! optionally the demo data or a first manager — in one transaction, so that
//! a failure leaves nothing half-created. Running it again applies only the
//! migrations that are new.

use postgres::Client;
use postgres::error::SqlState;

use crate::db::tls::Tls;
use crate::db::{self, Roles, quote_ident};
use crate::error::{Error, Result};

/// One numbered file of `sql/`. `@P@` in its text stands for the role prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

/// The migrations of `sql/`, embedded in order at build time.
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The demo data of DATA.md; not a migration: loaded once by `--demo`.
const DEMO: &str = include_str!("../../sql/demo.sql");
/// The marker row that says the demo data was loaded.
const DEMO_MARK: &str = "demo";

#[derive(Debug, Clone, Default)]
pub struct InitOptions<'a> {
    /// A superuser, or a role with CREATEROLE and CREATEDB.
    pub admin_url: &'a str,
    /// The scrypt hash of the demo password, to load the demo data.
    pub demo_hash: Option<String>,
    /// A first gestion manager: registration and password hash.
    pub first_manager: Option<(String, String)>,
    /// `statement_timeout` of every session (`30s`); kept as it is when
    /// `None`.
    pub statement_timeout: Option<String>,
    /// The migrations to apply, normally [`MIGRATIONS`].
    pub migrations: &'a [Migration],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub database: String,
    pub created_database: bool,
    pub created_roles: bool,
    pub applied: Vec<String>,
    pub demo_loaded: bool,
    pub manager_created: Option<String>,
    /// The `OC12_DATABASE_URL` of every collaborator's machine: the server
    /// and database only, no user, no password.
    pub server_url: String,
    /// The shared application role of the first design was dropped.
    pub dropped_legacy_app: bool,
    pub statement_timeout_set: Option<String>,
}

impl InitReport {
    pub fn changed_anything(&self) -> bool {
        self.created_database
            || self.created_roles
            || !self.applied.is_empty()
            || self.demo_loaded
            || self.manager_created.is_some()
            || self.dropped_legacy_app
            || self.statement_timeout_set.is_some()
    }

    /// What happened, one line per fact, for the user.
    pub fn summary(&self) -> String {
        if !self.changed_anything() {
            return format!(
                "the CRM in database `{}` is up to date; nothing changed",
                self.database
            );
        }
        let mut lines = Vec::new();
        if self.created_database {
            lines.push(format!("created database `{}`", self.database));
        }
        if self.created_roles {
            lines.push("created the CRM's roles".to_owned());
        }
        if !self.applied.is_empty() {
            lines.push(format!(
                "applied {} migration{}: {}",
                self.applied.len(),
                if self.applied.len() == 1 { "" } else { "s" },
                self.applied.join(", ")
            ));
        }
        if self.demo_loaded {
            lines.push("loaded the demo data".to_owned());
        }
        if let Some(m) = &self.manager_created {
            lines.push(format!("created the first manager `{m}` (gestion)"));
        }
        if self.dropped_legacy_app {
            lines.push(
                "removed the shared application role: collaborators now log in with their own \
                 sessions (re-run `login` on every machine)"
                    .to_owned(),
            );
        }
        if let Some(t) = &self.statement_timeout_set {
            lines.push(format!("statement_timeout of new sessions: {t}"));
        }
        lines.join("\n")
    }
}

pub fn init(opts: &InitOptions<'_>) -> Result<InitReport> {
    let (mut admin, tls) = crate::db::tls::configure(opts.admin_url)?;
    let database = match admin.get_dbname() {
        Some(d) => d.to_owned(),
        None => {
            admin.dbname(db::DEFAULT_DATABASE);
            db::DEFAULT_DATABASE.to_owned()
        }
    };
    let roles = Roles::for_database(&database)?;

    let (mut client, created_database) = match admin.connect(tls.clone()) {
        Ok(c) => (c, false),
        Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {
            create_database(&admin, &tls, &database)?;
            (db::connect(&admin, &tls)?, true)
        }
        Err(e) => return Err(db::connection_error(&admin, &e)),
    };

    let result = run_in_transaction(&mut client, &roles, &database, opts);
    drop(client);
    match result {
        Ok(outcome) => Ok(InitReport {
            server_url: tls.with_params(server_url(&admin, &database)),
            database,
            created_database,
            created_roles: outcome.created_roles,
            applied: outcome.applied,
            demo_loaded: outcome.demo_loaded,
            manager_created: outcome.manager_created,
            dropped_legacy_app: outcome.dropped_legacy_app,
            statement_timeout_set: outcome.statement_timeout_set,
        }),
        Err(e) => {
            if created_database {
                // Nothing half-created: the database we made goes too.
                let _ = drop_database(&admin, &tls, &database);
            }
            Err(e)
        }
    }
}

struct Outcome {
    created_roles: bool,
    applied: Vec<String>,
    demo_loaded: bool,
    manager_created: Option<String>,
    dropped_legacy_app: bool,
    statement_timeout_set: Option<String>,
}

fn run_in_transaction(
    client: &mut Client,
    roles: &Roles,
    database: &str,
    opts: &InitOptions<'_>,
) -> Result<Outcome> {
    let sql_error = |what: &str, e: postgres::Error| init_error(what, &e);
    let mut tx = client
        .transaction()
        .map_err(|e| sql_error("cannot start", e))?;
    // Two inits at once on one database wait for each other.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('oc12-init'))", &[])
        .map_err(|e| sql_error("cannot lock", e))?;

    let owner = roles.owner();
    let exists = |tx: &mut postgres::Transaction<'_>, role: &str| -> Result<bool> {
        tx.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .map(|r| r.is_some())
            .map_err(|e| sql_error("cannot read roles", e))
    };
    let new_owner = !exists(&mut tx, &owner)?;
    let mut bootstrap = String::new();
    if new_owner {
        bootstrap.push_str(&format!(
            "CREATE ROLE {} NOLOGIN CREATEROLE;\n",
            quote_ident(&owner)
        ));
    }
    bootstrap.push_str(&format!(
        "GRANT {owner} TO CURRENT_USER;\n\
         CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner};\n\
         REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;\n\
         REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC;\n\
         SET LOCAL ROLE {owner};\n\
         CREATE TABLE IF NOT EXISTS {schema}.migrations (\n\
             name text PRIMARY KEY,\n\
             applied timestamptz NOT NULL DEFAULT now()\n\
         );\n",
        owner = quote_ident(&owner),
        schema = db::SCHEMA,
        db = quote_ident(database),
    ));
    tx.batch_execute(&bootstrap)
        .map_err(|e| sql_error("cannot create the CRM's roles and schema", e))?;

    let done: Vec<String> = tx
        .query("SELECT name FROM crm.migrations", &[])
        .map_err(|e| sql_error("cannot read the applied migrations", e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut applied = Vec::new();
    for m in opts.migrations {
        if done.iter().any(|d| d == m.name) {
            continue;
        }
        let sql = m.sql.replace("@P@", &roles.prefix);
        tx.batch_execute(&sql)
            .map_err(|e| sql_error(&format!("migration {} failed", m.name), e))?;
        tx.execute("INSERT INTO crm.migrations (name) VALUES ($1)", &[&m.name])
            .map_err(|e| sql_error("cannot record a migration", e))?;
        applied.push(m.name.to_owned());
    }

    let mut demo_loaded = false;
    if let Some(hash) = &opts.demo_hash
        && !done.iter().any(|d| d == DEMO_MARK)
    {
        tx.execute("SELECT set_config('oc12.demo_hash', $1, true)", &[hash])
            .map_err(|e| sql_error("cannot load the demo data", e))?;
        tx.batch_execute(DEMO)
            .map_err(|e| sql_error("cannot load the demo data", e))?;
        tx.execute("SELECT set_config('oc12.demo_hash', '', true)", &[])
            .map_err(|e| sql_error("cannot load the demo data", e))?;
        tx.execute(
            "INSERT INTO crm.migrations (name) VALUES ($1)",
            &[&DEMO_MARK],
        )
        .map_err(|e| sql_error("cannot record the demo data", e))?;
        demo_loaded = true;
    }

    let mut manager_created = None;
    if let Some((reg, hash)) = &opts.first_manager {
        let known = tx
            .query_opt("SELECT 1 FROM crm.collaborator WHERE id = $1", &[reg])
            .map_err(|e| sql_error("cannot read collaborators", e))?
            .is_some();
        if !known {
            let email = format!("{reg}@epic-events.example");
            tx.execute(
                "SELECT crm.add_collaborator($1, $1, $2, 'gestion', 'manager', $3)",
                &[reg, &email, hash],
            )
            .map_err(|e| sql_error("cannot create the first manager", e))?;
            manager_created = Some(reg.clone());
        }
    }

    let statement_timeout_set = match &opts.statement_timeout {
        Some(t) => {
            let changed = tx
                .execute(
                    "UPDATE crm.settings SET value = $1 \
                     WHERE name = 'statement_timeout' AND value <> $1",
                    &[t],
                )
                .map_err(|e| sql_error("cannot set statement_timeout", e))?;
            (changed > 0).then(|| t.clone())
        }
        None => None,
    };

    // The shared application role of the first design: it lost every right
    // in 007; the admin (who created it) drops it.
    let legacy = roles.legacy_app();
    tx.batch_execute("RESET ROLE")
        .map_err(|e| sql_error("cannot reset the role", e))?;
    let dropped_legacy_app = exists(&mut tx, &legacy)?;
    if dropped_legacy_app {
        tx.batch_execute(&format!(
            "REVOKE ALL ON DATABASE {db} FROM {app};\n\
             ALTER ROLE {app} IN DATABASE {db} RESET ALL;\n\
             DROP ROLE {app};",
            db = quote_ident(database),
            app = quote_ident(&legacy),
        ))
        .map_err(|e| sql_error("cannot drop the shared application role", e))?;
    }

    tx.commit().map_err(|e| sql_error("cannot commit", e))?;
    Ok(Outcome {
        created_roles: new_owner,
        applied,
        demo_loaded,
        manager_created,
        dropped_legacy_app,
        statement_timeout_set,
    })
}

fn create_database(admin: &postgres::Config, tls: &Tls, database: &str) -> Result<()> {
    let mut maintenance = admin.clone();
    maintenance.dbname("postgres");
    let mut client = db::connect(&maintenance, tls)?;
    client
        .batch_execute(&format!(
            "CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0",
            quote_ident(database)
        ))
        .map_err(|e| init_error(&format!("cannot create database `{database}`"), &e))
}

fn drop_database(admin: &postgres::Config, tls: &Tls, database: &str) -> Result<()> {
    let mut maintenance = admin.clone();
    maintenance.dbname("postgres");
    let mut client = db::connect(&maintenance, tls)?;
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {}",
            quote_ident(database)
        ))
        .map_err(|e| init_error("cannot drop", &e))
}

fn init_error(what: &str, e: &postgres::Error) -> Error {
    let detail = match e.as_db_error() {
        Some(d) if *d.code() == SqlState::INSUFFICIENT_PRIVILEGE => format!(
            "{}; the admin URL needs a superuser or a role with CREATEROLE and CREATEDB",
            d.message()
        ),
        Some(d) => d.message().to_owned(),
        None => e.to_string(),
    };
    match e.as_db_error() {
        Some(d) if *d.code() == SqlState::INSUFFICIENT_PRIVILEGE => {
            Error::permission(format!("{what}: {detail}"))
        }
        Some(_) => Error::internal(format!("{what}: {detail}")),
        None => Error::connection(format!("{what}: {detail}")),
    }
}

/// The address collaborators use: the admin URL's server and database, and
/// no user or password (TLS settings are added by the caller).
fn server_url(admin: &postgres::Config, database: &str) -> String {
    use postgres::config::Host;
    let port = admin.get_ports().first().copied().unwrap_or(5432);
    match admin.get_hosts().first() {
        Some(Host::Tcp(h)) if h.contains(':') => format!("postgresql://[{h}]:{port}/{database}"),
        Some(Host::Tcp(h)) => format!("postgresql://{h}:{port}/{database}"),
        Some(Host::Unix(p)) => {
            format!("postgresql:///{database}?host={}&port={port}", p.display())
        }
        None => format!("postgresql://localhost:{port}/{database}"),
    }
}
