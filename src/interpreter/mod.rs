//! Running checked statements.

mod executor;
mod meta;
pub mod registry;
mod report;
pub mod session;
