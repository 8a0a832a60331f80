//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod cli;
pub mod complete;
pub mod config;
pub mod database;
pub mod db;
pub mod error;
pub mod highlight;
pub mod local;
pub mod repl;
mod repl_lex;
pub mod script;
pub mod value;

pub use error::{Error, ErrorKind, Result, Span};
