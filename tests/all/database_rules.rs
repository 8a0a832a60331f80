//! The rules of DATA.md and the matrix of SECURITY.md, enforced by
//! PostgreSQL itself: these tests talk SQL directly, without the shell.

use crate::support;

use support::{TestDb, as_collaborator};

/// Runs `sql` as the superuser (no grants or policies in the way) and
/// returns the SQLSTATE of the error, if any. Only constraints and triggers
/// can refuse it.
fn admin_error(db: &TestDb, sql: &str) -> Option<String> {
    let mut admin = db.admin();
    admin.batch_execute(sql).err().map(|e| {
        e.code()
            .map_or_else(|| e.to_string(), |c| c.code().to_owned())
    })
}

#[track_caller]
fn refused(db: &TestDb, sql: &str, sqlstate: &str) {
    assert_eq!(admin_error(db, sql).as_deref(), Some(sqlstate), "{sql}");
}

#[test]
fn every_data_rule_is_a_database_rule() {
    let db = TestDb::demo();
    let check = "23514";
    let fk = "23503";
    let unique = "23505";
    let client = |cols: &str, vals: &str| {
        format!(
            "INSERT INTO crm.client (id, commercial, {cols}) VALUES ('x1', 'ab123456789', {vals})"
        )
    };
    // Names, emails, phones.
    refused(&db, &client("name, email", "'   ', 'a@b.fr'"), check);
    refused(&db, &client("name, email", "'Ann', 'not-an-email'"), check);
    refused(
        &db,
        &client("name, email, phone", "'Ann', 'a@b.fr', '12-34'"),
        check,
    );
    refused(
        &db,
        &client(
            "name, email, phone",
            "'Ann', 'a@b.fr', '+33 6 12 34 56 78 90 12 34'",
        ),
        check,
    );
    refused(
        &db,
        &client("name, email, phone", "'Ann', 'a@b.fr', '06 12 ab 56 78'"),
        check,
    );
    // A client's commercial must be in the commercial department.
    assert!(admin_error(
        &db,
        "INSERT INTO crm.client (id, name, email, commercial) VALUES ('x2', 'Ann', 'a@b.fr', 'ae123456789')"
    )
    .is_some());
    // Collaborators: registration format, unique email.
    refused(
        &db,
        "INSERT INTO crm.collaborator (id, name, email, department) VALUES ('abc12345678', 'X', 'x@y.fr', 'support')",
        check,
    );
    refused(
        &db,
        "INSERT INTO crm.collaborator (id, name, email, department) VALUES ('zz123456789', 'X', 'donald.duck@epic-events.example', 'support')",
        unique,
    );
    // Companies: SIREN with a Luhn checksum, unique; APE code shape.
    refused(
        &db,
        "INSERT INTO crm.company (id, name, siren, location) VALUES ('c1', 'X', '999222889', 'p22240')",
        check,
    );
    refused(
        &db,
        "INSERT INTO crm.company (id, name, siren, location) VALUES ('c1', 'X', '99922288', 'p22240')",
        check,
    );
    refused(
        &db,
        "INSERT INTO crm.company (id, name, siren, location) VALUES ('c1', 'X', '999222888', 'p22240')",
        unique,
    );
    refused(
        &db,
        "INSERT INTO crm.company (id, name, siren, activity, location) VALUES ('c1', 'X', '732829320', '6201Z', 'p22240')",
        check,
    );
    assert_eq!(
        admin_error(
            &db,
            "INSERT INTO crm.company (id, name, siren, activity, location) VALUES ('c1', 'X', '732829320', '62.01Z', 'p22240')"
        ),
        None,
        "a valid SIREN and APE code are accepted"
    );
    // Locations: French postcodes have five digits; the city is not empty.
    refused(
        &db,
        "INSERT INTO crm.location (id, address, postcode, city) VALUES ('l1', '1 rue', '7501', 'Paris')",
        check,
    );
    refused(
        &db,
        "INSERT INTO crm.location (id, address, postcode, city) VALUES ('l1', '1 rue', '75011', ' ')",
        check,
    );
    // Contracts: total > 0, 0 <= remain <= total, known status.
    refused(
        &db,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k1', 'mkc111', 0, 0)",
        check,
    );
    refused(
        &db,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k1', 'mkc111', 100, 100.01)",
        check,
    );
    refused(
        &db,
        "UPDATE crm.contract SET remain = -1 WHERE id = 'ff555'",
        check,
    );
    refused(
        &db,
        "UPDATE crm.contract SET status = 'lost' WHERE id = 'kc555'",
        check,
    );
    // A contract with events cannot go back to unsigned or canceled.
    assert!(
        admin_error(
            &db,
            "UPDATE crm.contract SET status = 'unsigned' WHERE id = 'ff555'"
        )
        .is_some()
    );
    assert!(
        admin_error(
            &db,
            "UPDATE crm.contract SET status = 'canceled' WHERE id = 'zz123'"
        )
        .is_some()
    );
    // Events: a signed contract, a support collaborator, end after start,
    // attendees >= 0, notes up to 2500 characters, a title.
    let event = |set: &str| format!("UPDATE crm.event SET {set} WHERE id = 'geg2021'");
    assert!(
        admin_error(&db, &event("contract = 'kc555'")).is_some(),
        "unsigned contract"
    );
    assert!(
        admin_error(
            &db,
            "INSERT INTO crm.event (id, title, contract, start_at, end_at) VALUES ('e1', 'T', 'xx55555', now(), now())"
        )
        .is_some(),
        "event on an unsigned contract"
    );
    assert!(
        admin_error(&db, &event("support = 'aa123456789'")).is_some(),
        "support from commercial"
    );
    refused(
        &db,
        &event("end_at = start_at - interval '1 minute'"),
        check,
    );
    refused(&db, &event("attendees = -1"), check);
    refused(&db, &event("notes = repeat('n', 2501)"), check);
    refused(&db, &event("title = ''"), check);
    assert_eq!(admin_error(&db, &event("notes = repeat('n', 2500)")), None);
    // References restrict deletes.
    refused(&db, "DELETE FROM crm.client WHERE id = 'mkc111'", fk);
    refused(&db, "DELETE FROM crm.contract WHERE id = 'ff555'", fk);
    refused(&db, "DELETE FROM crm.location WHERE id = 'llb44430'", fk);
    refused(
        &db,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k2', 'nobody', 1, 1)",
        fk,
    );
}

#[test]
fn signing_sets_the_signed_time_and_updates_touch_the_client() {
    let db = TestDb::demo();
    let mut admin = db.admin();
    admin
        .batch_execute(
            "UPDATE crm.contract SET status = 'signed' WHERE id = 'kc555';
             UPDATE crm.client SET job = 'CTO' WHERE id = 'axs40';",
        )
        .unwrap();
    let signed: bool = admin
        .query_one(
            "SELECT signed_at IS NOT NULL FROM crm.contract WHERE id = 'kc555'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(signed);
    let fresh: bool = admin
        .query_one(
            "SELECT updated > now() - interval '1 minute' AND updated > created FROM crm.client WHERE id = 'axs40'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(fresh, "updated follows every change");
}

/// What a statement did: rows affected, or refused by PostgreSQL.
#[derive(Debug, PartialEq)]
enum Did {
    Rows(u64),
    Refused,
}

fn try_as(db: &TestDb, registration: &str, sql: &str) -> Did {
    match as_collaborator(db, registration, sql) {
        Ok(n) => Did::Rows(n),
        Err(e) => {
            let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
            assert!(
                code == "42501" || code.starts_with("23") || code == "P0001",
                "{registration}: {sql}: unexpected error {e}"
            );
            Did::Refused
        }
    }
}

#[track_caller]
fn allowed(db: &TestDb, registration: &str, sql: &str) {
    assert_eq!(
        try_as(db, registration, sql),
        Did::Rows(1),
        "{registration} may: {sql}"
    );
}

#[track_caller]
fn forbidden(db: &TestDb, registration: &str, sql: &str) {
    let did = try_as(db, registration, sql);
    assert!(
        matches!(did, Did::Refused | Did::Rows(0)),
        "{registration} may not: {sql} ({did:?})"
    );
}

const COMMERCIAL: &str = "ab123456789"; // holds mkc111, axs40, FJONIC35, VDINPR25
const OTHER_COMMERCIAL: &str = "aa123456789"; // holds SRODAP37, DBLATT85
const GESTION: &str = "ad123456789";
const SUPPORT: &str = "af123456789"; // supports geg2022, zawx235
const OTHER_SUPPORT: &str = "ag123456789";

#[test]
fn the_matrix_for_clients_companies_and_locations() {
    let db = TestDb::demo();
    // Clients.
    allowed(
        &db,
        COMMERCIAL,
        "INSERT INTO crm.client (id, name, email) VALUES ('n1', 'New', 'n@x.fr')",
    );
    let owner: String = db
        .admin()
        .query_one("SELECT commercial FROM crm.client WHERE id = 'n1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(owner, COMMERCIAL, "a new client belongs to who added it");
    forbidden(
        &db,
        COMMERCIAL,
        "INSERT INTO crm.client (id, name, email, commercial) VALUES ('n2', 'N', 'n@x.fr', 'aa123456789')",
    );
    forbidden(
        &db,
        GESTION,
        "INSERT INTO crm.client (id, name, email) VALUES ('n3', 'N', 'n@x.fr')",
    );
    forbidden(
        &db,
        SUPPORT,
        "INSERT INTO crm.client (id, name, email) VALUES ('n4', 'N', 'n@x.fr')",
    );
    allowed(
        &db,
        COMMERCIAL,
        "UPDATE crm.client SET phone = '0611223344' WHERE id = 'mkc111'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "UPDATE crm.client SET phone = '0611223344' WHERE id = 'SRODAP37'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "UPDATE crm.client SET commercial = 'ab123456789' WHERE id = 'SRODAP37'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "UPDATE crm.client SET commercial = 'aa123456789' WHERE id = 'mkc111'",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.client SET job = 'x' WHERE id = 'mkc111'",
    );
    allowed(
        &db,
        GESTION,
        "UPDATE crm.client SET commercial = 'aa123456789' WHERE id = 'axs40'",
    );
    allowed(
        &db,
        GESTION,
        "UPDATE crm.client SET commercial = NULL WHERE id = 'axs40'",
    );
    forbidden(&db, COMMERCIAL, "DELETE FROM crm.client WHERE id = 'n1'");
    forbidden(&db, SUPPORT, "DELETE FROM crm.client WHERE id = 'n1'");
    allowed(&db, GESTION, "DELETE FROM crm.client WHERE id = 'n1'");
    // Companies and locations.
    for who in [COMMERCIAL, GESTION] {
        let id = format!("l{who}");
        allowed(
            &db,
            who,
            &format!(
                "INSERT INTO crm.location (id, address, postcode, city) VALUES ('{id}', '1 rue', '75011', 'Paris')"
            ),
        );
        allowed(
            &db,
            who,
            &format!("UPDATE crm.location SET region = 'IdF' WHERE id = '{id}'"),
        );
        allowed(
            &db,
            who,
            "UPDATE crm.company SET name = 'Cool Startup' WHERE id = 'CSLLC12345'",
        );
    }
    allowed(
        &db,
        COMMERCIAL,
        "INSERT INTO crm.company (id, name, siren, location) VALUES ('c9', 'X', '732829320', 'p22240')",
    );
    forbidden(
        &db,
        SUPPORT,
        "INSERT INTO crm.location (id, address, postcode, city) VALUES ('ls', '1 rue', '75011', 'Paris')",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.company SET name = 'X' WHERE id = 'CSLLC12345'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        &format!("DELETE FROM crm.location WHERE id = 'l{COMMERCIAL}'"),
    );
    forbidden(&db, COMMERCIAL, "DELETE FROM crm.company WHERE id = 'c9'");
    allowed(&db, GESTION, "DELETE FROM crm.company WHERE id = 'c9'");
    allowed(
        &db,
        GESTION,
        &format!("DELETE FROM crm.location WHERE id = 'l{COMMERCIAL}'"),
    );
}

#[test]
fn the_matrix_for_contracts_and_events() {
    let db = TestDb::demo();
    // Contracts.
    allowed(
        &db,
        GESTION,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k1', 'SRODAP37', 10, 10)",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k2', 'mkc111', 10, 10)",
    );
    forbidden(
        &db,
        SUPPORT,
        "INSERT INTO crm.contract (id, client, total, remain) VALUES ('k3', 'mkc111', 10, 10)",
    );
    allowed(
        &db,
        COMMERCIAL,
        "UPDATE crm.contract SET status = 'signed' WHERE id = 'kc555'",
    );
    allowed(
        &db,
        COMMERCIAL,
        "UPDATE crm.contract SET remain = remain - 1 WHERE id = 'ff555'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "UPDATE crm.contract SET client = 'axs40' WHERE id = 'ff555'",
    );
    forbidden(
        &db,
        OTHER_COMMERCIAL,
        "UPDATE crm.contract SET remain = 0 WHERE id = 'ff555'",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.contract SET remain = 0 WHERE id = 'ff555'",
    );
    allowed(
        &db,
        GESTION,
        "UPDATE crm.contract SET client = 'SRODAP37', total = 20 WHERE id = 'k1'",
    );
    forbidden(&db, COMMERCIAL, "DELETE FROM crm.contract WHERE id = 'k1'");
    allowed(&db, GESTION, "DELETE FROM crm.contract WHERE id = 'k1'");
    // Events: commercial creates them for a signed contract of an own client.
    let add = |id: &str, contract: &str| {
        format!(
            "INSERT INTO crm.event (id, title, contract, start_at, end_at) \
             VALUES ('{id}', 'Party', '{contract}', '2030-01-01 10:00', '2030-01-01 12:00')"
        )
    };
    allowed(&db, COMMERCIAL, &add("e1", "ff555"));
    forbidden(&db, COMMERCIAL, &add("e2", "xx55555")); // own client, unsigned
    forbidden(&db, COMMERCIAL, &add("e3", "av123")); // signed, another's client
    forbidden(&db, GESTION, &add("e4", "ff555"));
    forbidden(&db, SUPPORT, &add("e5", "ff555"));
    forbidden(
        &db,
        COMMERCIAL,
        "INSERT INTO crm.event (id, title, contract, support, start_at, end_at) \
         VALUES ('e6', 'P', 'ff555', 'af123456789', now(), now())",
    );
    // Support: own events, not their support nor contract.
    allowed(
        &db,
        SUPPORT,
        "UPDATE crm.event SET notes = 'Catering at 6' WHERE id = 'geg2022'",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.event SET notes = 'x' WHERE id = 'hob2023'",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.event SET support = 'ag123456789' WHERE id = 'geg2022'",
    );
    forbidden(
        &db,
        SUPPORT,
        "UPDATE crm.event SET contract = 'zz123' WHERE id = 'geg2022'",
    );
    forbidden(
        &db,
        OTHER_SUPPORT,
        "UPDATE crm.event SET attendees = 1 WHERE id = 'geg2022'",
    );
    forbidden(
        &db,
        COMMERCIAL,
        "UPDATE crm.event SET notes = 'x' WHERE id = 'geg2022'",
    );
    // Gestion assigns support collaborators only.
    allowed(
        &db,
        GESTION,
        "UPDATE crm.event SET support = 'af123456789' WHERE id = 'geg2021'",
    );
    forbidden(
        &db,
        GESTION,
        "UPDATE crm.event SET support = 'ab123456789' WHERE id = 'geg2021'",
    );
    forbidden(&db, SUPPORT, "DELETE FROM crm.event WHERE id = 'e1'");
    allowed(&db, GESTION, "DELETE FROM crm.event WHERE id = 'e1'");
}

#[test]
fn collaborators_and_passwords_only_through_their_functions() {
    let db = TestDb::demo();
    forbidden(
        &db,
        GESTION,
        "UPDATE crm.collaborator SET name = 'X' WHERE id = 'ae123456789'",
    );
    forbidden(
        &db,
        GESTION,
        "DELETE FROM crm.collaborator WHERE id = 'ae123456789'",
    );
    for who in [COMMERCIAL, GESTION, SUPPORT] {
        forbidden(&db, who, "SELECT 1 FROM crm.collaborator_password");
        forbidden(&db, who, "UPDATE crm.audit SET actor = 'x'");
        forbidden(&db, who, "DELETE FROM crm.audit");
        forbidden(
            &db,
            who,
            "INSERT INTO crm.department (id, name) VALUES ('x', 'X')",
        );
    }
    let hash = oc12::auth::hash_password_with_cost("n3w-password", 4).unwrap();
    let add = format!(
        "SELECT crm.add_collaborator('ah123456789', 'New One', 'new.one@x.fr', 'support', 'employee', '{hash}')"
    );
    forbidden(&db, COMMERCIAL, &add);
    allowed(&db, GESTION, &add);
    forbidden(
        &db,
        SUPPORT,
        "SELECT crm.set_collaborator('ah123456789', 'X', NULL, NULL, NULL)",
    );
    allowed(
        &db,
        GESTION,
        "SELECT crm.set_collaborator('ah123456789', 'Renamed', NULL, NULL, NULL)",
    );
    forbidden(
        &db,
        GESTION,
        "SELECT crm.delete_collaborator('ad123456789')",
    ); // themselves
    forbidden(
        &db,
        GESTION,
        "SELECT crm.delete_collaborator('af123456789')",
    ); // still supports events
    // Another's password for gestion only; one's own only with the
    // current one (crm.change_password, tested in team_mode.rs).
    forbidden(
        &db,
        SUPPORT,
        &format!("SELECT crm.set_password('{SUPPORT}', '{hash}')"),
    );
    forbidden(
        &db,
        SUPPORT,
        &format!("SELECT crm.set_password('ag123456789', '{hash}')"),
    );
    allowed(
        &db,
        GESTION,
        &format!("SELECT crm.set_password('ag123456789', '{hash}')"),
    );
    allowed(
        &db,
        GESTION,
        "SELECT crm.delete_collaborator('ah123456789')",
    );
    let roles: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = $1",
            &[&format!("{}_ah123456789", db.prefix())],
        )
        .unwrap()
        .get(0);
    assert_eq!(roles, 0, "deleting a collaborator drops their role");
}

#[test]
fn the_gate_role_reads_nothing_and_gets_salts_only() {
    let db = TestDb::demo();
    let prefix = db.prefix();
    let url = db.url.replace(
        "postgresql:///",
        &format!("postgresql://{prefix}_gate:oc12-gate-is-public@/"),
    );
    let mut gate = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for table in [
        "client",
        "contract",
        "event",
        "collaborator",
        "collaborator_password",
        "audit",
        "session",
        "server_key",
        "login_failure",
    ] {
        let err = gate
            .query(&format!("SELECT 1 FROM crm.{table}"), &[])
            .unwrap_err();
        assert_eq!(err.code().unwrap().code(), "42501", "{table}");
    }
    let salt: String = gate
        .query_one("SELECT crm.login_salt('ac123456789')", &[])
        .unwrap()
        .get(0);
    assert!(salt.starts_with("$scrypt$ln="), "{salt}");
    assert_eq!(
        salt.matches('$').count(),
        3,
        "parameters and salt, no hash: {salt}"
    );
    // An unknown registration gets a salt too, the same every time.
    let unknown = |gate: &mut postgres::Client| -> String {
        gate.query_one("SELECT crm.login_salt('zz000000000')", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(unknown(&mut gate), unknown(&mut gate));
    for f in [
        "crm.session_check()",
        "crm.logout()",
        "crm.set_password('ab123456789', 'x')",
        "crm.add_collaborator(NULL, 'x', 'x@y.z', 'gestion', NULL, NULL)",
    ] {
        let err = gate.query(&format!("SELECT {f}"), &[]).unwrap_err();
        assert_eq!(err.code().unwrap().code(), "42501", "{f}");
    }
    assert!(
        gate.batch_execute("SET ROLE postgres").is_err(),
        "no way up"
    );
    assert!(
        gate.batch_execute(&format!("SET ROLE {prefix}_ac123456789"))
            .is_err(),
        "no way into a collaborator"
    );
}

#[test]
fn every_change_lands_in_the_audit_with_its_role() {
    let db = TestDb::demo();
    allowed(
        &db,
        SUPPORT,
        "UPDATE crm.event SET attendees = 36 WHERE id = 'geg2022'",
    );
    allowed(
        &db,
        GESTION,
        "UPDATE crm.event SET support = 'ag123456789' WHERE id = 'geg2021'",
    );
    let rows = db
        .admin()
        .query(
            "SELECT actor, tbl, record, op, changes::text FROM crm.audit \
             WHERE actor IN ($1, $2) ORDER BY pk",
            &[&SUPPORT, &GESTION],
        )
        .unwrap();
    let got: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(&got[0].0, SUPPORT);
    assert_eq!(
        (&*got[0].1, &*got[0].2, &*got[0].3),
        ("event", "geg2022", "update")
    );
    assert!(
        got[0]
            .4
            .contains("\"attendees\": {\"new\": 36, \"old\": 35}"),
        "{}",
        got[0].4
    );
    assert_eq!(&got[1].0, GESTION);
    assert!(got[1].4.contains("\"support\""), "{}", got[1].4);
    let leaks: i64 = db
        .admin()
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE changes::text LIKE '%scrypt%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaks, 0, "no password hash in the audit");
}
