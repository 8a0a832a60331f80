//! The permission matrix of SECURITY.md, as data. The shell consults it
//! only to explain a refusal before anything runs; PostgreSQL's grants and
//! policies are the authority, and refuse on their own if this were wrong.

/// The three departments.
pub const DEPARTMENTS: [&str; 3] = ["commercial", "gestion", "support"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Set,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Set => "change",
            Action::Delete => "delete",
        }
    }
}

/// Who may do an action on an entity, and which fields they may not touch.
struct Rule {
    entity: &'static str,
    action: Action,
    department: &'static str,
    /// Fields this department may not give (add) or change (set).
    except: &'static [&'static str],
    /// When non-empty, the only fields this department may change.
    only: &'static [&'static str],
}

const fn rule(entity: &'static str, action: Action, department: &'static str) -> Rule {
    Rule {
        entity,
        action,
        department,
        except: &[],
        only: &[],
    }
}

use Action::{Add, Delete, Set};

const MATRIX: &[Rule] = &[
    rule("collaborator", Add, "gestion"),
    rule("collaborator", Set, "gestion"),
    rule("collaborator", Delete, "gestion"),
    Rule {
        except: &["commercial"],
        ..rule("client", Add, "commercial")
    },
    Rule {
        except: &["commercial"],
        ..rule("client", Set, "commercial")
    },
    rule("client", Set, "gestion"),
    rule("client", Delete, "gestion"),
    rule("company", Add, "commercial"),
    rule("company", Add, "gestion"),
    rule("company", Set, "commercial"),
    rule("company", Set, "gestion"),
    rule("company", Delete, "gestion"),
    rule("location", Add, "commercial"),
    rule("location", Add, "gestion"),
    rule("location", Set, "commercial"),
    rule("location", Set, "gestion"),
    rule("location", Delete, "gestion"),
    rule("contract", Add, "gestion"),
    Rule {
        only: &["total", "remain", "status"],
        ..rule("contract", Set, "commercial")
    },
    rule("contract", Set, "gestion"),
    rule("contract", Delete, "gestion"),
    rule("event", Add, "commercial"),
    Rule {
        except: &["support", "contract"],
        ..rule("event", Set, "support")
    },
    rule("event", Set, "gestion"),
    rule("event", Delete, "gestion"),
];

/// Explains why `department` may not do `action` on `entity` with these
/// fields, or `None` when the matrix allows it. Entities are singular.
pub fn refusal(department: &str, action: Action, entity: &str, fields: &[&str]) -> Option<String> {
    let allowed: Vec<&Rule> = MATRIX
        .iter()
        .filter(|r| r.entity == entity && r.action == action)
        .collect();
    let Some(rule) = allowed.iter().find(|r| r.department == department) else {
        let who: Vec<&str> = allowed.iter().map(|r| r.department).collect();
        return Some(match who.as_slice() {
            [] => format!("{} are read only", plural(entity)),
            [one] => format!("only {one} may {} {}", action.verb(), plural(entity)),
            many => format!(
                "only {} may {} {}",
                many.join(" and "),
                action.verb(),
                plural(entity)
            ),
        });
    };
    let forbidden = fields
        .iter()
        .find(|f| rule.except.contains(f) || (!rule.only.is_empty() && !rule.only.contains(f)))?;
    let others: Vec<&str> = allowed
        .iter()
        .filter(|r| {
            !r.except.contains(forbidden) && (r.only.is_empty() || r.only.contains(forbidden))
        })
        .map(|r| r.department)
        .collect();
    Some(match (action, others.as_slice()) {
        (Add, []) | (Set, []) => format!(
            "{department} may not set `{forbidden}` of {} {entity}",
            article(entity)
        ),
        (_, who) => format!(
            "only {} may set `{forbidden}` of {} {entity}",
            who.join(" and "),
            article(entity)
        ),
    })
}

fn plural(entity: &str) -> String {
    match entity {
        "company" => "companies".to_owned(),
        e => format!("{e}s"),
    }
}

fn article(entity: &str) -> &'static str {
    match entity.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_level_refusals_name_who_may() {
        assert_eq!(
            refusal("commercial", Delete, "client", &[]).as_deref(),
            Some("only gestion may delete clients")
        );
        assert_eq!(
            refusal("support", Add, "company", &[]).as_deref(),
            Some("only commercial and gestion may add companies")
        );
        assert_eq!(
            refusal("gestion", Set, "department", &[]).as_deref(),
            Some("departments are read only")
        );
        assert_eq!(refusal("gestion", Delete, "client", &[]), None);
    }

    #[test]
    fn field_level_refusals() {
        assert_eq!(
            refusal("commercial", Set, "client", &["phone", "commercial"]).as_deref(),
            Some("only gestion may set `commercial` of a client")
        );
        assert_eq!(
            refusal("commercial", Add, "client", &["name", "commercial"]).as_deref(),
            Some("commercial may not set `commercial` of a client")
        );
        assert_eq!(
            refusal("commercial", Set, "contract", &["client"]).as_deref(),
            Some("only gestion may set `client` of a contract")
        );
        assert_eq!(
            refusal("commercial", Set, "contract", &["remain", "status"]),
            None
        );
        assert_eq!(
            refusal("support", Set, "event", &["notes", "support"]).as_deref(),
            Some("only gestion may set `support` of an event")
        );
        assert_eq!(
            refusal("support", Set, "event", &["notes", "attendees"]),
            None
        );
        assert_eq!(refusal("gestion", Set, "event", &["support"]), None);
    }
}
