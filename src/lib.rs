//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fs;
pub mod interpreter;
pub mod language;
pub mod monitoring;
pub mod output;
pub mod shell;
pub mod terminal;

pub use error::{Error, ErrorKind, Result, Span};
