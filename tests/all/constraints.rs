//! Every constraint of `sql/`, broken on purpose: the user reads what was
//! wrong, in their words — the field, the value, what would be accepted —
//! and never a constraint name nor PostgreSQL's text.

use crate::support;

use std::collections::BTreeSet;

use support::TestDb;

const GESTION: &str = "ac123456789";
const COMMERCIAL: &str = "aa123456789";

/// (constraint, who, statement, the first line of stderr).
const BROKEN: &[(&str, &str, &str, &str)] = &[
    (
        "collaborator_id_check",
        GESTION,
        "add collaborator id=zz1 name=X email=x@y.fr department=support",
        "error[invalid]: id `zz1` is not a registration number: one or two lower-case letters and 9 digits, like ab123456789",
    ),
    (
        "collaborator_id_key",
        GESTION,
        "add collaborator id=aa123456789 name=X email=x@y.fr department=support",
        "error[conflict]: collaborator aa123456789 already exists",
    ),
    (
        "collaborator_email_key",
        GESTION,
        "add collaborator name=X email=Donald.Duck@epic-events.example department=support",
        "error[conflict]: a collaborator with the email Donald.Duck@epic-events.example already exists (emails are compared without case)",
    ),
    (
        "collaborator_email_check",
        GESTION,
        "add collaborator name=X email=bad department=support",
        "error[invalid]: `bad` is not an email address",
    ),
    (
        "collaborator_name_check",
        GESTION,
        "add collaborator name=' ' email=x@y.fr department=support",
        "error[invalid]: `name` cannot be empty",
    ),
    (
        "collaborator_role_check",
        GESTION,
        "add collaborator name=X email=x@y.fr department=support role=boss",
        "error[unknown]: no role `boss`: manager, employee",
    ),
    (
        "collaborator_department_fkey",
        GESTION,
        "set collaborator ad123456789 department=nope",
        "error[unknown]: no department `nope`: commercial, gestion, support",
    ),
    (
        "location_id_check",
        GESTION,
        "add location id='bad id' address=a postcode=22240 city=Fréhel country=France",
        "error[invalid]: id `bad id` is not a valid location id: letters, digits, `_`, `.` and `-`, starting with a letter or a digit, at most 64",
    ),
    (
        "location_id_key",
        GESTION,
        "add location id=p22240 address=a postcode=22240 city=Fréhel country=France",
        "error[conflict]: location p22240 already exists",
    ),
    (
        "location_address_check",
        GESTION,
        "set location p22240 address=' '",
        "error[invalid]: `address` cannot be empty",
    ),
    (
        "location_city_check",
        GESTION,
        "set location p22240 city=' '",
        "error[invalid]: `city` cannot be empty",
    ),
    (
        "location_country_check",
        GESTION,
        "set location p22240 country=' '",
        "error[invalid]: `country` cannot be empty",
    ),
    (
        "location_postcode_check",
        GESTION,
        "set location p22240 postcode=' '",
        "error[invalid]: `postcode` cannot be empty",
    ),
    (
        "location_postcode_france",
        GESTION,
        "add location address=a postcode=2224 city=c country=France",
        "error[invalid]: `2224` is not a French postcode: it has 5 digits",
    ),
    (
        "company_id_check",
        GESTION,
        "add company id='a b' name=X siren=999222888 location=p22240",
        "error[invalid]: id `a b` is not a valid company id: letters, digits, `_`, `.` and `-`, starting with a letter or a digit, at most 64",
    ),
    (
        "company_id_key",
        GESTION,
        "add company id=SCOU3541 name=X siren=732829320 location=p22240",
        "error[conflict]: company SCOU3541 already exists",
    ),
    (
        "company_name_check",
        GESTION,
        "set company SCOU3541 name=' '",
        "error[invalid]: `name` cannot be empty",
    ),
    (
        "company_siren_check",
        GESTION,
        "add company name=X siren=123456789 location=p22240",
        "error[invalid]: `123456789` is not a SIREN: its check digit is wrong",
    ),
    (
        "company_siren_key",
        GESTION,
        "add company name=X siren=999222888 location=p22240",
        "error[conflict]: a company with the SIREN 999222888 already exists",
    ),
    (
        "company_activity_check",
        GESTION,
        "add company name=X siren=732829320 activity=bad location=p22240",
        "error[unknown]: `bad` is not an APE code of the NAF (e.g. 62.01Z)",
    ),
    (
        "company_location_fkey",
        GESTION,
        "set company SCOU3541 location=nowhere",
        "error[not-found]: location nowhere: no such location",
    ),
    (
        "client_id_check",
        COMMERCIAL,
        "add client id='a b' name=x email=x@y.fr",
        "error[invalid]: id `a b` is not a valid client id: letters, digits, `_`, `.` and `-`, starting with a letter or a digit, at most 64",
    ),
    (
        "client_id_key",
        COMMERCIAL,
        "add client id=mkc111 name=x email=x@y.fr",
        "error[conflict]: client mkc111 already exists",
    ),
    (
        "client_name_check",
        COMMERCIAL,
        "add client name=' ' email=x@y.fr",
        "error[invalid]: `name` cannot be empty",
    ),
    (
        "client_email_check",
        GESTION,
        "set client mkc111 email=bad",
        "error[invalid]: `bad` is not an email address",
    ),
    (
        "client_phone_check",
        GESTION,
        "set client mkc111 phone=12",
        "error[invalid]: `12` is not a phone number: digits, spaces, +, ., -, 8 to 15 digits",
    ),
    (
        "client_company_fkey",
        GESTION,
        "set client mkc111 company=nowhere",
        "error[not-found]: company nowhere: no such company",
    ),
    (
        "client_commercial_fkey",
        GESTION,
        "set client mkc111 commercial=zz000000000",
        "error[not-found]: commercial zz000000000: no such collaborator",
    ),
    (
        "contract_id_check",
        GESTION,
        "add contract id='a b' client=mkc111 total=10",
        "error[invalid]: id `a b` is not a valid contract id: letters, digits, `_`, `.` and `-`, starting with a letter or a digit, at most 64",
    ),
    (
        "contract_id_key",
        GESTION,
        "add contract id=ff555 client=mkc111 total=10",
        "error[conflict]: contract ff555 already exists",
    ),
    (
        "contract_total_check",
        GESTION,
        "add contract client=mkc111 total=0",
        "error[invalid]: total `0` must be more than 0",
    ),
    (
        "contract_remain_check",
        GESTION,
        "add contract client=mkc111 total=10 remain=20",
        "error[invalid]: remain `20` must be at least 0 and at most the contract's total",
    ),
    (
        "contract_status_check",
        GESTION,
        "set contract kc555 status=done",
        "error[unknown]: no status `done`: unsigned, signed, canceled",
    ),
    (
        "contract_client_fkey",
        GESTION,
        "add contract client=nobody total=10",
        "error[not-found]: client nobody: no such client",
    ),
    (
        "event_id_check",
        COMMERCIAL,
        "add event id='a b' title=x contract=av123 start='2024-01-01 10:00' end='2024-01-01 11:00'",
        "error[invalid]: id `a b` is not a valid event id: letters, digits, `_`, `.` and `-`, starting with a letter or a digit, at most 64",
    ),
    (
        "event_id_key",
        COMMERCIAL,
        "add event id=geg2021 title=x contract=av123 start='2024-01-01 10:00' end='2024-01-01 11:00'",
        "error[conflict]: event geg2021 already exists",
    ),
    (
        "event_title_check",
        GESTION,
        "set event geg2021 title=' '",
        "error[invalid]: `title` cannot be empty",
    ),
    (
        "event_end_check",
        GESTION,
        "set event geg2021 end='2021-07-25 10:00'",
        "error[invalid]: the end `2021-07-25 10:00` must not be before the event's start",
    ),
    (
        "event_attendees_check",
        GESTION,
        "set event geg2021 attendees=-1",
        "error[invalid]: a count cannot be below 0",
    ),
    (
        "event_notes_check",
        GESTION,
        "set event geg2021 notes='{2501 characters}'",
        "error[invalid]: `notes` are at most 2500 characters (these are 2501)",
    ),
    (
        "event_support_fkey",
        GESTION,
        "set event geg2021 support=zz000000000",
        "error[not-found]: support zz000000000: no such collaborator",
    ),
    (
        "event_location_fkey",
        GESTION,
        "set event geg2021 location=nowhere",
        "error[not-found]: location nowhere: no such location",
    ),
    (
        "event_contract_fkey",
        GESTION,
        "set event geg2021 contract=nowhere",
        "error[not-found]: contract nowhere: no such contract",
    ),
];

/// Constraints no statement can break: the departments are read only, and
/// the server's own tables are written by its functions only. Their
/// sentences are still checked, through the library.
const INTERNAL: &[&str] = &[
    "department_id_check",
    "department_id_key",
    "department_name_check",
    "collaborator_password_collaborator_fkey",
    "collaborator_password_params_check",
    "collaborator_password_salt_check",
    "collaborator_password_verifier_check",
    "audit_op_check",
    "server_key_key_check",
    "server_key_one_check",
    "session_role_key",
];

/// Deletes that other records still need (the foreign keys, seen from the
/// other side).
const STILL_USED: &[(&str, &str)] = &[
    (
        "delete location p22240",
        "error[conflict]: location p22240 is still used by companies; delete or reassign them first",
    ),
    (
        "delete client mkc111",
        "error[conflict]: client mkc111 is still used by contracts; delete or reassign them first",
    ),
    (
        "delete contract ff555",
        "error[conflict]: contract ff555 is still used by events; delete or reassign them first",
    ),
];

#[test]
fn every_constraint_of_the_schema_is_covered_here() {
    let db = TestDb::demo();
    let in_schema: BTreeSet<String> = db
        .rows(
            "SELECT conname::text FROM pg_constraint \
             WHERE connamespace = 'crm'::regnamespace AND contype <> 'p' \
             UNION \
             SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE i.relnamespace = 'crm'::regnamespace AND x.indisunique AND NOT x.indisprimary \
               AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        )
        .into_iter()
        .collect();
    let covered: BTreeSet<String> = BROKEN
        .iter()
        .map(|(c, ..)| c.to_string())
        .chain(INTERNAL.iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(
        in_schema, covered,
        "a constraint was added or removed: give it a sentence in src/db/refusal.rs and a line here"
    );
}

#[test]
fn every_broken_constraint_reads_in_the_users_words() {
    let db = TestDb::demo();
    let gestion = db.user(GESTION);
    let commercial = db.user(COMMERCIAL);
    for (constraint, who, statement, expected) in BROKEN {
        let user = if *who == GESTION {
            &gestion
        } else {
            &commercial
        };
        let kind = expected
            .strip_prefix("error[")
            .and_then(|r| r.split_once(']'))
            .map(|(k, _)| k)
            .unwrap();
        let statement = statement.replace("{2501 characters}", &"n".repeat(2501));
        let stderr = user.fails(&statement, kind, 1, "");
        // (Notes, such as the registry's, may come before the error.)
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error["))
            .unwrap_or_default();
        assert_eq!(first, *expected, "{constraint}: {statement}");
        for leak in [*constraint, "constraint", "violates", "relation", "crm."] {
            assert!(!stderr.contains(leak), "{constraint}: `{leak}` in {stderr}");
        }
        // The carets point at what the user typed.
        assert!(stderr.contains('^'), "{constraint}: no carets in {stderr}");
    }
    for (statement, expected) in STILL_USED {
        let stderr = gestion.fails(statement, "conflict", 1, "");
        assert_eq!(stderr.lines().next().unwrap_or_default(), *expected);
        assert!(
            !stderr.contains("fkey") && !stderr.contains("violates"),
            "{stderr}"
        );
    }
}

#[test]
fn constraints_no_statement_can_break_still_have_sentences() {
    for constraint in INTERNAL {
        let sentence = oc12::db::refusal::explain(&oc12::db::refusal::Broken {
            constraint,
            entity: "department",
            field: None,
            value: None,
            record: None,
        })
        .unwrap_or_else(|| panic!("{constraint} has no sentence"));
        assert!(!sentence.contains(constraint), "{sentence}");
    }
}
