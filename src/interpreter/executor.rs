//! Running a checked data statement: the matrix checked, the plan made,
//! a transaction or a single exchange opened under the user's role, the
//! statement executed and its result streamed to the printer, what
//! monitoring must hear of reported once it commits.

use std::io::{self, Write};

use crate::auth;
use crate::db::pool::{Need, Work};
use crate::db::translate::{map_error, not_found, write_error};
use crate::error::{Error, ErrorKind, Result};
use crate::interpreter::report::{Report, signed_report};
use crate::interpreter::session::Session;
use crate::language::analyzer::{self, Data, Target};
use crate::language::ast;
use crate::language::catalog::{self, Department, Entity};
use crate::language::planner::{self, Plan, Planned};
use crate::language::value::{Cell, Param};
use crate::monitoring::CollaboratorAction::{Changed, Created, Deleted};
use crate::output::{self, Format, Printer, RowSink};
use crate::terminal;

/// The most values PostgreSQL accepts as parameters of one statement.
const MAX_PARAMS: usize = u16::MAX as usize;

impl Session {
    pub(super) fn run_data(
        &mut self,
        data: &Data,
        out: &mut Printer<impl Write>,
    ) -> Result<(), Failure> {
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
        let _ctrl_c = crate::db::cancel::Watch::new(work.cancel_token());
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
}

/// An error, or the reader going away mid-output.
pub(super) enum Failure {
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
            reports.extend(Report::role_change(entity, &id, Created, values));
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
            reports.extend(Report::role_change(
                target.entity,
                &target.id,
                Changed,
                values,
            ));
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
            reports.extend(Report::role_change(target.entity, &target.id, Deleted, &[]));
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
