//! What one fuzzing input goes through, shared by the coverage-guided
//! target (`fuzz_targets/statement.rs`) and its replay in `cargo test`
//! (`tests/all/fuzz_corpus.rs`): any bytes, read the way a script is read,
//! then parsed, checked and planned. A panic, or SQL text that is not made
//! of the planner's own words (a user value pasted into it), is a finding.

use oc12::language::analyzer::{self, Checked};
use oc12::language::{parser, planner};
use oc12::shell::script;

/// The only quoted literals the planner writes itself.
const LITERALS: &[&str] = &["%", "signed", "none", "old", "new", "; ", "%s: %s → %s"];

/// The SQL quotes nothing but [`LITERALS`] and has no `;` or comment
/// outside them: no user value was pasted into it.
fn planner_words_only(sql: &str) {
    let mut rest = sql;
    while let Some(open) = rest.find('\'') {
        let outside = &rest[..open];
        assert!(!outside.contains(';') && !outside.contains("--"), "{sql}");
        let after = &rest[open + 1..];
        let close = after
            .find('\'')
            .unwrap_or_else(|| panic!("unclosed quote: {sql}"));
        assert!(
            LITERALS.contains(&&after[..close]),
            "literal {:?} in {sql}",
            &after[..close]
        );
        rest = &after[close + 1..];
    }
    assert!(!rest.contains(';') && !rest.contains("--"), "{sql}");
}

/// What the fuzz target does with one input.
pub fn run(data: &[u8]) {
    for unit in script::Reader::new(data).flatten() {
        let Ok(statements) = parser::parse(&unit.text) else {
            continue;
        };
        for statement in &statements {
            let Ok(Checked::Data(data)) = analyzer::analyze(statement) else {
                continue;
            };
            for plan in planner::plan(&data).plans() {
                planner_words_only(&plan.sql);
            }
        }
    }
}
