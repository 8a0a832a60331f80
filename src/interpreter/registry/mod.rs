//! France's public registries: companies from the "recherche d'entreprises"
//! API (by SIREN or name), communes from the geographic API (by postcode or
//! name), and, when they cannot be reached or `OC12_OFFLINE` is set, the
//! official communes bundled in `data/` (the APE codes are the language's:
//! `language/naf.rs`).
//!
//! Two uses: `lookup company|location ...` prints the candidates, and
//! [`fill`] completes and checks `add company siren=...` and `add location
//! postcode=...` between the analyzer and the planner. Nothing here waits
//! longer than `http::TIMEOUT` per question (plus a rate-limit wait the
//! API asks for, said on stderr); a registry that does not answer is a note
//! on stderr, and the statement goes on with the offline data or fails with
//! a clear error.
//!
//! The files: `http.rs` (one GET, bounded in time), `api.rs` (the two APIs'
//! JSON read into our types), `communes.rs` (the bundled communes,
//! `data/communes.tsv`, written by `data/generate.mjs`), `fill.rs` (`add`
//! completed and checked). May use: `language`, `output`, `config`,
//! `error`, and the session's [`Flow`].

mod api;
mod communes;
mod fill;
mod http;

use std::io::Write;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result, Span};
use crate::interpreter::session::Flow;
use crate::language::lookup::{Lookup, Query};
use crate::language::naf;
use crate::language::value::{Cell, Column, ColumnType};
use crate::output::{Printer, RowSink};

pub use communes::fold;
pub use fill::{fill, fills};

/// The company registry's base URL (endpoint `/search?q=...`).
pub const COMPANY_API_URL: &str = "OC12_COMPANY_API_URL";
/// The geographic API's base URL (endpoint `/communes?...`).
pub const GEO_API_URL: &str = "OC12_GEO_API_URL";
/// Set (to anything but `0`), the registries are never asked.
pub const OFFLINE: &str = "OC12_OFFLINE";

pub const DEFAULT_COMPANY_API_URL: &str = "https://recherche-entreprises.api.gouv.fr";
pub const DEFAULT_GEO_API_URL: &str = "https://geo.api.gouv.fr";

/// A département or a région: its code and name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    pub code: String,
    pub name: String,
}

impl Place {
    pub fn new(code: &str, name: &str) -> Place {
        Place {
            code: code.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// A commune, with the postcodes that serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    pub name: String,
    /// The INSEE code (`29053`, `2A004`).
    pub insee: String,
    pub postcodes: Vec<String>,
    pub department: Place,
    pub region: Place,
}

/// A company as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub siren: String,
    pub name: String,
    /// The APE code (`62.01Z`), when the registry gives one.
    pub activity: Option<String>,
    pub head_office: Option<Address>,
}

/// A head office's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Number, type and name of the street (`9 RUE DU COLONEL PIERRE AVIA`).
    pub street: String,
    pub complement: Option<String>,
    pub postcode: String,
    pub city: String,
    /// The INSEE code of the commune.
    pub insee: Option<String>,
    /// Abroad: the country's name.
    pub country: Option<String>,
}

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source<T> {
    Online(T),
    /// Not asked (`OC12_OFFLINE`: `None`) or not reached (why).
    Offline(Option<String>),
}

/// The registries as configured.
#[derive(Debug, Clone)]
pub struct Registry {
    company_url: String,
    geo_url: String,
    offline: bool,
}

impl Registry {
    pub fn new(config: &Config) -> Registry {
        let offline = config.get(OFFLINE).is_some_and(|v| {
            !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no")
        });
        Registry {
            company_url: config
                .get(COMPANY_API_URL)
                .unwrap_or(DEFAULT_COMPANY_API_URL)
                .to_owned(),
            geo_url: config
                .get(GEO_API_URL)
                .unwrap_or(DEFAULT_GEO_API_URL)
                .to_owned(),
            offline,
        }
    }

    /// The company registry's answer to `q` (a SIREN or name words).
    /// `Err` only when the registry refuses the question itself.
    pub fn companies(&self, q: &str, span: Span) -> Result<Source<Vec<Company>>> {
        if self.offline {
            return Ok(Source::Offline(None));
        }
        let who = self.company_registry();
        match http::get_json(
            &who,
            &self.company_url,
            "/search",
            &[("q", q), ("per_page", "10")],
        )
        .and_then(|v| api::companies(&v).map_err(http::Failure::Unreachable))
        {
            Ok(found) => Ok(Source::Online(found)),
            Err(http::Failure::Unreachable(why)) => Ok(Source::Offline(Some(why))),
            Err(http::Failure::Refused(why)) => Err(Error::at(
                ErrorKind::Invalid,
                span,
                format!("{who} refused the search: {why}"),
            )),
        }
    }

    /// The communes of a postcode, or named like `name`: from the
    /// geographic API, else (saying why on stderr) from the bundled data.
    pub fn communes(&self, by: &Query) -> Vec<Commune> {
        let (param, value) = match by {
            Query::Postcode(p) => ("codePostal", p.as_str()),
            Query::City(c) => ("nom", c.as_str()),
            _ => return Vec::new(),
        };
        if !self.offline {
            let who = self.geo_api();
            let fields = "nom,code,codesPostaux,departement,region";
            let mut query = vec![(param, value), ("fields", fields)];
            if param == "nom" {
                query.push(("boost", "population"));
            }
            match http::get_json(&who, &self.geo_url, "/communes", &query)
                .and_then(|v| api::communes(&v).map_err(http::Failure::Unreachable))
            {
                Ok(found) => return found,
                Err(http::Failure::Unreachable(why) | http::Failure::Refused(why)) => note(
                    &format!("{who} could not be reached ({why}); using the bundled communes data"),
                ),
            }
        }
        offline_communes(by)
    }

    fn company_registry(&self) -> String {
        format!("the company registry ({})", self.company_url)
    }

    fn geo_api(&self) -> String {
        format!("the geographic API ({})", self.geo_url)
    }
}

/// The bundled data's answer.
pub fn offline_communes(by: &Query) -> Vec<Commune> {
    let data = communes::all();
    match by {
        Query::Postcode(p) => data.by_postcode(p),
        Query::City(c) => data.search(c, 20),
        _ => Vec::new(),
    }
}

/// The bundled communes named exactly `name` (folded).
pub fn communes_named(name: &str) -> Vec<Commune> {
    communes::all().named(name)
}

/// The bundled commune of an INSEE code.
pub fn commune_by_insee(insee: &str) -> Option<Commune> {
    communes::all().by_insee(insee)
}

/// Every postcode of the bundled data, sorted.
pub fn postcodes() -> &'static [&'static str] {
    communes::all().postcodes()
}

/// Completion: postcodes starting with `prefix`.
pub fn postcodes_starting(prefix: &str, limit: usize) -> Vec<String> {
    communes::all()
        .postcodes_starting(prefix, limit)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Completion: commune names starting with `prefix` (ignoring case and
/// accents), largest first.
pub fn communes_starting(prefix: &str, limit: usize) -> Vec<String> {
    communes::all()
        .names_starting(prefix, limit)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// A note on stderr: what the shell did on its own, or could not do.
pub(crate) fn note(text: &str) {
    eprintln!("note: {text}");
}

/// `lookup`: the candidates, in the session's format.
pub fn lookup(config: &Config, lookup: &Lookup, out: &mut Printer<impl Write>) -> Result<Flow> {
    let registry = Registry::new(config);
    let (columns, rows) = match &lookup.query {
        Query::Siren(q) | Query::CompanyName(q) => {
            let companies = match registry.companies(q, lookup.span)? {
                Source::Online(found) => found
                    .into_iter()
                    .filter(|c| !matches!(&lookup.query, Query::Siren(s) if *s != c.siren))
                    .collect(),
                Source::Offline(why) => {
                    let why = offline_reason(&registry, why.as_deref());
                    if let Query::Siren(s) = &lookup.query {
                        note(&format!(
                            "{why}; offline, SIREN {s} is only checked: its check digit is right"
                        ));
                        Vec::new()
                    } else {
                        return Err(Error::not_found(format!(
                            "{why}, and companies are not known offline by name"
                        ))
                        .with_span(lookup.span));
                    }
                }
            };
            (
                company_columns(),
                companies.iter().map(company_row).collect(),
            )
        }
        Query::Postcode(_) | Query::City(_) => {
            let communes = registry.communes(&lookup.query);
            (
                commune_columns(),
                communes.iter().map(commune_row).collect::<Vec<_>>(),
            )
        }
    };
    let printed = (|| {
        out.begin(&columns)?;
        for row in &rows {
            out.row(row)?;
        }
        out.finish()
    })();
    match printed {
        Ok(()) => Ok(Flow::Continue),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Flow::Closed),
        Err(e) => Err(Error::internal(format!("cannot write the output: {e}"))),
    }
}

/// "the company registry (URL) could not be reached (why)", or was not asked.
fn offline_reason(registry: &Registry, why: Option<&str>) -> String {
    match why {
        Some(why) => format!(
            "{} could not be reached ({why})",
            registry.company_registry()
        ),
        None => format!("the company registry was not asked ({OFFLINE} is set)"),
    }
}

fn text_columns(names: &[&str]) -> Vec<Column> {
    names
        .iter()
        .map(|n| Column::new(*n, ColumnType::Text))
        .collect()
}

fn company_columns() -> Vec<Column> {
    text_columns(&[
        "siren",
        "name",
        "activity",
        "activity_label",
        "address",
        "postcode",
        "city",
    ])
}

fn commune_columns() -> Vec<Column> {
    text_columns(&["city", "insee", "postcodes", "department", "region"])
}

fn text(s: Option<&str>) -> Cell {
    s.filter(|s| !s.is_empty())
        .map_or(Cell::Null, |s| Cell::Text(s.to_owned()))
}

fn company_row(c: &Company) -> Vec<Cell> {
    let office = c.head_office.as_ref();
    vec![
        Cell::Text(c.siren.clone()),
        Cell::Text(c.name.clone()),
        text(c.activity.as_deref()),
        text(c.activity.as_deref().and_then(naf::label)),
        text(office.map(|o| o.street.as_str())),
        text(office.map(|o| o.postcode.as_str())),
        text(office.map(|o| o.city.as_str())),
    ]
}

fn commune_row(c: &Commune) -> Vec<Cell> {
    let department = format!("{} {}", c.department.code, c.department.name);
    vec![
        Cell::Text(c.name.clone()),
        Cell::Text(c.insee.clone()),
        Cell::Text(c.postcodes.join(", ")),
        text(Some(department.trim())),
        text(Some(&c.region.name)),
    ]
}
