//! Asking, at the terminal, for the required fields an `add` statement left
//! out. Permission is checked before anything is asked; each answer is
//! checked as soon as it is typed, and asked again when it is wrong; Ctrl-C
//! or Ctrl-D cancels the whole statement, and what was typed so far is kept
//! (the caller puts it in the history).

use crate::error::{Error, ErrorKind, Result};
use crate::interpreter::session::Session;
use crate::language::analyzer;
use crate::language::ast::StatementKind;
use crate::language::catalog::{self, Department, FieldType};
use crate::language::parser;
use crate::language::permissions::{Action, refusal};
use crate::terminal;

/// What asking came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// The statement to run: `text` itself, or completed with the answers.
    Ready(String),
    /// Ctrl-C or Ctrl-D at a question: the statement as far as it was built.
    Canceled(String),
}

/// On a terminal, `add` asks for each required field the statement does
/// not give, one prompt each.
pub fn ask_missing(session: &Session, text: &str) -> Result<Asked> {
    let ready = || Ok(Asked::Ready(text.to_owned()));
    if !session.interactive {
        return ready();
    }
    let Ok(statements) = parser::parse(text) else {
        return ready();
    };
    let [statement] = statements.as_slice() else {
        return ready();
    };
    let StatementKind::Add {
        entity,
        assignments,
    } = &statement.kind
    else {
        return ready();
    };
    let Some(entity) = catalog::entity(&entity.text) else {
        return ready();
    };
    let mut missing = analyzer::missing_required(entity, assignments);
    // A postcode shared by several communes does not say which: ask, with
    // them as the hint.
    let mut communes = Vec::new();
    if entity.name == "location"
        && let Some(city) = entity.field("city")
        && !assignments.iter().any(|a| city.is_named(&a.field.text))
        && let Some(postcode) = assignments.iter().find(|a| {
            a.field.text.eq_ignore_ascii_case("postcode")
                || a.field.text.eq_ignore_ascii_case("code_postal")
        })
    {
        let found = crate::interpreter::registry::offline_communes(
            &crate::language::lookup::Query::Postcode(postcode.value.text.clone()),
        );
        if found.len() > 1 {
            communes = found.into_iter().map(|c| c.name).collect();
            missing.push(city);
        }
    }
    if missing.is_empty() {
        return ready();
    }
    // Nobody is asked for what they may not add anyway.
    if let Ok(claims) = session.claims()
        && let Some(department) = Department::from_name(&claims.dept)
        && let Some(why) = refusal(department, Action::Add, entity, &[])
    {
        return Err(Error::permission(why));
    }
    let mut completed = text.trim_end().trim_end_matches(';').to_owned();
    for field in missing {
        let hint = match field.ty {
            _ if field.name == "city" && !communes.is_empty() => {
                format!(" ({})", communes.join("|"))
            }
            FieldType::Enum(values) => format!(" ({})", values.join("|")),
            FieldType::DateTime => " (YYYY-MM-DD HH:MM or DD-MM-YYYY HH:MM)".to_owned(),
            FieldType::Reference(e) => format!(" ({e} id)"),
            _ => String::new(),
        };
        loop {
            let answer = match terminal::ask(&format!("{}{hint}: ", field.name)) {
                Ok(answer) => answer,
                Err(e) if e.kind == ErrorKind::Canceled => return Ok(Asked::Canceled(completed)),
                Err(e) => return Err(e),
            };
            let start = completed.len() + 1;
            let candidate = format!("{completed} {}={}", field.name, parser::quote(&answer));
            match wrong_answer(&candidate, start) {
                Some(e) => eprintln!("{}", e.render(&candidate, None)),
                None => {
                    completed = candidate;
                    break;
                }
            }
        }
    }
    println!("{completed}");
    Ok(Asked::Ready(completed))
}

/// The error of `candidate` that is about its last assignment (from byte
/// `start`), if any: the other fields may still be missing.
fn wrong_answer(candidate: &str, start: usize) -> Option<Error> {
    let about_answer = |e: &Error| e.span.is_some_and(|s| s.offset >= start);
    let statements = match parser::parse(candidate) {
        Ok(s) => s,
        Err(e) => return about_answer(&e).then_some(e),
    };
    match analyzer::analyze(statements.first()?) {
        Err(e) if about_answer(&e) => Some(e),
        _ => None,
    }
}
