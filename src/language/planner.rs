//! Checked statement → SQL. A pure function: no database, no user text in
//! the SQL. Identifiers come from the catalogue; every user value becomes a
//! bound `$n` parameter with an explicit cast, so PostgreSQL never has to
//! guess a parameter's type and [`Param`] always meets the type it expects.
//!
//! Conventions the executor relies on:
//! - the entity's own table is aliased `t`; timestamptz columns are read as
//!   they are (instants, which the printer shows in the user's zone),
//!   integers as `int8`;
//! - `add`/`set`/`delete`/`sign` return the id, `pay` the new `remain`; zero
//!   rows means "not found or not allowed", for the executor to tell apart;
//! - collaborator writes call the SECURITY DEFINER functions. An
//!   add-collaborator plan ends with a `Param::Null` standing for the
//!   password hash, which the executor fills with [`fill_password_hash`].

use crate::language::analyzer::{Assigned, Cond, Data, ListQuery, NewLocation, Operand, Target};
use crate::language::ast::Op;
use crate::language::catalog::{Entity, Field, FieldType, Source, Writes};
use crate::language::value::{Column, ColumnType, Param};

/// One SQL statement, its parameters, and the columns of its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub sql: String,
    pub params: Vec<Param>,
    /// Empty when the statement returns nothing worth reading.
    pub columns: Vec<Column>,
}

/// `show`: the record, then titled related lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowPlan {
    pub main: Plan,
    pub related: Vec<Related>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub title: &'static str,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    One(Plan),
    Show(ShowPlan),
}

impl Planned {
    /// Every plan, the main one first (for preparing them all in tests).
    pub fn plans(&self) -> Vec<&Plan> {
        match self {
            Planned::One(plan) => vec![plan],
            Planned::Show(show) => std::iter::once(&show.main)
                .chain(show.related.iter().map(|r| &r.plan))
                .collect(),
        }
    }
}

pub fn plan(data: &Data) -> Planned {
    let plan = match data {
        Data::List(query) => list(query),
        Data::Count { entity, filter } => count(entity, filter.as_ref()),
        Data::Show(target) => return Planned::Show(show(target)),
        Data::Add { entity, values } => add(entity, values),
        Data::Set { target, values } => set(target, values),
        Data::Delete(target) => delete(target),
        Data::Sign(target) => sign(target),
        Data::Pay { target, amount, .. } => pay(target, Param::Money(*amount)),
        Data::History(target) => history(target),
    };
    Planned::One(plan)
}

/// Whether the executor must fill a password hash into the plan of `data`.
pub fn needs_password_hash(data: &Data) -> bool {
    matches!(data, Data::Add { entity, .. } if entity.writes == Writes::CollaboratorFunctions)
}

/// Puts the scrypt hash in the placeholder an add-collaborator or
/// set-password plan ends with.
pub fn fill_password_hash(plan: &mut Plan, hash: String) {
    if let Some(last) = plan.params.last_mut() {
        *last = Param::Text(hash);
    }
}

/// `passwd`: stores a new hash for `registration` (the executor fills the
/// hash with [`fill_password_hash`]).
pub fn set_password(registration: &str) -> Plan {
    Plan {
        sql: "SELECT crm.set_password($1::text, $2::text)".into(),
        params: vec![Param::Text(registration.into()), Param::Null],
        columns: vec![],
    }
}

// ---------------------------------------------------------------------------
// Building SQL.

/// SQL text being written and the parameters bound so far.
#[derive(Default)]
struct Sql {
    params: Vec<Param>,
}

impl Sql {
    /// Binds `param` and returns its placeholder, cast to the type the
    /// parameter's Rust value writes.
    fn bind(&mut self, param: Param) -> String {
        let cast = match param {
            Param::Null | Param::Text(_) => "text",
            Param::Integer(_) => "int8",
            Param::Money(_) => "numeric",
            Param::Date(_) => "date",
            Param::DateTime(_) => "timestamp",
        };
        self.params.push(param);
        format!("${}::{cast}", self.params.len())
    }

    fn operand(&mut self, operand: &Operand) -> String {
        match operand {
            Operand::Null => "NULL".into(),
            Operand::Me => "crm.me()".into(),
            Operand::Today => "CURRENT_DATE".into(),
            Operand::Param(p) => self.bind(p.clone()),
            // Only `add company` takes one, and `add` renders it itself.
            Operand::NewLocation(_) => "NULL".into(),
        }
    }

    fn finish(self, sql: String, columns: Vec<Column>) -> Plan {
        Plan {
            sql,
            params: self.params,
            columns,
        }
    }
}

fn table(entity: &Entity) -> String {
    format!("crm.{}", entity.table)
}

/// The field's value in a query over `t`.
fn expr(field: &Field) -> String {
    match field.source {
        Source::Column(column) => format!("t.{column}"),
        Source::Derived { expr, .. } => expr.into(),
    }
}

/// The stored column, for INSERT and UPDATE (never derived: the analyzer
/// refuses assigning those).
fn column(field: &Field) -> &'static str {
    match field.source {
        Source::Column(column) => column,
        Source::Derived { .. } => field.name,
    }
}

fn column_type(ty: FieldType) -> ColumnType {
    match ty {
        FieldType::Money => ColumnType::Money,
        FieldType::Integer => ColumnType::Integer,
        FieldType::DateTime => ColumnType::DateTime,
        FieldType::Text
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Enum(_)
        | FieldType::Reference(_) => ColumnType::Text,
    }
}

/// `expr AS "name"`, read as the column type says.
fn select_item(field: &Field) -> String {
    let e = expr(field);
    let read = match field.ty {
        FieldType::Integer => format!("{e}::int8"),
        _ => e,
    };
    format!("{read} AS \"{}\"", field.name)
}

/// The joins `fields` need, each once, in a valid order.
fn joins<'a>(fields: impl IntoIterator<Item = &'a Field>) -> String {
    let mut all: Vec<&str> = Vec::new();
    for field in fields {
        if let Source::Derived { joins, .. } = field.source {
            for join in joins {
                if !all.contains(join) {
                    all.push(join);
                }
            }
        }
    }
    all.iter().map(|j| format!(" {j}")).collect()
}

fn cond_fields<'a>(cond: &'a Cond, out: &mut Vec<&'a Field>) {
    match cond {
        Cond::Or(items) | Cond::And(items) => items.iter().for_each(|c| cond_fields(c, out)),
        Cond::Not(inner) => cond_fields(inner, out),
        Cond::Compare { field, .. } => out.push(field),
    }
}

/// `SELECT <display fields> FROM crm.<table> t <joins>`.
fn select_all(entity: &Entity) -> (String, Vec<Column>) {
    let items: Vec<String> = entity.fields.iter().map(select_item).collect();
    let sql = format!(
        "SELECT {} FROM {} t{}",
        items.join(", "),
        table(entity),
        joins(entity.fields)
    );
    let columns = entity
        .fields
        .iter()
        .map(|f| Column::new(f.name, column_type(f.ty)))
        .collect();
    (sql, columns)
}

// ---------------------------------------------------------------------------
// Filters.

fn condition(sql: &mut Sql, cond: &Cond) -> String {
    let all = |sql: &mut Sql, items: &[Cond], sep: &str| {
        let parts: Vec<String> = items.iter().map(|c| condition(sql, c)).collect();
        format!("({})", parts.join(sep))
    };
    match cond {
        Cond::Or(items) => all(sql, items, " OR "),
        Cond::And(items) => all(sql, items, " AND "),
        // Two-valued: `not (support = x)` keeps the events with no support.
        Cond::Not(inner) => format!("({}) IS NOT TRUE", condition(sql, inner)),
        Cond::Compare { field, op, operand } => compare(sql, field, *op, operand),
    }
}

fn compare(sql: &mut Sql, field: &Field, op: Op, operand: &Operand) -> String {
    let x = expr(field);
    match operand {
        Operand::Null if op == Op::Eq => format!("{x} IS NULL"),
        Operand::Null => format!("{x} IS NOT NULL"),
        Operand::Today => on_day(&x, op, "CURRENT_DATE"),
        Operand::Param(Param::Date(day)) => {
            let d = sql.bind(Param::Date(*day));
            on_day(&x, op, &d)
        }
        Operand::Param(Param::Text(text)) if op == Op::Contains => {
            let fragment = sql.bind(Param::Text(escape_like(text)));
            format!("{x} ILIKE '%' || {fragment} || '%'")
        }
        _ => {
            let y = sql.operand(operand);
            binary(&x, op, &y)
        }
    }
}

fn binary(x: &str, op: Op, y: &str) -> String {
    match op {
        // `!=` keeps the rows with no value: `support != me` includes the
        // unassigned events, as a person reading it expects.
        Op::Ne => format!("{x} IS DISTINCT FROM {y}"),
        _ => format!("{x} {} {y}", op.symbol()),
    }
}

/// A date-and-time field against a day: `=` is "on that day", `>` "after
/// that day". The column stays bare so its index serves.
fn on_day(x: &str, op: Op, day: &str) -> String {
    match op {
        Op::Lt => format!("{x} < {day}"),
        Op::Le => format!("{x} < {day} + 1"),
        Op::Gt => format!("{x} >= {day} + 1"),
        Op::Ge => format!("{x} >= {day}"),
        Op::Ne => format!("({x} >= {day} AND {x} < {day} + 1) IS NOT TRUE"),
        // `~` never reaches a date: the analyzer refuses it.
        Op::Eq | Op::Contains => format!("({x} >= {day} AND {x} < {day} + 1)"),
    }
}

/// ILIKE's metacharacters stand for themselves in a `~` search.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The sort keys of one field. Words sort without regard to case
/// (`axs40` before `VDINPR25`, as a reader expects; the cluster's collation
/// is byte-wise), then byte-wise so that the order is total. The id's keys
/// are the ones sql/008's indexes are built on, so `list … limit N` reads N
/// index entries instead of sorting every row.
fn order_by(order: &mut Vec<String>, field: &Field, desc: bool) {
    let x = expr(field);
    let dir = if desc { " DESC" } else { "" };
    if matches!(
        field.ty,
        FieldType::Text | FieldType::Email | FieldType::Reference(_)
    ) {
        order.push(format!("lower({x}){dir}"));
    }
    order.push(format!("{x}{dir}"));
}

fn where_clause(sql: &mut Sql, filter: Option<&Cond>) -> String {
    filter.map_or(String::new(), |c| format!(" WHERE {}", condition(sql, c)))
}

// ---------------------------------------------------------------------------
// Statements.

fn list(query: &ListQuery) -> Plan {
    let mut sql = Sql::default();
    let (select, columns) = select_all(query.entity);
    let filter = where_clause(&mut sql, query.filter.as_ref());
    let mut order: Vec<String> = Vec::new();
    for (field, desc) in &query.order {
        order_by(&mut order, field, *desc);
    }
    // Ties keep a stable order, so limit/offset pages do not overlap.
    if !query.order.iter().any(|(f, _)| f.name == "id") {
        order_by(
            &mut order,
            query.entity.field("id").expect("every entity has an id"),
            false,
        );
    }
    let mut text = format!("{select}{filter} ORDER BY {}", order.join(", "));
    if let Some(limit) = query.limit {
        text += &format!(" LIMIT {}", sql.bind(Param::Integer(limit)));
    }
    if let Some(offset) = query.offset {
        text += &format!(" OFFSET {}", sql.bind(Param::Integer(offset)));
    }
    sql.finish(text, columns)
}

fn count(entity: &Entity, filter: Option<&Cond>) -> Plan {
    let mut sql = Sql::default();
    let mut used = Vec::new();
    if let Some(c) = filter {
        cond_fields(c, &mut used);
    }
    let text = format!(
        "SELECT count(*) AS \"count\" FROM {} t{}{}",
        table(entity),
        joins(used),
        where_clause(&mut sql, filter)
    );
    sql.finish(text, vec![Column::new("count", ColumnType::Integer)])
}

fn history(target: &Target) -> Plan {
    let mut sql = Sql::default();
    // One line per change: when, who (registration and name), what, and
    // each field's old and new values, which the printer shows as
    // `old → new`, each as its field's type.
    let text = format!(
        "SELECT a.at AS \"at\", a.actor AS \"by\", c.name AS \"name\", a.op AS \"op\", \
         a.changes AS \"changes\" \
         FROM crm.audit a LEFT JOIN crm.collaborator c ON c.id = a.actor \
         WHERE a.tbl = {} AND a.record = {} ORDER BY a.at, a.pk",
        sql.bind(Param::Text(target.entity.name.into())),
        sql.bind(Param::Text(target.id.clone()))
    );
    let columns = vec![
        Column::new("at", ColumnType::DateTime),
        Column::new("by", ColumnType::Text),
        Column::new("name", ColumnType::Text),
        Column::new("op", ColumnType::Text),
        Column::new("changes", ColumnType::Changes(target.entity.name)),
    ];
    sql.finish(text, columns)
}

fn returning_id() -> Vec<Column> {
    vec![Column::new("id", ColumnType::Text)]
}

fn add(entity: &Entity, values: &[Assigned]) -> Plan {
    if entity.writes == Writes::CollaboratorFunctions {
        return collaborator_call("add_collaborator", None, values);
    }
    let mut sql = Sql::default();
    let mut with = String::new();
    let columns: Vec<&str> = values.iter().map(|a| column(a.field)).collect();
    let rendered: Vec<String> = values
        .iter()
        .map(|a| match &a.value {
            Operand::NewLocation(place) => {
                with = found_or_new_location(&mut sql, place);
                "(SELECT id FROM loc)".to_owned()
            }
            other => sql.operand(other),
        })
        .collect();
    let text = if values.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES RETURNING id", table(entity))
    } else {
        format!(
            "{with}INSERT INTO {} ({}) VALUES ({}) RETURNING id",
            table(entity),
            columns.join(", "),
            rendered.join(", ")
        )
    };
    sql.finish(text, returning_id())
}

/// `WITH ... loc AS (...)`: the id of the French location at that
/// address (same street, postcode and city, ignoring case), added by the
/// same statement when there is none. One statement, so a failing `add`
/// leaves no location behind.
fn found_or_new_location(sql: &mut Sql, place: &NewLocation) -> String {
    let address = sql.bind(Param::Text(place.address.clone()));
    let postcode = sql.bind(Param::Text(place.postcode.clone()));
    let city = sql.bind(Param::Text(place.city.clone()));
    let complement = sql.bind(place.complement.clone().map_or(Param::Null, Param::Text));
    let region = sql.bind(place.region.clone().map_or(Param::Null, Param::Text));
    format!(
        "WITH found AS (SELECT id FROM crm.location \
         WHERE lower(address) = lower({address}) AND postcode = {postcode} \
         AND lower(city) = lower({city}) AND lower(btrim(country)) = 'france' ORDER BY id LIMIT 1), \
         made AS (INSERT INTO crm.location (address, complement, postcode, city, region, country) \
         SELECT {address}, {complement}, {postcode}, {city}, {region}, 'France' \
         WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING id), \
         loc AS (SELECT id FROM found UNION ALL SELECT id FROM made) "
    )
}

fn set(target: &Target, values: &[Assigned]) -> Plan {
    if target.entity.writes == Writes::CollaboratorFunctions {
        return collaborator_call("set_collaborator", Some(target), values);
    }
    let mut sql = Sql::default();
    let sets: Vec<String> = values
        .iter()
        .map(|a| format!("{} = {}", column(a.field), sql.operand(&a.value)))
        .collect();
    let id = sql.bind(Param::Text(target.id.clone()));
    let text = format!(
        "UPDATE {} SET {} WHERE id = {id} RETURNING id",
        table(target.entity),
        sets.join(", ")
    );
    sql.finish(text, returning_id())
}

fn delete(target: &Target) -> Plan {
    let mut sql = Sql::default();
    let id = sql.bind(Param::Text(target.id.clone()));
    if target.entity.writes == Writes::CollaboratorFunctions {
        let text = format!("SELECT crm.delete_collaborator({id})");
        return sql.finish(text, vec![]);
    }
    let text = format!(
        "DELETE FROM {} WHERE id = {id} RETURNING id",
        table(target.entity)
    );
    sql.finish(text, returning_id())
}

/// `crm.add_collaborator(id, name, email, department, role, hash)` or
/// `crm.set_collaborator(id, name, email, department, role)`: one argument
/// per field in that order, NULL for a field not given (generated id,
/// default role, or "keep" for set); add ends with the hash placeholder.
fn collaborator_call(function: &str, target: Option<&Target>, values: &[Assigned]) -> Plan {
    let mut sql = Sql::default();
    let mut args = Vec::new();
    for name in ["id", "name", "email", "department", "role"] {
        let given = values.iter().find(|a| a.field.name == name);
        let arg = match (name, target, given) {
            ("id", Some(t), _) => sql.bind(Param::Text(t.id.clone())),
            (_, _, Some(a)) => sql.operand(&a.value),
            _ => sql.bind(Param::Null),
        };
        args.push(arg);
    }
    let (text, columns) = if target.is_none() {
        args.push(sql.bind(Param::Null));
        let text = format!("SELECT crm.{function}({}) AS \"id\"", args.join(", "));
        (text, returning_id())
    } else {
        (
            format!("SELECT crm.{function}({})", args.join(", ")),
            vec![],
        )
    };
    sql.finish(text, columns)
}

fn sign(target: &Target) -> Plan {
    let mut sql = Sql::default();
    let id = sql.bind(Param::Text(target.id.clone()));
    let text = format!("UPDATE crm.contract SET status = 'signed' WHERE id = {id} RETURNING id");
    sql.finish(text, returning_id())
}

/// One statement that cannot overdraw, even with two payments at once: the
/// row lock of UPDATE serialises them and the second re-checks `remain`.
fn pay(target: &Target, amount: Param) -> Plan {
    let mut sql = Sql::default();
    let amount = sql.bind(amount);
    let id = sql.bind(Param::Text(target.id.clone()));
    let text = format!(
        "UPDATE crm.contract SET remain = remain - {amount} WHERE id = {id} AND remain >= {amount} RETURNING remain"
    );
    sql.finish(text, vec![Column::new("remain", ColumnType::Money)])
}

// ---------------------------------------------------------------------------
// show.

fn show(target: &Target) -> ShowPlan {
    let entity = target.entity;
    let main = if entity.name == "event" {
        event_sheet(target)
    } else {
        let mut sql = Sql::default();
        let (select, columns) = select_all(entity);
        let text = format!(
            "{select} WHERE t.id = {}",
            sql.bind(Param::Text(target.id.clone()))
        );
        sql.finish(text, columns)
    };
    let related = RELATED
        .iter()
        .filter(|r| r.entity == entity.name)
        .map(|r| Related {
            title: r.title,
            plan: Plan {
                sql: r.sql.into(),
                params: vec![Param::Text(target.id.clone())],
                columns: r
                    .columns
                    .iter()
                    .map(|&(n, ty)| Column::new(n, ty))
                    .collect(),
            },
        })
        .collect();
    ShowPlan { main, related }
}

/// What the support team's spreadsheet held, in its order.
fn event_sheet(target: &Target) -> Plan {
    use ColumnType::{DateTime, Integer, Text};
    const ITEMS: &[(&str, &str, ColumnType)] = &[
        ("t.title", "title", Text),
        ("t.id", "id", Text),
        ("t.contract", "contract", Text),
        ("cl.name", "client", Text),
        ("cl.email", "client_email", Text),
        ("cl.phone", "client_phone", Text),
        ("t.start_at", "start", DateTime),
        ("t.end_at", "end", DateTime),
        ("su.name", "support", Text),
        ("lo.address", "address", Text),
        ("lo.postcode", "postcode", Text),
        ("lo.city", "city", Text),
        ("lo.country", "country", Text),
        ("t.attendees::int8", "attendees", Integer),
        ("t.notes", "notes", Text),
    ];
    let items: Vec<String> = ITEMS
        .iter()
        .map(|(e, n, _)| format!("{e} AS \"{n}\""))
        .collect();
    let mut sql = Sql::default();
    let text = format!(
        "SELECT {} FROM crm.event t \
         LEFT JOIN crm.contract ct ON ct.id = t.contract \
         LEFT JOIN crm.client cl ON cl.id = ct.client \
         LEFT JOIN crm.collaborator su ON su.id = t.support \
         LEFT JOIN crm.location lo ON lo.id = t.location \
         WHERE t.id = {}",
        items.join(", "),
        sql.bind(Param::Text(target.id.clone()))
    );
    let columns = ITEMS.iter().map(|&(_, n, ty)| Column::new(n, ty)).collect();
    sql.finish(text, columns)
}

/// The related lists of `show`, each with one parameter: the record's id.
struct RelatedQuery {
    entity: &'static str,
    title: &'static str,
    sql: &'static str,
    columns: &'static [(&'static str, ColumnType)],
}

static RELATED: &[RelatedQuery] = &[
    RelatedQuery {
        entity: "client",
        title: "contracts",
        sql: "SELECT c.id AS \"id\", c.status AS \"status\", c.total AS \"total\", c.remain AS \"remain\" \
              FROM crm.contract c WHERE c.client = $1::text ORDER BY lower(c.id), c.id",
        columns: &[
            ("id", ColumnType::Text),
            ("status", ColumnType::Text),
            ("total", ColumnType::Money),
            ("remain", ColumnType::Money),
        ],
    },
    RelatedQuery {
        entity: "client",
        title: "events",
        sql: "SELECT e.id AS \"id\", e.start_at AS \"start\", e.support AS \"support\" \
              FROM crm.event e JOIN crm.contract c ON c.id = e.contract \
              WHERE c.client = $1::text ORDER BY e.start_at, lower(e.id), e.id",
        columns: &[
            ("id", ColumnType::Text),
            ("start", ColumnType::DateTime),
            ("support", ColumnType::Text),
        ],
    },
    RelatedQuery {
        entity: "contract",
        title: "contact",
        sql: "SELECT cl.name AS \"client\", cl.email AS \"email\", cl.phone AS \"phone\", co.name AS \"commercial\" \
              FROM crm.contract c JOIN crm.client cl ON cl.id = c.client \
              LEFT JOIN crm.collaborator co ON co.id = cl.commercial WHERE c.id = $1::text",
        columns: &[
            ("client", ColumnType::Text),
            ("email", ColumnType::Text),
            ("phone", ColumnType::Text),
            ("commercial", ColumnType::Text),
        ],
    },
    RelatedQuery {
        entity: "contract",
        title: "events",
        sql: "SELECT e.id AS \"id\", e.title AS \"title\", e.start_at AS \"start\", \
              e.end_at AS \"end\", e.support AS \"support\" \
              FROM crm.event e WHERE e.contract = $1::text ORDER BY e.start_at, lower(e.id), e.id",
        columns: &[
            ("id", ColumnType::Text),
            ("title", ColumnType::Text),
            ("start", ColumnType::DateTime),
            ("end", ColumnType::DateTime),
            ("support", ColumnType::Text),
        ],
    },
    RelatedQuery {
        entity: "collaborator",
        title: "holds",
        sql: "SELECT (SELECT count(*) FROM crm.client cl WHERE cl.commercial = $1::text) AS \"clients\", \
              (SELECT count(*) FROM crm.contract c JOIN crm.client cl ON cl.id = c.client \
               WHERE cl.commercial = $1::text) AS \"contracts\", \
              (SELECT count(*) FROM crm.event e WHERE e.support = $1::text) AS \"events\"",
        columns: &[
            ("clients", ColumnType::Integer),
            ("contracts", ColumnType::Integer),
            ("events", ColumnType::Integer),
        ],
    },
    RelatedQuery {
        entity: "company",
        title: "clients",
        sql: "SELECT cl.id AS \"id\", cl.name AS \"name\", cl.email AS \"email\", cl.phone AS \"phone\" \
              FROM crm.client cl WHERE cl.company = $1::text ORDER BY lower(cl.id), cl.id",
        columns: &[
            ("id", ColumnType::Text),
            ("name", ColumnType::Text),
            ("email", ColumnType::Text),
            ("phone", ColumnType::Text),
        ],
    },
    RelatedQuery {
        entity: "department",
        title: "collaborators",
        sql: "SELECT m.id AS \"id\", m.name AS \"name\", m.role AS \"role\" \
              FROM crm.collaborator m WHERE m.department = $1::text ORDER BY lower(m.id), m.id",
        columns: &[
            ("id", ColumnType::Text),
            ("name", ColumnType::Text),
            ("role", ColumnType::Text),
        ],
    },
];

// ---------------------------------------------------------------------------
// For tests that prepare every plan against a real database.

/// Statements that together reach every SQL shape the planner writes: every
/// entity's list/count/show/history, every write, every operand form.
pub const REPRESENTATIVE: &[&str] = &[
    "list collaborators",
    "list clients where commercial = me and name ~ 'casey' order by name desc",
    "list companies where siren = 999222888",
    "list locations where country != none order by city limit 5 offset 5",
    "list contracts where (status = signed or remain > 0) and not client = mkc111",
    "list contracts where commercial = ab123456789 order by remain desc",
    "list events where support = none and start >= today",
    "list events where start = 2023-07-25 or end < '2023-07-26 02:00'",
    "list events where commercial = me and client != axs40 and attendees >= 50",
    "list departments where members > 1",
    "count contracts where status = signed",
    "count events where commercial = aa123456789",
    "show collaborator aa123456789",
    "show client mkc111",
    "show company CSLLC12345",
    "show location p22240",
    "show contract kc555",
    "show event geg2021",
    "show department support",
    "add collaborator name='Mickey Mouse' email=mickey@epic-events.example department=support",
    "add client name='Kevin Casey' email=kevin@startup.io phone='+678 123 456 78' company=CSLLC12345",
    "add company name='Acme' siren=999222896 location=p22240",
    "add location address='1 rue de la Paix' postcode=75002 city=Paris",
    "add contract client=mkc111 total=1200 remain=1200 status=unsigned",
    "add event title='Launch' contract=ff555 start='2024-06-04 13:00' end=2024-06-05T02:00 attendees=75",
    "set collaborator ae123456789 role=manager",
    "set client mkc111 phone='+33 6 12 34 56 78' company=none",
    "set company CSLLC12345 activity=62.01Z",
    "set location p22240 complement=none",
    "set contract kc555 total=999.99 status=canceled",
    "set event geg2021 support=af123456789 notes='Wedding starts at 3PM, upstairs.'",
    "delete collaborator ad123456789",
    "delete event geg2021",
    "sign contract kc555",
    "pay contract ff555 20.99",
    "history contract kc555",
];

/// Each representative statement with its plans (show gives several).
pub fn representative_plans() -> Result<Vec<(&'static str, Plan)>, crate::error::Error> {
    let mut out = Vec::new();
    for &src in REPRESENTATIVE {
        for statement in crate::language::parser::parse(src)? {
            if let crate::language::analyzer::Checked::Data(data) =
                crate::language::analyzer::analyze(&statement)?
            {
                out.extend(plan(&data).plans().into_iter().map(|p| (src, p.clone())));
            }
        }
    }
    Ok(out)
}
