//! `vertical`: one `field | value` block per record, written as it comes.

use std::io::{self, Write};

use super::table::{BOLD, RESET};
use super::{footer, text};
use crate::language::value::{Cell, Column};

pub(super) struct Vertical {
    columns: Vec<Column>,
    /// The field names, padded to the widest (and bold when asked).
    labels: Vec<String>,
    /// The padding that continues a multi-line value.
    blank: String,
    total: u64,
}

impl Vertical {
    pub(super) fn new(columns: Vec<Column>, color: bool) -> Vertical {
        let names: Vec<String> = columns
            .iter()
            .map(|c| text::visible(&c.name).replace('\n', " "))
            .collect();
        // Field names are the catalogue's identifiers: one column per char.
        let widest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let labels = names
            .iter()
            .map(|name| {
                let padded = format!("{name:<widest$}");
                if color {
                    format!("{BOLD}{padded}{RESET}")
                } else {
                    padded
                }
            })
            .collect();
        Vertical {
            columns,
            labels,
            blank: " ".repeat(widest),
            total: 0,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.labels.len()
    }

    pub(super) fn row(&mut self, out: &mut impl Write, cells: &[Cell]) -> io::Result<()> {
        self.total += 1;
        if self.total > 1 {
            out.write_all(b"\n")?;
        }
        writeln!(out, "-[ RECORD {} ]-", self.total)?;
        for (label, cell) in self.labels.iter().zip(cells) {
            let value = text::human(cell);
            let mut lines = value.split('\n');
            let first = lines.next().unwrap_or("");
            line(out, label, first)?;
            for more in lines {
                line(out, &self.blank, more)?;
            }
        }
        Ok(())
    }

    pub(super) fn finish(self, out: &mut impl Write) -> io::Result<()> {
        let total = self.total;
        self.finish_of(out, total)
    }

    /// Ends records that are the first of `total` (a table's rows shown as
    /// records: at most the rows a table keeps).
    pub(super) fn finish_of(self, out: &mut impl Write, total: u64) -> io::Result<()> {
        if self.total > 0 {
            out.write_all(b"\n")?;
        }
        writeln!(out, "{}", footer(self.total, total, &self.columns))
    }
}

fn line(out: &mut impl Write, label: &str, value: &str) -> io::Result<()> {
    if value.is_empty() {
        writeln!(out, "{label} |")
    } else {
        writeln!(out, "{label} | {value}")
    }
}
