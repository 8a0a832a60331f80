//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod auth;
pub mod cli;
pub mod config;
pub mod database;
pub mod db;
pub mod error;
pub mod init;
pub mod local;
pub mod monitoring;
pub mod output;
pub mod permissions;
pub mod script;
pub mod value;

pub use error::{Error, ErrorKind, Result, Span};
