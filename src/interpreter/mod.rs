//! Running checked statements for the person logged in.
//!
//! - `session.rs`: the state across statements (who is logged in, the
//!   database, the open transaction of `--single-transaction`) and
//!   [`session::Session::run_text`], which parses and checks a line and hands
//!   each statement on.
//! - `meta.rs`: `login`, `logout`, `whoami`, `passwd`, `help`, `format`,
//!   `lookup`.
//! - `executor.rs`: a data statement: the matrix checked, planned, run under
//!   the user's role, its result streamed to the printer.
//! - `report.rs`: what monitoring hears of a statement, once it commits.
//! - `registry/`: France's registries (companies, communes), asked over
//!   HTTPS or read from the bundled data, for `lookup` and to complete
//!   `add company` and `add location`.
//!
//! May use: `language`, `db`, `output`, `auth`, `monitoring`, `config`,
//! `terminal`, `error`; never `shell`, which drives it.

mod executor;
mod meta;
pub mod registry;
mod report;
pub mod session;
