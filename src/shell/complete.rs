//! Tab completion and hints for the interactive prompt, without a database:
//! everything the prompt needs to know about names and ids comes through a
//! [`CompletionSource`], which the shell implements with the catalogue and
//! a cached id query.
//!
//! The statement before the cursor is walked token by token
//! (`walker.rs`); where the walk stops says what may come next.

use crate::language::catalog;
use crate::language::help;
use crate::language::lexer::{Tok, tokenize};
use crate::shell::walker::{Role, Walker};

/// What completion, hints and highlighting need to know about the language's
/// names and the database's ids. Names come from the catalogue; only ids
/// need a database, so they are the one thing a source must provide.
pub trait CompletionSource {
    /// The statement keywords (`list count show … quit exit`).
    fn verbs(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = help::statement_keywords().collect();
        v.dedup();
        v
    }
    /// Every entity name a user may type, singular and plural.
    fn entities(&self) -> Vec<&'static str> {
        catalog::entity_names().collect()
    }
    /// The canonical entity of a typed name (singular or plural, any case).
    fn entity(&self, word: &str) -> Option<&'static str> {
        catalog::entity(word).map(|e| e.name)
    }
    /// The entity's field names in display order (no aliases).
    fn fields(&self, entity: &str) -> Vec<&'static str> {
        catalog::entity(entity).map_or_else(Vec::new, |e| e.field_names().collect())
    }
    /// The fields `set` may change.
    fn settable_fields(&self, entity: &str) -> Vec<&'static str> {
        catalog::entity(entity)
            .map_or_else(Vec::new, |e| e.settable_fields().map(|f| f.name).collect())
    }
    /// The allowed values of an enumerated field, empty for other fields.
    fn enum_values(&self, entity: &str, field: &str) -> Vec<&'static str> {
        catalog::entity(entity)
            .and_then(|e| e.field(field))
            .map_or_else(Vec::new, |f| f.enum_values().to_vec())
    }
    /// The entity a reference field points at.
    fn reference(&self, entity: &str, field: &str) -> Option<&'static str> {
        catalog::entity(entity)?
            .field(field)?
            .references()
            .map(|e| e.name)
    }
    /// Whether the field names a collaborator, so that `me` fits it.
    fn is_collaborator_reference(&self, entity: &str, field: &str) -> bool {
        self.reference(entity, field) == Some("collaborator")
    }
    /// Ids of the entity starting with `prefix`, from the database.
    fn ids(&self, entity: &str, prefix: &str) -> Vec<String>;
    /// Ids that fit `field` of `entity`, which references `target`: the
    /// database would refuse the others (only support collaborators
    /// support events). By default, every id of `target`.
    fn ids_for(&self, entity: &str, field: &str, target: &str, prefix: &str) -> Vec<String> {
        let _ = (entity, field);
        self.ids(target, prefix)
    }
    /// What `help` accepts.
    fn help_topics(&self) -> Vec<&'static str> {
        help::help_topics().collect()
    }
    /// The canonical field for a typed name or alias (`remain_amount_to_pay`),
    /// regardless of case.
    fn field(&self, entity: &str, word: &str) -> Option<&'static str> {
        catalog::entity(entity)?.field(word).map(|f| f.name)
    }
    /// What `lookup location` completes: postcodes for digits, commune
    /// names (quoted when they must be) for letters, from the bundled data.
    fn places(&self, partial: &str) -> Vec<String> {
        if partial.is_empty() {
            return Vec::new();
        }
        if partial.bytes().all(|b| b.is_ascii_digit()) {
            return self.postcodes(partial);
        }
        crate::interpreter::registry::communes_starting(partial, MAX_PLACES)
            .into_iter()
            .map(|name| {
                if crate::language::lexer::is_bare_word(&name) {
                    name
                } else {
                    crate::language::parser::quote(&name)
                }
            })
            .collect()
    }
    /// Postcodes starting with `partial` (at least one digit typed).
    fn postcodes(&self, partial: &str) -> Vec<String> {
        if partial.is_empty() || !partial.bytes().all(|b| b.is_ascii_digit()) {
            return Vec::new();
        }
        crate::interpreter::registry::postcodes_starting(partial, MAX_PLACES)
    }
}

/// The catalogue's names and no ids: what the completer knows without a
/// database.
pub struct NamesOnly;

impl CompletionSource for NamesOnly {
    fn ids(&self, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Where the first word of `text` that does not fit where it stands begins
/// (what the prompt paints red), if any. Statements are walked one after
/// the other, as the prompt does.
pub fn first_unknown(text: &str, src: &dyn CompletionSource) -> Option<usize> {
    let mut walker = Walker::new(src);
    for t in tokenize(text) {
        match t.kind {
            Tok::Comment | Tok::Continuation => {}
            Tok::End => walker = Walker::new(src),
            _ if walker.step(&t) == Role::Unknown => return Some(t.start),
            _ => {}
        }
    }
    None
}

/// How many postcodes or communes one Tab offers at most.
const MAX_PLACES: usize = 50;

/// A hint shown dimmed after the cursor: `display` is what is shown,
/// `completion` what the right arrow inserts (none for placeholders such as
/// `ID`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    pub display: String,
    pub completion: Option<String>,
}

/// The completions for the word before `pos` in `line`: where that word
/// starts (the text from there to `pos` is replaced) and the candidates.
/// Never fails: text it does not understand has no completions.
pub fn complete(line: &str, pos: usize, src: &dyn CompletionSource) -> (usize, Vec<String>) {
    let pos = floor_boundary(line, pos);
    match Point::at(&line[..pos], src) {
        Some(point) => {
            let found = point.walker.candidates(point.partial, true);
            (point.start, found)
        }
        None => (pos, Vec::new()),
    }
}

/// A hint for the cursor at the end of the line: the rest of the most recent
/// history entry that starts with the line, else the rest of the only word
/// that completes the current one, else what the statement expects next
/// (`where …` after `list clients `). Ids are never looked up for hints: a
/// hint is computed at every key stroke.
pub fn next_hint(
    line: &str,
    pos: usize,
    src: &dyn CompletionSource,
    history_last_match: Option<&str>,
) -> Option<Hint> {
    if pos != line.len() || line.trim().is_empty() {
        return None;
    }
    if let Some(entry) = history_last_match
        && entry.len() > line.len()
        && let Some(rest) = entry.strip_prefix(line)
    {
        return Some(Hint {
            display: rest.to_owned(),
            completion: Some(rest.to_owned()),
        });
    }
    let point = Point::at(line, src)?;
    if point.partial.is_empty() {
        return point.walker.placeholder();
    }
    let found = point.walker.candidates(point.partial, false);
    let [only] = found.as_slice() else {
        return None;
    };
    let rest = only.get(point.partial.len()..).filter(|r| !r.is_empty())?;
    Some(Hint {
        display: rest.to_owned(),
        completion: Some(rest.to_owned()),
    })
}

fn floor_boundary(s: &str, pos: usize) -> usize {
    let mut pos = pos.min(s.len());
    while !s.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// Where the cursor stands: the word being typed (maybe empty) and the walk
/// of the statement before it.
struct Point<'a, 's> {
    start: usize,
    partial: &'a str,
    walker: Walker<'s>,
}

impl<'a, 's> Point<'a, 's> {
    /// `None` when the text before the cursor ends inside quotes or a
    /// comment, where nothing is completed.
    fn at(before: &'a str, src: &'s dyn CompletionSource) -> Option<Self> {
        let mut tokens = tokenize(before);
        let (start, partial) = match tokens.last() {
            Some(t) if matches!(t.kind, Tok::Quoted { closed: false } | Tok::Comment) => {
                return None;
            }
            Some(t) if t.kind == Tok::Word && t.end() == before.len() => {
                let t = tokens.pop()?;
                (t.start, t.text)
            }
            _ => (before.len(), ""),
        };
        let statement = tokens
            .iter()
            .rposition(|t| t.kind == Tok::End)
            .map_or(&tokens[..], |i| &tokens[i + 1..]);
        let mut walker = Walker::new(src);
        for t in statement {
            if !matches!(t.kind, Tok::Comment | Tok::Continuation) {
                walker.step(t);
            }
        }
        Some(Point {
            start,
            partial,
            walker,
        })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! The real catalogue, with a few ids in place of a database.

    use super::CompletionSource;

    pub struct StaticSource;

    impl CompletionSource for StaticSource {
        fn ids(&self, entity: &str, prefix: &str) -> Vec<String> {
            let all: &[&str] = match entity {
                "client" => &["mkc111", "cl1000"],
                "contract" => &["kc555", "ff555", "ct1000"],
                "event" => &["geg2021", "gea2022", "ev1000"],
                "collaborator" => &["aa123456789", "af123456789", "ag123456789"],
                _ => &[],
            };
            all.iter()
                .filter(|id| id.starts_with(prefix))
                .map(|id| id.to_string())
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::StaticSource;
    use super::*;

    /// The hint text for `line` with the cursor at `pos`.
    fn hint(
        line: &str,
        pos: usize,
        src: &dyn CompletionSource,
        history_last_match: Option<&str>,
    ) -> Option<String> {
        next_hint(line, pos, src, history_last_match).map(|h| h.display)
    }

    /// Completes at the end of `line`, or at the `|` in it.
    fn at(line: &str) -> (usize, Vec<String>) {
        match line.find('|') {
            Some(p) => complete(&line.replace('|', ""), p, &StaticSource),
            None => complete(line, line.len(), &StaticSource),
        }
    }

    fn words(line: &str) -> Vec<String> {
        at(line).1
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn verbs_at_the_start() {
        assert_eq!(at("l"), (0, strs(&["list", "lookup", "login", "logout"])));
        assert_eq!(at("  li"), (2, strs(&["list"])));
        assert_eq!(words("").len(), 18);
        assert!(words("x").is_empty());
    }

    #[test]
    fn entities_prefer_plural_after_list_and_singular_elsewhere() {
        assert_eq!(at("list con"), (5, strs(&["contracts"])));
        assert_eq!(
            words("list "),
            strs(&[
                "collaborators",
                "clients",
                "companies",
                "locations",
                "contracts",
                "events",
                "departments"
            ])
        );
        assert_eq!(
            words("show "),
            strs(&[
                "collaborator",
                "client",
                "company",
                "location",
                "contract",
                "event",
                "department"
            ])
        );
        assert_eq!(words("count ev"), strs(&["events"]));
        // The other form when the typed text only fits it.
        assert_eq!(words("show contracts"), strs(&["contracts"]));
        assert_eq!(words("sign "), strs(&["contract"]));
        assert_eq!(words("pay c"), strs(&["contract"]));
        assert_eq!(words("list zz"), Vec::<String>::new());
    }

    #[test]
    fn clauses_after_the_entity() {
        assert_eq!(at("list contracts wh"), (15, strs(&["where"])));
        assert_eq!(
            words("list contracts "),
            strs(&["where", "order by", "limit", "offset"])
        );
        assert_eq!(words("count contracts "), strs(&["where"]));
        assert_eq!(words("list contracts limit 5 "), strs(&["offset"]));
        assert_eq!(words("list contracts offset 5 "), Vec::<String>::new());
        assert_eq!(words("list contracts o"), strs(&["order by", "offset"]));
    }

    #[test]
    fn fields_in_filters() {
        assert_eq!(at("list contracts where st"), (21, strs(&["status"])));
        assert_eq!(
            words("list contracts where "),
            strs(&[
                "id",
                "client",
                "commercial",
                "total",
                "remain",
                "status",
                "created",
                "signed",
                "not"
            ])
        );
        assert_eq!(words("list contracts where not st"), strs(&["status"]));
        assert_eq!(words("list contracts where (st"), strs(&["status"]));
        assert_eq!(
            words("list contracts where (status = signed ou remain > 0) et "),
            words("list contracts where ")
        );
        assert_eq!(
            words("list contracts where status = signed and "),
            words("list contracts where ")
        );
    }

    #[test]
    fn operators_after_a_field() {
        assert_eq!(
            words("list contracts where remain "),
            strs(&["=", "!=", "<", "<=", ">", ">=", "~"])
        );
    }

    #[test]
    fn values_that_fit_the_field() {
        assert_eq!(
            words("list contracts where status = "),
            strs(&["unsigned", "signed", "canceled"])
        );
        assert_eq!(
            words("list events where support = "),
            strs(&["me", "none", "aa123456789", "af123456789", "ag123456789"])
        );
        assert_eq!(
            words("list events where support = af"),
            strs(&["af123456789"])
        );
        assert_eq!(
            at("list contracts where status=si"),
            (28, strs(&["signed"]))
        );
        assert_eq!(words("list contracts where status!=c"), strs(&["canceled"]));
        assert_eq!(words("list contracts where id = k"), strs(&["kc555"]));
        assert_eq!(words("list events where title ~ "), strs(&["none"]));
        // An alias resolves to its field.
        assert_eq!(
            words("list events where collaborator_id = a"),
            strs(&["aa123456789", "af123456789", "ag123456789"])
        );
    }

    #[test]
    fn after_a_value_the_filter_goes_on() {
        assert_eq!(
            words("list contracts where status = signed "),
            strs(&["and", "or", "order by", "limit", "offset"])
        );
        assert_eq!(
            words("list contracts where status = signed o"),
            strs(&["or", "ou", "order by", "offset"])
        );
        assert_eq!(
            words("list contracts where (status = signed "),
            strs(&["and", "or"])
        );
        assert_eq!(
            words("count contracts where status = signed "),
            strs(&["and", "or"])
        );
        assert_eq!(
            words("list contracts where name = 'Kevin Casey' "),
            Vec::<String>::new(),
            "name is not a contract field"
        );
        assert_eq!(
            words("list clients where name = 'Kevin Casey' l"),
            strs(&["limit"])
        );
    }

    #[test]
    fn order_by() {
        assert_eq!(words("list contracts order "), strs(&["by"]));
        assert_eq!(words("list contracts order by re"), strs(&["remain"]));
        assert_eq!(
            words("list contracts order by remain "),
            strs(&["asc", "desc", "limit", "offset"])
        );
        assert_eq!(
            words("list contracts order by remain desc "),
            strs(&["limit", "offset"])
        );
        assert_eq!(
            words("list contracts order by remain desc, st"),
            strs(&["status"])
        );
        assert_eq!(
            words("list contracts order by remain,st"),
            strs(&["status"])
        );
        assert_eq!(
            words("list contracts where status = signed order by t"),
            strs(&["total"])
        );
    }

    #[test]
    fn ids_after_show_set_delete_history_sign_pay() {
        assert_eq!(at("show event ge"), (11, strs(&["geg2021", "gea2022"])));
        assert_eq!(words("delete client m"), strs(&["mkc111"]));
        assert_eq!(
            words("history contract "),
            strs(&["kc555", "ff555", "ct1000"])
        );
        assert_eq!(words("sign contract k"), strs(&["kc555"]));
        assert_eq!(words("pay contract f"), strs(&["ff555"]));
        assert_eq!(words("pay contract ff555 "), Vec::<String>::new());
        assert_eq!(words("show event geg2021 "), Vec::<String>::new());
        assert_eq!(
            words("passwd a"),
            strs(&["aa123456789", "af123456789", "ag123456789"])
        );
    }

    #[test]
    fn assignments_of_set_and_add() {
        assert_eq!(
            words("set event geg2021 "),
            strs(&[
                "title",
                "contract",
                "support",
                "start",
                "end",
                "location",
                "attendees",
                "notes"
            ])
        );
        assert_eq!(words("set event geg2021 support"), strs(&["support"]));
        assert_eq!(words("set event geg2021 support "), strs(&["="]));
        assert_eq!(
            words("set event geg2021 support = "),
            strs(&["me", "none", "aa123456789", "af123456789", "ag123456789"])
        );
        assert_eq!(
            words("set event geg2021 support=ag"),
            strs(&["ag123456789"])
        );
        // Fields already given are not offered again.
        assert_eq!(
            words("set event geg2021 support=me, "),
            strs(&[
                "title",
                "contract",
                "start",
                "end",
                "location",
                "attendees",
                "notes"
            ])
        );
        assert_eq!(
            words("add contract "),
            strs(&["id", "client", "total", "remain", "status"])
        );
        assert_eq!(words("add contract client=m"), strs(&["mkc111"]));
        assert_eq!(
            words("add contract client=mkc111 total=1200 "),
            strs(&["id", "remain", "status"])
        );
        assert_eq!(
            words("add event title='Casey launch party' contract=f"),
            strs(&["ff555"])
        );
    }

    #[test]
    fn help_and_format() {
        assert!(words("help ").contains(&"filters".to_string()));
        assert_eq!(words("help con"), strs(&["contracts"]));
        assert_eq!(
            words("format "),
            strs(&["table", "vertical", "csv", "json"])
        );
        assert_eq!(words("format c"), strs(&["csv"]));
        assert_eq!(words("format csv "), Vec::<String>::new());
        assert_eq!(words("quit "), Vec::<String>::new());
    }

    #[test]
    fn lookup_completes_what_then_places_from_the_bundled_data() {
        assert_eq!(words("look"), strs(&["lookup"]));
        assert_eq!(words("lookup "), strs(&["company", "location"]));
        assert_eq!(words("lookup loc"), strs(&["location"]));
        assert_eq!(words("lookup location 2959"), strs(&["29590"]));
        assert_eq!(words("lookup locations 7500").len(), 9);
        assert_eq!(words("lookup location gouri"), strs(&["Gourin"]));
        assert_eq!(
            words("lookup location cande"),
            strs(&["Candé", "Candé-sur-Beuvron", "Candes-Saint-Martin"])
        );
        // A name with a space or a quote in it completes quoted; a hyphen
        // typed stands for a space as well.
        assert_eq!(
            words("lookup location le-lorou"),
            strs(&["'Le Loroux-Bottereau'", "'Le Loroux'"])
        );
        let le = words("lookup location le");
        assert_eq!(le.len(), 50, "at most 50, the largest first");
        assert_eq!(le[..2], strs(&["'Le Havre'", "'Le Mans'"]), "{le:?}");
        assert_eq!(words("lookup location "), Vec::<String>::new());
        assert_eq!(words("lookup company 3560"), Vec::<String>::new());
        assert_eq!(words("lookup client "), Vec::<String>::new());
    }

    #[test]
    fn postcodes_complete_from_the_bundled_data() {
        let words = |line: &str| complete(line, line.len(), &StaticSource).1;
        assert_eq!(words("add location postcode=2959"), strs(&["29590"]));
        assert_eq!(
            words("add location address='1 rue' postcode=4443"),
            strs(&["44430"])
        );
        assert_eq!(words("add location postcode="), strs(&["none"]));
        assert_eq!(words("add location city=2959"), strs(&[]));
        assert_eq!(words("set location lo1 postcode=2959"), strs(&["29590"]));
    }

    #[test]
    fn the_first_word_out_of_place_is_found() {
        assert_eq!(first_unknown("list contrcts", &NamesOnly), Some(5));
        assert_eq!(first_unknown("count clients\nlist x", &NamesOnly), Some(19));
        assert_eq!(
            first_unknown("list clients # x y\ncount events", &NamesOnly),
            None
        );
        assert_eq!(first_unknown("format yaml", &NamesOnly), Some(7));
    }

    #[test]
    fn keywords_are_case_insensitive_and_keep_an_upper_case_style() {
        assert_eq!(words("LI"), strs(&["LIST"]));
        assert_eq!(words("List Con"), strs(&["contracts"]));
        assert_eq!(words("LIST CONTRACTS WHERE ST"), strs(&["STATUS"]));
        assert_eq!(words("LIST CONTRACTS WHERE STATUS = SI"), strs(&["signed"]));
    }

    #[test]
    fn nothing_inside_quotes_or_comments() {
        assert_eq!(
            words("list clients where name = 'Kev"),
            Vec::<String>::new()
        );
        assert_eq!(
            words("list clients where name = \"a b "),
            Vec::<String>::new()
        );
        assert_eq!(words("list clients # li"), Vec::<String>::new());
        // A closed quote is a value like any other.
        assert_eq!(
            words("list clients where name = 'a' "),
            strs(&["and", "or", "order by", "limit", "offset"])
        );
    }

    #[test]
    fn mid_line_completion_looks_before_the_cursor() {
        assert_eq!(
            at("list con| where status = signed"),
            (5, strs(&["contracts"]))
        );
        assert_eq!(
            at("list contracts where st|atus = signed"),
            (21, strs(&["status"]))
        );
        assert_eq!(
            at("l|ist contracts"),
            (0, strs(&["list", "lookup", "login", "logout"]))
        );
        assert_eq!(
            at("list contracts where status = |"),
            (30, strs(&["unsigned", "signed", "canceled"]))
        );
    }

    #[test]
    fn continuations_and_several_statements() {
        assert_eq!(words("list contracts \\\nwhere st"), strs(&["status"]));
        assert_eq!(words("list contracts \\\r\n  wh"), strs(&["where"]));
        assert_eq!(words("list clients\nsh"), strs(&["show"]));
        assert_eq!(words("list clients; show ev"), strs(&["event"]));
        assert_eq!(words("list clients # a comment\nco"), strs(&["count"]));
    }

    #[test]
    fn positions_past_the_end_or_inside_a_character_are_tolerated() {
        assert_eq!(complete("li", 99, &StaticSource), (0, strs(&["list"])));
        let (start, _) = complete("list é", 6, &StaticSource);
        assert_eq!(start, 5);
    }

    #[test]
    fn hints_from_history_first() {
        let h = next_hint(
            "list c",
            6,
            &StaticSource,
            Some("list contracts where status = signed"),
        );
        assert_eq!(
            h,
            Some(Hint {
                display: "ontracts where status = signed".into(),
                completion: Some("ontracts where status = signed".into()),
            })
        );
        // Not in the middle of the line, nor for an empty one.
        assert_eq!(
            hint("list c", 3, &StaticSource, Some("list contracts")),
            None
        );
        assert_eq!(hint("", 0, &StaticSource, Some("list contracts")), None);
    }

    #[test]
    fn hints_for_what_comes_next() {
        let h = |line: &str| hint(line, line.len(), &StaticSource, None);
        assert_eq!(h("list clients "), Some("where …".into()));
        assert_eq!(
            next_hint("list clients ", 13, &StaticSource, None).and_then(|h| h.completion),
            Some("where ".into())
        );
        assert_eq!(h("lis"), Some("t".into()));
        assert_eq!(h("list contr"), Some("acts".into()));
        assert_eq!(h("list c"), None, "ambiguous: Tab lists them");
        assert_eq!(h("list "), Some("ENTITY".into()));
        assert_eq!(h("show event "), Some("ID".into()));
        assert_eq!(h("list contracts where "), Some("FIELD".into()));
        assert_eq!(h("list contracts where status "), Some("OP VALUE".into()));
        assert_eq!(
            h("list contracts where status ="),
            Some("unsigned|signed|canceled".into())
        );
        assert_eq!(h("list contracts order "), Some("by …".into()));
        assert_eq!(h("list contracts order by total "), Some("asc|desc".into()));
        assert_eq!(h("set event geg2021 "), Some("FIELD=VALUE …".into()));
        assert_eq!(h("set event geg2021 support "), Some("= VALUE".into()));
        assert_eq!(h("pay contract kc555 "), Some("AMOUNT".into()));
        assert_eq!(h("format "), Some("table|vertical|csv|json".into()));
        assert_eq!(h("lookup "), Some("company|location".into()));
        assert_eq!(h("lookup company "), Some("SIREN|'NAME'".into()));
        assert_eq!(h("lookup location "), Some("POSTCODE|CITY".into()));
        assert_eq!(h("lookup location 2959"), Some("0".into()));
        assert_eq!(h("sign "), Some("contract …".into()));
        assert_eq!(h("show event geg2021 "), None);
        assert_eq!(h("list clients where name = 'ab"), None);
        // Ids are not looked up at each key stroke.
        assert_eq!(h("show event geg"), None);
    }
}
