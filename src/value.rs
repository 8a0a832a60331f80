//! Typed values as they travel between the planner, PostgreSQL and the
//! printer: [`Param`] is what a statement binds, [`Cell`] what a row holds,
//! [`ColumnType`] how a column is read and shown.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
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
    /// date.
    Date,
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
    Date(NaiveDate),
    /// An instant; the printer puts it in the CRM's zone.
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

impl Param {
    /// The type the planner casts this parameter to (`$n::text`, ...),
    /// declared when the statement is sent: the server then never infers one.
    pub fn pg_type(&self) -> Type {
        match self {
            Param::Null | Param::Text(_) => Type::TEXT,
            Param::Integer(_) => Type::INT8,
            Param::Money(_) => Type::NUMERIC,
            Param::Date(_) => Type::DATE,
            Param::DateTime(_) => Type::TIMESTAMP,
        }
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Text(s) => s.to_sql(ty, out),
            Param::Integer(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Param::Money(d) => d.to_sql(ty, out),
            Param::Date(d) => d.to_sql(ty, out),
            Param::DateTime(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty)
            || <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <i16 as ToSql>::accepts(ty)
            || <Decimal as ToSql>::accepts(ty)
            || <NaiveDate as ToSql>::accepts(ty)
            || <NaiveDateTime as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}
