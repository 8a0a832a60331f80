//! The interpreter's state: who is logged in (read once, kept for the
//! shell's life), the database opened on first use, the open transaction of
//! `--single-transaction`; and the entry point, [`Session::run_text`],
//! which parses, checks and hands each statement to the meta statements
//! (`meta.rs`) or the executor (`executor.rs`).

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::auth::{self, Claims, Credential};
use crate::config::{self, Config};
use crate::db::link::StatementCache;
use crate::db::pool::{Database, Need, Work};
use crate::error::{ErrorKind, Result};
use crate::interpreter::executor::Failure;
use crate::interpreter::report::statement_kind;
use crate::language::analyzer::{self, Checked};
use crate::language::{ast, parser};
use crate::output::{Format, Printer};

/// What the caller does after a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `quit`, `exit`.
    Quit,
    /// Whoever reads our output has gone (`| head`): stop quietly.
    Closed,
}

/// The shell's state across statements.
pub struct Session {
    pub(super) config: Config,
    pub(super) db: Option<Database>,
    pub format: Format,
    pub color: bool,
    /// A person is at a terminal: passwords and missing fields may be asked.
    pub interactive: bool,
    /// `--single-transaction`: statements share this open transaction.
    pub(super) single_transaction: bool,
    pub(super) held: Option<Work>,
    /// The password of a collaborator being added, and whether it was
    /// generated (then printed once, after the commit).
    pub(super) pending_password: Option<(String, bool)>,
    /// Something was written: completion caches are stale.
    pub wrote: bool,
    /// The session this shell runs as, read once (from `OC12_JWT` or the
    /// token file) and kept for the shell's whole life: a login or logout in
    /// another terminal does not change who this shell is.
    pub(super) identity: Identity,
    /// The saved session as the last statement found it (`None`: not looked
    /// at yet, so this shell's own; `Some(None)`: no saved session).
    pub(super) saved_seen: Option<Option<String>>,
}

/// The session a shell runs as, shared with the completer.
pub type Identity = Arc<Mutex<Option<Credential>>>;

impl Session {
    pub fn new(config: Config, format: Format, color: bool, interactive: bool) -> Session {
        Session {
            config,
            db: None,
            format,
            color,
            interactive,
            single_transaction: false,
            held: None,
            pending_password: None,
            wrote: false,
            identity: Identity::default(),
            saved_seen: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn single_transaction(&self) -> bool {
        self.single_transaction
    }

    /// Makes the whole run one transaction, committed by [`Session::finish`].
    pub fn set_single_transaction(&mut self, on: bool) {
        self.single_transaction = on;
    }

    /// The database, opened on first use (creating and starting the local
    /// cluster when no URL is configured).
    pub fn database(&mut self) -> Result<&Database> {
        if self.db.is_none() {
            let url = self.database_url()?;
            let cache = StatementCache::parse(self.config.get(crate::db::link::STATEMENT_CACHE))?;
            let db = Database::open(&url)?;
            db.set_statement_cache(cache);
            if self.config.database_url().is_none() {
                // A server that stopped under an open shell (`local stop`,
                // a reboot) is started again, as when the shell started,
                // and the user is told; whichever statement finds it gone.
                let config = self.config.clone();
                db.when_unreachable(move || {
                    let cluster = crate::db::local::LocalCluster::new(config.paths.pgdata());
                    if matches!(cluster.status(), crate::db::local::Status::Running { .. }) {
                        return Ok(false);
                    }
                    crate::db::local::ensure(&config)?;
                    eprintln!("(the local cluster was not running: started it again)");
                    Ok(true)
                });
            }
            self.db = Some(db);
        }
        Ok(self.db.as_ref().expect("opened above"))
    }

    /// `OC12_DATABASE_URL`, or the local cluster's (created and started
    /// when needed).
    pub fn database_url(&mut self) -> Result<String> {
        if let Some(u) = self.config.database_url() {
            return Ok(u.to_owned());
        }
        let (url, _created) = crate::db::local::ensure(&self.config)?;
        Ok(url)
    }

    /// A transaction of `credential`'s session, or its reads (`need`).
    pub(super) fn work(&mut self, credential: &Credential, need: Need) -> Result<Work> {
        self.database()?.work(credential, need)
    }

    /// The database name for the prompt, without opening anything.
    pub fn database_name(&self) -> String {
        self.config
            .database_url()
            .and_then(|u| crate::db::parse_url(u).ok())
            .and_then(|c| crate::db::database_of(&c).map(str::to_owned))
            .unwrap_or_else(|| crate::db::DEFAULT_DATABASE.to_owned())
    }

    /// The session this shell runs as: the one it logged in with, or the
    /// saved one, read on first use. Its expiry is checked every time.
    pub fn credential(&self) -> Result<Credential> {
        let mut slot = self.identity.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = slot.as_ref() {
            c.check_expiry()?;
            return Ok(c.clone());
        }
        let c = auth::load_credential(&self.config.paths.state, self.config.get(config::JWT))?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// A note, once per change, when the saved session (the token file) is
    /// no longer this shell's: another terminal logged in or out. The shell
    /// stays who it is; the note says so before the user is surprised. A
    /// logout of the saved session while it was this shell's ended this
    /// shell's session too (the server's refusal follows), and the note says
    /// that instead.
    pub fn saved_session_note(&mut self) -> Option<String> {
        if self
            .config
            .get(config::JWT)
            .is_some_and(|t| !t.trim().is_empty())
        {
            return None;
        }
        let mine = self
            .identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let mine_line = mine.to_line();
        let saved = auth::load_token(&self.config.paths.state, None).ok();
        let before = self
            .saved_seen
            .replace(saved.clone())
            .unwrap_or_else(|| Some(mine_line.clone()));
        if saved == before || saved.as_deref() == Some(mine_line.as_str()) {
            return None;
        }
        let who = &mine.claims.sub;
        let now = match saved.as_deref().map(Credential::parse) {
            Some(Ok(other)) => format!("logged in as {}", other.claims.sub),
            Some(Err(_)) => "saved another session".to_owned(),
            None if before.as_deref() == Some(mine_line.as_str()) => {
                return Some(format!(
                    "note: another terminal logged out of this shell's session ({who}); \
                     log in again to go on"
                ));
            }
            None => "logged out".to_owned(),
        };
        Some(format!(
            "note: another terminal {now}; this shell stays {who} until it ends"
        ))
    }

    /// The shell's session, shared with the completer.
    pub fn identity(&self) -> Identity {
        self.identity.clone()
    }

    /// The claims of the current session (its expiry checked).
    pub fn claims(&self) -> Result<Claims> {
        self.credential().map(|c| c.claims)
    }

    /// Who the prompt shows, if anybody is logged in with a live session.
    pub fn user(&self) -> Option<String> {
        self.claims().ok().map(|c| c.sub)
    }

    /// Runs every statement of one logical line. Errors carry spans into
    /// `text`.
    pub fn run_text(&mut self, text: &str, out: &mut Printer<impl Write>) -> Result<Flow> {
        for statement in parser::parse(text)? {
            let flow = self.run_statement(&statement, out)?;
            if flow != Flow::Continue {
                return Ok(flow);
            }
        }
        Ok(Flow::Continue)
    }

    fn run_statement(
        &mut self,
        statement: &ast::Statement,
        out: &mut Printer<impl Write>,
    ) -> Result<Flow> {
        let mut checked = analyzer::analyze(statement)?;
        // `add company`/`add location` are completed from the registries,
        // for somebody logged in (otherwise error[auth], as for any write).
        if crate::interpreter::registry::fills(&checked) {
            self.claims()?;
            checked = crate::interpreter::registry::fill(checked, &self.config)?;
        }
        let printed = match checked {
            Checked::Meta(meta) => return self.run_meta(meta, out),
            Checked::Data(data) => {
                let kind = statement_kind(&data);
                let claims = self.claims().ok();
                // A panic is caught, reported and becomes error[internal];
                // an internal error is reported as unexpected. The user's
                // own mistakes (parse, permission, invalid...) are not.
                crate::monitoring::catch(&kind, claims.as_ref(), || {
                    match self.run_data(&data, out) {
                        Ok(()) => Ok(Ok(())),
                        Err(Failure::Closed) => Ok(Err(Failure::Closed)),
                        Err(Failure::Error(e)) => {
                            if e.kind == ErrorKind::Internal {
                                crate::monitoring::unexpected(&e, Some(&kind), claims.as_ref());
                            }
                            Err(e)
                        }
                    }
                })
                .map_err(Failure::Error)
                .and_then(|r| r)
            }
        };
        match printed {
            Ok(()) => Ok(Flow::Continue),
            Err(Failure::Closed) => Ok(Flow::Closed),
            Err(Failure::Error(e)) => Err(e),
        }
    }

    /// Ends the run: commits a single transaction, or rolls it back when
    /// `ok` is false.
    pub fn finish(&mut self, ok: bool) -> Result<()> {
        match self.held.take() {
            Some(work) if ok => work.commit(),
            Some(work) => work.rollback(),
            None => Ok(()),
        }
    }
}
