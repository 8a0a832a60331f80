//! Reading result cells from PostgreSQL rows by their planned type.

use crate::support;

use std::str::FromStr;

use chrono::NaiveDate;
use oc12::error::ErrorKind;
use oc12::language::value::{Cell, ColumnType};
use oc12::output::cell;
use rust_decimal::Decimal;

#[test]
fn reads_each_type_and_null_from_postgres() {
    let mut client = support::cluster().admin("postgres");
    let row = client
        .query_one(
            "select 'kc555'::text, 75::int4, 3::int2, count(*), 1234.50::numeric(12,2), \
             '2023-06-04'::text, timestamptz '2023-06-04 13:00:00+02', \
             null::text, null::int4, null::numeric, null::text, null::timestamptz, \
             '{\"b\": 1, \"a\": [true]}'::jsonb, true, 7::int8, 'x'::varchar, \
             timestamp '2023-06-04 13:00:00', 12::int4 \
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
        (Text, Cell::Text("2023-06-04".into())),
        // An instant: 13:00 in Paris is 11:00 UTC in June.
        (
            DateTime,
            Cell::DateTime(day.and_hms_opt(11, 0, 0).unwrap().and_utc()),
        ),
        (Text, Cell::Null),
        (Integer, Cell::Null),
        (Money, Cell::Null),
        (Text, Cell::Null),
        (DateTime, Cell::Null),
        (Text, Cell::Text("{\"a\":[true],\"b\":1}".into())),
        (Text, Cell::Text("true".into())),
        (Text, Cell::Text("7".into())),
        (Text, Cell::Text("x".into())),
    ];
    for (idx, (ty, want)) in expected.into_iter().enumerate() {
        assert_eq!(cell(&row, idx, ty).unwrap(), want, "column {idx}");
    }
    // A wall-clock time without its zone cannot say its offset: refused.
    let e = cell(&row, 16, DateTime).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Internal);
    assert!(e.message.contains("timestamptz"), "{}", e.message);
    let e = cell(&row, 0, Integer).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Internal);
    assert_eq!(
        cell(&row, 17, Money).unwrap(),
        Cell::Money(Decimal::from(12))
    );
    assert!(cell(&row, 99, Text).is_err());
}

#[test]
fn reads_the_changes_of_an_audit_row_by_the_types_of_their_fields() {
    use oc12::language::value::Change;
    let mut client = support::cluster().admin("postgres");
    let row = client
        .query_one(
            r#"select '{"start": {"old": "2023-06-04T13:00:00+02:00", "new": null},
                        "attendees": {"old": 35, "new": 50},
                        "title": {"old": "2023-06-04T13:00:00+02:00", "new": "Party"}}'::jsonb,
                      '{"remain": {"old": 999.99, "new": 900.00}}'::jsonb,
                      null::jsonb"#,
            &[],
        )
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2023, 6, 4).unwrap();
    assert_eq!(
        cell(&row, 0, ColumnType::Changes("event")).unwrap(),
        Cell::Changes(vec![
            Change {
                field: "attendees".into(),
                old: Cell::Integer(35),
                new: Cell::Integer(50),
            },
            Change {
                field: "start".into(),
                old: Cell::DateTime(day.and_hms_opt(11, 0, 0).unwrap().and_utc()),
                new: Cell::Null,
            },
            // A text field keeps its text, whatever it looks like.
            Change {
                field: "title".into(),
                old: Cell::Text("2023-06-04T13:00:00+02:00".into()),
                new: Cell::Text("Party".into()),
            },
        ])
    );
    assert_eq!(
        cell(&row, 1, ColumnType::Changes("contract")).unwrap(),
        Cell::Changes(vec![Change {
            field: "remain".into(),
            old: Cell::Money(Decimal::from_str("999.99").unwrap()),
            new: Cell::Money(Decimal::from_str("900").unwrap()),
        }])
    );
    assert_eq!(
        cell(&row, 2, ColumnType::Changes("contract")).unwrap(),
        Cell::Null
    );
}
