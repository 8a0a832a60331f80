//! What Tab completion and the prompt for missing fields know: the
//! catalogue, and ids read live from the database (prefix-matched through
//! the id indexes, cached until the next write).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::analyzer::{self, Checked, Data};
use crate::ast::StatementKind;
use crate::catalog::{self, FieldType};
use crate::complete::CompletionSource;
use crate::database::Database;
use crate::error::Result;
use crate::session::Session;
use crate::{parser, prompt};

/// How many ids one completion offers at most.
const MAX_IDS: i64 = 50;

/// Ids already read, by entity and prefix; cleared after every write.
#[derive(Clone, Default)]
pub struct IdCache(Arc<Mutex<HashMap<IdQuery, Vec<String>>>>);

/// An entity's name and the typed prefix.
type IdQuery = (&'static str, String);

impl IdCache {
    pub fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

pub struct CatalogSource {
    cache: IdCache,
    db: Option<Database>,
    session: SessionView,
}

/// What the completer needs of the session to read ids as the user.
struct SessionView {
    identity: crate::session::Identity,
}

impl CatalogSource {
    pub fn new(session: &mut Session) -> CatalogSource {
        // A pool of its own: completion must not wait for, nor disturb, a
        // statement's transaction.
        let db = session
            .database_url()
            .ok()
            .and_then(|url| Database::open(&url).ok());
        if let (Some(db), Ok(credential)) = (&db, session.credential()) {
            // The first Tab then does not wait for a new connection.
            db.warm_up(&credential);
        }
        CatalogSource {
            cache: IdCache::default(),
            db,
            session: SessionView {
                identity: session.identity(),
            },
        }
    }

    pub fn cache(&self) -> IdCache {
        self.cache.clone()
    }

    fn lookup(&self, entity: &'static catalog::Entity, prefix: &str) -> Option<Vec<String>> {
        let db = self.db.as_ref()?;
        let credential = self.session.identity.lock().ok()?.clone()?;
        let mut work = db.begin(&credential).ok()?;
        let upper = format!("{prefix}\u{10FFFF}");
        let rows = work
            .client()
            .query(&prefix_query(entity), &[&prefix, &upper, &MAX_IDS])
            .ok()?;
        let _ = work.commit();
        Some(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// The ids of `entity` from `$1` (a prefix) up to `$2` (the prefix and
/// the last character), at most `$3`: a byte-wise range over the id's
/// pattern index. (`LIKE $1 || '%'` with a bound prefix cannot use it under
/// a generic plan.)
pub fn prefix_query(entity: &catalog::Entity) -> String {
    format!(
        "SELECT id FROM crm.{} WHERE id ~>=~ $1 AND id ~<~ $2 ORDER BY id USING ~<~ LIMIT $3",
        entity.table
    )
}

impl CompletionSource for CatalogSource {
    fn verbs(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = catalog::statement_keywords().collect();
        v.dedup();
        v
    }

    fn entities(&self) -> Vec<&'static str> {
        catalog::entity_names().collect()
    }

    fn entity(&self, word: &str) -> Option<&'static str> {
        catalog::entity(word).map(|e| e.name)
    }

    fn fields(&self, entity: &str) -> Vec<&'static str> {
        catalog::entity(entity).map_or_else(Vec::new, |e| e.field_names().collect())
    }

    fn settable_fields(&self, entity: &str) -> Vec<&'static str> {
        catalog::entity(entity)
            .map_or_else(Vec::new, |e| e.settable_fields().map(|f| f.name).collect())
    }

    fn enum_values(&self, entity: &str, field: &str) -> Vec<&'static str> {
        catalog::entity(entity)
            .and_then(|e| e.field(field))
            .map_or_else(Vec::new, |f| f.enum_values().to_vec())
    }

    fn reference(&self, entity: &str, field: &str) -> Option<&'static str> {
        catalog::entity(entity)?
            .field(field)?
            .references()
            .map(|e| e.name)
    }

    fn is_collaborator_reference(&self, entity: &str, field: &str) -> bool {
        self.reference(entity, field) == Some("collaborator")
    }

    fn ids(&self, entity: &str, prefix: &str) -> Vec<String> {
        let Some(entity) = catalog::entity(entity) else {
            return Vec::new();
        };
        let key = (entity.name, prefix.to_owned());
        if let Some(hit) = self.cache.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let ids = self.lookup(entity, prefix).unwrap_or_default();
        if let Ok(mut m) = self.cache.0.lock() {
            m.insert(key, ids.clone());
        }
        ids
    }

    fn help_topics(&self) -> Vec<&'static str> {
        catalog::help_topics().collect()
    }

    fn field(&self, entity: &str, word: &str) -> Option<&'static str> {
        catalog::entity(entity)?.field(word).map(|f| f.name)
    }
}

/// On a terminal, `add` asks for each required field the statement does
/// not give, one prompt each, and returns the completed statement.
pub fn ask_missing(session: &Session, text: &str) -> Result<String> {
    if !session.interactive {
        return Ok(text.to_owned());
    }
    let Ok(statements) = parser::parse(text) else {
        return Ok(text.to_owned());
    };
    let [statement] = statements.as_slice() else {
        return Ok(text.to_owned());
    };
    let StatementKind::Add {
        entity,
        assignments,
    } = &statement.kind
    else {
        return Ok(text.to_owned());
    };
    let Some(entity) = catalog::entity(&entity.text) else {
        return Ok(text.to_owned());
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
        let found = crate::registry::offline_communes(&crate::registry::Query::Postcode(
            postcode.value.text.clone(),
        ));
        if found.len() > 1 {
            communes = found.into_iter().map(|c| c.name).collect();
            missing.push(city);
        }
    }
    if missing.is_empty() {
        return Ok(text.to_owned());
    }
    let mut completed = text.trim_end().trim_end_matches(';').to_owned();
    for field in missing {
        let hint = match field.ty {
            _ if field.name == "city" && !communes.is_empty() => {
                format!(" ({})", communes.join("|"))
            }
            FieldType::Enum(values) => format!(" ({})", values.join("|")),
            FieldType::DateTime => " (YYYY-MM-DD HH:MM)".to_owned(),
            FieldType::Reference(e) => format!(" ({e} id)"),
            _ => String::new(),
        };
        let answer = prompt::ask(&format!("{}{hint}: ", field.name))?;
        completed.push_str(&format!(" {}={}", field.name, parser::quote(&answer)));
    }
    // Checked like any statement; the caller runs it.
    if let Ok(statements) = parser::parse(&completed)
        && let Some(s) = statements.first()
        && let Ok(Checked::Data(Data::Add { .. })) = analyzer::analyze(s)
    {
        println!("{completed}");
    }
    Ok(completed)
}
