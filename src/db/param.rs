//! How a [`Param`] reaches PostgreSQL: the type it is declared as when a
//! statement is sent, and its binary encoding.

use chrono::{NaiveDate, NaiveDateTime};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use rust_decimal::Decimal;

use crate::language::value::Param;

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
