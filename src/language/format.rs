//! The output formats a user may name: `--format`, the `format` statement,
//! and their completion all read this one list. How each prints is
//! `output`'s business.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// How results are printed: `--format` and the `format` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Vertical,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Table, Format::Vertical, Format::Csv, Format::Json];

    pub const fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Vertical => "vertical",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Format::ALL.into_iter().map(Format::name)
    }

    /// "table, vertical, csv or json", for messages.
    pub fn choices() -> String {
        let names: Vec<&str> = Format::names().collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format, Error> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::usage(format!("unknown format `{s}`: use {}", Format::choices())))
    }
}
