//! The walk of a statement, token by token: a small state machine that
//! knows the shape of each statement (LANGUAGE.md, from the catalogue's
//! [`Shape`]s) and says, where it stops, what may come next (for
//! completion and hints) and what each token was (for highlighting).

use crate::language::ast::Op;
use crate::language::catalog::{LIST_CLAUSES, Shape};
use crate::language::help;
use crate::language::lexer::{Lexeme as Token, Tok};
use crate::output::Format;
use crate::shell::complete::{CompletionSource, Hint};

/// What a token is, for highlighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Verb,
    Keyword,
    Entity,
    Field,
    Op,
    /// Quoted text.
    Text,
    /// Numbers and dates.
    Number,
    /// Ids and other bare values.
    Value,
    /// `me`, `none`, `today` and enumerated values.
    Constant,
    Comment,
    Plain,
    /// A word that does not fit where it stands.
    Unknown,
}

/// The statement's entity, and whether it is a `count` (no order, limit...).
#[derive(Clone, Copy, Debug)]
struct On {
    entity: &'static str,
    count: bool,
}

#[derive(Clone, Debug)]
enum State {
    Verb,
    /// The statement's shape (from the catalogue) expects an entity.
    Entity(Shape),
    Id(Shape, &'static str),
    /// After `list ENTITY` or a finished clause: the index in [`LIST_CLAUSES`] of
    /// the first clause that may still come.
    Clauses(On, usize),
    /// A filter expects a field, `not` or `(`.
    Atom(On, usize),
    Operator(On, usize, &'static str),
    FilterValue(On, usize, &'static str),
    AfterValue(On, usize),
    By(On),
    OrderField(On),
    AfterOrderField(On, bool),
    /// `limit`/`offset` expects a whole number, then the clauses from the
    /// given index.
    Count(On, usize),
    /// `add`/`set` expects a field (`set` is true for `set`), the fields
    /// already assigned kept to not offer them again.
    Assign(&'static str, bool, Vec<&'static str>),
    Equals(&'static str, bool, Vec<&'static str>, &'static str),
    AssignValue(&'static str, bool, Vec<&'static str>, &'static str),
    Amount,
    /// `lookup` expects `company` or `location`.
    Lookup,
    /// `lookup ENTITY` expects what to look up.
    LookupQuery(&'static str),
    /// More words of a name to look up.
    LookupMore,
    Topic,
    Format,
    Registration,
    /// The statement is complete.
    Done,
    /// After a mistake: nothing more is expected or judged.
    Lost,
}

/// Walks one statement's tokens (no comments, continuations or ends).
#[derive(Clone)]
pub(crate) struct Walker<'s> {
    src: &'s dyn CompletionSource,
    state: State,
}

/// `sign` and `pay` name `contract`, no other entity.
fn on_contracts(shape: Shape) -> bool {
    matches!(shape, Shape::ContractRecord | Shape::Pay)
}

fn is_number(w: &str) -> bool {
    let digits = w.strip_prefix(['-', '+']).unwrap_or(w);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn is_date(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_digit())
        && w.contains('-')
        && w.bytes().all(|b| b.is_ascii_digit() || b"-:T".contains(&b))
}

fn is_whole_number(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

fn lower(w: &str) -> String {
    w.to_ascii_lowercase()
}

impl<'s> Walker<'s> {
    pub(crate) fn new(src: &'s dyn CompletionSource) -> Self {
        Walker {
            src,
            state: State::Verb,
        }
    }

    fn lost(&mut self) -> Role {
        self.state = State::Lost;
        Role::Unknown
    }

    /// Takes one token, says what it is, and moves on.
    pub(crate) fn step(&mut self, t: &Token) -> Role {
        let src = self.src;
        let word = (t.kind == Tok::Word).then_some(t.text);
        let w = word.map(lower).unwrap_or_default();
        let value = matches!(t.kind, Tok::Word | Tok::Quoted { .. });
        match std::mem::replace(&mut self.state, State::Lost) {
            State::Verb => {
                let Some(shape) = word
                    .filter(|_| src.verbs().contains(&w.as_str()))
                    .and_then(help::statement_help)
                    .map(|s| s.shape)
                else {
                    return self.lost();
                };
                self.state = match shape {
                    Shape::List
                    | Shape::Count
                    | Shape::Record
                    | Shape::ContractRecord
                    | Shape::Pay
                    | Shape::Add
                    | Shape::Set => State::Entity(shape),
                    Shape::Topic => State::Topic,
                    Shape::Lookup => State::Lookup,
                    Shape::Format => State::Format,
                    Shape::Registration => State::Registration,
                    Shape::Bare => State::Done,
                };
                Role::Verb
            }
            State::Entity(shape) => {
                let Some(entity) = word.and_then(|w| src.entity(w)) else {
                    return self.lost();
                };
                if on_contracts(shape) && src.entity("contract") != Some(entity) {
                    return self.lost();
                }
                self.state = match shape {
                    Shape::List | Shape::Count => State::Clauses(
                        On {
                            entity,
                            count: shape == Shape::Count,
                        },
                        0,
                    ),
                    Shape::Add => State::Assign(entity, false, Vec::new()),
                    _ => State::Id(shape, entity),
                };
                Role::Entity
            }
            State::Id(shape, entity) => {
                if !value {
                    return self.lost();
                }
                self.state = match shape {
                    Shape::Set => State::Assign(entity, true, Vec::new()),
                    Shape::Pay => State::Amount,
                    _ => State::Done,
                };
                Role::Value
            }
            State::Clauses(on, next) => self.clause(on, next, &w),
            State::Atom(on, depth) => match t.kind {
                Tok::Open => {
                    self.state = State::Atom(on, depth + 1);
                    Role::Plain
                }
                Tok::Word if w == "not" => {
                    self.state = State::Atom(on, depth);
                    Role::Keyword
                }
                Tok::Word => match src.field(on.entity, t.text) {
                    Some(field) => {
                        self.state = State::Operator(on, depth, field);
                        Role::Field
                    }
                    None => self.lost(),
                },
                _ => self.lost(),
            },
            State::Operator(on, depth, field) => {
                if t.kind != Tok::Op {
                    return self.lost();
                }
                self.state = State::FilterValue(on, depth, field);
                Role::Op
            }
            State::FilterValue(on, depth, field) => {
                if !value {
                    return self.lost();
                }
                self.state = State::AfterValue(on, depth);
                self.value_role(on.entity, field, t)
            }
            State::AfterValue(on, depth) => match t.kind {
                Tok::Close if depth > 0 => {
                    self.state = State::AfterValue(on, depth - 1);
                    Role::Plain
                }
                Tok::Word if matches!(w.as_str(), "and" | "or" | "et" | "ou") => {
                    self.state = State::Atom(on, depth);
                    Role::Keyword
                }
                Tok::Word if depth == 0 => self.clause(on, 1, &w),
                _ => self.lost(),
            },
            State::By(on) => {
                if w != "by" {
                    return self.lost();
                }
                self.state = State::OrderField(on);
                Role::Keyword
            }
            State::OrderField(on) => match word.and_then(|w| src.field(on.entity, w)) {
                Some(_) => {
                    self.state = State::AfterOrderField(on, false);
                    Role::Field
                }
                None => self.lost(),
            },
            State::AfterOrderField(on, directed) => match t.kind {
                Tok::Comma => {
                    self.state = State::OrderField(on);
                    Role::Plain
                }
                Tok::Word if !directed && matches!(w.as_str(), "asc" | "desc") => {
                    self.state = State::AfterOrderField(on, true);
                    Role::Keyword
                }
                Tok::Word => self.clause(on, 2, &w),
                _ => self.lost(),
            },
            State::Count(on, then) => {
                if !is_whole_number(&w) {
                    return self.lost();
                }
                self.state = State::Clauses(on, then);
                Role::Number
            }
            State::Assign(entity, set, done) => match t.kind {
                Tok::Comma => {
                    self.state = State::Assign(entity, set, done);
                    Role::Plain
                }
                Tok::Word => match src.field(entity, t.text) {
                    Some(field) => {
                        let allowed = self.assignable(entity, set).contains(&field);
                        self.state = State::Equals(entity, set, done, field);
                        if allowed { Role::Field } else { Role::Unknown }
                    }
                    None => self.lost(),
                },
                _ => self.lost(),
            },
            State::Equals(entity, set, done, field) => {
                if t.kind != Tok::Op {
                    return self.lost();
                }
                self.state = State::AssignValue(entity, set, done, field);
                if t.text == "=" {
                    Role::Op
                } else {
                    Role::Unknown
                }
            }
            State::AssignValue(entity, set, mut done, field) => {
                if !value {
                    return self.lost();
                }
                done.push(field);
                self.state = State::Assign(entity, set, done);
                self.value_role(entity, field, t)
            }
            State::Lookup => {
                let what = match w.as_str() {
                    "company" | "companies" => "company",
                    "location" | "locations" => "location",
                    _ => return self.lost(),
                };
                self.state = State::LookupQuery(what);
                Role::Entity
            }
            State::LookupQuery(_) | State::LookupMore => {
                if !value {
                    return self.lost();
                }
                self.state = State::LookupMore;
                match t.kind {
                    Tok::Word if is_whole_number(&w) => Role::Number,
                    Tok::Word => Role::Value,
                    _ => Role::Text,
                }
            }
            State::Amount => {
                if !is_number(&w) {
                    return self.lost();
                }
                self.state = State::Done;
                Role::Number
            }
            State::Topic => {
                if !value {
                    return self.lost();
                }
                self.state = State::Done;
                let known = src.help_topics().iter().any(|h| *h == w)
                    || src.verbs().iter().any(|v| *v == w)
                    || src.entity(t.text).is_some();
                if known { Role::Keyword } else { Role::Unknown }
            }
            State::Format => {
                if !Format::names().any(|f| f == w) {
                    return self.lost();
                }
                self.state = State::Done;
                Role::Keyword
            }
            State::Registration => {
                if !value {
                    return self.lost();
                }
                self.state = State::Done;
                Role::Value
            }
            State::Done => self.lost(),
            State::Lost => Role::Plain,
        }
    }

    /// A clause keyword (`where`, `order`, `limit`, `offset`) when the
    /// clauses from index `next` on may still come.
    fn clause(&mut self, on: On, next: usize, w: &str) -> Role {
        let allowed = |i: usize| next <= i && (!on.count || i == 0);
        self.state = match w {
            "where" if allowed(0) => State::Atom(on, 0),
            "order" if allowed(1) => State::By(on),
            "limit" if allowed(2) => State::Count(on, 3),
            "offset" if allowed(3) => State::Count(on, 4),
            _ => return self.lost(),
        };
        Role::Keyword
    }

    fn clauses_from(on: On, next: usize) -> Vec<&'static str> {
        LIST_CLAUSES
            .iter()
            .enumerate()
            .filter(|&(i, _)| next <= i && (!on.count || i == 0))
            .map(|(_, c)| *c)
            .collect()
    }

    /// The fields `add` (every field but derived ones: `settable` plus
    /// `id`) or `set` may assign.
    fn assignable(&self, entity: &str, set: bool) -> Vec<&'static str> {
        let mut fields = self.src.settable_fields(entity);
        if !set
            && let Some(id) = self.src.field(entity, "id")
            && !fields.contains(&id)
        {
            fields.insert(0, id);
        }
        fields
    }

    fn value_role(&self, entity: &str, field: &str, t: &Token) -> Role {
        if t.kind != Tok::Word {
            return Role::Text;
        }
        let w = lower(t.text);
        let enums = self.src.enum_values(entity, field);
        match w.as_str() {
            "none" | "today" => Role::Constant,
            "me" if self.src.is_collaborator_reference(entity, field) => Role::Constant,
            "me" => Role::Unknown,
            _ if !enums.is_empty() => {
                if enums.iter().any(|e| e.eq_ignore_ascii_case(&w)) {
                    Role::Constant
                } else {
                    Role::Unknown
                }
            }
            _ if is_number(&w) || is_date(&w) => Role::Number,
            _ => Role::Value,
        }
    }

    /// Values that fit a field: its enumerated values, `me`, `none`, and the
    /// ids of the entity it references (or its own, for `id`).
    fn values(&self, entity: &str, field: &str, partial: &str, ids: bool) -> Vec<String> {
        let src = self.src;
        let mut out = keywords(src.enum_values(entity, field), partial);
        if src.is_collaborator_reference(entity, field) {
            out.extend(keywords(["me"], partial));
        }
        // Enumerated fields always have a value.
        if src.enum_values(entity, field).is_empty() {
            out.extend(keywords(["none"], partial));
        }
        if ids {
            if src.field(entity, "id") == Some(field) {
                out.extend(src.ids(entity, partial));
            } else if let Some(target) = src.reference(entity, field) {
                out.extend(src.ids_for(entity, field, target, partial));
            }
        }
        out
    }

    /// Every candidate for the word `partial` at this point, in the
    /// language's order, without duplicates. `ids` says whether to ask the
    /// database.
    pub(crate) fn candidates(&self, partial: &str, ids: bool) -> Vec<String> {
        let src = self.src;
        let shout =
            partial.chars().any(char::is_alphabetic) && !partial.chars().any(char::is_lowercase);
        let styled = |words: Vec<String>| -> Vec<String> {
            if shout {
                words.into_iter().map(|w| w.to_uppercase()).collect()
            } else {
                words
            }
        };
        let kw = |list: Vec<&str>| styled(keywords(list, partial));
        let mut out = match &self.state {
            State::Verb => kw(src.verbs()),
            State::Entity(shape) if on_contracts(*shape) => kw(vec!["contract"]),
            State::Entity(shape) => styled(entity_names(
                src,
                matches!(shape, Shape::List | Shape::Count),
                partial,
            )),
            State::Id(_, entity) => id_list(src, entity, partial, ids),
            State::Clauses(on, next) => kw(Self::clauses_from(*on, *next)),
            State::Atom(on, _) => {
                let mut v = src.fields(on.entity);
                v.push("not");
                kw(v)
            }
            State::Operator(..) => keywords(Op::ALL.map(Op::symbol), partial),
            State::FilterValue(on, _, field) => self.values(on.entity, field, partial, ids),
            State::AfterValue(on, depth) => {
                let mut v = vec!["and", "or"];
                if !partial.is_empty() {
                    v.extend(["et", "ou"]);
                }
                if *depth == 0 {
                    v.extend(Self::clauses_from(*on, 1));
                }
                kw(v)
            }
            State::By(_) => kw(vec!["by"]),
            State::OrderField(on) => kw(src.fields(on.entity)),
            State::AfterOrderField(on, directed) => {
                let mut v = if *directed {
                    vec![]
                } else {
                    vec!["asc", "desc"]
                };
                v.extend(Self::clauses_from(*on, 2));
                kw(v)
            }
            State::Assign(entity, set, done) => {
                let mut v = self.assignable(entity, *set);
                v.retain(|f| !done.contains(f));
                kw(v)
            }
            State::Equals(..) => keywords(["="], partial),
            State::AssignValue(entity, _, _, field) => {
                let mut v = self.values(entity, field, partial, ids);
                if *entity == "location" && *field == "postcode" {
                    v.extend(src.postcodes(partial));
                }
                v
            }
            State::Lookup => kw(vec!["company", "location"]),
            State::LookupQuery("location") => src.places(partial),
            State::Topic => kw(src.help_topics()),
            State::Format => kw(Format::names().collect()),
            State::Registration => match src.entity("collaborator") {
                Some(c) => id_list(src, c, partial, ids),
                None => Vec::new(),
            },
            State::Count(..)
            | State::Amount
            | State::LookupQuery(_)
            | State::LookupMore
            | State::Done
            | State::Lost => Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.clone()));
        out
    }

    /// What to show dimmed when the cursor follows a finished token.
    pub(crate) fn placeholder(&self) -> Option<Hint> {
        let shown = |s: &str| {
            Some(Hint {
                display: s.to_owned(),
                completion: None,
            })
        };
        let keyword = |k: &str| {
            Some(Hint {
                display: format!("{k} …"),
                completion: Some(format!("{k} ")),
            })
        };
        let values = |entity: &str, field: &str| {
            let enums = self.src.enum_values(entity, field);
            if enums.is_empty() {
                shown("VALUE")
            } else {
                shown(&enums.join("|"))
            }
        };
        match &self.state {
            State::Verb | State::AfterValue(..) | State::Done | State::Lost => None,
            State::Entity(shape) if on_contracts(*shape) => keyword("contract"),
            State::Entity(_) => shown("ENTITY"),
            State::Id(Shape::Pay, _) => shown("ID AMOUNT"),
            State::Id(..) => shown("ID"),
            State::Clauses(on, next) => Self::clauses_from(*on, *next)
                .first()
                .and_then(|c| keyword(c)),
            State::Atom(..) | State::OrderField(_) => shown("FIELD"),
            State::Operator(..) => shown("OP VALUE"),
            State::FilterValue(on, _, field) => values(on.entity, field),
            State::By(_) => keyword("by"),
            State::AfterOrderField(_, false) => shown("asc|desc"),
            State::AfterOrderField(on, true) => {
                Self::clauses_from(*on, 2).first().and_then(|c| keyword(c))
            }
            State::Count(..) => shown("N"),
            State::Assign(_, _, done) if done.is_empty() => shown("FIELD=VALUE …"),
            State::Assign(..) => None,
            State::Equals(..) => Some(Hint {
                display: "= VALUE".to_owned(),
                completion: Some("= ".to_owned()),
            }),
            State::AssignValue(entity, _, _, field) => values(entity, field),
            State::Amount => shown("AMOUNT"),
            State::Lookup => shown("company|location"),
            State::LookupQuery("company") => shown("SIREN|'NAME'"),
            State::LookupQuery(_) => shown("POSTCODE|CITY"),
            State::LookupMore => None,
            State::Topic => shown("[TOPIC]"),
            State::Format => shown(&Format::names().collect::<Vec<_>>().join("|")),
            State::Registration => shown("[REGISTRATION]"),
        }
    }
}

/// The words starting with `partial`, case-insensitively.
fn keywords<'a>(words: impl IntoIterator<Item = &'a str>, partial: &str) -> Vec<String> {
    let p = partial.to_lowercase();
    words
        .into_iter()
        .filter(|w| w.to_lowercase().starts_with(&p))
        .map(str::to_owned)
        .collect()
}

fn id_list(src: &dyn CompletionSource, entity: &str, partial: &str, ids: bool) -> Vec<String> {
    if ids {
        src.ids(entity, partial)
    } else {
        Vec::new()
    }
}

/// Entity names for the word `partial`: the plural after `list`/`count`,
/// the singular elsewhere (the longest and shortest names of an entity),
/// or any name when the preferred one does not fit what was typed.
fn entity_names(src: &dyn CompletionSource, plural: bool, partial: &str) -> Vec<String> {
    let names = src.entities();
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for name in &names {
        let Some(canonical) = src.entity(name) else {
            continue;
        };
        match groups.iter_mut().find(|(c, _)| *c == canonical) {
            Some((_, g)) => g.push(name),
            None => groups.push((canonical, vec![name])),
        }
    }
    let preferred = groups.iter().filter_map(|(_, g)| {
        if plural {
            g.iter().rev().max_by_key(|n| n.len())
        } else {
            g.iter().min_by_key(|n| n.len())
        }
        .copied()
    });
    let found = keywords(preferred, partial);
    if found.is_empty() {
        keywords(names, partial)
    } else {
        found
    }
}
