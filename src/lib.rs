//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.

pub mod error;
pub mod output;
pub mod value;

pub use error::{Error, ErrorKind, Result, Span};
