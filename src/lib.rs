//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod analyzer;
pub mod ast;
pub mod catalog;
pub mod error;
pub mod lexer;
pub mod parser;
pub mod planner;
pub mod value;

pub use error::{Error, ErrorKind, Result, Span};
