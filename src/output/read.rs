//! Reading a result cell from a PostgreSQL row as the planner typed it.

use chrono::{DateTime, Utc};
use postgres::types::{FromSql, Type};
use rust_decimal::Decimal;
use std::str::FromStr;

use crate::error::Error;
use crate::language::catalog::{self, FieldType};
use crate::language::value::{Cell, Change, ColumnType};

/// The cell `idx` of `row`, read as `ty`; SQL NULL is [`Cell::Null`].
///
/// The PostgreSQL type decides the Rust type it is read through: `int2`,
/// `int4` and `int8` all make an Integer; a Text column also takes
/// `json`/`jsonb` (written compactly), `bool`, integers and `numeric`, so
/// the planner may select those as they are. A DateTime is a `timestamptz`,
/// an instant that the printer shows in the user's zone; a `timestamp`
/// without zone is refused with a hint, since it would stand for a
/// wall-clock time in whatever zone the session had, and the offset that
/// csv and json print could not be told. A mismatch is a bug, hence an
/// internal error naming the column and both types.
pub fn cell(row: &postgres::Row, idx: usize, ty: ColumnType) -> Result<Cell, Error> {
    let Some(column) = row.columns().get(idx) else {
        return Err(Error::internal(format!(
            "result column {idx} does not exist (the row has {})",
            row.len()
        )));
    };
    let pg = column.type_();
    let fail = |why: String| {
        Error::internal(format!(
            "cannot read column `{}` ({pg}) as {ty:?}: {why}",
            column.name()
        ))
    };
    let read = match ty {
        ColumnType::Text => text(row, idx, pg),
        ColumnType::Integer => integer(row, idx, pg),
        ColumnType::Money => match *pg {
            Type::INT2 | Type::INT4 | Type::INT8 => integer(row, idx, pg).map(|c| match c {
                Cell::Integer(n) => Cell::Money(Decimal::from(n)),
                other => other,
            }),
            _ => get::<Decimal>(row, idx).map(|v| v.map_or(Cell::Null, Cell::Money)),
        },
        ColumnType::DateTime if *pg == Type::TIMESTAMP => {
            return Err(fail(
                "select the timestamptz itself, not `::timestamp`".to_string(),
            ));
        }
        ColumnType::DateTime => {
            get::<DateTime<Utc>>(row, idx).map(|v| v.map_or(Cell::Null, Cell::DateTime))
        }
        ColumnType::Changes(entity) => get::<serde_json::Value>(row, idx)
            .map(|v| v.map_or(Cell::Null, |v| Cell::Changes(changes(entity, &v)))),
    };
    read.map_err(|e| fail(e.to_string()))
}

/// The audit's `{field: {"old": v, "new": v}}` of an `entity` record, in
/// the order of the field names; each value typed by the catalogue's field
/// of that name (the audit names fields by their column, `start_at` being
/// renamed `start`, ...).
fn changes(entity: &str, json: &serde_json::Value) -> Vec<Change> {
    let Some(object) = json.as_object() else {
        return vec![Change {
            field: "changes".to_owned(),
            old: Cell::Null,
            new: Cell::Text(json.to_string()),
        }];
    };
    let fields = catalog::entity(entity).map_or(&[][..], |e| e.fields);
    let mut changes: Vec<Change> = object
        .iter()
        .map(|(name, change)| {
            let ty = fields
                .iter()
                .find(|f| {
                    f.name == name || matches!(f.source, catalog::Source::Column(c) if c == name)
                })
                .map(|f| f.ty);
            let value = |key: &str| typed(ty, change.get(key).unwrap_or(&serde_json::Value::Null));
            Change {
                field: name.clone(),
                old: value("old"),
                new: value("new"),
            }
        })
        .collect();
    changes.sort_by(|a, b| a.field.cmp(&b.field));
    changes
}

/// A JSON value of the audit as the cell its field's type makes. What does
/// not read as that type is kept as text, never lost.
fn typed(ty: Option<FieldType>, value: &serde_json::Value) -> Cell {
    use serde_json::Value;
    let text = || match value {
        Value::String(s) => Cell::Text(s.clone()),
        other => Cell::Text(other.to_string()),
    };
    match (ty, value) {
        (_, Value::Null) => Cell::Null,
        (Some(FieldType::Money), Value::Number(n)) => {
            // A numeric(12,2) has at most 12 digits: its shortest f64
            // spelling is exact.
            Decimal::from_str(&n.to_string()).map_or_else(|_| text(), Cell::Money)
        }
        (Some(FieldType::Integer), Value::Number(n)) => n.as_i64().map_or_else(text, Cell::Integer),
        (Some(FieldType::DateTime) | None, Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map_or_else(|_| text(), |t| Cell::DateTime(t.with_timezone(&Utc))),
        _ => text(),
    }
}

fn get<'a, T: FromSql<'a>>(
    row: &'a postgres::Row,
    idx: usize,
) -> Result<Option<T>, postgres::Error> {
    row.try_get::<_, Option<T>>(idx)
}

fn integer(row: &postgres::Row, idx: usize, pg: &Type) -> Result<Cell, postgres::Error> {
    let n = match *pg {
        Type::INT2 => get::<i16>(row, idx)?.map(i64::from),
        Type::INT4 => get::<i32>(row, idx)?.map(i64::from),
        _ => get::<i64>(row, idx)?,
    };
    Ok(n.map_or(Cell::Null, Cell::Integer))
}

fn text(row: &postgres::Row, idx: usize, pg: &Type) -> Result<Cell, postgres::Error> {
    let s = match *pg {
        Type::JSON | Type::JSONB => get::<serde_json::Value>(row, idx)?.map(|v| v.to_string()),
        Type::BOOL => get::<bool>(row, idx)?.map(|b| b.to_string()),
        Type::INT2 | Type::INT4 | Type::INT8 => {
            return integer(row, idx, pg).map(|c| match c {
                Cell::Integer(n) => Cell::Text(n.to_string()),
                other => other,
            });
        }
        Type::NUMERIC => get::<Decimal>(row, idx)?.map(|d| d.to_string()),
        _ => get::<String>(row, idx)?,
    };
    Ok(s.map_or(Cell::Null, Cell::Text))
}
