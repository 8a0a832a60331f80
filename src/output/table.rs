//! `table`: prettytable needs every row to size its columns, so this body
//! keeps the rows it will draw, at most [`TABLE_MAX_ROWS`], and only counts
//! the others. It keeps the cells themselves, not their drawing: on a
//! terminal the printer may show them as records instead.

use std::io::{self, Write};

use prettytable::format::{Alignment, FormatBuilder, LinePosition, LineSeparator, TableFormat};

use super::text;
use crate::language::value::{Cell, Column, ColumnType};

/// The most rows a table draws.
pub const TABLE_MAX_ROWS: usize = 1000;

pub(super) struct Table {
    pub(super) columns: Vec<Column>,
    color: bool,
    /// Never longer than TABLE_MAX_ROWS.
    pub(super) rows: Vec<Vec<Cell>>,
    pub(super) total: u64,
}

impl Table {
    pub(super) fn new(columns: Vec<Column>, color: bool) -> Table {
        Table {
            columns,
            color,
            rows: Vec::new(),
            total: 0,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.columns.len()
    }

    pub(super) fn row(&mut self, cells: &[Cell]) {
        self.total += 1;
        if self.rows.len() >= TABLE_MAX_ROWS {
            return;
        }
        self.rows.push(cells.to_vec());
    }

    /// The drawn table, without its footer: each cell as [`text::human`]
    /// shows it, cut to `cut` columns on one line when given (a terminal).
    /// Also says whether a cell was cut, and how many columns the widest
    /// line takes on the screen.
    pub(super) fn draw(&self, cut: Option<usize>) -> io::Result<(Vec<u8>, bool, usize)> {
        let mut drawn = Vec::new();
        let mut was_cut = false;
        if self.columns.is_empty() {
            return Ok((drawn, was_cut, 0));
        }
        let rows = self
            .rows
            .iter()
            .map(|cells| {
                let row = cells
                    .iter()
                    .zip(&self.columns)
                    .map(|(cell, column)| {
                        let shown = text::human(cell);
                        let shown = match cut {
                            Some(width) => match text::cut(&shown, width) {
                                std::borrow::Cow::Owned(c) => {
                                    was_cut = true;
                                    c
                                }
                                std::borrow::Cow::Borrowed(_) => shown.into_owned(),
                            },
                            None => shown.into_owned(),
                        };
                        prettytable::Cell::new_align(&shown, align(column))
                    })
                    .collect();
                prettytable::Row::new(row)
            })
            .collect();
        let mut table = prettytable::Table::init(rows);
        table.set_format(box_format());
        let titles = self
            .columns
            .iter()
            .map(|column| prettytable::Cell::new_align(&title(&column.name), align(column)))
            .collect();
        table.set_titles(prettytable::Row::new(titles));
        table.print(&mut drawn)?;
        let widest = String::from_utf8_lossy(&drawn)
            .lines()
            .map(unicode_width::UnicodeWidthStr::width)
            .max()
            .unwrap_or(0);
        if self.color {
            // prettytable counts the ESC of a colour code as one column
            // wide, which would shift the header: draw the table plain,
            // then embolden the names in the header line.
            drawn = embolden_header(&drawn);
        }
        Ok((drawn, was_cut, widest))
    }

    /// The footer: `N rows`, or how many of them were drawn.
    pub(super) fn footer(&self) -> String {
        super::footer(self.rows.len() as u64, self.total, &self.columns)
    }

    /// Draws the table and its footer.
    pub(super) fn finish(self, out: &mut impl Write) -> io::Result<()> {
        let (drawn, _, _) = self.draw(None)?;
        out.write_all(&drawn)?;
        writeln!(out, "{}", self.footer())
    }
}

/// A header name on one line, with nothing that could pass for a border.
fn title(name: &str) -> String {
    text::visible(name).replace(['\n', '│'], " ")
}

/// The drawn table with the names of its header line (the second line) in
/// bold: each run of text between two `│`, without its padding, is wrapped.
fn embolden_header(drawn: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(drawn.len() + 64);
    let mut lines = drawn.split_inclusive(|&b| b == b'\n');
    let (Some(top), Some(header)) = (lines.next(), lines.next()) else {
        return drawn.to_vec();
    };
    out.extend_from_slice(top);
    let header = String::from_utf8_lossy(header);
    for (i, part) in header.split('│').enumerate() {
        if i > 0 {
            out.extend_from_slice("│".as_bytes());
        }
        let name = part.trim_matches(' ');
        if name.is_empty() || name.contains('\n') {
            out.extend_from_slice(part.as_bytes());
            continue;
        }
        let start = part.len() - part.trim_start_matches(' ').len();
        let end = start + name.len();
        out.extend_from_slice(&part.as_bytes()[..start]);
        out.extend_from_slice(BOLD.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(RESET.as_bytes());
        out.extend_from_slice(&part.as_bytes()[end..]);
    }
    for line in lines {
        out.extend_from_slice(line);
    }
    out
}

pub(super) const BOLD: &str = "\x1b[1m";
pub(super) const RESET: &str = "\x1b[0m";

fn align(column: &Column) -> Alignment {
    match column.ty {
        ColumnType::Integer | ColumnType::Money => Alignment::RIGHT,
        ColumnType::Text | ColumnType::DateTime | ColumnType::Changes(_) => Alignment::LEFT,
    }
}

/// Box-drawing characters, a line under the header, none between rows.
fn box_format() -> TableFormat {
    FormatBuilder::new()
        .column_separator('│')
        .borders('│')
        .separator(LinePosition::Top, LineSeparator::new('─', '┬', '┌', '┐'))
        .separator(LinePosition::Title, LineSeparator::new('─', '┼', '├', '┤'))
        .separator(LinePosition::Bottom, LineSeparator::new('─', '┴', '└', '┘'))
        .padding(1, 1)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_beyond_the_cap_are_counted_not_kept() {
        let mut t = Table::new(vec![Column::new("n", ColumnType::Integer)], false);
        for n in 0..1500 {
            t.row(&[Cell::Integer(n)]);
        }
        assert_eq!(t.rows.len(), TABLE_MAX_ROWS);
        assert_eq!(t.total, 1500);
    }
}
