//! What Tab completion knows: the catalogue, and ids read live from the
//! database (prefix-matched through the id indexes, cached until the next
//! write).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::pool::Database;
use crate::interpreter::session::Session;
use crate::language::catalog;
use crate::shell::complete::CompletionSource;

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
    identity: crate::interpreter::session::Identity,
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
        self.read_ids(&prefix_query(entity), prefix, None)
    }

    /// Registration numbers of one department's members.
    fn lookup_members(&self, department: &str, prefix: &str) -> Option<Vec<String>> {
        let sql = "SELECT id FROM crm.collaborator WHERE department = $4 \
                   AND id ~>=~ $1 AND id ~<~ $2 ORDER BY id USING ~<~ LIMIT $3";
        self.read_ids(sql, prefix, Some(department))
    }

    fn read_ids(&self, sql: &str, prefix: &str, department: Option<&str>) -> Option<Vec<String>> {
        let db = self.db.as_ref()?;
        let credential = self.session.identity.lock().ok()?.clone()?;
        let mut work = db.begin(&credential).ok()?;
        let upper = format!("{prefix}\u{10FFFF}");
        let rows = match department {
            None => work.client().query(sql, &[&prefix, &upper, &MAX_IDS]),
            Some(d) => work.client().query(sql, &[&prefix, &upper, &MAX_IDS, &d]),
        }
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

/// Names from the catalogue (the trait's own), ids from the database.
impl CompletionSource for CatalogSource {
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

    fn ids_for(&self, entity: &str, field: &str, target: &str, prefix: &str) -> Vec<String> {
        // A collaborator field takes one department's members only.
        let Some(department) = catalog::entity(entity)
            .and_then(|e| e.field(field))
            .and_then(|f| f.members_of)
            .map(catalog::Department::name)
        else {
            return self.ids(target, prefix);
        };
        let key: IdQuery = (department, format!("collaborator:{prefix}"));
        if let Some(hit) = self.cache.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let ids = self.lookup_members(department, prefix).unwrap_or_default();
        if let Ok(mut m) = self.cache.0.lock() {
            m.insert(key, ids.clone());
        }
        ids
    }
}
