//! The syntax tree of a statement as typed. Nothing is resolved yet: entity
//! and field names are kept as written (the analyzer resolves them, aliases
//! included, through the catalogue), and every name and value keeps its span
//! so a later stage can point at it.
//!
//! `Display` renders a compact s-expression, one line per statement, which
//! the parser tests compare against.

use std::fmt;

use crate::error::Span;

/// A name as typed: an entity, a field, a help topic, a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A value as typed. `text` is the word, or the unescaped content of quoted
/// text; `kind` is its syntactic form, which the analyzer checks against the
/// field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub kind: ValueKind,
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `250`, `-3`, `999.99`.
    Number,
    /// `2023-06-04` or the seed's `04-06-2023` (the shape only: the
    /// analyzer checks it is a real day).
    Date,
    /// `2023-06-04T13:00`, or quoted `'2023-06-04 13:00'`.
    DateTime,
    /// Any other bare word: ids, enum values, emails, phones.
    Word,
    /// Quoted text.
    Text,
    /// `none`: no value.
    None,
    /// `me`: the logged-in collaborator.
    Me,
    /// `today`: the current date.
    Today,
}

/// A comparison operator; `=>`/`=<`/`<>` are read as `>=`/`<=`/`!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `~`: contains, ignoring case.
    Contains,
}

impl Op {
    /// In the order completion offers them.
    pub const ALL: [Op; 7] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Contains];

    pub const fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "~",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub kind: StatementKind,
    /// From the first to the last token of the statement.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    List(List),
    Count {
        entity: Name,
        filter: Option<Filter>,
    },
    Show(Target),
    Add {
        entity: Name,
        assignments: Vec<Assignment>,
    },
    Set {
        target: Target,
        assignments: Vec<Assignment>,
    },
    Delete(Target),
    Sign(Target),
    Pay {
        target: Target,
        amount: Value,
    },
    History(Target),
    /// `lookup company|location WORDS...`: what to look up, as typed.
    Lookup {
        what: Name,
        query: Vec<Value>,
    },
    Login(Option<Value>),
    Logout,
    Whoami,
    Passwd(Option<Value>),
    Help(Option<Name>),
    Format(Name),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub entity: Name,
    pub filter: Option<Filter>,
    pub order: Vec<Ordering>,
    pub limit: Option<Value>,
    pub offset: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordering {
    pub field: Name,
    pub descending: bool,
}

/// One record: `ENTITY ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub entity: Name,
    pub id: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub field: Name,
    pub value: Value,
}

/// `or` and `and` are n-ary, so a long chain stays flat (no deep recursion
/// when it is checked, planned or dropped); only parentheses nest, and the
/// parser limits how deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Not(Box<Filter>),
    Paren(Box<Filter>),
    Compare(Comparison),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub field: Name,
    pub op: Op,
    pub op_span: Span,
    pub value: Value,
}

impl Statement {
    /// The s-expression rendering, e.g. `(count contracts (= status signed))`.
    pub fn to_sexp(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ValueKind::Number | ValueKind::Word => f.write_str(&self.text),
            ValueKind::Text => write!(f, "{:?}", self.text),
            ValueKind::Date => write!(f, "(date {})", self.text),
            ValueKind::DateTime => write!(f, "(datetime {:?})", self.text),
            ValueKind::None => f.write_str("none"),
            ValueKind::Me => f.write_str("me"),
            ValueKind::Today => f.write_str("today"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.entity, self.id)
    }
}

impl fmt::Display for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " (= {} {})", self.field, self.value)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, head: &str, items: &[Filter]| {
            write!(f, "({head}")?;
            items.iter().try_for_each(|i| write!(f, " {i}"))?;
            f.write_str(")")
        };
        match self {
            Filter::Or(items) => list(f, "or", items),
            Filter::And(items) => list(f, "and", items),
            Filter::Not(inner) => write!(f, "(not {inner})"),
            Filter::Paren(inner) => write!(f, "(group {inner})"),
            Filter::Compare(c) => write!(f, "({} {} {})", c.op.symbol(), c.field, c.value),
        }
    }
}

fn optional(f: &mut fmt::Formatter<'_>, item: Option<&impl fmt::Display>) -> fmt::Result {
    item.map_or(Ok(()), |i| write!(f, " {i}"))
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StatementKind as S;
        match &self.kind {
            S::List(l) => {
                write!(f, "(list {}", l.entity)?;
                if let Some(filter) = &l.filter {
                    write!(f, " (where {filter})")?;
                }
                if !l.order.is_empty() {
                    f.write_str(" (order")?;
                    for o in &l.order {
                        let dir = if o.descending { "desc" } else { "asc" };
                        write!(f, " ({} {dir})", o.field)?;
                    }
                    f.write_str(")")?;
                }
                if let Some(limit) = &l.limit {
                    write!(f, " (limit {limit})")?;
                }
                if let Some(offset) = &l.offset {
                    write!(f, " (offset {offset})")?;
                }
                f.write_str(")")
            }
            S::Count { entity, filter } => {
                write!(f, "(count {entity}")?;
                if let Some(filter) = filter {
                    write!(f, " (where {filter})")?;
                }
                f.write_str(")")
            }
            S::Show(t) => write!(f, "(show {t})"),
            S::Add {
                entity,
                assignments,
            } => {
                write!(f, "(add {entity}")?;
                assignments.iter().try_for_each(|a| write!(f, "{a}"))?;
                f.write_str(")")
            }
            S::Set {
                target,
                assignments,
            } => {
                write!(f, "(set {target}")?;
                assignments.iter().try_for_each(|a| write!(f, "{a}"))?;
                f.write_str(")")
            }
            S::Delete(t) => write!(f, "(delete {t})"),
            S::Sign(t) => write!(f, "(sign {t})"),
            S::Pay { target, amount } => write!(f, "(pay {target} {amount})"),
            S::History(t) => write!(f, "(history {t})"),
            S::Lookup { what, query } => {
                write!(f, "(lookup {what}")?;
                query.iter().try_for_each(|q| write!(f, " {q}"))?;
                f.write_str(")")
            }
            S::Login(who) => {
                f.write_str("(login")?;
                optional(f, who.as_ref())?;
                f.write_str(")")
            }
            S::Logout => f.write_str("(logout)"),
            S::Whoami => f.write_str("(whoami)"),
            S::Passwd(who) => {
                f.write_str("(passwd")?;
                optional(f, who.as_ref())?;
                f.write_str(")")
            }
            S::Help(topic) => {
                f.write_str("(help")?;
                optional(f, topic.as_ref())?;
                f.write_str(")")
            }
            S::Format(name) => write!(f, "(format {name})"),
            S::Quit => f.write_str("(quit)"),
        }
    }
}
