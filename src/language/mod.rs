//! The language, as pure functions: text → tokens → statements → checked
//! statements → plans (SQL text and typed parameters). Nothing here reads a
//! file, opens a connection, asks a registry or prints: the planner's output
//! is data the interpreter runs, and every stage can be tested on its own.
//!
//! - `lexer.rs`: text → tokens, lossless; shared by the parser, the
//!   highlighter and the completer.
//! - `ast.rs`: the syntax tree, names and values as typed, with their spans.
//! - `parser.rs`: tokens → syntax tree, one function per production of
//!   `grammar/GRAMMAR.md`.
//! - `catalog.rs`: the one description of entities and fields (types, SQL
//!   names, who may write them) and of the shape of each statement.
//! - `help.rs`: every statement's syntax and examples, the help topics and
//!   the texts `help` prints, written from the catalogue.
//! - `suggest.rs`: "did you mean …?", by edit distance.
//! - `format.rs`: the output formats a user may name.
//! - `naf.rs` (+ `data/naf.tsv`): the APE codes and their labels.
//! - `lookup.rs`: `lookup company|location`, checked, and the SIREN rule.
//! - `analyzer.rs`: syntax tree → checked statement: names resolved, values
//!   typed, the rules a statement keeps before it reaches the database.
//! - `permissions.rs`: SECURITY.md's matrix, said before anything runs.
//! - `planner.rs`: checked statement → SQL and bound parameters.
//! - `value.rs`: the typed values between the planner, PostgreSQL and the
//!   printer (parameters, cells, column types).
//!
//! May use: `crate::error` and itself; no other part of the crate, and no
//! crate that does I/O.

pub mod analyzer;
pub mod ast;
pub mod catalog;
pub(crate) mod format;
pub mod help;
pub(crate) mod lexer;
pub mod lookup;
pub(crate) mod naf;
pub mod parser;
pub(crate) mod permissions;
pub mod planner;
pub(crate) mod suggest;
pub mod value;
