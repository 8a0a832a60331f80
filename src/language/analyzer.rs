//! Syntax tree → checked statement. Names are resolved through the
//! catalogue (aliases included), every value is checked against its field's
//! type and turned into a typed [`Param`], and the rules a statement must
//! keep before it reaches the database are enforced here, each error at the
//! span of what is wrong.
//!
//! Who may do what (departments, ownership) is not checked here: the
//! executor and the database do it; the catalogue says who may set each
//! field for their messages.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Span};
use crate::language::ast::{self, Op, StatementKind, ValueKind};
use crate::language::catalog::{self, Entity, Field, FieldType, Writes};
use crate::language::format::Format;
use crate::language::help::{self, StatementHelp};
use crate::language::lookup::{self, Lookup, siren_ok};
use crate::language::naf;
use crate::language::suggest::suggest;
use crate::language::value::Param;

/// A statement that passed every check. Data statements become one SQL plan
/// (see [`crate::language::planner`]); meta statements are the shell's own business and
/// have none.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Data(Data),
    Meta(Meta),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    List(ListQuery),
    Count {
        entity: &'static Entity,
        filter: Option<Cond>,
    },
    Show(Target),
    Add {
        entity: &'static Entity,
        values: Vec<Assigned>,
    },
    Set {
        target: Target,
        values: Vec<Assigned>,
    },
    Delete(Target),
    /// Always a contract.
    Sign(Target),
    /// Always a contract; the amount is > 0.
    Pay {
        target: Target,
        amount: Decimal,
        /// Where the amount was typed, for errors about it.
        amount_span: Span,
    },
    History(Target),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub entity: &'static Entity,
    pub filter: Option<Cond>,
    /// `(field, descending)`; empty means by id.
    pub order: Vec<(&'static Field, bool)>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One record, by its human id.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub entity: &'static Entity,
    pub id: String,
    /// Where the id was typed, for not-found and permission errors.
    pub span: Span,
}

/// `FIELD = VALUE` of `add` or `set`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    pub field: &'static Field,
    pub value: Operand,
    /// The span of the whole assignment, for database errors about it.
    pub span: Span,
}

/// A checked value: one the database computes, or a bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Null,
    /// The logged-in collaborator: `crm.me()`.
    Me,
    /// The current date: `CURRENT_DATE`.
    Today,
    Param(Param),
    /// `add company`'s location when the registry gave its head office:
    /// the location at that address, added in the same statement when
    /// there is none yet. Only [`crate::interpreter::registry::fill`] makes one.
    NewLocation(NewLocation),
}

/// An address to find among the locations, or to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLocation {
    pub address: String,
    pub complement: Option<String>,
    pub postcode: String,
    pub city: String,
    pub region: Option<String>,
}

/// A checked filter. Parentheses are gone: the planner parenthesises every
/// `or`/`and`, so the grouping typed is the grouping run.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        field: &'static Field,
        op: Op,
        operand: Operand,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// `login [REGISTRATION]`.
    Login(Option<String>),
    Logout,
    Whoami,
    /// `passwd [REGISTRATION]`: another's registration is gestion resetting it.
    Passwd(Option<String>),
    Help(Option<Topic>),
    Format(Format),
    /// `lookup company|location ...`: the registries, no database.
    Lookup(Lookup),
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Statement(&'static StatementHelp),
    Entity(&'static Entity),
    /// `filters`, `values`: the topic's name and text.
    General(&'static str, &'static str),
}

impl Topic {
    /// The text `help TOPIC` prints.
    pub fn text(&self) -> String {
        match self {
            Topic::Statement(help) => help.render(),
            Topic::Entity(entity) => entity.help(),
            Topic::General(_, text) => (*text).to_string(),
        }
    }
}

/// Checks one parsed statement.
pub fn analyze(statement: &ast::Statement) -> Result<Checked, Error> {
    use StatementKind as S;
    let data = match &statement.kind {
        S::List(list) => Data::List(list_query(list)?),
        S::Count { entity, filter } => {
            let entity = resolve_entity(entity)?;
            let filter = check_filter(entity, filter.as_ref())?;
            Data::Count { entity, filter }
        }
        S::Show(t) => Data::Show(target(t)?),
        S::Add {
            entity,
            assignments,
        } => add(entity, assignments)?,
        S::Set {
            target: t,
            assignments,
        } => {
            let target = target(t)?;
            writable(target.entity, &t.entity)?;
            let values = assigned(target.entity, assignments, Mode::Set)?;
            Data::Set { target, values }
        }
        S::Delete(t) => {
            let target = target(t)?;
            writable(target.entity, &t.entity)?;
            Data::Delete(target)
        }
        S::Sign(t) => Data::Sign(contract_target(t, "sign")?),
        S::Pay { target: t, amount } => Data::Pay {
            target: contract_target(t, "pay")?,
            amount: payment(amount)?,
            amount_span: amount.span,
        },
        S::History(t) => Data::History(target(t)?),
        S::Lookup { what, query } => {
            return Ok(Checked::Meta(Meta::Lookup(lookup::check(what, query)?)));
        }
        S::Login(who) => return Ok(Checked::Meta(Meta::Login(registration(who.as_ref())?))),
        S::Logout => return Ok(Checked::Meta(Meta::Logout)),
        S::Whoami => return Ok(Checked::Meta(Meta::Whoami)),
        S::Passwd(who) => return Ok(Checked::Meta(Meta::Passwd(registration(who.as_ref())?))),
        S::Help(topic) => {
            return Ok(Checked::Meta(Meta::Help(
                topic.as_ref().map(help_topic).transpose()?,
            )));
        }
        S::Format(name) => return Ok(Checked::Meta(Meta::Format(format(name)?))),
        S::Quit => return Ok(Checked::Meta(Meta::Quit)),
    };
    Ok(Checked::Data(data))
}

/// The required fields of `entity` that `assignments` do not give (unknown
/// names are ignored here: the analyzer reports them), but for those the
/// registry fills from a field that is given (a company's name from its
/// SIREN: [`crate::interpreter::registry::fill`] fills them, or says why it cannot). On
/// a terminal the shell asks for these before analysing `add`.
pub fn missing_required(entity: &Entity, assignments: &[ast::Assignment]) -> Vec<&'static Field> {
    let given = |name: &str| {
        assignments.iter().any(|a| {
            entity.field(&a.field.text).is_some_and(|f| f.name == name)
                && a.value.kind != ValueKind::None
        })
    };
    entity
        .required_fields()
        .filter(|f| !assignments.iter().any(|a| f.is_named(&a.field.text)))
        .filter(|f| !f.filled_from.is_some_and(given))
        .collect()
}

// ---------------------------------------------------------------------------
// Names.

fn resolve_entity(name: &ast::Name) -> Result<&'static Entity, Error> {
    catalog::entity(&name.text).ok_or_else(|| {
        unknown(
            name.span,
            format!("no entity `{}`", name.text),
            suggest(&name.text, catalog::entity_names()),
        )
    })
}

fn resolve_field(entity: &Entity, name: &ast::Name) -> Result<&'static Field, Error> {
    entity.field(&name.text).ok_or_else(|| {
        let names = entity
            .fields
            .iter()
            .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()));
        unknown(
            name.span,
            format!("{} have no field `{}`", entity.plural, name.text),
            suggest(&name.text, names),
        )
    })
}

fn unknown(span: Span, message: String, suggestion: Option<String>) -> Error {
    let error = Error::unknown(span, message);
    match suggestion {
        Some(s) => error.with_suggestion(s),
        None => error,
    }
}

fn invalid(span: Span, message: impl Into<String>) -> Error {
    Error::at(ErrorKind::Invalid, span, message)
}

fn target(t: &ast::Target) -> Result<Target, Error> {
    let entity = resolve_entity(&t.entity)?;
    let id = id_text(&t.id, &format!("the id of the {}", entity.name))?;
    Ok(Target {
        entity,
        id,
        span: t.id.span,
    })
}

/// An id or a registration: any word or quoted text, but not `none`, `me`
/// or `today`, which mean something else.
fn id_text(value: &ast::Value, what: &str) -> Result<String, Error> {
    match value.kind {
        ValueKind::None | ValueKind::Me | ValueKind::Today => Err(invalid(
            value.span,
            format!("expected {what}, found `{}`", value.text),
        )),
        _ if value.text.is_empty() => Err(invalid(value.span, format!("{what} cannot be empty"))),
        _ => Ok(value.text.clone()),
    }
}

fn contract_target(t: &ast::Target, verb: &str) -> Result<Target, Error> {
    let target = target(t)?;
    if target.entity.name != "contract" {
        let message = format!("only contracts take `{verb}`: `{verb} contract ID`");
        return Err(invalid(t.entity.span, message));
    }
    Ok(target)
}

fn writable(entity: &Entity, name: &ast::Name) -> Result<(), Error> {
    // SECURITY.md's matrix: a refused action, whatever the department.
    if entity.writes == Writes::ReadOnly {
        return Err(Error::at(
            ErrorKind::Permission,
            name.span,
            format!("{} are read only", entity.plural),
        ));
    }
    Ok(())
}

fn registration(who: Option<&ast::Value>) -> Result<Option<String>, Error> {
    who.map(|v| id_text(v, "a registration number")).transpose()
}

fn help_topic(name: &ast::Name) -> Result<Topic, Error> {
    if let Some(help) = help::statement_help(&name.text) {
        return Ok(Topic::Statement(help));
    }
    if let Some(entity) = catalog::entity(&name.text) {
        return Ok(Topic::Entity(entity));
    }
    if let Some(&(topic, text)) = help::TOPICS
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(&name.text))
    {
        return Ok(Topic::General(topic, text));
    }
    let message = format!("no help on `{}`", name.text);
    Err(unknown(
        name.span,
        message,
        suggest(&name.text, help::help_topics()),
    ))
}

fn format(name: &ast::Name) -> Result<Format, Error> {
    Format::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(&name.text))
        .ok_or_else(|| {
            let message = format!("no format `{}`: {}", name.text, Format::choices());
            unknown(name.span, message, suggest(&name.text, Format::names()))
        })
}

// ---------------------------------------------------------------------------
// list and filters.

fn list_query(list: &ast::List) -> Result<ListQuery, Error> {
    let entity = resolve_entity(&list.entity)?;
    let filter = check_filter(entity, list.filter.as_ref())?;
    let order = list
        .order
        .iter()
        .map(|o| Ok((resolve_field(entity, &o.field)?, o.descending)))
        .collect::<Result<_, Error>>()?;
    Ok(ListQuery {
        entity,
        filter,
        order,
        limit: list
            .limit
            .as_ref()
            .map(|v| whole_number(v, "limit"))
            .transpose()?,
        offset: list
            .offset
            .as_ref()
            .map(|v| whole_number(v, "offset"))
            .transpose()?,
    })
}

fn whole_number(value: &ast::Value, clause: &str) -> Result<i64, Error> {
    let n = (value.kind == ValueKind::Number)
        .then(|| value.text.parse::<i64>().ok())
        .flatten();
    n.filter(|n| *n >= 0).ok_or_else(|| {
        invalid(
            value.span,
            format!("`{clause}` takes a whole number, not `{}`", value.text),
        )
    })
}

fn check_filter(entity: &Entity, filter: Option<&ast::Filter>) -> Result<Option<Cond>, Error> {
    filter.map(|f| condition(entity, f)).transpose()
}

fn condition(entity: &Entity, filter: &ast::Filter) -> Result<Cond, Error> {
    let all = |items: &[ast::Filter]| -> Result<Vec<Cond>, Error> {
        items.iter().map(|f| condition(entity, f)).collect()
    };
    Ok(match filter {
        ast::Filter::Or(items) => Cond::Or(all(items)?),
        ast::Filter::And(items) => Cond::And(all(items)?),
        ast::Filter::Not(inner) => Cond::Not(Box::new(condition(entity, inner)?)),
        ast::Filter::Paren(inner) => condition(entity, inner)?,
        ast::Filter::Compare(c) => comparison(entity, c)?,
    })
}

fn comparison(entity: &Entity, c: &ast::Comparison) -> Result<Cond, Error> {
    let field = resolve_field(entity, &c.field)?;
    let op = c.op;
    if op == Op::Contains
        && !field.ty.is_textual()
        && !(field.name == "id" && field.ty == FieldType::Text)
    {
        let message = format!(
            "`~` (contains) works on text; `{}` is {}",
            field.name,
            field.ty.describe()
        );
        return Err(invalid(c.op_span, message));
    }
    if c.value.kind == ValueKind::None && !matches!(op, Op::Eq | Op::Ne) {
        let message = "`none` only compares with `=` (has no value) and `!=` (has one)";
        return Err(invalid(c.op_span.to(c.value.span), message));
    }
    let ordering = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    if ordering && !field.ty.is_ordered() {
        let message = format!(
            "`{}` has no order ({}): use `=` or `!=`",
            field.name,
            field.ty.describe()
        );
        return Err(invalid(c.op_span, message));
    }
    // `~` searches a fragment, so the value is any text, not a whole email.
    let operand = if op == Op::Contains {
        Operand::Param(Param::Text(c.value.text.clone()))
    } else {
        operand(entity, field, &c.value, Mode::Filter)?
    };
    Ok(Cond::Compare { field, op, operand })
}

// ---------------------------------------------------------------------------
// add and set.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Filter,
    Add,
    Set,
}

fn add(name: &ast::Name, assignments: &[ast::Assignment]) -> Result<Data, Error> {
    let entity = resolve_entity(name)?;
    writable(entity, name)?;
    let values = assigned(entity, assignments, Mode::Add)?;
    let missing = missing_required(entity, assignments);
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|f| f.name).collect();
        let message = format!("add {} needs {}", entity.name, names.join(", "));
        return Err(invalid(name.span, message));
    }
    Ok(Data::Add { entity, values })
}

fn assigned(
    entity: &Entity,
    assignments: &[ast::Assignment],
    mode: Mode,
) -> Result<Vec<Assigned>, Error> {
    let mut values: Vec<Assigned> = Vec::with_capacity(assignments.len());
    for a in assignments {
        let field = resolve_field(entity, &a.field)?;
        assignable(entity, field, &a.field, mode)?;
        if values.iter().any(|v| std::ptr::eq(v.field, field)) {
            return Err(invalid(
                a.field.span,
                format!("`{}` is given twice", field.name),
            ));
        }
        let value = registry_rules(
            entity,
            field,
            &a.value,
            operand(entity, field, &a.value, mode)?,
        )?;
        values.push(Assigned {
            field,
            value,
            span: a.field.span.to(a.value.span),
        });
    }
    Ok(values)
}

fn assignable(entity: &Entity, field: &Field, name: &ast::Name, mode: Mode) -> Result<(), Error> {
    let message = if field.is_derived() {
        format!(
            "`{}` is derived ({}) and cannot be assigned",
            field.name, field.description
        )
    } else if mode == Mode::Set && field.name == "id" {
        "an id cannot be changed".to_string()
    } else if mode == Mode::Set && field.set.is_empty() {
        format!("`{}` of {} cannot be changed", field.name, entity.plural)
    } else if mode == Mode::Add && field.add.is_empty() {
        let message = format!(
            "`{}` cannot be given to `add {}`: {}",
            field.name, entity.name, field.description
        );
        // A field some department changes afterwards (a client's
        // commercial, an event's support) is the matrix's business.
        if !field.set.is_empty() {
            return Err(Error::at(ErrorKind::Permission, name.span, message));
        }
        message
    } else {
        return Ok(());
    };
    Err(invalid(name.span, message))
}

/// What the registries know, checked before the database does: a
/// company's SIREN has a valid check digit, its activity is a known APE
/// code, as the database spells it (`6201z` is refused with "did you mean
/// `62.01Z`?", not silently changed).
fn registry_rules(
    entity: &Entity,
    field: &Field,
    value: &ast::Value,
    operand: Operand,
) -> Result<Operand, Error> {
    let Operand::Param(Param::Text(text)) = &operand else {
        return Ok(operand);
    };
    match (entity.name, field.name) {
        ("company", "siren") if !siren_ok(text) => {
            let why = if text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()) {
                "its check digit is wrong"
            } else {
                "it has 9 digits"
            };
            Err(invalid(
                value.span,
                format!("`{text}` is not a SIREN: {why}"),
            ))
        }
        ("company", "activity") if !text.is_empty() && naf::label(text).is_none() => {
            let message = format!("`{text}` is not an APE code of the NAF (e.g. 62.01Z)");
            Err(unknown(
                value.span,
                message,
                naf::closest(text).map(str::to_owned),
            ))
        }
        _ => Ok(operand),
    }
}

// ---------------------------------------------------------------------------
// Values.

/// Checks `value` against `field`'s type. In a filter, emails and phones are
/// compared as typed (a search, not a record); in `add`/`set` they must have
/// a valid shape.
fn operand(
    entity: &Entity,
    field: &Field,
    value: &ast::Value,
    mode: Mode,
) -> Result<Operand, Error> {
    let span = value.span;
    match value.kind {
        ValueKind::None => {
            if mode != Mode::Filter && !field.is_nullable() {
                return Err(invalid(span, format!("`{}` cannot be none", field.name)));
            }
            return Ok(Operand::Null);
        }
        ValueKind::Me => {
            // `list collaborators where id = me` reads well; `add
            // collaborator id=me` would not.
            let names_collaborator = field.ty == FieldType::Reference("collaborator")
                || (mode == Mode::Filter && entity.name == "collaborator" && field.name == "id");
            if !names_collaborator {
                let message = format!(
                    "`me` names a collaborator; `{}` is {}",
                    field.name,
                    field.ty.describe()
                );
                return Err(invalid(span, message));
            }
            return Ok(Operand::Me);
        }
        ValueKind::Today => {
            if field.ty != FieldType::DateTime {
                let message = format!(
                    "`today` is a date; `{}` is {}",
                    field.name,
                    field.ty.describe()
                );
                return Err(invalid(span, message));
            }
            return Ok(Operand::Today);
        }
        _ => {}
    }
    let text = value.text.as_str();
    let param = match field.ty {
        FieldType::Text | FieldType::Reference(_) => {
            if mode != Mode::Filter && field.required && text.trim().is_empty() {
                return Err(invalid(span, format!("`{}` cannot be empty", field.name)));
            }
            Param::Text(text.to_string())
        }
        FieldType::Email => {
            if mode != Mode::Filter && !is_email(text) {
                return Err(invalid(span, format!("`{text}` is not an email address")));
            }
            Param::Text(text.to_string())
        }
        FieldType::Phone => {
            if mode != Mode::Filter && !is_phone(text) {
                let message = format!(
                    "`{text}` is not a phone number: digits, spaces, +, ., -, 8 to 15 digits"
                );
                return Err(invalid(span, message));
            }
            Param::Text(text.to_string())
        }
        FieldType::Enum(values) => {
            let lower = text.to_lowercase();
            let Some(v) = values.iter().find(|v| **v == lower) else {
                let message = format!("no {} `{text}`: {}", field.name, values.join(", "));
                return Err(unknown(
                    span,
                    message,
                    suggest(text, values.iter().copied()),
                ));
            };
            Param::Text((*v).to_string())
        }
        FieldType::Money => Param::Money(money(value)?),
        FieldType::Integer => Param::Integer(integer(value)?),
        FieldType::DateTime => match (date_time(text), mode) {
            (Some(When::Day(d)), Mode::Filter) => Param::Date(d),
            (Some(When::Day(d)), _) => Param::DateTime(d.and_time(NaiveTime::MIN)),
            (Some(When::Moment(t)), _) => Param::DateTime(t),
            (None, _) => return Err(not_a_date(value)),
        },
    };
    Ok(Operand::Param(param))
}

fn money(value: &ast::Value) -> Result<Decimal, Error> {
    let span = value.span;
    let text = value.text.as_str();
    let amount = is_decimal(text)
        .then(|| Decimal::from_str(text).ok())
        .flatten()
        .ok_or_else(|| invalid(span, format!("`{text}` is not an amount (e.g. 999.99)")))?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(invalid(span, "an amount cannot be below 0"));
    }
    if amount.scale() > 2 && amount != amount.round_dp(2) {
        return Err(invalid(span, format!("`{text}` has more than 2 decimals")));
    }
    // numeric(12,2): ten digits before the point.
    if amount >= Decimal::from(10_000_000_000_i64) {
        return Err(invalid(span, format!("`{text}` is too large an amount")));
    }
    Ok(amount.round_dp(2))
}

fn payment(value: &ast::Value) -> Result<Decimal, Error> {
    let amount = money(value)?;
    if amount.is_zero() {
        return Err(invalid(value.span, "a payment must be more than 0"));
    }
    Ok(amount)
}

fn integer(value: &ast::Value) -> Result<i64, Error> {
    let text = value.text.as_str();
    let n: i64 = text
        .parse()
        .map_err(|_| invalid(value.span, format!("`{text}` is not a whole number")))?;
    if n < 0 {
        return Err(invalid(value.span, "a count cannot be below 0"));
    }
    // The column is int4.
    if n > i64::from(i32::MAX) {
        return Err(invalid(value.span, format!("`{text}` is too large")));
    }
    Ok(n)
}

/// `[-]digits[.digits]`: no exponent, no `+`, no spaces.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    [int, frac]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The same shape as the database's `client_email_check`.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let clean = |p: &str| !p.is_empty() && !p.contains('@') && !p.chars().any(char::is_whitespace);
    let labels: Vec<&str> = domain.split('.').collect();
    clean(local)
        && clean(domain)
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && s.len() <= 254
}

/// The same shape as the database's `client_phone_check`.
fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    s.chars().all(|c| c.is_ascii_digit() || " +.-".contains(c)) && (8..=15).contains(&digits)
}

enum When {
    Day(NaiveDate),
    Moment(NaiveDateTime),
}

fn date_time(text: &str) -> Option<When> {
    if let Some(day) = date(text) {
        return Some(When::Day(day));
    }
    let (day, time) = text.split_once(['T', 't', ' '])?;
    let time = NaiveTime::parse_from_str(time, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
        .ok()?;
    Some(When::Moment(date(day)?.and_time(time)))
}

/// `2023-06-04`, or the seed's `04-06-2023`.
fn date(text: &str) -> Option<NaiveDate> {
    if !crate::language::parser::is_date(text) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d-%m-%Y"))
        .ok()
}

/// For a well-formed date that the calendar does not have: which day is
/// missing (`there is no 31 February 2022`).
fn no_such_day(text: &str) -> Option<String> {
    let day = text.split([' ', 'T', 't']).next()?;
    let parts: Vec<u32> = day
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] if *y > 31 => (*y, *m, *d),
        [d, m, y] => (*y, *m, *d),
        _ => return None,
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let name = MONTHS.get(usize::try_from(m).ok()?.checked_sub(1)?);
    let Some(name) = name else {
        return Some(format!("`{text}` is not a date: there is no month {m}"));
    };
    let y = i32::try_from(y).ok()?;
    if NaiveDate::from_ymd_opt(y, m, d).is_some() {
        // The day exists: the time must be what is wrong.
        return Some(format!(
            "`{text}` is not a real date and time: the time is not HH:MM"
        ));
    }
    let days = (28..=31)
        .rev()
        .find(|&n| NaiveDate::from_ymd_opt(y, m, n).is_some())?;
    Some(format!(
        "`{text}` is not a real date: there is no {d} {name} {y} ({name} {y} has {days} days)"
    ))
}

fn not_a_date(value: &ast::Value) -> Error {
    let text = &value.text;
    let message = if matches!(value.kind, ValueKind::Date | ValueKind::DateTime) {
        no_such_day(text).unwrap_or_else(|| format!("`{text}` is not a real date and time"))
    } else {
        format!(
            "`{text}` is not a date (2023-06-04 or 04-06-2023) or a date and time \
             ('2023-06-04 13:00' or '04-06-2023 13:00')"
        )
    };
    invalid(value.span, message)
}
