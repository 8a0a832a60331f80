//! The tree shows the pipeline only while its parts keep their places: each
//! folder (or top-level file) of `src/` may use the parts named here and no
//! other, as lib.rs's code map says, and no part uses one that uses it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each part of the crate may use, besides itself.
const MAY_USE: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("fs", &[]),
    ("language", &["error"]),
    ("output", &["error", "language"]),
    ("config", &["error", "fs"]),
    ("auth", &["error", "fs", "output"]),
    ("terminal", &["error", "auth"]),
    ("monitoring", &["error", "fs", "config", "auth"]),
    (
        "db",
        &["error", "fs", "config", "auth", "language", "output"],
    ),
    (
        "interpreter",
        &[
            "error",
            "fs",
            "config",
            "auth",
            "terminal",
            "language",
            "output",
            "db",
            "monitoring",
        ],
    ),
    (
        "shell",
        &[
            "error",
            "fs",
            "config",
            "auth",
            "terminal",
            "language",
            "output",
            "db",
            "interpreter",
        ],
    ),
    (
        "app",
        &[
            "error",
            "fs",
            "config",
            "auth",
            "terminal",
            "language",
            "output",
            "db",
            "monitoring",
            "interpreter",
            "shell",
        ],
    ),
];

/// The parts each part of `src/` names as `crate::PART`, outside comments.
fn used() -> BTreeMap<String, BTreeSet<String>> {
    let mut uses = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap();
            let part = first.as_os_str().to_str().unwrap().trim_end_matches(".rs");
            if matches!(part, "lib" | "main") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let parts: &mut BTreeSet<String> = uses.entry(part.to_owned()).or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let name: String = line[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != part {
                        parts.insert(name);
                    }
                }
            }
        }
    }
    uses
}

#[test]
fn each_part_uses_only_what_the_code_map_allows() {
    let allowed: BTreeMap<&str, &[&str]> = MAY_USE.iter().copied().collect();
    let used = used();
    assert!(
        used.len() >= MAY_USE.len() - 1,
        "src/ was not read: {used:?}"
    );
    for (part, uses) in used {
        let Some(may) = allowed.get(part.as_str()) else {
            panic!("src/{part} is not in MAY_USE: say what it may use (and in lib.rs)");
        };
        for used in uses {
            assert!(
                may.contains(&used.as_str()),
                "src/{part} uses crate::{used}, which the code map does not allow"
            );
        }
    }
}

#[test]
fn no_part_uses_one_that_uses_it_back() {
    // Each part may use only parts listed before it: the order is a layering.
    let mut seen: Vec<&str> = Vec::new();
    for (part, may) in MAY_USE {
        for used in *may {
            assert!(
                seen.contains(used),
                "{part} may use {used}, listed after it"
            );
        }
        seen.push(part);
    }
}
