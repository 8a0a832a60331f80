//! SECURITY.md's matrix through the shell: every cell, allowed and refused,
//! for each department, run by the real binary under the collaborator's own
//! PostgreSQL role. Allowed writes are read back from the database; refused
//! ones are `error[permission]` (exit code 1) and change nothing at all.

use crate::support;

use support::TestDb;

/// `client`, `company`, ...: a record's columns joined with `|`.
fn record(db: &TestDb, table: &str, columns: &str, id: &str) -> String {
    db.value(&format!(
        "SELECT concat_ws('|', {columns}) FROM crm.{table} WHERE id = '{id}'"
    ))
}

fn exists(db: &TestDb, table: &str, id: &str) -> bool {
    db.value(&format!(
        "SELECT EXISTS (SELECT 1 FROM crm.{table} WHERE id = '{id}')::text"
    )) == "true"
}

/// A time as Paris wall-clock text, the way users type it.
fn paris(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD HH24:MI')")
}

#[test]
fn everybody_reads_everything() {
    let db = TestDb::demo();
    for who in ["ab123456789", "ae123456789", "ac123456789"] {
        let user = db.user(who);
        for (entity, known) in [
            ("collaborators", "af123456789"),
            ("clients", "SRODAP37"),
            ("companies", "SCOU3541"),
            ("locations", "ggg56110"),
            ("contracts", "xx55555"),
            ("events", "geg2021"),
            ("departments", "gestion"),
        ] {
            let listed = user.ok(&format!("list {entity}"));
            assert!(listed.contains(known), "{who}: list {entity}\n{listed}");
            assert!(!listed.contains("$scrypt"), "{listed}");
            let counted = user.ok(&format!("count {entity}"));
            assert!(counted.trim().parse::<u32>().unwrap() > 0, "{counted}");
        }
        for (entity, id, shows) in [
            ("collaborator", "ab123456789", "Bill Boquet"),
            ("client", "mkc111", "Kevin Casey"),
            ("company", "CSLLC12345", "Cool Startup LLC"),
            ("location", "p22240", "Plurien"),
            ("contract", "ff555", "Kevin Casey"),
            ("event", "hob2023", "Holiday on beach"),
            ("department", "support", "Support"),
        ] {
            let shown = user.ok(&format!("show {entity} {id}"));
            assert!(shown.contains(shows), "{who}: show {entity} {id}\n{shown}");
            user.ok(&format!("history {entity} {id}"));
        }
        let filtered = user.ok("list contracts where status = signed and remain > 0");
        assert!(filtered.contains("ff555") && !filtered.contains("kc555"));
    }
}

#[test]
fn commercial_manages_own_clients_and_their_contracts() {
    let db = TestDb::demo();
    let bill = db.user("ab123456789");
    let donald = db.user("aa123456789");

    // Clients: added with themselves as commercial; own ones changed.
    let out = bill.ok(
        "add client id=ann1 name='Ann Bee' email=ann@bee.fr phone='06 11 22 33 44' \
         company=CSLLC12345 job=CEO",
    );
    assert!(out.contains("added client ann1"), "{out}");
    assert_eq!(
        record(
            &db,
            "client",
            "name, email, phone, company, job, commercial",
            "ann1"
        ),
        "Ann Bee|ann@bee.fr|06 11 22 33 44|CSLLC12345|CEO|ab123456789"
    );
    bill.ok(
        "set client mkc111 name='Kevin C. Casey' email=kc@startup.io phone='+33 7 00 00 00 00' \
         company=NFEPG12345 job=Boss",
    );
    assert_eq!(
        record(
            &db,
            "client",
            "name, email, phone, company, job, commercial",
            "mkc111"
        ),
        "Kevin C. Casey|kc@startup.io|+33 7 00 00 00 00|NFEPG12345|Boss|ab123456789"
    );
    // Not somebody else's client, not the commercial field, not on add
    // either, and no deletes.
    let e = bill.refused(
        "set client SRODAP37 phone='0611223344'",
        "client SRODAP37 belongs to aa123456789",
    );
    assert!(e.contains("^^^^^^^^"), "points at the id:\n{e}");
    donald.refused(
        "set client mkc111 job=Spy",
        "client mkc111 belongs to ab123456789",
    );
    bill.refused(
        "set client mkc111 commercial=aa123456789",
        "only gestion may set `commercial` of a client",
    );
    bill.refused(
        "add client name='Ann Other' email=ann@other.fr commercial=aa123456789",
        "commercial",
    );
    bill.refused("delete client ann1", "only gestion may delete clients");

    // Companies and locations: add and change, not delete.
    bill.ok("add location id=lo9 address='1 rue de Rivoli' postcode=75001 city=Paris");
    assert_eq!(
        record(&db, "location", "address, postcode, city, country", "lo9"),
        "1 rue de Rivoli|75001|Paris|France"
    );
    bill.ok("set location lo9 city='Paris 1er' region='Ile de France'");
    assert_eq!(
        record(&db, "location", "city, region", "lo9"),
        "Paris 1er|Ile de France"
    );
    bill.ok("add company id=co9 name='New Co' siren=999222896 location=lo9");
    assert_eq!(
        record(&db, "company", "name, siren, location", "co9"),
        "New Co|999222896|lo9"
    );
    bill.ok("set company co9 name='New Co SAS' activity=62.01Z");
    assert_eq!(
        record(&db, "company", "name, activity", "co9"),
        "New Co SAS|62.01Z"
    );
    bill.refused("delete company co9", "only gestion may delete companies");
    bill.refused("delete location lo9", "only gestion may delete locations");

    // Contracts of own clients: total, remain, status, signing, paying.
    bill.refused(
        "add contract client=mkc111 total=100 remain=100",
        "only gestion may add contracts",
    );
    bill.ok("set contract kc555 total=1200 remain=1100");
    assert_eq!(
        record(&db, "contract", "total, remain, status", "kc555"),
        "1200.00|1100.00|unsigned"
    );
    let out = bill.ok("sign contract kc555");
    assert!(out.contains("signed contract kc555"), "{out}");
    assert_eq!(
        record(&db, "contract", "status, signed_at IS NOT NULL", "kc555"),
        "signed|t"
    );
    bill.ok("set contract xx55555 status=canceled");
    assert_eq!(record(&db, "contract", "status", "xx55555"), "canceled");
    let out = bill.ok("pay contract ff555 5.99");
    assert!(out.contains("15.00 € remains"), "{out}");
    assert_eq!(record(&db, "contract", "remain", "ff555"), "15.00");
    bill.fails(
        "pay contract ff555 15.01",
        "invalid",
        1,
        "only 15.00 € remains",
    );
    assert_eq!(record(&db, "contract", "remain", "ff555"), "15.00");
    bill.refused(
        "set contract av123 total=1000",
        "contract av123 is for a client of aa123456789",
    );
    bill.refused(
        "set contract kc555 client=axs40",
        "only gestion may set `client` of a contract",
    );
    bill.refused("delete contract kc555", "only gestion may delete contracts");
    // `sign` and `pay` follow the contract row: Bill's are not Donald's.
    bill.ok("set contract kc555 status=unsigned");
    donald.refused("sign contract kc555", "ab123456789");
    donald.refused("pay contract ff555 1", "ab123456789");
    assert_eq!(record(&db, "contract", "status", "kc555"), "unsigned");

    // Events: added for a signed contract of an own client, nothing else.
    let out = bill.ok(
        "add event id=ev9 title='Casey launch party' contract=ff555 start='2024-06-04 13:00' \
         end='2024-06-05 02:00' location=csb41120 attendees=75",
    );
    assert!(out.contains("added event ev9"), "{out}");
    assert_eq!(
        db.value(&format!(
            "SELECT concat_ws('|', title, contract, coalesce(support, 'none'), {}, {}, location, attendees) \
             FROM crm.event WHERE id = 'ev9'",
            paris("start_at"),
            paris("end_at")
        )),
        "Casey launch party|ff555|none|2024-06-04 13:00|2024-06-05 02:00|csb41120|75"
    );
    bill.refused(
        "add event title=Party contract=av123 start='2024-06-04 13:00' end='2024-06-04 20:00'",
        "contract av123 is for a client of aa123456789",
    );
    bill.fails(
        "add event title=Party contract=kc555 start='2024-06-04 13:00' end='2024-06-04 20:00'",
        "conflict",
        1,
        "kc555",
    );
    bill.refused(
        "add event title=Party contract=ff555 start='2024-06-04 13:00' end='2024-06-04 20:00' \
         support=ae123456789",
        "support",
    );
    bill.refused(
        "set event ev9 notes=hello",
        "only gestion and support may change events",
    );
    bill.refused("delete event ev9", "only gestion may delete events");

    // Collaborators and departments.
    bill.refused(
        "add collaborator name='New Person' email=new.person@epic-events.example department=support",
        "only gestion may add collaborators",
    );
    bill.refused(
        "set collaborator ab123456789 role=manager",
        "only gestion may change collaborators",
    );
    bill.refused(
        "delete collaborator ae123456789",
        "only gestion may delete collaborators",
    );
    bill.refused(
        "set department commercial name=Sales",
        "departments are read only",
    );
    bill.refused(
        "add department id=legal name=Legal",
        "departments are read only",
    );
    bill.refused("delete department support", "departments are read only");
}

#[test]
fn support_changes_only_their_own_events() {
    let db = TestDb::demo();
    let louloute = db.user("ae123456789");

    louloute.ok(
        "set event hob2023 title='Beach party' start='2023-07-25 15:00' end='2023-07-26 01:00' \
         location=p22240 attendees=450 notes='Penser au catering.'",
    );
    assert_eq!(
        db.value(&format!(
            "SELECT concat_ws('|', title, {}, {}, location, attendees, notes, support, contract) \
             FROM crm.event WHERE id = 'hob2023'",
            paris("start_at"),
            paris("end_at")
        )),
        "Beach party|2023-07-25 15:00|2023-07-26 01:00|p22240|450|Penser au catering.|ae123456789|ff555"
    );
    louloute.refused(
        "set event geg2022 notes='mine now'",
        "event geg2022 is supported by af123456789",
    );
    louloute.refused(
        "set event geg2021 notes='mine now'",
        "geg2021 has no support",
    );
    louloute.refused(
        "set event hob2023 support=af123456789",
        "only gestion may set `support` of an event",
    );
    louloute.refused(
        "set event hob2023 contract=zz123",
        "only gestion may set `contract` of an event",
    );
    louloute.refused(
        "add event title=Party contract=ff555 start='2024-06-04 13:00' end='2024-06-04 20:00'",
        "only commercial may add events",
    );
    louloute.refused("delete event hob2023", "only gestion may delete events");

    for (statement, why) in [
        (
            "add client name='Ann Bee' email=ann@bee.fr",
            "only commercial may add clients",
        ),
        (
            "set client mkc111 job=Boss",
            "only commercial and gestion may change clients",
        ),
        ("delete client mkc111", "only gestion may delete clients"),
        (
            "add company name='New Co' siren=999222896 location=p22240",
            "only commercial and gestion may add companies",
        ),
        (
            "set company CSLLC12345 name=X",
            "only commercial and gestion may change companies",
        ),
        (
            "delete company CSLLC12345",
            "only gestion may delete companies",
        ),
        (
            "add location address='1 rue' city=Paris postcode=75001",
            "only commercial and gestion may add locations",
        ),
        (
            "set location p22240 city=X",
            "only commercial and gestion may change locations",
        ),
        (
            "delete location p22240",
            "only gestion may delete locations",
        ),
        (
            "add contract client=mkc111 total=10 remain=10",
            "only gestion may add contracts",
        ),
        (
            "set contract kc555 total=10",
            "only commercial and gestion may change contracts",
        ),
        (
            "sign contract kc555",
            "only commercial and gestion may change contracts",
        ),
        (
            "pay contract ff555 1",
            "only commercial and gestion may change contracts",
        ),
        ("delete contract kc555", "only gestion may delete contracts"),
        (
            "add collaborator name='New Person' email=new.person@epic-events.example department=support",
            "only gestion may add collaborators",
        ),
        (
            "set collaborator ae123456789 name=X",
            "only gestion may change collaborators",
        ),
        (
            "delete collaborator ag123456789",
            "only gestion may delete collaborators",
        ),
        (
            "set department support name=Help",
            "departments are read only",
        ),
        ("delete department support", "departments are read only"),
    ] {
        louloute.refused(statement, why);
    }
}

#[test]
fn gestion_manages_everything_but_adds_no_client_or_event() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let bill = db.user("ab123456789");

    // Clients: any client, any field; the commercial reassigned or removed.
    daisy.ok(
        "set client SRODAP37 name='Sam Rodgers' email=sam@tmmachine.xe phone='0600000000' \
         company=CSLLC12345 job=Driver",
    );
    assert_eq!(
        record(
            &db,
            "client",
            "name, email, phone, company, job, commercial",
            "SRODAP37"
        ),
        "Sam Rodgers|sam@tmmachine.xe|0600000000|CSLLC12345|Driver|aa123456789"
    );
    daisy.ok("set client mkc111 commercial=aa123456789");
    assert_eq!(record(&db, "client", "commercial", "mkc111"), "aa123456789");
    daisy.ok("set client mkc111 commercial=none");
    assert_eq!(
        db.value("SELECT coalesce(commercial, 'none') FROM crm.client WHERE id = 'mkc111'"),
        "none"
    );
    daisy.fails(
        "set client axs40 commercial=ae123456789",
        "invalid",
        1,
        "commercial",
    );
    daisy.refused(
        "add client name='Ann Bee' email=ann@bee.fr",
        "only commercial may add clients",
    );
    bill.ok("add client id=gone1 name='Short Lived' email=short@lived.fr");
    daisy.ok("delete client gone1");
    assert!(!exists(&db, "client", "gone1"));
    daisy.fails("delete client SRODAP37", "conflict", 1, "contract");

    // Companies and locations: add, change, delete.
    daisy.ok("add location id=lo9 address='1 rue Neuve' city=Rennes postcode=35000");
    daisy.ok("set location lo9 address='2 place de la Mairie'");
    daisy.ok("add company id=co9 name='New Co' siren=999222896 location=lo9");
    daisy.ok("set company co9 name='New Co SAS'");
    assert_eq!(
        record(&db, "company", "name, location", "co9"),
        "New Co SAS|lo9"
    );
    assert_eq!(
        record(&db, "location", "address, city", "lo9"),
        "2 place de la Mairie|Rennes"
    );
    daisy.fails("delete location lo9", "conflict", 1, "compan");
    daisy.ok("delete company co9");
    daisy.ok("delete location lo9");
    assert!(!exists(&db, "company", "co9") && !exists(&db, "location", "lo9"));
    daisy.fails("delete company SCOU3541", "conflict", 1, "client");

    // Contracts: for any client, any field, sign, pay, delete.
    daisy.ok("add contract id=ct9 client=SRODAP37 total=100 remain=100");
    assert_eq!(
        record(&db, "contract", "client, total, remain, status", "ct9"),
        "SRODAP37|100.00|100.00|unsigned"
    );
    daisy.ok("set contract ct9 client=axs40 total=200 remain=150");
    assert_eq!(
        record(&db, "contract", "client, total, remain", "ct9"),
        "axs40|200.00|150.00"
    );
    daisy.ok("sign contract ct9");
    assert_eq!(record(&db, "contract", "status", "ct9"), "signed");
    daisy.ok("pay contract ct9 50");
    assert_eq!(record(&db, "contract", "remain", "ct9"), "100.00");
    daisy.fails(
        "pay contract ct9 100.01",
        "invalid",
        1,
        "only 100.00 € remains",
    );
    assert_eq!(record(&db, "contract", "remain", "ct9"), "100.00");
    daisy.ok("set contract av123 total=300");
    assert_eq!(record(&db, "contract", "total", "av123"), "300.00");
    // A contract with events stays signed: a state rule.
    daisy.fails("set contract ff555 status=unsigned", "conflict", 1, "ff555");
    daisy.fails("delete contract ff555", "conflict", 1, "event");
    daisy.ok("delete contract ct9");
    assert!(!exists(&db, "contract", "ct9"));

    // Events: any event, any field; the support must be in support.
    daisy.ok("set event geg2021 support=af123456789");
    assert_eq!(record(&db, "event", "support", "geg2021"), "af123456789");
    let e = daisy.fails(
        "set event geg2021 support=ab123456789",
        "invalid",
        1,
        "not in the support department",
    );
    assert!(e.contains("^^^"), "points at the value:\n{e}");
    daisy.ok("set event hob2023 contract=zz123 title='Moved' support=none");
    assert_eq!(
        record(
            &db,
            "event",
            "contract, title, coalesce(support, 'none')",
            "hob2023"
        ),
        "zz123|Moved|none"
    );
    daisy.fails("set event hob2023 contract=kc555", "conflict", 1, "kc555");
    daisy.refused(
        "add event title=Party contract=ff555 start='2024-06-04 13:00' end='2024-06-04 20:00'",
        "only commercial may add events",
    );
    daisy.ok("delete event hob2023");
    assert!(!exists(&db, "event", "hob2023"));

    daisy.refused(
        "set department gestion name=Management",
        "departments are read only",
    );
    daisy.refused("delete department gestion", "departments are read only");
}

/// The initial password `add collaborator` prints once in a script.
fn initial_password(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("initial password: "))
        .unwrap_or_else(|| panic!("no initial password in\n{out}"))
        .trim()
        .to_owned()
}

#[test]
fn gestion_alone_manages_collaborators_and_their_roles() {
    let db = TestDb::demo();
    let daisy = db.user("ac123456789");
    let prefix = db.prefix();
    let groups = |reg: &str| {
        db.rows(&format!(
            "SELECT g.rolname::text FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member \
             JOIN pg_roles g ON g.oid = a.roleid WHERE m.rolname = '{prefix}_{reg}' ORDER BY 1"
        ))
    };

    let out = daisy.ok(
        "add collaborator id=xy123456789 name='Xavier Yon' email=xavier.yon@epic-events.example \
         department=support",
    );
    assert!(out.contains("added collaborator xy123456789"), "{out}");
    let password = initial_password(&out);
    assert!(password.len() >= 8, "{password}");
    assert_eq!(
        record(
            &db,
            "collaborator",
            "name, email, department, role",
            "xy123456789"
        ),
        "Xavier Yon|xavier.yon@epic-events.example|support|employee"
    );
    assert_eq!(groups("xy123456789"), [format!("{prefix}_support")]);
    // The printed password is the one that works.
    let xavier = db.user_with("xy123456789", &password);
    xavier.ok("list events where support = me");
    xavier.refused(
        "add collaborator name='Zed Zed' email=z.z@epic-events.example department=support",
        "only gestion",
    );

    daisy.ok(
        "set collaborator xy123456789 name='Xavier Yon-Duck' email=xy@epic-events.example \
         role=manager department=commercial",
    );
    assert_eq!(
        record(
            &db,
            "collaborator",
            "name, email, department, role",
            "xy123456789"
        ),
        "Xavier Yon-Duck|xy@epic-events.example|commercial|manager"
    );
    assert_eq!(groups("xy123456789"), [format!("{prefix}_commercial")]);

    daisy.ok("delete collaborator xy123456789");
    assert!(!exists(&db, "collaborator", "xy123456789"));
    assert_eq!(
        db.value(&format!(
            "SELECT count(*)::text FROM pg_roles WHERE rolname = '{prefix}_xy123456789'"
        )),
        "0"
    );

    for statement in [
        "set collaborator zz123456789 name='Nobody'",
        "delete collaborator zz123456789",
    ] {
        daisy.fails(statement, "not-found", 1, "zz123456789");
    }
    daisy.refused("delete collaborator ac123456789", "yourself");
    daisy.fails("delete collaborator ae123456789", "conflict", 1, "event");
    daisy.fails("delete collaborator aa123456789", "conflict", 1, "client");
    // A support collaborator who holds events cannot leave support.
    daisy.fails(
        "set collaborator ag123456789 department=gestion",
        "conflict",
        1,
        "event",
    );
}
