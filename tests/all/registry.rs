//! France's registries: `lookup`, and `add company`/`add location` filled
//! and checked, against a stub of both APIs on 127.0.0.1 serving the
//! responses of `tests/fixtures/registry/` (written from the APIs'
//! documented JSON), and offline against the bundled communes.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oc12::interpreter::registry;
use oc12::language::lookup::Query;
use support::{Shell, TestDb, User};

const COMMERCIAL: &str = "aa123456789";

// ---------------------------------------------------------------------------
// The stub: one thread accepting, one per connection; each request is
// answered by the test's function of (path and query, how many requests
// came before).

enum Reply {
    Json(u16, &'static str),
    /// 429 with `Retry-After: N`.
    RateLimited(u64),
    /// Accept and say nothing for this long.
    Silent(Duration),
}

struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn fixture(name: &str) -> &'static str {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registry")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(text.into_boxed_str())
}

impl Stub {
    fn new(answer: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(answer);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (answer, log, count) = (answer.clone(), log.clone(), count.clone());
                std::thread::spawn(move || {
                    let Some(target) = request_target(&stream) else {
                        return;
                    };
                    log.lock().unwrap().push(target.clone());
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    respond(stream, answer(&target, n));
                });
            }
        });
        Stub { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn request_target(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    // The rest of the head.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header == "\r\n" {
            break;
        }
    }
    Some(target)
}

fn respond(mut stream: TcpStream, reply: Reply) {
    let (status, extra, body) = match reply {
        Reply::Json(status, body) => (status, String::new(), body),
        Reply::RateLimited(secs) => (429, format!("Retry-After: {secs}\r\n"), "{}"),
        Reply::Silent(d) => {
            std::thread::sleep(d);
            return;
        }
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Both APIs from the fixtures: companies by SIREN or name, communes by
/// postcode or name; anything else is an empty answer.
fn registries(target: &str, _: usize) -> Reply {
    let body = if target.starts_with("/search?") {
        if target.contains("q=356000000") {
            "company_356000000.json"
        } else if target.contains("q=732829320") {
            "company_732829320.json"
        } else if target.contains("q=la+poste") || target.contains("q=la%20poste") {
            "company_search_poste.json"
        } else if target.contains("q=ab&") {
            return Reply::Json(400, fixture("error_400.json"));
        } else {
            "company_none.json"
        }
    } else if target.starts_with("/communes?") {
        if target.contains("codePostal=29590") {
            "communes_29590.json"
        } else if target.contains("nom=Gourin") {
            "communes_nom_gourin.json"
        } else {
            "communes_none.json"
        }
    } else {
        return Reply::Json(404, "{}");
    };
    Reply::Json(200, fixture(body))
}

/// The binary with no database, both registries at `url`.
fn online(home: &std::path::Path, url: &str) -> Shell {
    Shell::bare(home)
        .env_remove("OC12_OFFLINE")
        .env("OC12_COMPANY_API_URL", url)
        .env("OC12_GEO_API_URL", url)
}

fn lookup(url: &str, statement: &str, format: &str) -> support::Run {
    let home = tempfile::tempdir().unwrap();
    online(home.path(), url)
        .args(["--format", format, "-c", statement])
        .run()
}

/// A statement run by a logged-in user with the registries at `url`.
fn run_online(user: &User, url: &str, statement: &str) -> support::Run {
    user.shell()
        .env_remove("OC12_OFFLINE")
        .env("OC12_COMPANY_API_URL", url)
        .env("OC12_GEO_API_URL", url)
        .args(["-c", statement])
        .run()
}

// ---------------------------------------------------------------------------
// lookup, online.

#[test]
fn lookup_company_by_siren_prints_the_registry_s_answer_in_every_format() {
    let stub = Stub::new(registries);
    let run = lookup(&stub.url, "lookup company 356000000", "table").status(0);
    let out = run.stdout();
    for text in [
        "356000000",
        "la poste",
        "53.10Z",
        "Activités de poste dans le cadre d'une obligation de service universel",
        "9 RUE DU COLONEL PIERRE AVIA",
        "75015",
        "1 row",
    ] {
        assert!(out.contains(text), "{text} in\n{out}");
    }
    assert_eq!(run.stderr(), "");
    assert!(
        stub.seen()[0].starts_with("/search?q=356000000"),
        "{:?}",
        stub.seen()
    );

    let json = lookup(&stub.url, "lookup company 356000000", "json")
        .status(0)
        .stdout();
    let record: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(record["siren"], "356000000");
    assert_eq!(record["activity"], "53.10Z");
    assert_eq!(record["postcode"], "75015");

    let csv = lookup(&stub.url, "lookup company 356000000", "csv")
        .status(0)
        .stdout();
    assert!(
        csv.starts_with(
            "siren,name,activity,activity_label,address,postcode,city\n356000000,la poste,53.10Z,"
        ),
        "{csv}"
    );
    let vertical = lookup(&stub.url, "lookup company 356000000", "vertical")
        .status(0)
        .stdout();
    assert!(vertical.contains("-[ RECORD 1 ]-"), "{vertical}");
    assert!(vertical.contains("city           | PARIS 15"), "{vertical}");
}

#[test]
fn lookup_company_by_name_lists_the_candidates() {
    let stub = Stub::new(registries);
    let out = lookup(&stub.url, "lookup company 'la poste'", "csv")
        .status(0)
        .stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].starts_with("356000000,la poste,53.10Z,"), "{out}");
    assert!(
        lines[2].starts_with("732829320,LES JEUX DU LOROUX,93.29Z,"),
        "{out}"
    );
    // Bare words are one query too.
    lookup(&stub.url, "lookup company la poste", "csv").status(0);
    assert!(
        stub.seen().iter().all(|s| s.contains("q=la")),
        "{:?}",
        stub.seen()
    );
}

#[test]
fn lookup_company_not_found_prints_no_row_and_a_refused_search_is_invalid() {
    let stub = Stub::new(registries);
    let run = lookup(&stub.url, "lookup company 999222888", "table").status(0);
    assert!(run.stdout().contains("0 rows"), "{}", run.stdout());
    let run = lookup(&stub.url, "lookup company ab", "table").status(1);
    assert!(
        run.stderr()
            .contains("error[invalid]: the company registry")
            && run
                .stderr()
                .contains("refused the search: Veuillez indiquer au moins 3 caractères."),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .contains("\n  | lookup company ab\n  |                ^^"),
        "{}",
        run.stderr()
    );
}

#[test]
fn lookup_location_by_postcode_and_by_name_online() {
    let stub = Stub::new(registries);
    let out = lookup(&stub.url, "lookup location 29590", "csv")
        .status(0)
        .stdout();
    assert_eq!(out.lines().count(), 6, "{out}");
    assert!(
        out.contains("Le Faou,29053,29590,29 Finistère,Bretagne\n"),
        "{out}"
    );
    let seen = stub.seen();
    assert!(
        seen[0].starts_with(
            "/communes?codePostal=29590&fields=nom%2Ccode%2CcodesPostaux%2Cdepartement%2Cregion"
        ) || seen[0].starts_with(
            "/communes?codePostal=29590&fields=nom,code,codesPostaux,departement,region"
        ),
        "{seen:?}"
    );
    let out = lookup(&stub.url, "lookup location Gourin", "json")
        .status(0)
        .stdout();
    assert_eq!(
        out,
        "{\"city\":\"Gourin\",\"insee\":\"56066\",\"postcodes\":\"56110\",\"department\":\"56 Morbihan\",\"region\":\"Bretagne\"}\n"
    );
}

// ---------------------------------------------------------------------------
// When the API misbehaves: the rate limit, errors, silence, nonsense.

#[test]
fn a_429_waits_as_retry_after_says_and_says_so() {
    let stub = Stub::new(|target, n| {
        if n == 0 {
            Reply::RateLimited(1)
        } else {
            registries(target, n)
        }
    });
    let started = Instant::now();
    let run = lookup(&stub.url, "lookup company 356000000", "csv").status(0);
    let took = started.elapsed();
    assert!(
        run.stdout().contains("356000000,la poste"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stderr().contains("(HTTP 429); waiting 1 s as it says"),
        "{}",
        run.stderr()
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn a_500_is_retried_once_then_the_offline_data_is_used() {
    let stub = Stub::new(|_, _| Reply::Json(500, "{}"));
    let run = lookup(&stub.url, "lookup location 29590", "csv").status(0);
    assert_eq!(stub.seen().len(), 2, "one retry: {:?}", stub.seen());
    assert!(
        run.stderr()
            .contains("could not be reached (HTTP 500); using the bundled communes data"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stdout()
            .contains("Le Faou,29053,29590,29 Finistère,Bretagne"),
        "{}",
        run.stdout()
    );

    let run = lookup(&stub.url, "lookup company 356000000", "csv").status(0);
    assert!(
        run.stderr()
            .contains("could not be reached (HTTP 500); offline, SIREN 356000000 is only checked"),
        "{}",
        run.stderr()
    );
    let run = lookup(&stub.url, "lookup company 'la poste'", "csv").status(1);
    assert!(
        run.stderr().contains("error[not-found]")
            && run
                .stderr()
                .contains("companies are not known offline by name"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_silent_api_never_holds_a_statement_past_the_timeout() {
    let stub = Stub::new(|_, _| Reply::Silent(Duration::from_secs(8)));
    let started = Instant::now();
    let run = lookup(&stub.url, "lookup location 29590", "csv").status(0);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(3500),
        "took {took:?}"
    );
    assert!(
        run.stderr().contains("no answer within 2 s"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().contains("Le Faou"), "{}", run.stdout());
}

#[test]
fn malformed_json_is_an_unreachable_registry() {
    let stub = Stub::new(|_, _| Reply::Json(200, fixture("malformed.json")));
    let run = lookup(&stub.url, "lookup location 29590", "csv").status(0);
    assert!(
        run.stderr().contains("its answer is not JSON"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().contains("Le Faou"), "{}", run.stdout());
    assert_eq!(stub.seen().len(), 1, "nonsense is not retried");
    // JSON, but not the documented shape.
    let stub = Stub::new(|_, _| Reply::Json(200, "{\"communes\": []}"));
    let run = lookup(&stub.url, "lookup location 29590", "csv").status(0);
    assert!(
        run.stderr().contains("not the documented JSON"),
        "{}",
        run.stderr()
    );
}

#[test]
fn nothing_listens_there() {
    // A port that was free a moment ago: refused at once, retried once.
    let url = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let started = Instant::now();
    let run = lookup(&url, "lookup location 75001", "csv").status(0);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        run.stderr().contains("could not be reached"),
        "{}",
        run.stderr()
    );
    assert!(run.stdout().contains("Paris,75056,"), "{}", run.stdout());
}

// ---------------------------------------------------------------------------
// add company and add location, filled and checked.

#[test]
fn add_company_by_siren_fills_name_activity_and_a_new_head_office_location() {
    let db = TestDb::demo();
    let stub = Stub::new(registries);
    let user = db.user(COMMERCIAL);
    let run = run_online(&user, &stub.url, "add company id=lp1 siren=356000000").status(0);
    assert_eq!(run.stdout(), "added company lp1\n");
    let note = run.stderr();
    assert!(
        note.contains("note: from the company registry: name='la poste' activity=53.10Z location=(the location at 9 RUE DU COLONEL PIERRE AVIA, 75015 Paris, added if there is none)"),
        "{note}"
    );
    assert_eq!(
        db.value(
            "SELECT concat_ws('|', c.name, c.siren, c.activity, l.address, l.complement, l.postcode, l.city, l.region, l.country) \
             FROM crm.company c JOIN crm.location l ON l.id = c.location WHERE c.id = 'lp1'"
        ),
        "la poste|356000000|53.10Z|9 RUE DU COLONEL PIERRE AVIA|DIRECTION GENERALE DE LA POSTE|75015|Paris|Île-de-France|France"
    );
    // The location is audited like any other write.
    assert_eq!(
        db.value(
            "SELECT count(*)::text FROM crm.audit WHERE tbl = 'location' AND op = 'insert' \
             AND record = (SELECT location FROM crm.company WHERE id = 'lp1')"
        ),
        "1"
    );
}

#[test]
fn add_company_reuses_the_location_at_the_head_office_address() {
    let db = TestDb::demo();
    let stub = Stub::new(registries);
    let user = db.user(COMMERCIAL);
    let locations = db.value("SELECT count(*)::text FROM crm.location");
    run_online(&user, &stub.url, "add company id=jl1 siren=732829320").status(0);
    // PLACE DE BRETAGNE, 44430 LE LOROUX-BOTTEREAU is the demo's llb44430.
    assert_eq!(
        db.value(
            "SELECT concat_ws('|', name, activity, location) FROM crm.company WHERE id = 'jl1'"
        ),
        "LES JEUX DU LOROUX|93.29Z|llb44430"
    );
    assert_eq!(
        db.value("SELECT count(*)::text FROM crm.location"),
        locations
    );
}

#[test]
fn what_the_user_typed_wins_and_differences_are_noted() {
    let db = TestDb::demo();
    let stub = Stub::new(registries);
    let user = db.user(COMMERCIAL);
    let run = run_online(
        &user,
        &stub.url,
        "add company id=lp2 siren=356000000 name='La Poste Groupe' activity=82.30Z location=p22240",
    )
    .status(0);
    let note = run.stderr();
    assert!(
        note.contains(
            "note: the registry's name is name='la poste'; keeping name='La Poste Groupe'"
        ),
        "{note}"
    );
    assert!(
        note.contains("the registry's activity is activity=53.10Z; keeping activity=82.30Z"),
        "{note}"
    );
    assert_eq!(
        db.value(
            "SELECT concat_ws('|', name, activity, location) FROM crm.company WHERE id = 'lp2'"
        ),
        "La Poste Groupe|82.30Z|p22240"
    );
}

#[test]
fn add_company_with_a_siren_the_registry_does_not_know_is_not_found() {
    let db = TestDb::demo();
    let stub = Stub::new(registries);
    let user = db.user(COMMERCIAL);
    let before = db.snapshot();
    let run = run_online(
        &user,
        &stub.url,
        "add company siren=999222896 name=X location=p22240",
    )
    .status(1);
    assert!(
        run.stderr()
            .contains("error[not-found]: no company with SIREN 999222896 in the company registry"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("\n  | add company siren=999222896 name=X location=p22240\n  |             ^^^^^^^^^^^^^^^"),
        "{}",
        run.stderr()
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn offline_a_company_is_only_checked_and_must_be_given_in_full() {
    let db = TestDb::demo();
    let user = db.user(COMMERCIAL);
    // OC12_OFFLINE=1 in the harness.
    let run = user
        .run("add company id=nc1 siren=999222896 name='New Co' location=p22240 activity=62.01Z")
        .status(0);
    assert!(
        run.stderr().contains(
            "note: the company registry was not asked (OC12_OFFLINE is set); offline, SIREN 999222896 is only checked: its check digit is right"
        ),
        "{}",
        run.stderr()
    );
    assert_eq!(
        db.value("SELECT activity FROM crm.company WHERE id = 'nc1'"),
        "62.01Z"
    );
    let err = user.fails(
        "add company siren=999222904 name=X location=p22240 activity=6201z",
        "unknown",
        1,
        "`6201z` is not an APE code",
    );
    assert!(err.contains("did you mean `62.01Z`?"), "{err}");
    let err = user.fails(
        "add company siren=999222904",
        "invalid",
        1,
        "add company needs name and location",
    );
    assert!(err.contains("OC12_OFFLINE"), "{err}");
    user.fails(
        "add company siren=999222889 name=X location=p22240",
        "invalid",
        1,
        "`999222889` is not a SIREN: its check digit is wrong",
    );
    let err = user.fails(
        "add company name=X siren=999222904 location=p22240 activity=62.10Z",
        "unknown",
        1,
        "`62.10Z` is not an APE code",
    );
    assert!(err.contains("did you mean `62.01Z`?"), "{err}");
    // Unreachable is the same as offline, said differently.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let run = run_online(&user, &dead, "add company siren=999222904").status(1);
    assert!(
        run.stderr()
            .contains("error[invalid]: add company needs name and location: the company registry")
            && run.stderr().contains("could not be reached"),
        "{}",
        run.stderr()
    );
}

#[test]
fn add_location_by_postcode_fills_city_region_and_country() {
    let db = TestDb::demo();
    let user = db.user(COMMERCIAL);
    let run = user
        .run("add location id=lv1 address='1 rue de Rivoli' postcode=75001")
        .status(0);
    // Said at a terminal only (tests/interactive.rs): a script stays quiet.
    assert_eq!(run.stderr(), "");
    assert_eq!(
        db.value("SELECT concat_ws('|', address, postcode, city, region, country) FROM crm.location WHERE id = 'lv1'"),
        "1 rue de Rivoli|75001|Paris|Île-de-France|France"
    );
    // Online, from the geographic API.
    let stub = Stub::new(registries);
    run_online(
        &user,
        &stub.url,
        "add location id=lv2 address='2 place' postcode=29590 city='le faou'",
    )
    .status(0);
    assert_eq!(
        db.value("SELECT concat_ws('|', city, region, country) FROM crm.location WHERE id = 'lv2'"),
        "le faou|Bretagne|France"
    );
    assert!(
        stub.seen()
            .iter()
            .any(|s| s.starts_with("/communes?codePostal=29590"))
    );
}

#[test]
fn a_postcode_that_is_not_the_city_s_is_invalid_naming_both() {
    let db = TestDb::demo();
    let user = db.user(COMMERCIAL);
    let err = user.fails(
        "add location address=x postcode=29200 city='Le Faou'",
        "invalid",
        1,
        "postcode 29200 does not belong to Le Faou: 29200 is Brest; Le Faou is 29590",
    );
    assert!(
        err.contains("\n  | add location address=x postcode=29200 city='Le Faou'\n  |                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"),
        "{err}"
    );
    let err = user.fails(
        "add location address=x postcode=75001 city=Parsi",
        "invalid",
        1,
        "75001 is Paris",
    );
    assert!(err.contains("did you mean `Paris`?"), "{err}");
    user.fails(
        "add location address=x postcode=29590",
        "invalid",
        1,
        "postcode 29590 serves 5 communes (Le Faou, Lopérec, Rosnoën, Saint-Ségal, Pont-de-Buis-lès-Quimerch): give city=",
    );
    user.fails(
        "add location address=x postcode=99999 city=Nowhere",
        "invalid",
        1,
        "no French commune has the postcode 99999",
    );
    user.fails(
        "add location address=x postcode=75011 city=Paris region=Bretagne",
        "invalid",
        1,
        "region `Bretagne` is not postcode 75011's: Paris is in Île-de-France",
    );
    // The seed's spellings are the same places.
    user.ok("add location address=x postcode=75011 city=PARIS region='Ile de France'");
    user.ok("add location address=x postcode=41120 city='Cande sur Beuvron'");
    // Abroad, nothing is checked.
    user.ok("add location address=x postcode=1000 city=Bruxelles country=Belgique");
}

// ---------------------------------------------------------------------------
// The bundled data.

#[test]
fn every_postcode_of_the_bundled_data_resolves() {
    let postcodes = registry::postcodes();
    assert!(postcodes.len() > 6000, "{}", postcodes.len());
    for p in postcodes {
        let found = registry::offline_communes(&Query::Postcode(p.to_string()));
        assert!(!found.is_empty(), "{p}");
        for c in &found {
            assert!(c.postcodes.iter().any(|q| q == p), "{p}: {c:?}");
            assert!(
                !c.department.name.is_empty() && !c.region.name.is_empty(),
                "{c:?}"
            );
        }
    }
}

#[test]
fn known_communes_by_value() {
    let by_postcode = |p: &str| registry::offline_communes(&Query::Postcode(p.into()));
    let paris = by_postcode("75001");
    assert_eq!(paris.len(), 1);
    assert_eq!(
        (paris[0].name.as_str(), paris[0].insee.as_str()),
        ("Paris", "75056")
    );
    assert_eq!(paris[0].region.name, "Île-de-France");
    assert_eq!(paris[0].postcodes.len(), 21);
    let names: Vec<String> = by_postcode("29590").into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "Le Faou",
            "Lopérec",
            "Rosnoën",
            "Saint-Ségal",
            "Pont-de-Buis-lès-Quimerch"
        ]
    );
    let ajaccio = by_postcode("20000");
    assert_eq!(ajaccio[0].insee, "2A004");
    assert_eq!(
        (
            ajaccio[0].department.code.as_str(),
            ajaccio[0].region.name.as_str()
        ),
        ("2A", "Corse")
    );
    let basse_terre = registry::communes_named("Basse-Terre");
    assert_eq!(basse_terre[0].department.code, "971");
    assert_eq!(basse_terre[0].region.name, "Guadeloupe");
    // The demo's locations are real places.
    for (postcode, city, region) in [
        ("22240", "Plurien", "Bretagne"),
        ("44430", "Le Loroux-Bottereau", "Pays de la Loire"),
        ("75011", "Paris", "Île-de-France"),
        ("41120", "Candé-sur-Beuvron", "Centre-Val de Loire"),
        ("56110", "Gourin", "Bretagne"),
    ] {
        let found = by_postcode(postcode);
        let c = found
            .iter()
            .find(|c| c.name == city)
            .unwrap_or_else(|| panic!("{city}: {found:?}"));
        assert_eq!(c.region.name, region);
    }
    // Name searches: exact names first, the largest first.
    let found = registry::offline_communes(&Query::City("saint denis".into()));
    let first: Vec<&str> = found.iter().take(3).map(|c| c.insee.as_str()).collect();
    assert_eq!(first, ["97411", "93066", "11339"], "{found:?}");
}

#[test]
fn lookup_works_offline_without_a_database_or_a_login() {
    let home = tempfile::tempdir().unwrap();
    let run = Shell::bare(home.path())
        .args([
            "--format",
            "csv",
            "-c",
            "lookup location 44430; lookup location 'le loroux bottereau'",
        ])
        .run()
        .status(0);
    let out = run.stdout();
    assert!(
        out.contains("Le Loroux-Bottereau,44084,44430,44 Loire-Atlantique,Pays de la Loire"),
        "{out}"
    );
    assert_eq!(run.stderr(), "", "OC12_OFFLINE=1: nothing to say");
}

#[test]
fn nobody_logged_in_is_an_auth_error_before_any_registry_is_asked() {
    let db = TestDb::demo();
    let stub = Stub::new(registries);
    let run = db
        .shell()
        .env_remove("OC12_OFFLINE")
        .env("OC12_COMPANY_API_URL", &stub.url)
        .env("OC12_GEO_API_URL", &stub.url)
        .args(["-c", "add company siren=356000000"])
        .run()
        .status(3);
    assert!(run.stderr().contains("error[auth]"), "{}", run.stderr());
    assert_eq!(stub.seen(), Vec::<String>::new());
}
