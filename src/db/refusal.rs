//! The database's refusals in the user's words. PostgreSQL names the rule a
//! row broke (`event_end_check`, `client_id_key`, `event_support_fkey`);
//! the user named a field and a value. Every constraint of `sql/` has its
//! sentence here, naming the field, the value and what would be accepted;
//! no constraint name and no SQL text reaches the user
//! (`tests/all/constraints.rs` breaks every one of them).

use crate::language::value::Param;

/// A constraint broken by a write, and what the user gave.
pub struct Broken<'a> {
    /// The constraint's name.
    pub constraint: &'a str,
    /// The entity written (`event`).
    pub entity: &'a str,
    /// The field the constraint is about, as the user named it (`end`).
    pub field: Option<&'a str>,
    /// The value given for it, as text, when the statement gave one.
    pub value: Option<String>,
    /// The id of the record written, when it exists already.
    pub record: Option<&'a str>,
}

/// The sentence for a broken constraint; `None` for a constraint the shell
/// does not know (a newer server), which the caller reports without its
/// name.
pub fn explain(b: &Broken<'_>) -> Option<String> {
    let value = b.value.as_deref();
    let given = |what: &str| match value {
        Some(v) => format!("{what} `{v}`"),
        None => what.to_owned(),
    };
    let c = b.constraint;
    let entity = b.entity;
    Some(match c {
        // Ids.
        "collaborator_id_check" => format!(
            "{} is not a registration number: one or two lower-case letters and 9 digits, \
             like ab123456789",
            given("id")
        ),
        _ if c.ends_with("_id_check") => format!(
            "{} is not a valid {entity} id: letters, digits, `_`, `.` and `-`, starting with a \
             letter or a digit, at most 64",
            given("id")
        ),
        _ if c.ends_with("_id_key") => match value.or(b.record) {
            Some(v) => format!("{entity} {v} already exists"),
            None => format!("that {entity} already exists"),
        },
        "collaborator_email_key" => format!(
            "a collaborator with the email {} already exists (emails are compared without case)",
            value.unwrap_or("given")
        ),
        "company_siren_key" => format!(
            "a company with the SIREN {} already exists",
            value.unwrap_or("given")
        ),
        // Text that must say something.
        "department_name_check"
        | "location_address_check"
        | "location_city_check"
        | "location_country_check"
        | "location_postcode_check"
        | "company_name_check"
        | "client_name_check"
        | "event_title_check" => {
            format!("`{}` cannot be empty", b.field.unwrap_or("the value"))
        }
        "collaborator_name_check" => {
            "`name` cannot be empty, and is at most 200 characters".to_owned()
        }
        "event_notes_check" => format!(
            "`notes` are at most 2500 characters{}",
            value.map_or(String::new(), |v| format!(
                " (these are {})",
                v.chars().count()
            ))
        ),
        // Shapes.
        "collaborator_email_check" | "client_email_check" => format!(
            "{} is not an email address (like name@example.com, at most 254 characters)",
            given("email")
        ),
        "client_phone_check" => format!(
            "{} is not a phone number: digits, spaces, +, ., -, 8 to 15 digits",
            given("phone")
        ),
        "location_postcode_france" => format!(
            "{} is not a French postcode: in France a postcode is 5 digits",
            given("postcode")
        ),
        "company_siren_check" => format!(
            "{} is not a SIREN: 9 digits whose check digit is right (Luhn)",
            given("siren")
        ),
        "company_activity_check" => format!(
            "{} is not an APE code: 2 digits, a dot, 2 digits and a capital letter, like 62.01Z",
            given("activity")
        ),
        // Choices.
        "department_id_check" | "collaborator_department_fkey" => format!(
            "no department {}: commercial, gestion, support",
            value.map_or("given".to_owned(), |v| format!("`{v}`"))
        ),
        "collaborator_role_check" => format!(
            "no role {}: manager, employee",
            value.map_or("given".to_owned(), |v| format!("`{v}`"))
        ),
        "contract_status_check" => format!(
            "no status {}: unsigned, signed, canceled",
            value.map_or("given".to_owned(), |v| format!("`{v}`"))
        ),
        // Amounts and counts.
        "contract_total_check" => format!("{} must be more than 0", given("total")),
        "contract_remain_check" => format!(
            "{} must be at least 0 and at most the contract's total",
            given("remain")
        ),
        "event_attendees_check" => format!("{} cannot be below 0", given("attendees")),
        "event_end_check" => match (b.field, value) {
            (Some("start"), Some(v)) => {
                format!("the start `{v}` must not be after the event's end")
            }
            (_, Some(v)) if b.field == Some("end") => {
                format!("the end `{v}` must not be before the event's start")
            }
            _ => "an event's end must not be before its start".to_owned(),
        },
        // References to records that do not exist.
        "company_location_fkey" | "event_location_fkey" => no_such("location", b),
        "client_company_fkey" => no_such("company", b),
        "client_commercial_fkey" => no_such("collaborator", b),
        "event_support_fkey" => no_such("collaborator", b),
        "contract_client_fkey" => no_such("client", b),
        "event_contract_fkey" => no_such("contract", b),
        // Rows of the server's own that no statement writes: a refusal
        // there is the shell's bug, reported as such.
        "collaborator_password_collaborator_fkey"
        | "collaborator_password_params_check"
        | "collaborator_password_salt_check"
        | "collaborator_password_verifier_check"
        | "audit_op_check"
        | "server_key_key_check"
        | "server_key_one_check"
        | "session_role_key"
        | "department_id_key" => format!("the server refused a {entity} it made itself"),
        _ => return None,
    })
}

fn no_such(what: &str, b: &Broken<'_>) -> String {
    let field = b.field.unwrap_or(what);
    match b.value.as_deref() {
        Some(v) => format!("{field} {v}: no such {what}"),
        None => format!("{field}: no such {what}"),
    }
}

/// A value as the user would have typed it.
pub fn shown(param: &Param) -> Option<String> {
    Some(match param {
        Param::Null => return None,
        Param::Text(s) => s.clone(),
        Param::Integer(i) => i.to_string(),
        Param::Money(d) => d.to_string(),
        Param::Date(d) => d.format("%Y-%m-%d").to_string(),
        Param::DateTime(t) => t.format("%Y-%m-%d %H:%M").to_string(),
    })
}

/// A delete that other records still need (a foreign key seen from the
/// other side): `location p22240 is still used by companies`.
pub fn still_used(entity: &str, record: Option<&str>, by_plural: &str) -> String {
    match record {
        Some(id) => {
            format!("{entity} {id} is still used by {by_plural}; delete or reassign them first")
        }
        None => format!("the {entity} is still used by {by_plural}; delete or reassign them first"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken<'a>(constraint: &'a str, field: Option<&'a str>, value: Option<&str>) -> Broken<'a> {
        Broken {
            constraint,
            entity: "event",
            field,
            value: value.map(str::to_owned),
            record: Some("geg2021"),
        }
    }

    #[test]
    fn sentences_name_the_field_the_value_and_what_is_accepted() {
        assert_eq!(
            explain(&broken(
                "event_support_fkey",
                Some("support"),
                Some("zz000000000")
            ))
            .unwrap(),
            "support zz000000000: no such collaborator"
        );
        assert_eq!(
            explain(&broken(
                "event_end_check",
                Some("end"),
                Some("2021-07-25 10:00")
            ))
            .unwrap(),
            "the end `2021-07-25 10:00` must not be before the event's start"
        );
        let mut b = broken("client_id_key", Some("id"), Some("mkc111"));
        b.entity = "client";
        assert_eq!(explain(&b).unwrap(), "client mkc111 already exists");
        assert_eq!(explain(&broken("a_new_rule", None, None)), None);
    }
}
