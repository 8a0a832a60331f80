//! The interpreter: who is logged in, and running checked statements under
//! their role, printing what comes back. Used by every mode — the prompt,
//! scripts and `-c` — so that they behave the same.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use crate::auth::{self, Claims, Credential};
use crate::config::{self, Config};
use crate::database::{Database, LoginOutcome, Need, Work, map_error};
use crate::error::{Error, ErrorKind, Result};
use crate::language::analyzer::{self, Checked, Data, Meta, Target};
use crate::language::catalog::{self, Department, Entity};
use crate::language::help;
use crate::language::planner::{self, Plan, Planned};
use crate::language::{ast, parser};
use crate::link::StatementCache;
use crate::output::{self, Format, Printer, RowSink};
use crate::terminal;
use crate::value::{Cell, Param};

/// The most values PostgreSQL accepts as parameters of one statement.
const MAX_PARAMS: usize = u16::MAX as usize;

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
    config: Config,
    db: Option<Database>,
    pub format: Format,
    pub color: bool,
    /// A person is at a terminal: passwords and missing fields may be asked.
    pub interactive: bool,
    /// `--single-transaction`: statements share this open transaction.
    single_transaction: bool,
    held: Option<Work>,
    /// The password of a collaborator being added, and whether it was
    /// generated (then printed once, after the commit).
    pending_password: Option<(String, bool)>,
    /// Something was written: completion caches are stale.
    pub wrote: bool,
    /// The session this shell runs as, read once (from `OC12_JWT` or the
    /// token file) and kept for the shell's whole life: a login or logout in
    /// another terminal does not change who this shell is.
    identity: Identity,
    /// The saved session last reported as not this shell's (`None`: none
    /// reported; `Some(None)`: no saved session).
    saved_told: Option<Option<String>>,
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
            saved_told: None,
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
            let cache = StatementCache::parse(self.config.get(crate::link::STATEMENT_CACHE))?;
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
    fn work(&mut self, credential: &Credential, need: Need) -> Result<Work> {
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
    /// stays who it is; the note says so before the user is surprised.
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
        let saved = auth::load_token(&self.config.paths.state, None).ok();
        if saved.as_deref() == Some(mine.to_line().as_str()) {
            self.saved_told = None;
            return None;
        }
        if self.saved_told.as_ref() == Some(&saved) {
            return None;
        }
        let now = match saved.as_deref().map(Credential::parse) {
            Some(Ok(other)) => format!("logged in as {}", other.claims.sub),
            Some(Err(_)) => "saved another session".to_owned(),
            None => "logged out".to_owned(),
        };
        self.saved_told = Some(saved);
        Some(format!(
            "note: another terminal {now}; this shell stays {} until it ends",
            mine.claims.sub
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

    fn run_data(&mut self, data: &Data, out: &mut Printer<impl Write>) -> Result<(), Failure> {
        let claims = self.claims()?;
        let department = Department::from_name(&claims.dept).ok_or_else(|| {
            Error::auth(format!(
                "unknown department `{}`; log in again",
                claims.dept
            ))
        })?;
        check_matrix(data, department)?;
        let mut planned = planner::plan(data);
        check_params(&planned)?;
        if planner::needs_password_hash(data) {
            let password = self.initial_password()?;
            if let Planned::One(plan) = &mut planned {
                planner::fill_password_hash(plan, auth::hash_password(&password.0)?);
            }
            self.pending_password = Some(password);
        }
        if self.held.is_none() {
            let credential = self.credential()?;
            // A read on its own needs no transaction: one exchange per
            // query, the session checked inside it. A write, or anything of
            // a single transaction, opens one (BEGIN and the check in one
            // message), and so does an export, for its longer timeout.
            let need = if self.single_transaction || data_is_write(data) {
                Need::Transaction
            } else if is_export(data, out.format()) {
                Need::Export
            } else {
                Need::Reads
            };
            let work = self.work(&credential, need)?;
            self.held = Some(work);
        }
        let work = self.held.as_mut().expect("begun above");
        let _ctrl_c = crate::cancel::Watch::new(work.cancel_token());
        let mut reports = Vec::new();
        let result = execute(work, data, &planned, department, out, &mut reports);
        // The reader of our output going away does not undo a write that
        // succeeded: it is committed, and reported, all the same.
        let closed = matches!(result, Err(Failure::Closed));
        match result {
            Ok(()) | Err(Failure::Closed) => {}
            Err(e) => {
                if !self.single_transaction {
                    // Rolls back.
                    self.held = None;
                }
                self.pending_password = None;
                return Err(e);
            }
        }
        if !self.single_transaction {
            let committed = self.held.take().expect("begun above").commit();
            // A read has nothing to commit: what it showed stands even if
            // the server went away right after.
            if data_is_write(data)
                || !matches!(&committed, Err(e) if e.kind == ErrorKind::Connection)
            {
                committed?;
            }
        }
        if data_is_write(data) {
            self.wrote = true;
        }
        // Only what was committed is reported (in a single transaction, at
        // the latest the statement's own success).
        for report in reports {
            report.send(&claims);
        }
        if closed {
            return Err(Failure::Closed);
        }
        if let Some((password, generated)) = self.pending_password.take()
            && generated
        {
            out.message(&format!(
                "initial password: {password}\n(shown once: hand it over privately)"
            ))?;
        }
        out.flush().map_err(Failure::from)
    }

    /// The first password of a new collaborator: asked twice on a terminal,
    /// generated in a script (a password never appears in a statement).
    fn initial_password(&self) -> Result<(String, bool)> {
        if self.interactive {
            Ok((
                terminal::read_new_password("password of the new collaborator")?,
                false,
            ))
        } else {
            Ok((auth::generate_password(), true))
        }
    }

    fn run_meta(&mut self, meta: Meta, out: &mut Printer<impl Write>) -> Result<Flow> {
        let said = |out: &mut Printer<_>, text: &str| match out.message(text) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Flow::Closed),
            Err(e) => Err(Error::internal(format!("cannot write: {e}"))),
        };
        match meta {
            Meta::Quit => Ok(Flow::Quit),
            Meta::Format(f) => {
                self.format = f;
                out.set_format(self.format);
                Ok(Flow::Continue)
            }
            Meta::Help(topic) => said(out, &topic.map_or_else(help::overview, |t| t.text())),
            Meta::Lookup(lookup) => {
                crate::interpreter::registry::lookup(&self.config, &lookup, out)
            }
            Meta::Logout => {
                let text = self.logout()?;
                said(out, &text)
            }
            Meta::Whoami => {
                let text = self.whoami()?;
                said(out, &text)
            }
            Meta::Login(registration) => {
                let registration = match registration {
                    Some(r) => r,
                    None if self.interactive => terminal::ask("registration number: ")?,
                    None => return Err(Error::usage("login needs a registration number")),
                };
                if !self.interactive {
                    return Err(Error::usage(
                        "a password cannot be given in a script; log in first with \
                         `oc12-shell login REGISTRATION --password-stdin`",
                    ));
                }
                let password = terminal::read_password("password")?;
                let text = self.login(&registration, &password)?;
                said(out, &text)
            }
            Meta::Passwd(registration) => {
                let text = self.passwd(registration.as_deref())?;
                said(out, &text)
            }
        }
    }

    /// Logs in on the server and saves the session; returns the greeting.
    pub fn login(&mut self, registration: &str, password: &str) -> Result<String> {
        let registration = registration.trim().to_ascii_lowercase();
        let ttl = auth::parse_ttl(self.config.get(config::TOKEN_TTL).unwrap_or("8h"))?;
        let outcome = self.database()?.login(&registration, password, ttl)?;
        let credential = match outcome {
            LoginOutcome::LoggedIn(c) => c,
            LoginOutcome::Wrong { failures } => {
                crate::monitoring::failed_logins(&registration, failures);
                return Err(Error::auth(format!(
                    "wrong registration number or password for `{registration}`"
                )));
            }
            LoginOutcome::Throttled {
                retry_after,
                failures,
            } => {
                crate::monitoring::failed_logins(&registration, failures);
                return Err(Error::auth(format!(
                    "too many failed logins for `{registration}` ({failures} in a row); \
                     try again in {retry_after} s"
                )));
            }
        };
        auth::save_token(&self.config.paths.state, &credential.to_line())?;
        let department = credential.claims.dept.clone();
        *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = Some(credential);
        Ok(format!("logged in as {registration} ({department})"))
    }

    /// Ends this shell's session on the server (every copy of its token),
    /// and removes the token file if it still holds that session.
    fn logout(&mut self) -> Result<String> {
        let current = self
            .identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let credential = match current {
            Some(c) => Some(c),
            None => {
                auth::load_credential(&self.config.paths.state, self.config.get(config::JWT)).ok()
            }
        };
        if let Some(c) = &credential {
            self.database()?.logout(c)?;
        }
        let saved = auth::load_token(&self.config.paths.state, None).ok();
        if saved.is_some_and(|line| credential.as_ref().is_none_or(|c| line == c.to_line())) {
            auth::delete_token(&self.config.paths.state)?;
        }
        Ok("logged out".to_owned())
    }

    fn whoami(&mut self) -> Result<String> {
        let credential = self.credential()?;
        let claims = &credential.claims;
        let mut work = self.work(&credential, Need::Reads)?;
        let name: String = work
            .query_opt(
                "SELECT name FROM crm.collaborator WHERE id = $1::text",
                &[Param::Text(claims.sub.clone())],
            )?
            .ok_or_else(|| Error::auth(format!("{} no longer exists; log in again", claims.sub)))?
            .get(0);
        let until = output::time_labelled(claims.expires_at());
        Ok(format!(
            "{} {name} ({}), session until {until}",
            claims.sub, claims.dept
        ))
    }

    fn passwd(&mut self, registration: Option<&str>) -> Result<String> {
        let credential = self.credential()?;
        let claims = credential.claims.clone();
        let target = registration.map_or_else(|| claims.sub.clone(), str::to_ascii_lowercase);
        let own = target == claims.sub;
        if !own && claims.dept != Department::Gestion.name() {
            return Err(Error::permission(
                "only gestion may reset another collaborator's password",
            ));
        }
        let (password, generated) = if own {
            if !self.interactive {
                return Err(Error::usage(
                    "changing your password needs a terminal: run `passwd` at the prompt",
                ));
            }
            let current = terminal::read_password("current password")?;
            let new = terminal::read_new_password("password")?;
            let hash = auth::hash_password(&new)?;
            let mut work = self.work(&credential, Need::Transaction)?;
            let salt: String = work
                .client()
                .query_one("SELECT crm.login_salt($1)", &[&claims.sub])
                .map_err(|e| map_error(&e))?
                .get(0);
            let proof = auth::proof(&current, &salt)?;
            work.client()
                .execute("SELECT crm.change_password($1, $2)", &[&proof, &hash])
                .map_err(|e| match e.code() {
                    Some(c) if *c == postgres::error::SqlState::INVALID_PASSWORD => {
                        Error::auth("the current password is wrong")
                    }
                    _ => map_error(&e),
                })?;
            work.commit()?;
            (new, false)
        } else {
            let password = if self.interactive {
                terminal::read_new_password(&format!("password for {target}"))?
            } else {
                auth::generate_password()
            };
            let hash = auth::hash_password(&password)?;
            let mut work = self.work(&credential, Need::Transaction)?;
            work.client()
                .execute("SELECT crm.set_password($1, $2)", &[&target, &hash])
                .map_err(|e| map_error(&e))?;
            work.commit()?;
            (password, !self.interactive)
        };
        crate::monitoring::collaborator_changed(
            &claims,
            &target,
            crate::monitoring::CollaboratorAction::Changed,
            &["password"],
        );
        Ok(if generated {
            format!("new password for {target}: {password}\n(shown once: hand it over privately)")
        } else if own {
            "password changed; your other sessions are ended".to_owned()
        } else {
            format!("password changed for {target}; their sessions are ended")
        })
    }
}

/// An error, or the reader going away mid-output.
enum Failure {
    Error(Error),
    Closed,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::Closed
        } else {
            Failure::Error(Error::internal(format!("cannot write the output: {e}")))
        }
    }
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Failure {
        Failure::Error(map_error(&e))
    }
}

/// A monitoring event owed once the statement's transaction commits.
enum Report {
    Collaborator {
        id: String,
        action: crate::monitoring::CollaboratorAction,
        fields: Vec<&'static str>,
    },
    Signed {
        contract: String,
        client: String,
        total: rust_decimal::Decimal,
        how: &'static str,
    },
}

impl Report {
    fn send(self, claims: &Claims) {
        match self {
            Report::Collaborator { id, action, fields } => {
                crate::monitoring::collaborator_changed(claims, &id, action, &fields);
            }
            Report::Signed {
                contract,
                client,
                total,
                how,
            } => crate::monitoring::contract_signed(claims, &contract, &client, &total, how),
        }
    }
}

/// `sign contract`, `list events`: the verb and entity, never values.
fn statement_kind(data: &Data) -> String {
    let (verb, entity) = match data {
        Data::List(q) => ("list", q.entity),
        Data::Count { entity, .. } => ("count", *entity),
        Data::Show(t) => ("show", t.entity),
        Data::Add { entity, .. } => ("add", *entity),
        Data::Set { target, .. } => ("set", target.entity),
        Data::Delete(t) => ("delete", t.entity),
        Data::Sign(t) => ("sign", t.entity),
        Data::Pay { target, .. } => ("pay", target.entity),
        Data::History(t) => ("history", t.entity),
    };
    format!("{verb} {}", entity.name)
}

/// A list or history in csv or json: an export, which streams at its
/// reader's pace.
fn is_export(data: &Data, format: Format) -> bool {
    matches!(data, Data::List(_) | Data::History(_)) && matches!(format, Format::Csv | Format::Json)
}

fn data_is_write(data: &Data) -> bool {
    !matches!(
        data,
        Data::List(_) | Data::Count { .. } | Data::Show(_) | Data::History(_)
    )
}

/// Values PostgreSQL cannot take, refused before anything is sent.
fn check_params(planned: &Planned) -> Result<()> {
    for plan in planned.plans() {
        if plan.params.len() > MAX_PARAMS {
            // The protocol counts them in 16 bits: more would break the
            // connection instead of being refused.
            return Err(Error::invalid(format!(
                "this statement has {} values; PostgreSQL takes at most {MAX_PARAMS} in one statement",
                plan.params.len()
            )));
        }
        let nul = |p: &Param| matches!(p, Param::Text(t) if t.contains('\0'));
        if plan.params.iter().any(nul) {
            return Err(Error::invalid(
                "a value contains a NUL byte (\\0), which PostgreSQL text cannot hold",
            ));
        }
    }
    Ok(())
}

/// The matrix's answer, before anything runs: a refusal a person
/// understands. PostgreSQL would refuse the same on its own.
fn check_matrix(data: &Data, department: Department) -> Result<()> {
    use crate::language::permissions::{Action, refusal};
    let (action, entity, fields): (Action, &Entity, Vec<&catalog::Field>) = match data {
        Data::Add { entity, values } => (
            Action::Add,
            entity,
            values.iter().map(|a| a.field).collect(),
        ),
        Data::Set { target, values } => (
            Action::Set,
            target.entity,
            values.iter().map(|a| a.field).collect(),
        ),
        Data::Delete(t) => (Action::Delete, t.entity, vec![]),
        Data::Sign(t) | Data::Pay { target: t, .. } => (
            Action::Set,
            t.entity,
            t.entity
                .field(if matches!(data, Data::Sign(_)) {
                    "status"
                } else {
                    "remain"
                })
                .into_iter()
                .collect(),
        ),
        _ => return Ok(()),
    };
    match refusal(department, action, entity, &fields) {
        Some(why) => Err(Error::permission(why)),
        None => Ok(()),
    }
}

/// Runs one planned data statement (a write inside the open transaction,
/// a read in the transaction or in one exchange of its own) and prints its
/// result; returns what monitoring must hear of once it commits.
fn execute(
    client: &mut Work,
    data: &Data,
    planned: &Planned,
    department: Department,
    out: &mut Printer<impl Write>,
    reports: &mut Vec<Report>,
) -> Result<(), Failure> {
    let plan = match planned {
        Planned::Show(show) => {
            let mut rows = fetch(client, &show.main)?;
            let Some(record) = rows.pop() else {
                let Data::Show(t) = data else {
                    unreachable!("show plans come from show")
                };
                return Err(not_found(t).into());
            };
            let related = show
                .related
                .iter()
                .map(|r| {
                    Ok(output::Related {
                        title: r.title,
                        columns: &r.plan.columns,
                        rows: fetch(client, &r.plan)?,
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            out.show(&show.main.columns, &record, &related)?;
            return Ok(());
        }
        Planned::One(plan) => plan,
    };
    match data {
        Data::List(_) | Data::History(_) => {
            if is_export(data, out.format()) {
                // The server's longer limit for exports, for this
                // transaction only (set already when it was opened for one).
                client.export_timeout()?;
            }
            stream(client, plan, out)
        }
        Data::Count { .. } => {
            let row = client
                .query_opt(&plan.sql, &plan.params)?
                .ok_or_else(|| Error::internal("count returned no row"))?;
            out.count(row.get(0))?;
            Ok(())
        }
        Data::Add { entity, values } => {
            if entity.name == "event" && department == Department::Commercial {
                event_contract_is_own(client, values)?;
            }
            let rows = client
                .execute(&plan.sql, &plan.params)
                .map_err(|e| write_error(&e, entity, None, values))?;
            let id: String = rows
                .first()
                .ok_or_else(|| Error::internal(format!("add {} returned no id", entity.name)))?
                .get(0);
            if entity.name == "collaborator" {
                reports.push(Report::Collaborator {
                    id: id.clone(),
                    action: crate::monitoring::CollaboratorAction::Created,
                    fields: values.iter().map(|a| a.field.name).collect(),
                });
            }
            if entity.name == "contract" && assigns(values, "status", "signed") {
                reports.push(signed_report(client, &id, "add")?);
            }
            changed(
                client,
                out,
                entity,
                &id,
                &format!("added {} {id}", entity.name),
            )?;
            Ok(())
        }
        Data::Set { target, values } => {
            let signs = target.entity.name == "contract"
                && assigns(values, "status", "signed")
                && !is_signed(client, &target.id)?;
            let rows = client
                .execute(&plan.sql, &plan.params)
                .map_err(|e| write_error(&e, target.entity, Some(&target.id), values))?;
            if rows.is_empty() {
                return Err(investigate(client, target, department).into());
            }
            if target.entity.name == "collaborator" {
                reports.push(Report::Collaborator {
                    id: target.id.clone(),
                    action: crate::monitoring::CollaboratorAction::Changed,
                    fields: values.iter().map(|a| a.field.name).collect(),
                });
            }
            if signs {
                reports.push(signed_report(client, &target.id, "set")?);
            }
            let fields: Vec<&str> = values.iter().map(|a| a.field.name).collect();
            let text = format!(
                "changed {} {} ({})",
                target.entity.name,
                target.id,
                fields.join(", ")
            );
            changed(client, out, target.entity, &target.id, &text)?;
            Ok(())
        }
        Data::Delete(target) => {
            let rows = client
                .execute(&plan.sql, &plan.params)
                .map_err(|e| write_error(&e, target.entity, Some(&target.id), &[]))?;
            if rows.is_empty() {
                return Err(investigate(client, target, department).into());
            }
            if target.entity.name == "collaborator" {
                reports.push(Report::Collaborator {
                    id: target.id.clone(),
                    action: crate::monitoring::CollaboratorAction::Deleted,
                    fields: vec![],
                });
            }
            out.message(&format!("deleted {} {}", target.entity.name, target.id))?;
            Ok(())
        }
        Data::Sign(target) => {
            if is_signed(client, &target.id)? {
                out.message(&format!("contract {} was already signed", target.id))?;
                return Ok(());
            }
            let rows = client
                .execute(&plan.sql, &plan.params)
                .map_err(|e| write_error(&e, target.entity, Some(&target.id), &[]))?;
            if rows.is_empty() {
                return Err(investigate(client, target, department).into());
            }
            reports.push(signed_report(client, &target.id, "sign")?);
            changed(
                client,
                out,
                target.entity,
                &target.id,
                &format!("signed contract {}", target.id),
            )?;
            Ok(())
        }
        Data::Pay {
            target,
            amount,
            amount_span,
        } => {
            let rows = client
                .execute(&plan.sql, &plan.params)
                .map_err(|e| write_error(&e, target.entity, Some(&target.id), &[]))?;
            let Some(row) = rows.first() else {
                let remain = client.query_opt(
                    "SELECT remain FROM crm.contract WHERE id = $1::text",
                    &[Param::Text(target.id.clone())],
                )?;
                return Err(match remain {
                    Some(r) if r.get::<_, rust_decimal::Decimal>(0) < *amount => {
                        Error::invalid(format!(
                            "cannot pay {}: only {} remains to pay on contract {}",
                            output::money_human(*amount),
                            output::money_human(r.get(0)),
                            target.id
                        ))
                        .with_span(*amount_span)
                    }
                    _ => investigate(client, target, department),
                }
                .into());
            };
            let remain: rust_decimal::Decimal = row.get(0);
            let text = format!(
                "paid {} on contract {}; {} remains",
                output::money_human(*amount),
                target.id,
                output::money_human(remain)
            );
            changed(client, out, target.entity, &target.id, &text)?;
            Ok(())
        }
        Data::Show(_) => unreachable!("planned as Planned::Show"),
    }
}

/// Streams a result set to the printer row by row: constant memory however
/// many rows (csv and json print as they come). The header waits for the
/// server's answer: a refused read prints nothing.
fn stream(client: &mut Work, plan: &Plan, out: &mut Printer<impl Write>) -> Result<(), Failure> {
    let mut begun = false;
    let mut cells = Vec::with_capacity(plan.columns.len());
    client.each_row(&plan.sql, &plan.params, |row| {
        if !begun {
            out.begin(&plan.columns)?;
            begun = true;
        }
        cells.clear();
        for (i, column) in plan.columns.iter().enumerate() {
            cells.push(output::cell(row, i, column.ty)?);
        }
        out.row(&cells)?;
        Ok::<_, Failure>(())
    })?;
    if !begun {
        out.begin(&plan.columns)?;
    }
    out.finish()?;
    Ok(())
}

fn fetch(client: &mut Work, plan: &Plan) -> Result<Vec<Vec<Cell>>, Failure> {
    let rows = client.query(&plan.sql, &plan.params)?;
    rows.iter()
        .map(|row| {
            plan.columns
                .iter()
                .enumerate()
                .map(|(i, c)| output::cell(row, i, c.ty).map_err(Failure::from))
                .collect()
        })
        .collect()
}

/// Prints what a write changed: the message, and in json the record as it
/// now is.
fn changed(
    client: &mut Work,
    out: &mut Printer<impl Write>,
    entity: &'static Entity,
    id: &str,
    text: &str,
) -> Result<(), Failure> {
    if out.format() != Format::Json {
        out.message(text)?;
        return Ok(());
    }
    let plan = record_plan(entity, id);
    let mut rows = fetch(client, &plan)?;
    let record = rows.pop();
    out.changed(
        text,
        record.as_deref().map(|r| (plan.columns.as_slice(), r)),
    )?;
    Ok(())
}

/// The `list` plan of one record.
fn record_plan(entity: &'static Entity, id: &str) -> Plan {
    use crate::language::analyzer::{Cond, ListQuery, Operand};
    let query = ListQuery {
        entity,
        filter: Some(Cond::Compare {
            field: entity.field("id").expect("every entity has an id"),
            op: ast::Op::Eq,
            operand: Operand::Param(Param::Text(id.to_owned())),
        }),
        order: vec![],
        limit: None,
        offset: None,
    };
    match planner::plan(&Data::List(query)) {
        Planned::One(plan) => plan,
        Planned::Show(show) => show.main,
    }
}

fn assigns(values: &[analyzer::Assigned], field: &str, value: &str) -> bool {
    values.iter().any(|a| {
        a.field.name == field
            && matches!(&a.value, analyzer::Operand::Param(Param::Text(v)) if v == value)
    })
}

fn is_signed(client: &mut Work, contract: &str) -> Result<bool, Failure> {
    Ok(client
        .query_opt(
            "SELECT status = 'signed' FROM crm.contract WHERE id = $1::text",
            &[Param::Text(contract.to_owned())],
        )?
        .is_some_and(|r| r.get(0)))
}

fn signed_report(client: &mut Work, contract: &str, how: &'static str) -> Result<Report, Failure> {
    let row = client
        .query_opt(
            "SELECT client, total FROM crm.contract WHERE id = $1::text",
            &[Param::Text(contract.to_owned())],
        )?
        .ok_or_else(|| Error::internal("a signed contract is gone"))?;
    Ok(Report::Signed {
        contract: contract.to_owned(),
        client: row.get(0),
        total: row.get(1),
        how,
    })
}

fn not_found(target: &Target) -> Error {
    Error::not_found(format!("no {} `{}`", target.entity.name, target.id)).with_span(target.span)
}

/// A write touched no row: either the record does not exist, or row-level
/// security hid it from this role. Say which, and whose it is.
fn investigate(client: &mut Work, target: &Target, department: Department) -> Error {
    let owner_sql = match target.entity.name {
        "client" => "SELECT commercial FROM crm.client WHERE id = $1::text",
        "contract" => {
            "SELECT cl.commercial FROM crm.contract t LEFT JOIN crm.client cl ON cl.id = t.client WHERE t.id = $1::text"
        }
        "event" => "SELECT support FROM crm.event WHERE id = $1::text",
        _ => "SELECT NULL::text FROM crm.department WHERE false AND id = $1::text",
    };
    let id = [Param::Text(target.id.clone())];
    let exists = client.query_opt(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM crm.{} WHERE id = $1::text)",
            target.entity.table
        ),
        &id,
    );
    match exists {
        Ok(Some(r)) if !r.get::<_, bool>(0) => return not_found(target),
        Err(e) => return e,
        _ => {}
    }
    let owner: Option<String> = client
        .query_opt(owner_sql, &id)
        .ok()
        .flatten()
        .and_then(|r| r.get(0));
    let id = &target.id;
    let why = match (target.entity.name, department, owner) {
        ("client", _, Some(o)) => format!("client {id} belongs to {o}"),
        ("client", _, None) => format!("client {id} has no commercial; only gestion may change it"),
        ("contract", _, Some(o)) => format!("contract {id} is for a client of {o}"),
        ("event", Department::Support, Some(o)) => format!("event {id} is supported by {o}"),
        ("event", Department::Support, None) => {
            format!("event {id} has no support yet; only gestion may change it")
        }
        _ => format!("{} {id} is not yours to change", target.entity.name),
    };
    Error::permission(why).with_span(target.span)
}

/// A commercial adds events only to contracts of their own clients; the
/// database's refusal would not say whose the contract is.
fn event_contract_is_own(client: &mut Work, values: &[analyzer::Assigned]) -> Result<()> {
    let Some((contract, span)) = values.iter().find_map(|a| match &a.value {
        analyzer::Operand::Param(Param::Text(id)) if a.field.name == "contract" => {
            Some((id, a.span))
        }
        _ => None,
    }) else {
        return Ok(());
    };
    let row = client.query_opt(
        "SELECT cl.commercial, cl.commercial IS NOT DISTINCT FROM crm.me() \
         FROM crm.contract t JOIN crm.client cl ON cl.id = t.client WHERE t.id = $1::text",
        &[Param::Text(contract.clone())],
    )?;
    match row {
        Some(r) if !r.get::<_, bool>(1) => {
            let why = match r.get::<_, Option<String>>(0) {
                Some(o) => format!("contract {contract} is for a client of {o}"),
                None => format!("contract {contract} is for a client with no commercial"),
            };
            Err(
                Error::permission(format!("{why}; only its commercial may add its events"))
                    .with_span(span),
            )
        }
        _ => Ok(()),
    }
}

/// A refused write, with the field it is about pointed at when the
/// database names it (constraints are named `<table>_<column>_<rule>`).
fn write_error(
    e: &postgres::Error,
    entity: &Entity,
    record: Option<&str>,
    values: &[analyzer::Assigned],
) -> Failure {
    let mut err = map_error(e);
    let Some(db) = e.as_db_error() else {
        return err.into();
    };
    let constraint = db.constraint().unwrap_or("");
    // `event_support_fkey` → `support`; `event_end_check` → `end`.
    let column = constraint
        .strip_prefix(entity.table)
        .and_then(|rest| rest.strip_prefix('_'))
        .map(|rest| rest.rsplit_once('_').map_or(rest, |(c, _)| c))
        .or(db.column());
    let assigned = column.and_then(|c| {
        values.iter().find(|a| {
            a.field.name == c
                || matches!(a.field.source, catalog::Source::Column(col) if col == c)
                || c.starts_with(a.field.name)
        })
    });
    // An event's end is checked against its start: either may be the one
    // the statement changed.
    let assigned = assigned.or_else(|| {
        (constraint == "event_end_check")
            .then(|| values.iter().find(|a| a.field.name == "start"))
            .flatten()
    });
    let value = assigned.and_then(|a| match &a.value {
        analyzer::Operand::Param(p) => crate::db::refusal::shown(p),
        _ => None,
    });
    let field = assigned.map(|a| a.field.name).or(column);
    let broken = crate::db::refusal::Broken {
        constraint,
        entity: entity.name,
        field,
        value,
        record,
    };
    // The schema's own functions and triggers raise their refusals in the
    // user's words already; only PostgreSQL's texts are translated.
    let postgres_text = [
        "insert or update on table",
        "update or delete on table",
        "duplicate key value",
        "new row for relation",
        "null value in column",
        "conflicting key value",
    ]
    .iter()
    .any(|p| db.message().starts_with(p));
    if !postgres_text {
        if let Some(a) = assigned {
            err.span = Some(a.span);
        }
        return err.into();
    }
    match db.code().code() {
        // A delete (or an id change) that other records still need.
        "23503" if db.message().starts_with("update or delete") => {
            let by = db
                .table()
                .and_then(|t| catalog::entities().iter().find(|e| e.table == t))
                .map_or("other records", |e| e.plural);
            err.message = crate::db::refusal::still_used(entity.name, record, by);
        }
        "23502" => {
            err.message = format!(
                "`{}` is required for {} {}",
                field.unwrap_or("a field"),
                crate::language::permissions::article(entity.name),
                entity.name
            );
        }
        "23503" => {
            err.kind = ErrorKind::NotFound;
            err.message = crate::db::refusal::explain(&broken)
                .or_else(|| db.detail().and_then(missing_reference))
                .unwrap_or_else(|| {
                    format!("{} refers to a record that does not exist", entity.name)
                });
        }
        "23505" | "23514" | "23P01" if !constraint.is_empty() => {
            err.message = crate::db::refusal::explain(&broken).unwrap_or_else(|| {
                format!(
                    "{} breaks a rule of {} {}",
                    field.map_or_else(|| "the statement".to_owned(), |f| format!("`{f}`")),
                    crate::language::permissions::article(entity.name),
                    entity.name
                )
            });
        }
        _ => {}
    }
    if let Some(a) = assigned {
        err.span = Some(a.span);
    }
    err.into()
}

/// `Key (client)=(nobody) is not present in table "client".` → `no client `nobody``.
fn missing_reference(detail: &str) -> Option<String> {
    let value = detail.split(")=(").nth(1)?.split(')').next()?;
    let table = detail
        .split("table \"")
        .nth(1)?
        .trim_end_matches(['.', '"']);
    Some(format!("no {table} `{value}`"))
}
