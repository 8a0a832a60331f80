//! `json`: JSON Lines, one object per row, written row by row with the keys
//! in column order.

use std::io::{self, Write};

use super::text;
use crate::language::value::{Cell, Column};

pub(super) struct Json {
    columns: Vec<Column>,
}

impl Json {
    pub(super) fn new(columns: Vec<Column>) -> Json {
        Json { columns }
    }

    pub(super) fn width(&self) -> usize {
        self.columns.len()
    }

    pub(super) fn row(&mut self, out: &mut impl Write, cells: &[Cell]) -> io::Result<()> {
        object(out, &self.columns, cells)
    }
}

/// One object and its newline; `columns` and `cells` have the same length.
pub(super) fn object<W: Write + ?Sized>(
    out: &mut W,
    columns: &[Column],
    cells: &[Cell],
) -> io::Result<()> {
    fields(out, columns, cells)?;
    out.write_all(b"}\n")
}

/// A record with its related lists as arrays of objects under their titles:
/// what `show` prints as one JSON line.
pub(super) fn object_with_related<W: Write + ?Sized>(
    out: &mut W,
    columns: &[Column],
    cells: &[Cell],
    related: &[super::Related<'_>],
) -> io::Result<()> {
    fields(out, columns, cells)?;
    for r in related {
        out.write_all(b",")?;
        string(out, r.title)?;
        out.write_all(b":[")?;
        for (i, row) in r.rows.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            fields(out, r.columns, row)?;
            out.write_all(b"}")?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(b"}\n")
}

/// `{` and the `"key":value` pairs, without the closing brace.
fn fields<W: Write + ?Sized>(out: &mut W, columns: &[Column], cells: &[Cell]) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (column, cell)) in columns.iter().zip(cells).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        string(out, &column.name)?;
        out.write_all(b":")?;
        match cell {
            Cell::Null => out.write_all(b"null")?,
            Cell::Integer(n) => write!(out, "{n}")?,
            other => match text::machine(other) {
                Some(value) => string(out, &value)?,
                None => out.write_all(b"null")?,
            },
        }
    }
    Ok(())
}

/// A JSON string, escaped by serde_json, which escapes the C0 controls but
/// writes DEL, the C1 controls and bidirectional overrides as they are:
/// those are written `\u007f`, `\u009b`, `\u202e` too, so that the line is
/// safe on a terminal and a program still reads back the exact text.
pub(super) fn string<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    if !s.chars().any(|c| text::is_unsafe(c) && c > '\u{1f}') {
        return serde_json::to_writer(&mut *out, s).map_err(io::Error::from);
    }
    let json = serde_json::to_string(s).map_err(io::Error::from)?;
    let mut escaped = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        if text::is_unsafe(c) {
            // Left by serde_json: all of them in the BMP, past U+001F.
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    out.write_all(escaped.as_bytes())
}
