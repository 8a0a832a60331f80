//! The one description of the language's entities and fields, and of what
//! follows each statement's keyword ([`Shape`]).
//!
//! The analyzer resolves names and types through it, the planner takes its
//! SQL table and column names from it (never from user text), `help` prints
//! it, and Tab completion reads it. Everything here is data: adding a field
//! is adding one entry.

use Department::{Commercial, Gestion, Support};

/// The three departments, as SECURITY.md's matrix names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Department {
    Commercial,
    Gestion,
    Support,
}

impl Department {
    pub const ALL: [Department; 3] = [Commercial, Gestion, Support];

    pub const fn name(self) -> &'static str {
        match self {
            Commercial => "commercial",
            Gestion => "gestion",
            Support => "support",
        }
    }

    pub fn from_name(name: &str) -> Option<Department> {
        Department::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// A field's type: what values it takes and how it is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Email,
    /// Digits, spaces, `+`, `.`, `-`; 8 to 15 digits in all.
    Phone,
    /// One of a fixed set of lowercase words.
    Enum(&'static [&'static str]),
    /// numeric(12,2): at most two decimals, never negative.
    Money,
    /// A whole number, never negative (int4 in the database).
    Integer,
    /// timestamptz, shown in the user's time zone (`output::zone`).
    DateTime,
    /// The id of a record of the named entity (singular name).
    Reference(&'static str),
}

impl FieldType {
    /// How `help` names the type.
    pub fn describe(self) -> String {
        match self {
            FieldType::Text => "text".into(),
            FieldType::Email => "email".into(),
            FieldType::Phone => "phone".into(),
            FieldType::Enum(values) => values.join("|"),
            FieldType::Money => "money".into(),
            FieldType::Integer => "whole number".into(),
            FieldType::DateTime => "date and time".into(),
            FieldType::Reference(entity) => format!("{entity} id"),
        }
    }

    /// Whether `~` (contains) makes sense.
    pub fn is_textual(self) -> bool {
        matches!(self, FieldType::Text | FieldType::Email | FieldType::Phone)
    }

    /// Whether `<`, `>` and friends make sense: not on enums and references,
    /// whose order is an accident of spelling.
    pub fn is_ordered(self) -> bool {
        !matches!(self, FieldType::Enum(_) | FieldType::Reference(_))
    }
}

/// Where a field's value comes from in SQL. Expressions use the alias `t`
/// for the entity's own table and the aliases their joins introduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A column of the entity's table.
    Column(&'static str),
    /// Computed from other rows: an expression and the joins it needs, in
    /// order (a join may rely on an earlier one).
    Derived {
        expr: &'static str,
        joins: &'static [&'static str],
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// The seed's column names, accepted as the same field.
    pub aliases: &'static [&'static str],
    pub ty: FieldType,
    pub source: Source,
    /// Must be given to `add` (on a terminal, the shell asks for it).
    pub required: bool,
    /// What the database puts when `add` omits it; a field with a default
    /// or required is never `none`.
    pub default: Option<&'static str>,
    /// The departments that may give it to `add`; empty: nobody.
    pub add: &'static [Department],
    /// The departments that may change it with `set`; empty: nobody.
    pub set: &'static [Department],
    pub description: &'static str,
    /// `add` fills it from France's registries when this other field is
    /// given and it is not (a company's name from its `siren`).
    pub filled_from: Option<&'static str>,
    /// A collaborator reference only that department's members may hold:
    /// the database refuses the others, so completion offers only them.
    pub members_of: Option<Department>,
}

/// How an entity's records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// INSERT/UPDATE/DELETE on its table.
    Table,
    /// Through the SECURITY DEFINER functions `crm.add_collaborator` and
    /// friends, which also manage the PostgreSQL role.
    CollaboratorFunctions,
    /// Nobody writes it.
    ReadOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity {
    /// Singular, as `audit.tbl` names it.
    pub name: &'static str,
    pub plural: &'static str,
    /// The table in schema `crm`.
    pub table: &'static str,
    pub description: &'static str,
    /// In display order: the column order of `list`.
    pub fields: &'static [Field],
    pub writes: Writes,
    pub add: &'static [Department],
    pub delete: &'static [Department],
}

impl Entity {
    /// A field by name or seed alias, ignoring case.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().find(|f| f.is_named(name))
    }

    pub fn field_names(&self) -> impl Iterator<Item = &'static str> {
        let fields: &'static [Field] = self.fields;
        fields.iter().map(|f| f.name)
    }

    /// The fields some department may change with `set`.
    pub fn settable_fields(&self) -> impl Iterator<Item = &'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().filter(|f| !f.set.is_empty())
    }

    pub fn required_fields(&self) -> impl Iterator<Item = &'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().filter(|f| f.required)
    }
}

impl Field {
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    pub fn is_derived(&self) -> bool {
        matches!(self.source, Source::Derived { .. })
    }

    /// Whether `none` may be stored.
    pub fn is_nullable(&self) -> bool {
        !self.required && self.default.is_none() && !self.is_derived()
    }

    pub fn enum_values(&self) -> &'static [&'static str] {
        match self.ty {
            FieldType::Enum(values) => values,
            _ => &[],
        }
    }

    /// The entity a reference field names.
    pub fn references(&self) -> Option<&'static Entity> {
        match self.ty {
            FieldType::Reference(name) => entity(name),
            _ => None,
        }
    }

    pub fn may_add(&self, department: Department) -> bool {
        self.add.contains(&department)
    }

    pub fn may_set(&self, department: Department) -> bool {
        self.set.contains(&department)
    }
}

/// An entity by singular or plural name, ignoring case.
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(name) || e.plural.eq_ignore_ascii_case(name))
}

pub fn entities() -> &'static [Entity] {
    ENTITIES
}

/// Every spelling of every entity name, for suggestions and completion.
pub fn entity_names() -> impl Iterator<Item = &'static str> {
    ENTITIES.iter().flat_map(|e| [e.plural, e.name])
}

// ---------------------------------------------------------------------------
// The entities of LANGUAGE.md, fields in display order. Columns and joins are
// those of design.md's schema.

const NOBODY: &[Department] = &[];
const GESTION: &[Department] = &[Gestion];
const COMMERCIAL: &[Department] = &[Commercial];
const COMMERCIAL_GESTION: &[Department] = &[Commercial, Gestion];
const SUPPORT_GESTION: &[Department] = &[Support, Gestion];

const DEPARTMENTS: &[&str] = &[Commercial.name(), Gestion.name(), Support.name()];
const ROLES: &[&str] = &["manager", "employee"];
const STATUSES: &[&str] = &["unsigned", "signed", "canceled"];

/// Joins for derived fields. Aliases: `t` the entity's table, `ct` the
/// event's contract, `cl` the client (of a contract, or of an event's
/// contract).
const JOIN_CONTRACT_CLIENT: &str = "LEFT JOIN crm.client cl ON cl.id = t.client";
const JOIN_EVENT_CONTRACT: &str = "LEFT JOIN crm.contract ct ON ct.id = t.contract";
const JOIN_EVENT_CLIENT: &str = "LEFT JOIN crm.client cl ON cl.id = ct.client";

/// A field read from a column of the same name, which nobody assigns.
const fn kept(name: &'static str, ty: FieldType, description: &'static str) -> Field {
    Field {
        name,
        aliases: &[],
        ty,
        source: Source::Column(name),
        required: false,
        default: None,
        add: NOBODY,
        set: NOBODY,
        description,
        filled_from: None,
        members_of: None,
    }
}

/// A field stored in a column of the same name.
const fn stored(
    name: &'static str,
    aliases: &'static [&'static str],
    ty: FieldType,
    add: &'static [Department],
    set: &'static [Department],
    description: &'static str,
) -> Field {
    Field {
        name,
        aliases,
        ty,
        source: Source::Column(name),
        required: false,
        default: None,
        add,
        set,
        description,
        filled_from: None,
        members_of: None,
    }
}

impl Field {
    const fn needed(mut self) -> Field {
        self.required = true;
        self
    }

    const fn defaults_to(mut self, value: &'static str) -> Field {
        self.default = Some(value);
        self
    }

    const fn column(mut self, column: &'static str) -> Field {
        self.source = Source::Column(column);
        self
    }

    const fn filled_by(mut self, key: &'static str) -> Field {
        self.filled_from = Some(key);
        self
    }

    const fn members_of(mut self, department: Department) -> Field {
        self.members_of = Some(department);
        self
    }
}

const fn derived(
    name: &'static str,
    aliases: &'static [&'static str],
    ty: FieldType,
    expr: &'static str,
    joins: &'static [&'static str],
    description: &'static str,
) -> Field {
    Field {
        name,
        aliases,
        ty,
        source: Source::Derived { expr, joins },
        required: false,
        default: None,
        add: NOBODY,
        set: NOBODY,
        description,
        filled_from: None,
        members_of: None,
    }
}

/// `id`: given on `add` (or generated), never changed.
const fn id(
    aliases: &'static [&'static str],
    add: &'static [Department],
    description: &'static str,
) -> Field {
    stored("id", aliases, FieldType::Text, add, NOBODY, description)
}

const fn created(aliases: &'static [&'static str], description: &'static str) -> Field {
    let mut f = kept("created", FieldType::DateTime, description);
    f.aliases = aliases;
    f
}

static ENTITIES: &[Entity] = &[
    Entity {
        name: "collaborator",
        plural: "collaborators",
        table: "collaborator",
        description: "the people of Epic Events, each in one department",
        fields: &[
            id(
                &["registration_number"],
                GESTION,
                "registration number: 1-2 letters and 9 digits (generated from the name if omitted)",
            ),
            stored(
                "name",
                &["username"],
                FieldType::Text,
                GESTION,
                GESTION,
                "full name",
            )
            .needed(),
            stored(
                "email",
                &[],
                FieldType::Email,
                GESTION,
                GESTION,
                "email address",
            )
            .needed(),
            stored(
                "department",
                &["department_id"],
                FieldType::Enum(DEPARTMENTS),
                GESTION,
                GESTION,
                "department (a change moves their database grants)",
            )
            .needed(),
            stored(
                "role",
                &["role_id"],
                FieldType::Enum(ROLES),
                GESTION,
                GESTION,
                "manager or employee",
            )
            .defaults_to("employee"),
            created(&["creation_date"], "when the collaborator was added"),
        ],
        writes: Writes::CollaboratorFunctions,
        add: GESTION,
        delete: GESTION,
    },
    Entity {
        name: "client",
        plural: "clients",
        table: "client",
        description: "the people Epic Events organises events for",
        fields: &[
            id(
                &["client_id"],
                COMMERCIAL,
                "client id (generated if omitted)",
            ),
            stored(
                "name",
                &[],
                FieldType::Text,
                COMMERCIAL,
                COMMERCIAL_GESTION,
                "full name",
            )
            .needed(),
            stored(
                "email",
                &[],
                FieldType::Email,
                COMMERCIAL,
                COMMERCIAL_GESTION,
                "email address",
            )
            .needed(),
            stored(
                "phone",
                &["telephone"],
                FieldType::Phone,
                COMMERCIAL,
                COMMERCIAL_GESTION,
                "phone number (8 to 15 digits)",
            ),
            stored(
                "company",
                &["company_id"],
                FieldType::Reference("company"),
                COMMERCIAL,
                COMMERCIAL_GESTION,
                "the client's company",
            ),
            stored(
                "job",
                &["employee_role"],
                FieldType::Text,
                COMMERCIAL,
                COMMERCIAL_GESTION,
                "job title",
            ),
            // Never given to `add`: the commercial who adds a client holds it.
            stored(
                "commercial",
                &["commercial_contact"],
                FieldType::Reference("collaborator"),
                NOBODY,
                GESTION,
                "the commercial in charge (whoever added the client; gestion reassigns)",
            )
            .members_of(Commercial),
            created(&["creation_date"], "first contact"),
            kept("updated", FieldType::DateTime, "last update or contact"),
        ],
        writes: Writes::Table,
        add: COMMERCIAL,
        delete: GESTION,
    },
    Entity {
        name: "company",
        plural: "companies",
        table: "company",
        description: "the companies clients work for",
        fields: &[
            id(
                &["company_id"],
                COMMERCIAL_GESTION,
                "company id (generated if omitted)",
            ),
            stored(
                "name",
                &["company_name"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "company name",
            )
            .needed()
            .filled_by("siren"),
            stored(
                "siren",
                &["company_registration_number"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "SIREN: 9 digits, Luhn checked",
            )
            .needed(),
            stored(
                "activity",
                &["activite_principale"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "APE code, e.g. 62.01Z",
            )
            .filled_by("siren"),
            stored(
                "location",
                &["location_id"],
                FieldType::Reference("location"),
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "where the company is",
            )
            .needed()
            .filled_by("siren"),
            created(&[], "when the company was added"),
        ],
        writes: Writes::Table,
        add: COMMERCIAL_GESTION,
        delete: GESTION,
    },
    Entity {
        name: "location",
        plural: "locations",
        table: "location",
        description: "addresses of companies and events",
        fields: &[
            id(
                &["location_id"],
                COMMERCIAL_GESTION,
                "location id (generated if omitted)",
            ),
            stored(
                "address",
                &["adresse"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "street address",
            )
            .needed(),
            stored(
                "complement",
                &["complement_adresse"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "address complement",
            ),
            stored(
                "postcode",
                &["code_postal"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "postcode (5 digits in France)",
            )
            .needed(),
            stored(
                "city",
                &["ville"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "city",
            )
            .needed()
            .filled_by("postcode"),
            stored(
                "region",
                &[],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "region",
            )
            .filled_by("postcode"),
            stored(
                "country",
                &["pays"],
                FieldType::Text,
                COMMERCIAL_GESTION,
                COMMERCIAL_GESTION,
                "country",
            )
            .defaults_to("France")
            .filled_by("postcode"),
            created(&[], "when the location was added"),
        ],
        writes: Writes::Table,
        add: COMMERCIAL_GESTION,
        delete: GESTION,
    },
    Entity {
        name: "contract",
        plural: "contracts",
        table: "contract",
        description: "what a client pays for; events need a signed one",
        fields: &[
            id(
                &["contract_id"],
                GESTION,
                "contract id (generated if omitted)",
            ),
            stored(
                "client",
                &["client_id"],
                FieldType::Reference("client"),
                GESTION,
                GESTION,
                "the client",
            )
            .needed(),
            derived(
                "commercial",
                &["collaborator_id"],
                FieldType::Reference("collaborator"),
                "cl.commercial",
                &[JOIN_CONTRACT_CLIENT],
                "the client's commercial",
            )
            .members_of(Commercial),
            stored(
                "total",
                &["full_amount_to_pay"],
                FieldType::Money,
                GESTION,
                COMMERCIAL_GESTION,
                "total amount",
            )
            .needed(),
            // The database fills `remain` with `total` when it is omitted.
            stored(
                "remain",
                &["remain_amount_to_pay"],
                FieldType::Money,
                GESTION,
                COMMERCIAL_GESTION,
                "amount still to pay (the total if omitted)",
            )
            .defaults_to("total"),
            stored(
                "status",
                &[],
                FieldType::Enum(STATUSES),
                GESTION,
                COMMERCIAL_GESTION,
                "unsigned, signed or canceled",
            )
            .defaults_to("unsigned"),
            created(&["creation_date"], "when the contract was written"),
            kept("signed", FieldType::DateTime, "when it was signed").column("signed_at"),
        ],
        writes: Writes::Table,
        add: GESTION,
        delete: GESTION,
    },
    Entity {
        name: "event",
        plural: "events",
        table: "event",
        description: "what Epic Events organises, for a signed contract",
        fields: &[
            id(&["event_id"], COMMERCIAL, "event id (generated if omitted)"),
            stored(
                "title",
                &[],
                FieldType::Text,
                COMMERCIAL,
                SUPPORT_GESTION,
                "title",
            )
            .needed(),
            stored(
                "contract",
                &["contract_id"],
                FieldType::Reference("contract"),
                COMMERCIAL,
                GESTION,
                "the signed contract it is for",
            )
            .needed(),
            derived(
                "client",
                &["client_id"],
                FieldType::Reference("client"),
                "ct.client",
                &[JOIN_EVENT_CONTRACT],
                "the contract's client",
            ),
            derived(
                "commercial",
                &["commercial_id"],
                FieldType::Reference("collaborator"),
                "cl.commercial",
                &[JOIN_EVENT_CONTRACT, JOIN_EVENT_CLIENT],
                "the client's commercial",
            )
            .members_of(Commercial),
            // Never given to `add`: gestion assigns the support afterwards.
            stored(
                "support",
                &["collaborator_id"],
                FieldType::Reference("collaborator"),
                NOBODY,
                GESTION,
                "the support collaborator in charge (assigned by gestion)",
            )
            .members_of(Support),
            stored(
                "start",
                &["event_start_date"],
                FieldType::DateTime,
                COMMERCIAL,
                SUPPORT_GESTION,
                "when it starts",
            )
            .column("start_at")
            .needed(),
            stored(
                "end",
                &["event_end_date"],
                FieldType::DateTime,
                COMMERCIAL,
                SUPPORT_GESTION,
                "when it ends (not before the start)",
            )
            .column("end_at")
            .needed(),
            stored(
                "location",
                &["location_id"],
                FieldType::Reference("location"),
                COMMERCIAL,
                SUPPORT_GESTION,
                "where it takes place",
            ),
            stored(
                "attendees",
                &[],
                FieldType::Integer,
                COMMERCIAL,
                SUPPORT_GESTION,
                "expected attendees",
            )
            .defaults_to("0"),
            stored(
                "notes",
                &[],
                FieldType::Text,
                COMMERCIAL,
                SUPPORT_GESTION,
                "free notes (up to 2500 characters)",
            ),
            created(&[], "when the event was added"),
        ],
        writes: Writes::Table,
        add: COMMERCIAL,
        delete: GESTION,
    },
    Entity {
        name: "department",
        plural: "departments",
        table: "department",
        description: "commercial, gestion and support (read only)",
        fields: &[
            kept(
                "id",
                FieldType::Enum(DEPARTMENTS),
                "commercial, gestion or support",
            ),
            kept("name", FieldType::Text, "name"),
            derived(
                "members",
                &[],
                FieldType::Integer,
                "(SELECT count(*) FROM crm.collaborator m WHERE m.department = t.id)",
                &[],
                "how many collaborators",
            ),
        ],
        writes: Writes::ReadOnly,
        add: NOBODY,
        delete: NOBODY,
    },
];

// ---------------------------------------------------------------------------
// The shapes of statements, for completion.

/// What follows a statement's keyword: how the completer walks the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `ENTITY [where …] [order by …] [limit N] [offset N]`
    List,
    /// `ENTITY [where …]`
    Count,
    /// `ENTITY ID`
    Record,
    /// `contract ID`
    ContractRecord,
    /// `contract ID AMOUNT`
    Pay,
    /// `ENTITY FIELD=VALUE …`
    Add,
    /// `ENTITY ID FIELD=VALUE …`
    Set,
    /// `company|location QUERY…`
    Lookup,
    /// `[TOPIC]`
    Topic,
    /// `FORMAT`
    Format,
    /// `[REGISTRATION]`
    Registration,
    /// Nothing.
    Bare,
}

/// The clause keywords that may follow an entity in `list`.
pub const LIST_CLAUSES: &[&str] = &["where", "order by", "limit", "offset"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_resolve_singular_and_plural() {
        assert_eq!(entity("Companies").unwrap().table, "company");
        assert_eq!(entity("event").unwrap().plural, "events");
        assert!(entity("contrats").is_none());
    }

    #[test]
    fn seed_aliases_resolve() {
        let contract = entity("contract").unwrap();
        assert_eq!(
            contract.field("remain_amount_to_pay").unwrap().name,
            "remain"
        );
        assert_eq!(contract.field("STATUS").unwrap().name, "status");
    }

    #[test]
    fn references_name_real_entities() {
        for e in entities() {
            for f in e.fields {
                if let FieldType::Reference(target) = f.ty {
                    assert!(
                        entity(target).is_some(),
                        "{}.{} -> {target}",
                        e.name,
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn names_and_aliases_are_unique_within_an_entity() {
        for e in entities() {
            let mut seen = std::collections::HashSet::new();
            for f in e.fields {
                for n in std::iter::once(&f.name).chain(f.aliases) {
                    assert!(seen.insert(n.to_lowercase()), "{}: {n} twice", e.name);
                }
            }
        }
    }

    #[test]
    fn the_matrix_of_security_md() {
        let event = entity("event").unwrap();
        let support = event.field("support").unwrap();
        assert!(support.may_set(Gestion) && !support.may_set(Support));
        assert!(event.field("notes").unwrap().may_set(Support));
        let client = entity("client").unwrap();
        assert!(!client.field("commercial").unwrap().may_set(Commercial));
        assert!(client.field("name").unwrap().may_add(Commercial));
    }
}
