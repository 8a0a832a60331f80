//! `add company siren=...` and `add location postcode=...`, completed and
//! checked against the registries between the analyzer and the planner.
//! What the user typed wins; what they did not type is filled (and said on
//! stderr); what contradicts the registry is refused where the registry
//! is sure (a postcode that is not the city's) and noted where a person
//! may know better (a company's trade name).

use std::io::IsTerminal;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result, Span};
use crate::language::analyzer::{Assigned, Checked, Data, NewLocation, Operand};
use crate::language::catalog::Entity;
use crate::language::suggest::suggest;
use crate::language::value::Param;

use super::{Commune, Company, Query, Registry, Source, fold, note, offline_reason};
use crate::language::naf;

/// Whether [`fill`] has anything to do with this statement.
pub fn fills(checked: &Checked) -> bool {
    matches!(checked, Checked::Data(Data::Add { entity, .. }) if matches!(entity.name, "company" | "location"))
}

/// Completes an `add company` or `add location` from the registries; every
/// other statement comes back as it is, without a question asked.
pub fn fill(checked: Checked, config: &Config) -> Result<Checked> {
    match checked {
        Checked::Data(Data::Add { entity, values }) if entity.name == "company" => {
            let values = company(entity, values, &Registry::new(config))?;
            Ok(Checked::Data(Data::Add { entity, values }))
        }
        Checked::Data(Data::Add { entity, values }) if entity.name == "location" => {
            let values = location(entity, values, &Registry::new(config))?;
            Ok(Checked::Data(Data::Add { entity, values }))
        }
        other => Ok(other),
    }
}

/// The text given to `field`, and where.
fn given<'a>(values: &'a [Assigned], field: &str) -> Option<(&'a str, Span)> {
    values.iter().find_map(|a| match &a.value {
        Operand::Param(Param::Text(t)) if a.field.name == field => Some((t.as_str(), a.span)),
        _ => None,
    })
}

fn named(values: &[Assigned], field: &str) -> bool {
    values.iter().any(|a| a.field.name == field)
}

fn push(values: &mut Vec<Assigned>, entity: &Entity, field: &str, value: Operand, span: Span) {
    let field = entity.field(field).expect("a field of the catalogue");
    values.push(Assigned { field, value, span });
}

fn text(s: &str) -> Operand {
    Operand::Param(Param::Text(s.to_owned()))
}

/// How a filled value reads in a statement: `name='LA POSTE'`.
fn shown(field: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-._@+".contains(c));
    if plain {
        format!("{field}={value}")
    } else {
        format!("{field}={}", crate::language::parser::quote(value))
    }
}

// ---------------------------------------------------------------------------
// Companies.

fn company(
    entity: &'static Entity,
    mut values: Vec<Assigned>,
    registry: &Registry,
) -> Result<Vec<Assigned>> {
    let Some((siren, span)) = given(&values, "siren").map(|(s, sp)| (s.to_owned(), sp)) else {
        return Ok(values);
    };
    let needed: Vec<&str> = ["name", "location"]
        .into_iter()
        .filter(|f| !named(&values, f))
        .collect();
    let found = match registry.companies(&siren, span)? {
        Source::Online(found) => found.into_iter().find(|c| c.siren == siren),
        Source::Offline(why) => {
            let why = offline_reason(registry, why.as_deref());
            if needed.is_empty() {
                note(&format!(
                    "{why}; offline, SIREN {siren} is only checked: its check digit is right"
                ));
                return Ok(values);
            }
            let message = format!(
                "add company needs {}: {why} to fill them from SIREN {siren}",
                needed.join(" and ")
            );
            return Err(Error::at(ErrorKind::Invalid, span, message));
        }
    };
    let Some(found) = found else {
        let message = format!(
            "no company with SIREN {siren} in {}",
            registry.company_registry()
        );
        return Err(Error::at(ErrorKind::NotFound, span, message));
    };
    let mut filled = Vec::new();
    compare_or_fill(
        entity,
        &mut values,
        &mut filled,
        "name",
        Some(&found.name),
        span,
    );
    let activity = found
        .activity
        .as_deref()
        .filter(|a| naf::label(a).is_some());
    compare_or_fill(entity, &mut values, &mut filled, "activity", activity, span);
    if !named(&values, "location") {
        let place = head_office(&found).ok_or_else(|| {
            Error::at(
                ErrorKind::Invalid,
                span,
                format!(
                    "the registry gives no French head-office address for SIREN {siren}: give location="
                ),
            )
        })?;
        filled.push(format!(
            "location=(the location at {}, {} {}, added if there is none)",
            place.address, place.postcode, place.city
        ));
        push(
            &mut values,
            entity,
            "location",
            Operand::NewLocation(place),
            span,
        );
    }
    if !filled.is_empty() {
        note(&format!("from the company registry: {}", filled.join(" ")));
    }
    Ok(values)
}

/// Fills `field` with the registry's value when it was not typed; when it
/// was and differs, keeps it and says so.
fn compare_or_fill(
    entity: &Entity,
    values: &mut Vec<Assigned>,
    filled: &mut Vec<String>,
    field: &str,
    registry: Option<&str>,
    span: Span,
) {
    let Some(theirs) = registry else {
        return;
    };
    match given(values, field) {
        Some((ours, _)) if fold(ours) != fold(theirs) => note(&format!(
            "the registry's {field} is {}; keeping {}",
            shown(field, theirs),
            shown(field, ours)
        )),
        Some(_) => {}
        None if named(values, field) => {}
        None => {
            filled.push(shown(field, theirs));
            push(values, entity, field, text(theirs), span);
        }
    }
}

/// The head office as a location: its city spelt as the communes data
/// spells it (the registry writes `PARIS 15`), its région added.
fn head_office(company: &Company) -> Option<NewLocation> {
    let office = company.head_office.as_ref()?;
    if office.country.is_some() || office.postcode.len() != 5 {
        return None;
    }
    let communes = super::offline_communes(&Query::Postcode(office.postcode.clone()));
    let commune = office
        .insee
        .as_deref()
        .and_then(|code| communes.iter().find(|c| c.insee == code))
        .or_else(|| {
            communes
                .iter()
                .find(|c| fold(&c.name) == fold(&office.city))
        })
        .or(if communes.len() == 1 {
            communes.first()
        } else {
            None
        });
    Some(NewLocation {
        address: office.street.clone(),
        complement: office.complement.clone(),
        postcode: office.postcode.clone(),
        city: commune.map_or_else(|| office.city.clone(), |c| c.name.clone()),
        region: commune.map(|c| c.region.name.clone()),
    })
}

// ---------------------------------------------------------------------------
// Locations.

fn location(
    entity: &'static Entity,
    mut values: Vec<Assigned>,
    registry: &Registry,
) -> Result<Vec<Assigned>> {
    if given(&values, "country").is_some_and(|(c, _)| fold(c) != "france") {
        return Ok(values);
    }
    let Some((postcode, postcode_span)) =
        given(&values, "postcode").map(|(p, s)| (p.trim().to_owned(), s))
    else {
        return Ok(values);
    };
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!("`{postcode}` is not a French postcode: it has 5 digits");
        return Err(Error::at(ErrorKind::Invalid, postcode_span, message));
    }
    let communes = registry.communes(&Query::Postcode(postcode.clone()));
    if communes.is_empty() {
        let message = format!("no French commune has the postcode {postcode}");
        return Err(Error::at(ErrorKind::Invalid, postcode_span, message));
    }
    let commune = match given(&values, "city") {
        Some((city, city_span)) => match communes.iter().find(|c| fold(&c.name) == fold(city)) {
            Some(c) => c.clone(),
            None => {
                return Err(not_the_city(
                    &postcode,
                    postcode_span,
                    city,
                    city_span,
                    &communes,
                ));
            }
        },
        None if named(&values, "city") => return Ok(values),
        None => match communes.as_slice() {
            [only] => only.clone(),
            several => {
                let names: Vec<&str> = several.iter().map(|c| c.name.as_str()).collect();
                let message = format!(
                    "postcode {postcode} serves {} communes ({}): give city=",
                    names.len(),
                    names.join(", ")
                );
                return Err(Error::at(ErrorKind::Invalid, postcode_span, message));
            }
        },
    };
    if let Some((region, region_span)) = given(&values, "region")
        && !commune.region.name.is_empty()
        && fold(region) != fold(&commune.region.name)
    {
        let message = format!(
            "region `{region}` is not postcode {postcode}'s: {} is in {}",
            commune.name, commune.region.name
        );
        return Err(Error::at(ErrorKind::Invalid, region_span, message));
    }
    let mut filled = Vec::new();
    for (field, value) in [
        ("city", commune.name.as_str()),
        ("region", commune.region.name.as_str()),
        ("country", "France"),
    ] {
        if !named(&values, field) && !value.is_empty() {
            filled.push(shown(field, value));
            push(&mut values, entity, field, text(value), postcode_span);
        }
    }
    // The bundled data is the official list: what it fills is said to a
    // person at a terminal, not repeated for every line of a script.
    if !filled.is_empty() && std::io::stderr().is_terminal() {
        note(&format!("from postcode {postcode}: {}", filled.join(" ")));
    }
    Ok(values)
}

/// `postcode 29200 does not belong to Le Faou: 29200 is Brest; Le Faou is 29590`.
fn not_the_city(
    postcode: &str,
    postcode_span: Span,
    city: &str,
    city_span: Span,
    communes: &[Commune],
) -> Error {
    let names: Vec<&str> = communes.iter().map(|c| c.name.as_str()).collect();
    let mut message = format!(
        "postcode {postcode} does not belong to {city}: {postcode} is {}",
        names.join(", ")
    );
    let elsewhere = super::communes_named(city);
    if !elsewhere.is_empty() {
        let mut theirs: Vec<&str> = elsewhere
            .iter()
            .flat_map(|c| c.postcodes.iter().map(String::as_str))
            .collect();
        theirs.sort_unstable();
        theirs.dedup();
        message += &format!("; {city} is {}", theirs.join(", "));
    }
    let error = Error::at(ErrorKind::Invalid, postcode_span.to(city_span), message);
    match suggest(city, names.iter().copied()) {
        Some(s) if elsewhere.is_empty() => error.with_suggestion(s),
        _ => error,
    }
}
