//! Running checked statements.

pub mod registry;
