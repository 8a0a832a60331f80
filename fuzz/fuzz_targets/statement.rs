//! Coverage-guided fuzzing of the language pipeline: any bytes, read the
//! way a script is read, then parsed, checked and planned. A panic, a stack
//! overflow, or SQL text that is not made of the planner's own words (a
//! user value pasted into it) is a finding (`../pipeline.rs`, which
//! `cargo test` replays over the corpus too).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../pipeline.rs"]
mod pipeline;

fuzz_target!(|data: &[u8]| pipeline::run(data));
