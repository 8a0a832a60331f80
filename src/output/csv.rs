//! `csv`: RFC 4180, LF line endings, written row by row. Text cells are
//! made safe first (see [`safe_text`]).

use std::borrow::Cow;
use std::io::{self, Write};

use super::text;
use crate::language::value::{Cell, Column};

pub(super) struct Csv {
    columns: Vec<Column>,
}

impl Csv {
    pub(super) fn new(columns: Vec<Column>) -> Csv {
        Csv { columns }
    }

    pub(super) fn width(&self) -> usize {
        self.columns.len()
    }

    pub(super) fn header(&self, out: &mut impl Write) -> io::Result<()> {
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            field(out, &column.name)?;
        }
        out.write_all(b"\n")
    }

    pub(super) fn row(&mut self, out: &mut impl Write, cells: &[Cell]) -> io::Result<()> {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match cell {
                Cell::Text(s) => field(out, &safe_text(s))?,
                // Its text values are as unsafe as any text.
                Cell::Changes(_) => {
                    if let Some(value) = text::machine(cell) {
                        field(out, &safe_text(&value))?;
                    }
                }
                other => {
                    if let Some(value) = text::machine(other) {
                        field(out, &value)?;
                    }
                }
            }
        }
        out.write_all(b"\n")
    }
}

/// A text cell made safe to open in a spreadsheet or to `cat` on a
/// terminal: control characters (but tab and newline) and bidirectional
/// overrides escaped as table shows them, and a leading `=`, `+`, `-`, `@`,
/// tab or carriage return, which a spreadsheet would take for a formula,
/// behind a `'` (OWASP's rule for CSV injection). Only text: numbers, money
/// and times are the shell's own and stay as they are.
fn safe_text(s: &str) -> Cow<'_, str> {
    let shown = text::visible_keeping_tabs(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{shown}"))
    } else {
        shown
    }
}

/// One field, quoted when it must be. An empty string is quoted too, as
/// psql's CSV does, so that it reads back differently from NULL.
fn field(out: &mut impl Write, value: &str) -> io::Result<()> {
    let needs_quotes = value.is_empty() || value.contains([',', '"', '\r', '\n']);
    if !needs_quotes {
        return out.write_all(value.as_bytes());
    }
    out.write_all(b"\"")?;
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            out.write_all(b"\"\"")?;
        }
        out.write_all(part.as_bytes())?;
    }
    out.write_all(b"\"")
}
