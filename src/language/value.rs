//! Typed values as they travel between the planner, PostgreSQL and the
//! printer: [`Param`] is what a statement binds, [`Cell`] what a row holds,
//! [`ColumnType`] how a column is read and shown. How a `Param` is encoded
//! for PostgreSQL is the database side's business (`db/param.rs`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

/// How a result column is read from PostgreSQL and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// text, and everything shown as text (ids, enums, emails).
    Text,
    /// integer (`int4`) or a count (`int8`): read as i64.
    Integer,
    /// numeric(12,2).
    Money,
    /// timestamptz, selected as it is: an instant, shown in the user's zone
    /// (`output::zone`).
    DateTime,
    /// The `changes` of an audit row of this entity (jsonb, `{field: {old,
    /// new}}`): each value read as its field's type, so that `history`
    /// shows money and times as every other result does.
    Changes(&'static str),
}

/// A result column: its field name (the header) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
    Integer(i64),
    Money(Decimal),
    /// An instant; the printer puts it in the user's zone.
    DateTime(DateTime<Utc>),
    /// What one change did, field by field, in the order of their names.
    Changes(Vec<Change>),
}

/// One field of a change: its value before and after (`Null`: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub old: Cell,
    pub new: Cell,
}

/// A value bound to a statement parameter. Every user value reaches
/// PostgreSQL as one of these, never inside the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Null,
    Text(String),
    Integer(i64),
    Money(Decimal),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}
