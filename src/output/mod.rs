//! Printing results: the four formats of PRODUCT.md ("Output").
//!
//! The executor feeds a [`RowSink`] one row at a time, straight from a
//! PostgreSQL row iterator: `begin(columns)`, `row(cells)` for each row, then
//! `finish()`. The [`Printer`] is that sink over any `W: Write`; it buffers
//! its output and flushes at `finish`. Every write error, `BrokenPipe`
//! included, comes back as an `io::Error` (the caller ends quietly on
//! `BrokenPipe`); nothing here prints on its own or panics on a closed writer.
//!
//! The formats, exactly:
//!
//! - `table`: a box-drawn table (`┌─┬─┐`, `│`, a `├─┼─┤` line under the
//!   header, `└─┴─┘`), one space of padding. Integers and money are
//!   right-aligned (their header too), everything else left-aligned. Money
//!   `1 234.50 €` (a plain space between thousands), date-times
//!   `2023-06-04 13:00`, NULL empty, control characters and
//!   bidirectional overrides escaped (`\u{1b}`, `\u{202e}`), newlines kept
//!   as multi-line cells. The header is bold only
//!   when the caller turns colour on. Then a footer line: `0 rows`, `1 row`,
//!   `N rows`. At most `TABLE_MAX_ROWS` rows are drawn: the rest are counted
//!   but not kept, and the footer says
//!   `1000 of N rows shown; use limit/offset or --format csv`. When the
//!   result has times, the footer names their zone, the user's
//!   (`; times in Europe/Paris`; see [`zone`]).
//! - `vertical`: for each record a line `-[ RECORD n ]-`, then one
//!   `field | value` line per field, field names padded to the widest, values
//!   as in `table` (a multi-line value continues on lines starting with the
//!   padding and `|`); no trailing spaces (a NULL gives `field |`). After
//!   the records, a blank line (when there were any) and the footer `N rows`
//!   as in `table`. Streamed, no row limit.
//! - `csv`: RFC 4180 with LF line endings (like psql's CSV), a header row of
//!   the field names. A field is quoted when it contains `,` `"` CR or LF,
//!   quotes doubled; an empty text is written `""` so that it differs from
//!   NULL, which is written as nothing. Money `1234.50`, date-times
//!   RFC 3339 in the user's zone with their offset,
//!   `2023-06-04T13:00:00+02:00` (a fraction of a second only when there
//!   is one). Text is made safe to `cat` and to open in a
//!   spreadsheet: control characters and bidirectional overrides escaped as
//!   in `table` (tabs and newlines kept), and a text starting with `=` `+`
//!   `-` `@`, tab or CR written behind a `'` (`'=1+1`), so that it is never
//!   a formula. Streamed, no row limit, no footer.
//! - `json`: JSON Lines, one compact object per row, keys the field names in
//!   column order: `{"id":"kc555","total":"999.99","attendees":75,"notes":null}`.
//!   Money is a string with two places, integers numbers,
//!   date-times strings as in `csv`, NULL `null`. Every control character
//!   and bidirectional override is a `\u` escape (`\u001b`, `\u009b`,
//!   `\u202e`): safe on a terminal, and read back exactly. Streamed, no row
//!   limit, no footer.
//!
//! On a terminal (the caller says so with [`Printer::on_screen`]) table and
//! vertical are fitted to it, see [`Screen`]: table cells cut to
//! [`CELL_WIDTH`] with `…`, a table wider than the terminal shown as
//! vertical records, a result taller than it paged. Without a terminal
//! every format prints exactly what is described here.
//!
//! Single values and messages ([`count`], [`message`], [`changed`]):
//!
//! | format | `count` 3 | a write |
//! |---|---|---|
//! | table, vertical | `3` | `signed contract kc555` |
//! | csv | `count` then `3` | `signed contract kc555` |
//! | json | `{"count":3}` | the changed record as one object, or `{"message":"signed contract kc555"}` without one |
//!
//! The files: `table.rs`, `vertical.rs`, `csv.rs`, `json.rs` (one body per
//! format), `text.rs` (how one cell reads, for people and for programs),
//! `zone.rs` (the time zone times are shown in), `screen.rs` (fitting a
//! terminal: cut cells, records, pager), `read.rs` (a cell read from a
//! PostgreSQL row as the planner typed it), `tests.rs`.
//!
//! May use: `language` (the value types, the formats, the catalogue's field
//! types for `history`), `error`. Nothing here runs a statement.

mod csv;
mod json;
mod read;
mod screen;
mod table;
mod text;
mod vertical;
mod zone;

use std::io::{self, BufWriter, Write};

use crate::language::value::{Cell, Column, ColumnType};

pub use read::cell;
pub use screen::{CELL_WIDTH, Screen, pager_command};
pub use text::{MoneyStyle, money_human, set_money_style};
pub use zone::{DATABASE_ZONE, time_labelled, zone, zone_name};

pub use crate::language::format::Format;

/// A titled list of records related to the one `show` prints.
pub struct Related<'a> {
    pub title: &'a str,
    pub columns: &'a [Column],
    pub rows: Vec<Vec<Cell>>,
}

/// Where the executor sends a result set, one row at a time.
pub trait RowSink {
    /// Starts a result set with these columns.
    fn begin(&mut self, columns: &[Column]) -> io::Result<()>;
    /// One row, its cells in column order.
    fn row(&mut self, cells: &[Cell]) -> io::Result<()>;
    /// Ends the result set: footer, flush.
    fn finish(&mut self) -> io::Result<()>;
}

/// The printer of one output stream; it prints any number of result sets and
/// messages, one after the other.
pub struct Printer<W: Write> {
    out: BufWriter<W>,
    format: Format,
    color: bool,
    body: Option<Body>,
    /// The terminal the output is, if it is one (see [`Screen`]).
    screen: Option<Screen>,
    /// The format was asked for by name: a table stays a table however
    /// wide it is.
    chosen: bool,
    /// The result being printed on the screen: held until it is known to
    /// fit, or paged.
    page: Option<screen::Page>,
    /// Inside `show`: the record and its lists are one page.
    showing: bool,
    /// Said once per printer: a table was shown as records, cells were cut.
    told_vertical: bool,
    told_cut: bool,
}

/// The state of the result set being printed. Only `table` keeps rows (at
/// most `TABLE_MAX_ROWS`); the others keep the columns and a count.
enum Body {
    Table(table::Table),
    Vertical(vertical::Vertical),
    Csv(csv::Csv),
    Json(json::Json),
}

impl<W: Write> Printer<W> {
    /// `color`: bold headers. The caller decides (terminal, `NO_COLOR`,
    /// `--no-color`); without it no escape code is ever written.
    pub fn new(out: W, format: Format, color: bool) -> Printer<W> {
        Printer {
            out: BufWriter::new(out),
            format,
            color,
            body: None,
            screen: None,
            chosen: false,
            page: None,
            showing: false,
            told_vertical: false,
            told_cut: false,
        }
    }

    /// Prints for a person at this terminal: table cells cut to
    /// [`CELL_WIDTH`], a table wider than the terminal shown as records
    /// unless `chosen` (the user named the format), a result taller than it
    /// paged. Only for a standard output that is a terminal.
    pub fn on_screen(mut self, screen: Screen, chosen: bool) -> Printer<W> {
        self.screen = Some(screen);
        self.chosen = chosen;
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Switches the format (the `format` statement) for what comes next.
    /// Named, `table` stays a table on a terminal however wide.
    pub fn set_format(&mut self, format: Format) {
        self.format = format;
        self.chosen = true;
    }

    /// Ends whatever a failed statement left open: a result whose rows
    /// stopped coming is printed as far as it went (a pager gets its end
    /// and is waited for, so that the prompt never shares the terminal with
    /// it). The caller calls it after each statement, before printing the
    /// statement's error.
    pub fn settle(&mut self) -> io::Result<()> {
        self.body = None;
        self.showing = false;
        self.close_page()?;
        self.out.flush()
    }

    /// Starts holding a result for the screen, when there is one that
    /// says its size and the format is one for people.
    fn open_page(&mut self) -> io::Result<()> {
        if self.showing {
            return Ok(());
        }
        self.close_page()?;
        if !matches!(self.format, Format::Table | Format::Vertical) {
            return Ok(());
        }
        if let Some((_, rows)) = self.screen.as_ref().and_then(Screen::size) {
            let pager = self
                .screen
                .as_ref()
                .and_then(|s| s.pager().map(str::to_owned));
            self.page = Some(screen::Page::new(rows, pager));
        }
        Ok(())
    }

    fn close_page(&mut self) -> io::Result<()> {
        match self.page.take() {
            Some(page) => page.end(&mut self.out),
            None => Ok(()),
        }
    }

    /// Prints `show`: the record, then its related lists. On a terminal
    /// (table, vertical) the record is a `field | value` block and each list
    /// follows under its title; csv gives one section per list, separated by
    /// a blank line; json one object with the lists as arrays.
    pub fn show(
        &mut self,
        columns: &[Column],
        cells: &[Cell],
        related: &[Related<'_>],
    ) -> io::Result<()> {
        if self.format == Format::Json {
            json::object_with_related(&mut self.out, columns, cells, related)?;
            return self.out.flush();
        }
        self.open_page()?;
        self.showing = true;
        let shown = self.show_parts(columns, cells, related);
        self.showing = false;
        shown?;
        self.close_page()?;
        self.out.flush()
    }

    fn show_parts(
        &mut self,
        columns: &[Column],
        cells: &[Cell],
        related: &[Related<'_>],
    ) -> io::Result<()> {
        let format = self.format;
        if format == Format::Table {
            self.format = Format::Vertical;
        }
        let record = self.result(columns, std::iter::once(cells));
        self.format = format;
        record?;
        for r in related {
            let mut sink = sink(&mut self.out, &mut self.page);
            match format {
                Format::Csv => writeln!(sink)?,
                _ => writeln!(sink, "\n{}:", r.title)?,
            }
            self.result(r.columns, r.rows.iter().map(Vec::as_slice))?;
        }
        Ok(())
    }

    fn result<'c>(
        &mut self,
        columns: &[Column],
        rows: impl Iterator<Item = &'c [Cell]>,
    ) -> io::Result<()> {
        self.begin(columns)?;
        for row in rows {
            self.row(row)?;
        }
        self.finish()
    }

    /// Flushes and gives the writer back.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }

    /// Prints the result of `count`.
    pub fn count(&mut self, n: i64) -> io::Result<()> {
        count(&mut self.out, self.format, n)?;
        self.out.flush()
    }

    /// Prints a one-line message (in json: `{"message":...}`).
    pub fn message(&mut self, text: &str) -> io::Result<()> {
        message(&mut self.out, self.format, text)?;
        self.out.flush()
    }

    /// Prints what a write changed: `text` in every format but json, which
    /// gets the changed record when there is one.
    pub fn changed(&mut self, text: &str, record: Option<(&[Column], &[Cell])>) -> io::Result<()> {
        changed(&mut self.out, self.format, text, record)?;
        self.out.flush()
    }
}

impl<W: Write> Printer<W> {
    /// A table on the screen: cut cells, and records instead when it is
    /// still wider than the terminal, each said once.
    fn finish_table(&mut self, table: table::Table) -> io::Result<()> {
        let Some(screen) = &self.screen else {
            return table.finish(&mut sink(&mut self.out, &mut self.page));
        };
        let (drawn, cut, widest) = table.draw(Some(CELL_WIDTH))?;
        let too_wide = screen.size().is_some_and(|(columns, _)| widest > columns);
        if too_wide && !self.chosen {
            let mut sink = sink(&mut self.out, &mut self.page);
            if !self.told_vertical {
                writeln!(
                    sink,
                    "(too wide for the terminal: shown as records; `format table` keeps tables)"
                )?;
                self.told_vertical = true;
            }
            let mut records = vertical::Vertical::new(table.columns.clone(), self.color);
            for row in &table.rows {
                records.row(&mut sink, row)?;
            }
            return records.finish_of(&mut sink, table.total);
        }
        if too_wide && let Some(page) = &mut self.page {
            // A table asked for by name: the pager's `-S` shows it whole,
            // where the terminal would wrap every line.
            page.too_wide();
        }
        let mut sink = sink(&mut self.out, &mut self.page);
        sink.write_all(&drawn)?;
        writeln!(sink, "{}", table.footer())?;
        if cut && !self.told_cut {
            writeln!(
                sink,
                "(… marks a cut value: `show ENTITY ID` or `format vertical` shows it whole)"
            )?;
            self.told_cut = true;
        }
        Ok(())
    }
}

/// Where the result being printed goes: the page held for the screen, or
/// the output.
enum Sink<'a, W: Write> {
    Out(&'a mut BufWriter<W>),
    Page(screen::PageWriter<'a, BufWriter<W>>),
}

fn sink<'a, W: Write>(
    out: &'a mut BufWriter<W>,
    page: &'a mut Option<screen::Page>,
) -> Sink<'a, W> {
    match page {
        Some(page) => Sink::Page(page.writer(out)),
        None => Sink::Out(out),
    }
}

impl<W: Write> Write for Sink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Out(out) => out.write(buf),
            Sink::Page(page) => page.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Out(out) => out.flush(),
            Sink::Page(page) => page.flush(),
        }
    }
}

impl<W: Write> RowSink for Printer<W> {
    fn begin(&mut self, columns: &[Column]) -> io::Result<()> {
        self.open_page()?;
        let columns = columns.to_vec();
        let body = match self.format {
            Format::Table => Body::Table(table::Table::new(columns, self.color)),
            Format::Vertical => Body::Vertical(vertical::Vertical::new(columns, self.color)),
            Format::Csv => {
                let csv = csv::Csv::new(columns);
                csv.header(&mut self.out)?;
                Body::Csv(csv)
            }
            Format::Json => Body::Json(json::Json::new(columns)),
        };
        self.body = Some(body);
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        let Some(body) = &mut self.body else {
            return Err(invalid("a row was printed before its columns"));
        };
        let width = match body {
            Body::Table(t) => t.width(),
            Body::Vertical(v) => v.width(),
            Body::Csv(c) => c.width(),
            Body::Json(j) => j.width(),
        };
        if cells.len() != width {
            return Err(invalid(&format!(
                "a row of {} cells for {width} columns",
                cells.len()
            )));
        }
        match body {
            Body::Table(t) => {
                t.row(cells);
                Ok(())
            }
            Body::Vertical(v) => v.row(&mut sink(&mut self.out, &mut self.page), cells),
            Body::Csv(c) => c.row(&mut self.out, cells),
            Body::Json(j) => j.row(&mut self.out, cells),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match self.body.take() {
            Some(Body::Table(t)) => self.finish_table(t)?,
            Some(Body::Vertical(v)) => v.finish(&mut sink(&mut self.out, &mut self.page))?,
            Some(Body::Csv(_) | Body::Json(_)) | None => {}
        }
        if !self.showing {
            self.close_page()?;
        }
        self.out.flush()
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// The footer of `table` and `vertical` after `shown` records of `total`:
/// `0 rows`, `1 row`, `N rows`, or, when a table drew only the first
/// `TABLE_MAX_ROWS`, `1000 of N rows shown; use limit/offset or --format
/// csv`. When times were shown, it says their zone: once for the whole
/// result rather than in every cell, and not in the headers, which stay
/// the field names that filters and `order by` take.
fn footer(shown: u64, total: u64, columns: &[Column]) -> String {
    let mut text = if shown < total {
        format!("{shown} of {total} rows shown; use limit/offset or --format csv")
    } else if total == 1 {
        "1 row".to_string()
    } else {
        format!("{total} rows")
    };
    if shown > 0 && columns.iter().any(|c| c.ty == ColumnType::DateTime) {
        text.push_str("; times in ");
        text.push_str(zone_name());
    }
    text
}

/// Prints the result of `count`: `3`; csv `count` then `3`; json
/// `{"count":3}`.
pub fn count<W: Write + ?Sized>(w: &mut W, format: Format, n: i64) -> io::Result<()> {
    match format {
        Format::Table | Format::Vertical => writeln!(w, "{n}"),
        Format::Csv => writeln!(w, "count\n{n}"),
        Format::Json => writeln!(w, "{{\"count\":{n}}}"),
    }
}

/// Prints a one-line message: as it is, or `{"message":"..."}` in json.
pub fn message<W: Write + ?Sized>(w: &mut W, format: Format, text: &str) -> io::Result<()> {
    match format {
        Format::Json => {
            w.write_all(b"{\"message\":")?;
            json::string(w, text)?;
            w.write_all(b"}\n")
        }
        _ => writeln!(w, "{}", text::visible(text)),
    }
}

/// Prints what a write changed (`signed contract kc555`); in json, the
/// changed record as one object when the executor has it, else the message.
pub fn changed<W: Write + ?Sized>(
    w: &mut W,
    format: Format,
    text: &str,
    record: Option<(&[Column], &[Cell])>,
) -> io::Result<()> {
    match (format, record) {
        (Format::Json, Some((columns, cells))) => {
            if columns.len() != cells.len() {
                return Err(invalid("a record whose cells do not match its columns"));
            }
            json::object(w, columns, cells)
        }
        _ => message(w, format, text),
    }
}

#[cfg(test)]
mod tests;
