//! Reading a result cell from a PostgreSQL row as the planner typed it.

use chrono::{NaiveDate, NaiveDateTime};
use postgres::types::{FromSql, Type};
use rust_decimal::Decimal;

use crate::error::Error;
use crate::value::{Cell, ColumnType};

/// The cell `idx` of `row`, read as `ty`; SQL NULL is [`Cell::Null`].
///
/// The PostgreSQL type decides the Rust type it is read through: `int2`,
/// `int4` and `int8` all make an Integer; a Text column also takes
/// `json`/`jsonb` (written compactly), `bool`, integers and `numeric`, so
/// the planner may select those as they are. A `timestamptz` is refused with
/// a hint: only the database knows the time zone to show it in, so the
/// planner must select it as `col::timestamp`. A mismatch is a bug, hence an
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
        ColumnType::Date => get::<NaiveDate>(row, idx).map(|v| v.map_or(Cell::Null, Cell::Date)),
        ColumnType::DateTime if *pg == Type::TIMESTAMPTZ => {
            return Err(fail("select it as `::timestamp`".to_string()));
        }
        ColumnType::DateTime => {
            get::<NaiveDateTime>(row, idx).map(|v| v.map_or(Cell::Null, Cell::DateTime))
        }
    };
    read.map_err(|e| fail(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Runs against a real server: `OC12_TEST_PG_URL=postgresql://... cargo
    /// test -- --ignored`. (Once merged, the test harness's private cluster
    /// can take this over.)
    #[test]
    #[ignore = "needs a PostgreSQL server in OC12_TEST_PG_URL"]
    fn reads_each_type_and_null_from_postgres() {
        let url = std::env::var("OC12_TEST_PG_URL").expect("OC12_TEST_PG_URL");
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "select 'kc555'::text, 75::int4, 3::int2, count(*), 1234.50::numeric(12,2), \
                 date '2023-06-04', timestamp '2023-06-04 13:00:00', \
                 null::text, null::int4, null::numeric, null::date, null::timestamp, \
                 '{\"b\": 1, \"a\": [true]}'::jsonb, true, 7::int8, 'x'::varchar, \
                 timestamptz '2023-06-04 13:00:00+02', 12::int4 \
                 from (values (1), (2)) v(x)",
                &[],
            )
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2023, 6, 4).unwrap();
        use ColumnType::*;
        let expected = [
            (Text, Cell::Text("kc555".into())),
            (Integer, Cell::Integer(75)),
            (Integer, Cell::Integer(3)),
            (Integer, Cell::Integer(2)),
            (Money, Cell::Money(Decimal::from_str("1234.50").unwrap())),
            (Date, Cell::Date(day)),
            (DateTime, Cell::DateTime(day.and_hms_opt(13, 0, 0).unwrap())),
            (Text, Cell::Null),
            (Integer, Cell::Null),
            (Money, Cell::Null),
            (Date, Cell::Null),
            (DateTime, Cell::Null),
            (Text, Cell::Text("{\"a\":[true],\"b\":1}".into())),
            (Text, Cell::Text("true".into())),
            (Text, Cell::Text("7".into())),
            (Text, Cell::Text("x".into())),
        ];
        for (idx, (ty, want)) in expected.into_iter().enumerate() {
            assert_eq!(cell(&row, idx, ty).unwrap(), want, "column {idx}");
        }
        let e = cell(&row, 16, DateTime).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Internal);
        assert!(e.message.contains("::timestamp"), "{}", e.message);
        let e = cell(&row, 0, Integer).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Internal);
        assert_eq!(
            cell(&row, 17, Money).unwrap(),
            Cell::Money(Decimal::from(12))
        );
        assert!(cell(&row, 99, Text).is_err());
    }

    /// The executor's loop: rows from `query_raw` go one by one into a
    /// printer, none collected.
    #[test]
    #[ignore = "needs a PostgreSQL server in OC12_TEST_PG_URL"]
    fn streams_a_query_into_a_printer() {
        use crate::output::{Format, Printer, RowSink};
        use crate::value::Column;
        use postgres::fallible_iterator::FallibleIterator;

        let url = std::env::var("OC12_TEST_PG_URL").expect("OC12_TEST_PG_URL");
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let columns = [
            Column::new("n", ColumnType::Integer),
            Column::new("total", ColumnType::Money),
        ];
        let mut rows = client
            .query_raw(
                "select n, (n / 100.0)::numeric(12,2) from generate_series(1, 200000) n",
                std::iter::empty::<i32>(),
            )
            .unwrap();
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, Format::Csv, false);
        printer.begin(&columns).unwrap();
        let mut cells = Vec::with_capacity(columns.len());
        while let Some(row) = rows.next().unwrap() {
            cells.clear();
            for (idx, column) in columns.iter().enumerate() {
                cells.push(cell(&row, idx, column.ty).unwrap());
            }
            printer.row(&cells).unwrap();
        }
        printer.finish().unwrap();
        drop(printer);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("n,total\n1,0.01\n2,0.02\n"));
        assert!(text.ends_with("\n200000,2000.00\n"));
        assert_eq!(text.lines().count(), 200_001);
    }
}
