//! `help`, written from the catalogue: the same data the parser, the
//! analyzer and completion use, so it cannot drift from what the shell
//! accepts.

use std::fmt::Write;

use crate::analyzer::Topic;
use crate::catalog::{self, Department, Entity, STATEMENTS};

/// The text of `help` or `help TOPIC`.
pub fn render(topic: Option<Topic>) -> String {
    match topic {
        None => overview(),
        Some(Topic::Statement(s)) => {
            let mut out = format!("{}\n\n  {}\n", s.syntax, s.summary);
            if !s.examples.is_empty() {
                out.push_str("\nexamples:\n");
                for e in s.examples {
                    let _ = writeln!(out, "  {e}");
                }
            }
            if s.names.len() > 1 {
                let _ = writeln!(out, "\nalso spelled: {}", s.names[1..].join(", "));
            }
            out.trim_end().to_owned()
        }
        Some(Topic::Entity(e)) => entity(e),
        Some(Topic::General(name, text)) => format!("{name}\n\n{text}"),
    }
}

fn overview() -> String {
    let mut out = String::from("statements:\n");
    let width = STATEMENTS
        .iter()
        .map(|s| s.names[0].len())
        .max()
        .unwrap_or(0);
    for s in STATEMENTS {
        let _ = writeln!(out, "  {:width$}  {}", s.names[0], s.summary);
    }
    out.push_str("\nentities: ");
    let names: Vec<&str> = catalog::entities().iter().map(|e| e.plural).collect();
    out.push_str(&names.join(", "));
    let topics: Vec<&str> = catalog::TOPICS.iter().map(|(t, _)| *t).collect();
    let _ = write!(
        out,
        "\nmore: help STATEMENT, help ENTITY, help {}",
        topics.join(", help ")
    );
    out
}

fn entity(e: &Entity) -> String {
    let mut out = format!("{} — {}\n\n", e.plural, e.description);
    let rows: Vec<[String; 4]> = e
        .fields
        .iter()
        .map(|f| {
            let mut name = f.name.to_owned();
            if !f.aliases.is_empty() {
                let _ = write!(name, " [{}]", f.aliases.join(", "));
            }
            let mut kind = f.ty.describe();
            if f.is_derived() {
                kind.push_str(", derived");
            }
            if f.required {
                kind.push_str(", required");
            }
            [name, kind, who(f.set), f.description.to_owned()]
        })
        .collect();
    let header = ["field", "type", "changed by", "meaning"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        let mut l = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            l.push_str(c);
            if i < 3 {
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        l.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(header));
    for r in &rows {
        let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3]]));
    }
    let _ = write!(
        out,
        "\nadded by: {}; deleted by: {}",
        who(e.add),
        who(e.delete)
    );
    out
}

fn who(departments: &[Department]) -> String {
    if departments.is_empty() {
        "nobody".to_owned()
    } else {
        departments
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overview_lists_every_statement_and_entity() {
        let text = render(None);
        for s in STATEMENTS {
            assert!(text.contains(s.names[0]), "{}", s.names[0]);
        }
        for e in catalog::entities() {
            assert!(text.contains(e.plural), "{}", e.plural);
        }
    }

    #[test]
    fn entity_help_lists_fields_types_and_who_changes_them() {
        let text = render(Some(Topic::Entity(catalog::entity("contract").unwrap())));
        let remain = text
            .lines()
            .find(|l| l.trim_start().starts_with("remain"))
            .unwrap();
        assert!(remain.contains("remain_amount_to_pay"), "{remain}");
        assert!(remain.contains("money"), "{remain}");
        assert!(remain.contains("commercial, gestion"), "{remain}");
        let commercial = text
            .lines()
            .find(|l| l.trim_start().starts_with("commercial"))
            .unwrap();
        assert!(commercial.contains("derived"), "{commercial}");
        assert!(commercial.contains("nobody"), "{commercial}");
        assert!(
            text.ends_with("added by: gestion; deleted by: gestion"),
            "{text}"
        );
    }

    #[test]
    fn statement_help_has_syntax_and_examples() {
        let text = render(Some(Topic::Statement(
            catalog::statement_help("pay").unwrap(),
        )));
        assert!(text.starts_with("pay contract ID AMOUNT"), "{text}");
        assert!(text.contains("examples:"), "{text}");
    }
}
