//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod analyzer;
pub mod app;
pub mod ask;
pub mod ast;
pub mod auth;
pub mod cancel;
pub mod catalog;
pub mod cli;
pub mod complete;
pub mod completion;
pub mod config;
pub mod database;
pub mod db;
pub mod error;
pub mod fs;
pub mod generate;
pub mod highlight;
pub mod init;
pub mod lexer;
pub mod link;
pub mod local;
pub mod monitoring;
pub mod output;
pub mod parser;
pub mod permissions;
pub mod planner;
pub mod prompt;
pub mod refusal;
pub mod registry;
pub mod repl;
pub mod script;
pub mod session;
pub mod shell;
pub mod tls;
pub mod value;

pub use error::{Error, ErrorKind, Result, Span};
