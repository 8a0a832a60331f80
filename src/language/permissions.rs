//! Explaining SECURITY.md's matrix before anything runs. The matrix itself
//! is in the catalogue (who may add or delete an entity, who may give or
//! change each field); PostgreSQL's grants and policies are the authority
//! and refuse on their own if this were wrong.

use crate::language::catalog::{Department, Entity, Field};

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

/// Explains why `department` may not do `action` on `entity` with these
/// fields, or `None` when the matrix allows it.
pub fn refusal(
    department: Department,
    action: Action,
    entity: &Entity,
    fields: &[&Field],
) -> Option<String> {
    let who: Vec<Department> = match action {
        Action::Add => entity.add.to_vec(),
        Action::Delete => entity.delete.to_vec(),
        Action::Set => Department::ALL
            .into_iter()
            .filter(|d| entity.fields.iter().any(|f| f.may_set(*d)))
            .collect(),
    };
    if !who.contains(&department) {
        return Some(if who.is_empty() {
            format!("{} are read only", entity.plural)
        } else {
            format!(
                "only {} may {} {}",
                names(&who),
                action.verb(),
                entity.plural
            )
        });
    }
    let allows = |d: Department, f: &Field| match action {
        Action::Add => f.may_add(d),
        Action::Set => f.may_set(d),
        Action::Delete => true,
    };
    let forbidden = fields.iter().find(|f| !allows(department, f))?;
    let others: Vec<Department> = Department::ALL
        .into_iter()
        .filter(|d| allows(*d, forbidden) && who.contains(d))
        .collect();
    Some(if others.is_empty() {
        format!(
            "{} may not set `{}` of {} {}",
            department.name(),
            forbidden.name,
            article(entity.name),
            entity.name
        )
    } else {
        format!(
            "only {} may set `{}` of {} {}",
            names(&others),
            forbidden.name,
            article(entity.name),
            entity.name
        )
    })
}

fn names(departments: &[Department]) -> String {
    departments
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `a` or `an`, for messages about an entity.
pub(crate) fn article(word: &str) -> &'static str {
    match word.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::Action::{Add, Delete, Set};
    use super::*;
    use crate::language::catalog::Department::{Commercial, Gestion, Support};
    use crate::language::catalog::entity;

    fn check(d: Department, a: Action, e: &str, fields: &[&str]) -> Option<String> {
        let e = entity(e).unwrap();
        let fields: Vec<&Field> = fields.iter().map(|f| e.field(f).unwrap()).collect();
        refusal(d, a, e, &fields)
    }

    #[test]
    fn department_level_refusals_name_who_may() {
        assert_eq!(
            check(Commercial, Delete, "client", &[]).as_deref(),
            Some("only gestion may delete clients")
        );
        assert_eq!(
            check(Support, Add, "company", &[]).as_deref(),
            Some("only commercial and gestion may add companies")
        );
        assert_eq!(
            check(Gestion, Set, "department", &[]).as_deref(),
            Some("departments are read only")
        );
        assert_eq!(
            check(Commercial, Add, "contract", &[]).as_deref(),
            Some("only gestion may add contracts")
        );
        assert_eq!(
            check(Gestion, Add, "event", &[]).as_deref(),
            Some("only commercial may add events")
        );
        assert_eq!(check(Gestion, Delete, "client", &[]), None);
    }

    #[test]
    fn field_level_refusals_follow_the_matrix() {
        assert_eq!(
            check(Commercial, Set, "client", &["phone", "commercial"]).as_deref(),
            Some("only gestion may set `commercial` of a client")
        );
        assert_eq!(
            check(Commercial, Add, "client", &["name", "commercial"]).as_deref(),
            Some("commercial may not set `commercial` of a client")
        );
        assert_eq!(
            check(Commercial, Set, "contract", &["client"]).as_deref(),
            Some("only gestion may set `client` of a contract")
        );
        assert_eq!(
            check(Commercial, Set, "contract", &["remain", "status", "total"]),
            None
        );
        assert_eq!(
            check(Support, Set, "event", &["notes", "support"]).as_deref(),
            Some("only gestion may set `support` of an event")
        );
        assert_eq!(
            check(Support, Set, "event", &["contract"]).as_deref(),
            Some("only gestion may set `contract` of an event")
        );
        assert_eq!(
            check(Support, Set, "event", &["notes", "attendees", "start"]),
            None
        );
        assert_eq!(check(Gestion, Set, "event", &["support", "contract"]), None);
        assert_eq!(check(Gestion, Set, "client", &["commercial"]), None);
    }
}
