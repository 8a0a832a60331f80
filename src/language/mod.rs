//! The language: text → tokens → statements → checked statements → plans.

pub mod analyzer;
pub mod ast;
pub mod catalog;
pub mod format;
pub mod help;
pub mod lexer;
pub mod lookup;
pub mod naf;
pub mod parser;
pub mod permissions;
pub mod planner;
pub mod suggest;
