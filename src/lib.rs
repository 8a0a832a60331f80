//! oc12-shell: the CRM of Epic Events as an interactive shell over PostgreSQL.
//!
//! A statement goes one way through the tree:
//!
//! ```text
//! shell/ ─ a line typed, a script line, or -c
//!   └→ interpreter/ ─ session.rs: parse and check (language/), then
//!        ├→ meta.rs ─ login, logout, whoami, passwd, help, format, lookup
//!        └→ executor.rs ─ plan (language/), run under the user's own role
//!             (db/), print (output/), report (monitoring/)
//! ```
//!
//! The folders, and what each may use (`tests/all/layers.rs` checks it; no
//! folder uses one that uses it back):
//!
//! - `language/`: text → tokens → statements → checked statements → plans,
//!   the catalogue, help, the value types. Pure: uses `error` only.
//! - `output/`: results in table, vertical, csv or json, on a terminal or
//!   not. Uses `language` (the value types and formats).
//! - `auth/`: password hashes and proofs, the session token and its file.
//!   Uses `output` (to show an expiry) and `fs`.
//! - `db/`: PostgreSQL: connection strings and TLS, the session pools and
//!   their statements, roles, errors translated, init, the local cluster,
//!   the generator, cancelling. Uses `language`, `output`, `auth`, `config`,
//!   `fs`.
//! - `monitoring/`: events to Sentry or `events.jsonl`. Uses `auth`,
//!   `config`, `fs`.
//! - `interpreter/`: the session and the running of statements, and
//!   France's registries. Uses everything above and `terminal`.
//! - `shell/`: the command line, the prompt, scripts, completion,
//!   highlighting, asking for missing fields. Uses the interpreter,
//!   `language`, `db`, `output`, `auth`, `config`, `terminal` and `fs`
//!   (not `monitoring`: the interpreter reports).
//!
//! At the top:
//!
//! - `main.rs` calls `app.rs`, which parses the command line and runs a
//!   subcommand or the shell (it may use every folder).
//! - `config.rs`: the environment and `$OC12_HOME/config.env`; uses `fs`.
//! - `error.rs`: the one error type and its exit codes; uses nothing.
//! - `fs.rs`: private folders and files, atomic writes, locks; uses nothing.
//! - `terminal.rs`: questions at the terminal (passwords with echo off);
//!   uses `auth` (the password policy), asked by the interpreter and the
//!   shell alike.
//!
//! Everything is crate-private unless the tests in `tests/all/`, the
//! benchmark or the fuzz target use it: the public modules below are that
//! API, and what they do not need stays `pub(crate)`.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub(crate) mod fs;
pub mod interpreter;
pub mod language;
pub mod monitoring;
pub mod output;
pub mod shell;
pub(crate) mod terminal;

pub use error::{Error, ErrorKind, Result, Span};
