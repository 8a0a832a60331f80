//! `help`: what each statement looks like, the general topics, and the
//! texts `help`, `help STATEMENT` and `help ENTITY` print, all written from
//! the catalogue. The statement list also gives the completer each
//! keyword's [`Shape`] and the parser its "expected a statement" message.

use super::catalog::{Department, Entity, Field, Shape, entities};

#[derive(Debug, PartialEq, Eq)]
pub struct StatementHelp {
    /// The keyword, then any other spelling (`quit`, `exit`).
    pub names: &'static [&'static str],
    /// What follows the keyword, for completion.
    pub shape: Shape,
    pub syntax: &'static str,
    pub summary: &'static str,
    pub examples: &'static [&'static str],
}

/// What the "expected a statement" message lists.
pub const STATEMENT_EXAMPLES: &str =
    "list, count, show, add, set, delete, sign, pay, history, lookup, help";

pub static STATEMENTS: &[StatementHelp] = &[
    StatementHelp {
        names: &["list"],
        shape: Shape::List,
        syntax: "list ENTITY [where FILTER] [order by FIELD [asc|desc] {, FIELD [asc|desc]}] [limit N] [offset N]",
        summary: "list records, in the entity's field order, sorted by id unless told",
        examples: &[
            "list contracts where status = signed and remain > 0",
            "list events where support = me and start >= today",
            "list clients where commercial = me and name ~ 'casey' order by name",
            "list contracts order by remain desc, id limit 10 offset 10",
        ],
    },
    StatementHelp {
        names: &["count"],
        shape: Shape::Count,
        syntax: "count ENTITY [where FILTER]",
        summary: "count records",
        examples: &[
            "count contracts where status = signed",
            "count events where support = none",
        ],
    },
    StatementHelp {
        names: &["show"],
        shape: Shape::Record,
        syntax: "show ENTITY ID",
        summary: "one record with its relations",
        examples: &["show event geg2021", "show client mkc111"],
    },
    StatementHelp {
        names: &["add"],
        shape: Shape::Add,
        syntax: "add ENTITY FIELD=VALUE ...",
        summary: "create a record (a readable id is generated when `id=` is omitted; a company's name, activity and location come from the registry by its siren, a location's city, region and country from its postcode; on a terminal, missing required fields are asked for)",
        examples: &[
            "add client name='Kevin Casey' email=kevin@startup.io phone='+678 123 456 78' company=CSLLC12345",
            "add contract client=mkc111 total=1200 remain=1200",
            "add company siren=356000000",
            "add location address='1 rue de Rivoli' postcode=75001",
        ],
    },
    StatementHelp {
        names: &["set"],
        shape: Shape::Set,
        syntax: "set ENTITY ID FIELD=VALUE ...",
        summary: "change the named fields of one record",
        examples: &[
            "set event geg2021 support=af123456789",
            "set client mkc111 phone='+33 6 12 34 56 78'",
        ],
    },
    StatementHelp {
        names: &["delete"],
        shape: Shape::Record,
        syntax: "delete ENTITY ID",
        summary: "remove one record (a record still referenced is a conflict)",
        examples: &["delete location ggg56110"],
    },
    StatementHelp {
        names: &["sign"],
        shape: Shape::ContractRecord,
        syntax: "sign contract ID",
        summary: "set a contract's status to signed",
        examples: &["sign contract kc555"],
    },
    StatementHelp {
        names: &["pay"],
        shape: Shape::Pay,
        syntax: "pay contract ID AMOUNT",
        summary: "lower what remains to pay on a contract, atomically (never below 0)",
        examples: &["pay contract ff555 20.99"],
    },
    StatementHelp {
        names: &["history"],
        shape: Shape::Record,
        syntax: "history ENTITY ID",
        summary: "every change made to one record: when, by whom, old and new values",
        examples: &["history contract kc555"],
    },
    StatementHelp {
        names: &["lookup"],
        shape: Shape::Lookup,
        syntax: "lookup company SIREN|'NAME WORDS' | lookup location POSTCODE|CITY",
        summary: "candidates from France's registries (offline: the bundled communes; a SIREN is only checked)",
        examples: &[
            "lookup company 356000000",
            "lookup company 'la poste'",
            "lookup location 29590",
            "lookup location 'Le Loroux-Bottereau'",
        ],
    },
    StatementHelp {
        names: &["login"],
        shape: Shape::Registration,
        syntax: "login [REGISTRATION]",
        summary: "log in (the password is asked with echo off)",
        examples: &["login aa123456789"],
    },
    StatementHelp {
        names: &["logout"],
        shape: Shape::Bare,
        syntax: "logout",
        summary: "forget the stored token",
        examples: &["logout"],
    },
    StatementHelp {
        names: &["whoami"],
        shape: Shape::Bare,
        syntax: "whoami",
        summary: "registration, name, department and token expiry",
        examples: &["whoami"],
    },
    StatementHelp {
        names: &["passwd"],
        shape: Shape::Registration,
        syntax: "passwd [REGISTRATION]",
        summary: "change your password; gestion resets somebody else's",
        examples: &["passwd", "passwd ae123456789"],
    },
    StatementHelp {
        names: &["help"],
        shape: Shape::Topic,
        syntax: "help [STATEMENT|ENTITY|filters|values]",
        summary: "the statements, one statement's syntax, or an entity's fields",
        examples: &["help", "help list", "help events", "help filters"],
    },
    StatementHelp {
        names: &["format"],
        shape: Shape::Format,
        syntax: "format table|vertical|csv|json",
        // The first line is the overview's; `help format` shows it all.
        summary: "how results are printed\n  \
                  On a terminal: table cells longer than 40 characters are cut with …\n  \
                  (`show ENTITY ID`, vertical, csv and json keep them whole); a table\n  \
                  wider than the terminal is shown as records, unless `format table` or\n  \
                  `--format table` asked for tables; a result taller than the terminal\n  \
                  goes through a pager: $OC12_PAGER, else $PAGER, else `less -FRSX`\n  \
                  (`--no-pager`, or OC12_PAGER set to nothing, turns it off).\n  \
                  Times are in your time zone (TZ, else the system's), which tables name;\n  \
                  csv and json give them with their offset.",
        examples: &["format vertical"],
    },
    StatementHelp {
        names: &["quit", "exit"],
        shape: Shape::Bare,
        syntax: "quit | exit",
        summary: "leave the shell",
        examples: &["quit"],
    },
];

/// Help topics that are neither statements nor entities.
pub static TOPICS: &[(&str, &str)] = &[
    (
        "filters",
        "FILTER := CONDITION {(and|et|or|ou) CONDITION}, CONDITION := [not] FIELD OP VALUE | ( FILTER )\n\
         `and` binds tighter than `or`; parentheses group.\n\
         OP: = != <> < <= =< > >= => ~   (`~` contains, ignoring case, on text fields)\n\
         `FIELD = none` has no value; `FIELD != none` has one.\n\
         e.g. list events where (support = af123456789 or support = none) and attendees > 50",
    ),
    (
        "values",
        "numbers 250 999.99; text 'Kevin Casey' \"O'Hara\" (inside single quotes: '' or \\'); bare words \
         geg2021 kevin@startup.io +33612345678; dates 2023-06-04 or 04-06-2023; date and time \
         '2023-06-04 13:00' or 2023-06-04T13:00; none; me (you, for fields naming a collaborator); today",
    ),
];

/// Every statement keyword, `exit` included.
pub fn statement_keywords() -> impl Iterator<Item = &'static str> {
    STATEMENTS.iter().flat_map(|s| s.names.iter().copied())
}

pub fn statement_help(keyword: &str) -> Option<&'static StatementHelp> {
    STATEMENTS
        .iter()
        .find(|s| s.names.iter().any(|n| n.eq_ignore_ascii_case(keyword)))
}

/// Everything `help TOPIC` knows: statements, entities, general topics.
pub fn help_topics() -> impl Iterator<Item = &'static str> {
    statement_keywords()
        .chain(entities().iter().map(|e| e.plural))
        .chain(TOPICS.iter().map(|(t, _)| *t))
}

// ---------------------------------------------------------------------------
// Help texts, written from the data above.

/// `help`: one line per statement, then where to read more.
pub fn overview() -> String {
    let width = STATEMENTS
        .iter()
        .map(|s| s.names.join("|").len())
        .max()
        .unwrap_or(0);
    let mut out = String::from("statements:\n");
    for s in STATEMENTS {
        let first = s.summary.lines().next().unwrap_or_default();
        out += &format!("  {:width$}  {first}\n", s.names.join("|"));
    }
    let plurals: Vec<&str> = entities().iter().map(|e| e.plural).collect();
    out += &format!("entities: {}\n", plurals.join(", "));
    out += "help STATEMENT, help ENTITY, help filters, help values: more";
    out
}

impl StatementHelp {
    /// `help STATEMENT`: syntax, what it does, examples.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n  {}\nexamples:", self.syntax, self.summary);
        for e in self.examples {
            out += &format!("\n  {e}");
        }
        out
    }
}

fn departments(list: &[Department]) -> String {
    if list.is_empty() {
        return "nobody".into();
    }
    list.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

impl Entity {
    /// `help ENTITY`: its fields in display order, their types, who may
    /// change them, and the seed's names for them.
    pub fn help(&self) -> String {
        let mut out = format!(
            "{}: {}\n  add: {}; delete: {}\n",
            self.plural,
            self.description,
            departments(self.add),
            departments(self.delete)
        );
        let rows: Vec<[String; 4]> = self.fields.iter().map(Field::help_row).collect();
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (w0, w1, w2) = (width(0), width(1), width(2));
        out += &format!(
            "  {:w0$}  {:w1$}  {:w2$}  about\n",
            "field", "type", "set by"
        );
        for [name, ty, who, about] in rows {
            out += &format!("  {name:w0$}  {ty:w1$}  {who:w2$}  {about}\n");
        }
        out.pop();
        out
    }
}

impl Field {
    fn help_row(&self) -> [String; 4] {
        let mut ty = self.ty.describe();
        if self.required {
            ty += ", required";
        } else if let Some(default) = self.default {
            ty += &format!(", default {default}");
        }
        let who = if self.is_derived() {
            "derived".to_string()
        } else if self.set.is_empty() && !self.add.is_empty() {
            format!("{} (on add)", departments(self.add))
        } else {
            departments(self.set)
        };
        let mut about = self.description.to_string();
        if let Some(key) = self.filled_from {
            about += &format!(" (from the registry by {key} when omitted)");
        }
        if !self.aliases.is_empty() {
            about += &format!(" [{}]", self.aliases.join(", "));
        }
        [self.name.to_string(), ty, who, about]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::catalog::entity;

    #[test]
    fn help_lists_fields_types_and_who_sets_them() {
        let help = entity("events").unwrap().help();
        assert!(
            help.starts_with("events: what Epic Events organises"),
            "{help}"
        );
        assert!(help.contains("  support "), "{help}");
        let support = help
            .lines()
            .find(|l| l.trim_start().starts_with("support"))
            .unwrap();
        assert!(
            support.contains("collaborator id") && support.contains("gestion"),
            "{support}"
        );
        let client = help
            .lines()
            .find(|l| l.trim_start().starts_with("client"))
            .unwrap();
        assert!(client.contains("derived"), "{client}");
        assert!(overview().contains("pay "), "{}", overview());
        assert!(
            statement_help("exit")
                .unwrap()
                .render()
                .starts_with("quit | exit")
        );
    }
}
