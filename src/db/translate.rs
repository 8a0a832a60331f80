//! PostgreSQL's errors in the shell's words: the SQLSTATE of any error
//! mapped to an error kind ([`map_error`]), and a refused write turned into
//! a sentence about the field and value the user typed ([`write_error`],
//! with the constraint sentences of `refusal.rs`).

use postgres::error::SqlState;

use crate::error::{Error, ErrorKind};
use crate::language::analyzer::{self, Target};
use crate::language::catalog::{self, Entity};

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
    Error::new(kind, text).with_sqlstate(code.code())
}

/// The record a statement names does not exist (for this role).
pub fn not_found(target: &Target) -> Error {
    Error::not_found(format!("no {} `{}`", target.entity.name, target.id)).with_span(target.span)
}

/// A refused write, with the field it is about pointed at when the
/// database names it (constraints are named `<table>_<column>_<rule>`).
pub fn write_error(
    e: &postgres::Error,
    entity: &Entity,
    record: Option<&str>,
    values: &[analyzer::Assigned],
) -> Error {
    let mut err = map_error(e);
    let Some(db) = e.as_db_error() else {
        return err;
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
        return err;
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
    err
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
