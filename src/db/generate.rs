//! A deterministic, seeded data generator for the benchmarks of
//! PERFORMANCE.md (and the scale tests): collaborators, locations,
//! companies, clients, contracts and events in realistic proportions,
//! loaded with COPY.
//!
//! Collaborators are registered through `crm.add_collaborator`, so their
//! roles exist and they can log in once given a password. The bulk tables
//! are loaded as the schema owner in one transaction, with the user
//! triggers (rules and audit) disabled and the foreign keys dropped and
//! added back afterwards (one validating join per key instead of one lookup
//! per row): the generated rows respect every rule anyway, which the
//! re-added keys and the untouched CHECK constraints verify. Generated rows
//! therefore leave no audit trail.
//!
//! Every generated id starts with `g` (`gev0000001`), collaborators with
//! `x` (`xs000000001`), so generated data never collides with the demo's.
//! The demo's collaborators (if present) get their share of the rows too:
//! `af123456789` supports many events.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use postgres::Client;

use crate::db::{self, quote_ident};
use crate::error::{Error, Result};

/// How much to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub events: u64,
    pub seed: u64,
    pub commercial: u32,
    pub gestion: u32,
    pub support: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            events: 1_000_000,
            seed: 42,
            commercial: 20,
            gestion: 10,
            support: 50,
        }
    }
}

/// What was loaded, and how long it took.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub collaborators: u64,
    pub locations: u64,
    pub companies: u64,
    pub clients: u64,
    pub contracts: u64,
    pub events: u64,
    /// Generating and loading (COPY, keys, commit).
    pub load: Duration,
    /// VACUUM ANALYZE afterwards.
    pub analyze: Duration,
    /// Where the load's time went.
    pub phases: Vec<(&'static str, Duration)>,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "generated {} collaborators, {} locations, {} companies, {} clients, {} contracts, \
             {} events in {:.1} s (+ {:.1} s VACUUM ANALYZE)",
            self.collaborators,
            self.locations,
            self.companies,
            self.clients,
            self.contracts,
            self.events,
            self.load.as_secs_f64(),
            self.analyze.as_secs_f64()
        ) + &self
            .phases
            .iter()
            .map(|(what, d)| format!("\n  {what}: {:.1} s", d.as_secs_f64()))
            .collect::<String>()
    }
}

/// The tables loaded with COPY, in dependency order.
const BULK_TABLES: [&str; 5] = ["location", "company", "client", "contract", "event"];

/// Generates into the CRM at `admin_url` (a superuser, or a role that may
/// become the CRM's owner).
pub fn generate(admin_url: &str, options: &Options) -> Result<Report> {
    let (config, tls) = crate::db::tls::configure(admin_url)?;
    let name = db::database_of(&config)
        .unwrap_or(db::DEFAULT_DATABASE)
        .to_owned();
    let roles = db::Roles::for_database(&name)?;
    let mut client = db::connect(&config, &tls)?;
    let started = Instant::now();
    let mut report = load(&mut client, &roles.owner(), options).map_err(|e| sql_error(&e))?;
    report.load = started.elapsed();
    let started = Instant::now();
    let tables: Vec<String> = BULK_TABLES.iter().map(|t| format!("crm.{t}")).collect();
    client
        .batch_execute(&format!(
            "VACUUM (ANALYZE) crm.collaborator, {}",
            tables.join(", ")
        ))
        .map_err(|e| sql_error(&e))?;
    report.analyze = started.elapsed();
    Ok(report)
}

fn sql_error(e: &postgres::Error) -> Error {
    let detail = e.as_db_error().map_or_else(
        || e.to_string(),
        |d| format!("{} ({:?})", d.message(), d.detail()),
    );
    Error::internal(format!("generating the data failed: {detail}"))
}

fn load(
    client: &mut Client,
    owner: &str,
    options: &Options,
) -> std::result::Result<Report, postgres::Error> {
    let mut rng = Rng::new(options.seed);
    let t0 = Instant::now();
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "SET LOCAL ROLE {}; SET LOCAL timezone = 'Europe/Paris'",
        quote_ident(owner)
    ))?;

    // Collaborators, through the function that also creates their roles.
    let mut report = Report::default();
    let mut by_department: Vec<(&str, Vec<String>)> = Vec::new();
    for (dept, letter, count) in [
        ("commercial", 'c', options.commercial),
        ("gestion", 'g', options.gestion),
        ("support", 's', options.support),
    ] {
        for i in 1..=count {
            let id = format!("x{letter}{i:09}");
            tx.execute(
                "SELECT crm.add_collaborator($1, $2, $3, $4, 'employee', NULL)",
                &[
                    &id,
                    &format!(
                        "{} {}",
                        pick(&mut rng, FIRST_NAMES),
                        pick(&mut rng, LAST_NAMES)
                    ),
                    &format!("{id}@epic-events.example"),
                    &dept,
                ],
            )?;
            report.collaborators += 1;
        }
        let ids: Vec<String> = tx
            .query(
                "SELECT id FROM crm.collaborator WHERE department = $1 ORDER BY id",
                &[&dept],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        by_department.push((dept, ids));
    }
    let commercials = &by_department[0].1;
    let supports = &by_department[2].1;

    // Foreign keys of the bulk tables: dropped, added back after the load.
    let keys: Vec<(String, String, String)> = tx
        .query(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
             FROM pg_constraint c
             WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1)
             ORDER BY c.conrelid::regclass::text, c.conname",
            &[&BULK_TABLES
                .iter()
                .map(|t| format!("crm.{t}"))
                .collect::<Vec<_>>()],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // Secondary indexes (not those behind a constraint): built once at
    // the end, by sorting, instead of grown row by row.
    let indexes: Vec<(String, String)> = tx
        .query(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
             WHERE i.indrelid::regclass::text = ANY($1)
               AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
             ORDER BY 1",
            &[&BULK_TABLES
                .iter()
                .map(|t| format!("crm.{t}"))
                .collect::<Vec<_>>()],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut ddl = String::from("SET LOCAL maintenance_work_mem = '256MB';");
    for (index, _) in &indexes {
        let _ = write!(ddl, "DROP INDEX {index};");
    }
    for (table, name, _) in &keys {
        let _ = write!(
            ddl,
            "ALTER TABLE {table} DROP CONSTRAINT {};",
            quote_ident(name)
        );
    }
    for t in BULK_TABLES {
        let _ = write!(ddl, "ALTER TABLE crm.{t} DISABLE TRIGGER USER;");
    }
    tx.batch_execute(&ddl)?;

    let n = options.events.max(1);
    let locations = (n / 200).max(10);
    let companies = (n / 200).max(10);
    let clients = (n / 20).max(10);
    let contracts = (n / 4).max(10);

    // Locations.
    let mut buf = String::with_capacity(1 << 20);
    for i in 1..=locations {
        let (city, region, postcode) = CITIES[rng.below(CITIES.len() as u64) as usize];
        let _ = writeln!(
            buf,
            "glo{i:07}\t{} {} {}\t{}\t{postcode}\t{city}\t{region}",
            1 + rng.below(120),
            pick(&mut rng, STREET_KINDS),
            pick(&mut rng, LAST_NAMES),
            if rng.chance(30) {
                format!("Bâtiment {}", (b'A' + rng.below(6) as u8) as char)
            } else {
                "\\N".to_owned()
            },
        );
    }
    report.locations = copy(
        &mut tx,
        "COPY crm.location (id, address, complement, postcode, city, region) FROM STDIN",
        &mut buf,
    )?;

    // Companies: SIREN numbers with their Luhn digit, unique by construction.
    for i in 1..=companies {
        let _ = writeln!(
            buf,
            "gco{i:07}\t{} {}\t{}\t{:02}.{:02}{}\tglo{:07}",
            pick(&mut rng, LAST_NAMES),
            pick(&mut rng, COMPANY_KINDS),
            siren(10_000_000 + i),
            10 + rng.below(80),
            rng.below(100),
            (b'A' + rng.below(26) as u8) as char,
            1 + rng.below(locations),
        );
    }
    report.companies = copy(
        &mut tx,
        "COPY crm.company (id, name, siren, activity, location) FROM STDIN",
        &mut buf,
    )?;

    // Clients: most in a company, nearly all with a commercial.
    let day = 86_400i64;
    let epoch_2016 = 1_451_606_400i64; // 2016-01-01 00:00 UTC
    let ten_years = 3_653 * day;
    for i in 1..=clients {
        let first = pick(&mut rng, FIRST_NAMES);
        let last = pick(&mut rng, LAST_NAMES);
        let company = if rng.chance(90) {
            format!("gco{:07}", 1 + rng.below(companies))
        } else {
            "\\N".to_owned()
        };
        let commercial = if rng.chance(97) && !commercials.is_empty() {
            commercials[rng.below(commercials.len() as u64) as usize].as_str()
        } else {
            "\\N"
        };
        let created = timestamp(epoch_2016 + rng.below(ten_years as u64) as i64);
        let _ = writeln!(
            buf,
            "gcl{i:07}\t{first} {last}\t{}.{}{i}@example.com\t06 {:02} {:02} {:02} {:02}\t{company}\t{}\t{commercial}\t{created}\t{created}",
            ascii(first),
            ascii(last),
            rng.below(100),
            rng.below(100),
            rng.below(100),
            rng.below(100),
            pick(&mut rng, JOBS),
        );
    }
    report.clients = copy(
        &mut tx,
        "COPY crm.client (id, name, email, phone, company, job, commercial, created, updated) FROM STDIN",
        &mut buf,
    )?;

    // Contracts: 80 % signed (the events' contracts), 15 % unsigned, 5 %
    // canceled.
    let mut signed: Vec<u32> = Vec::with_capacity(contracts as usize);
    for i in 1..=contracts {
        let roll = rng.below(100);
        let status = match roll {
            0..80 => "signed",
            80..95 => "unsigned",
            _ => "canceled",
        };
        let total_cents = 10_000 + rng.below(5_000_000);
        let remain_cents = if status == "signed" && rng.chance(60) {
            0
        } else {
            rng.below(total_cents + 1)
        };
        let created_at = epoch_2016 + rng.below(ten_years as u64) as i64;
        let signed_at = if status == "signed" {
            signed.push(i as u32);
            timestamp(created_at + rng.below(30 * day as u64) as i64)
        } else {
            "\\N".to_owned()
        };
        let _ = writeln!(
            buf,
            "gct{i:07}\tgcl{:07}\t{}.{:02}\t{}.{:02}\t{status}\t{}\t{signed_at}",
            1 + rng.below(clients),
            total_cents / 100,
            total_cents % 100,
            remain_cents / 100,
            remain_cents % 100,
            timestamp(created_at),
        );
    }
    report.contracts = copy(
        &mut tx,
        "COPY crm.contract (id, client, total, remain, status, created, signed_at) FROM STDIN",
        &mut buf,
    )?;

    // Events: on signed contracts, 10 % without support, starting between
    // 2016 and 2025 in daytime hours, lasting 2 to 48 hours.
    report
        .phases
        .push(("collaborators to contracts", t0.elapsed()));
    let t0 = Instant::now();
    let mut w = tx.copy_in(
        "COPY crm.event (id, title, contract, support, start_at, end_at, location, attendees, notes) FROM STDIN",
    )?;
    for i in 1..=n {
        let support = if rng.chance(90) && !supports.is_empty() {
            supports[rng.below(supports.len() as u64) as usize].as_str()
        } else {
            "\\N"
        };
        let start = epoch_2016 + rng.below(3_653) as i64 * day + (8 + rng.below(12) as i64) * 3600;
        let end = start + (2 + rng.below(47) as i64) * 3600;
        let location = if rng.chance(80) {
            format!("glo{:07}", 1 + rng.below(locations))
        } else {
            "\\N".to_owned()
        };
        let notes = if rng.chance(50) {
            pick(&mut rng, NOTES)
        } else {
            "\\N"
        };
        let _ = writeln!(
            buf,
            "gev{i:07}\t{} {} {}\tgct{:07}\t{support}\t{}\t{}\t{location}\t{}\t{notes}",
            pick(&mut rng, EVENT_KINDS),
            pick(&mut rng, LAST_NAMES),
            2016 + (start - epoch_2016) / (365 * day),
            signed[rng.below(signed.len() as u64) as usize],
            timestamp(start),
            timestamp(end),
            rng.below(500),
        );
        if buf.len() > 1 << 20 {
            if w.write_all(buf.as_bytes()).is_err() {
                break;
            }
            buf.clear();
        }
    }
    // A failed write shows as the error of finish().
    let _ = w.write_all(buf.as_bytes());
    buf.clear();
    report.events = w.finish()?;
    report.phases.push(("events", t0.elapsed()));

    let t0 = Instant::now();
    let mut ddl = String::new();
    for (_, def) in &indexes {
        let _ = write!(ddl, "{def};");
    }
    tx.batch_execute(&ddl)?;
    report.phases.push(("indexes", t0.elapsed()));
    let t0 = Instant::now();
    let mut ddl = String::new();
    for t in BULK_TABLES {
        let _ = write!(ddl, "ALTER TABLE crm.{t} ENABLE TRIGGER USER;");
    }
    for (table, name, def) in &keys {
        let _ = write!(
            ddl,
            "ALTER TABLE {table} ADD CONSTRAINT {} {def};",
            quote_ident(name)
        );
    }
    tx.batch_execute(&ddl)?;
    report.phases.push(("foreign keys", t0.elapsed()));
    let t0 = Instant::now();
    tx.commit()?;
    report.phases.push(("commit", t0.elapsed()));
    Ok(report)
}

/// Sends `buf` (COPY text format) and empties it; returns the rows loaded.
fn copy(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
    buf: &mut String,
) -> std::result::Result<u64, postgres::Error> {
    let mut w = tx.copy_in(sql)?;
    // The writer buffers; errors come back from finish().
    let _ = w.write_all(buf.as_bytes());
    buf.clear();
    w.finish()
}

/// UTC seconds → a timestamptz literal.
fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("in range")
        .format("%Y-%m-%d %H:%M:%S+00")
        .to_string()
}

/// Nine digits whose last one makes the Luhn checksum valid.
fn siren(base: u64) -> String {
    let digits = format!("{:08}", base % 100_000_000);
    let check = crate::language::lookup::luhn_check_digit(&digits);
    format!("{digits}{check}")
}

/// A name for an email address: ASCII letters only.
fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ë' => Some('e'),
            'ï' => Some('i'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len() as u64) as usize]
}

/// SplitMix64: tiny, fast and the same on every platform and release, so a
/// seed always gives the same data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST_NAMES: &[&str] = &[
    "Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules",
    "Karim", "Léa", "Manon", "Nathan", "Océane", "Paul", "Quentin", "Rose", "Sarah", "Théo",
    "Ursula", "Victor", "Wassim", "Yasmine", "Zoé",
];
const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Faure", "André", "Mercier",
];
const STREET_KINDS: &[&str] = &["rue", "avenue", "boulevard", "place", "allée", "quai"];
const COMPANY_KINDS: &[&str] = &["SA", "SARL", "SAS", "Events", "Conseil", "Industries"];
const JOBS: &[&str] = &[
    "Assistant",
    "Directrice commerciale",
    "Chef de projet",
    "Office manager",
    "Responsable RH",
    "Ingénieur",
];
const EVENT_KINDS: &[&str] = &[
    "Séminaire",
    "Soirée",
    "Lancement",
    "Conférence",
    "Mariage",
    "Escape game",
    "Gala",
    "Salon",
];
const NOTES: &[&str] = &[
    "Penser au catering.",
    "Prévoir un vestiaire.",
    "Accès PMR demandé.",
    "Sonorisation fournie par le client.",
    "Parking réservé pour les intervenants.",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Paris", "Ile de France", "75011"),
    ("Lyon", "Auvergne-Rhône-Alpes", "69002"),
    ("Nantes", "Pays de la Loire", "44000"),
    ("Rennes", "Bretagne", "35000"),
    ("Bordeaux", "Nouvelle-Aquitaine", "33000"),
    ("Lille", "Hauts-de-France", "59000"),
    ("Marseille", "Provence-Alpes-Côte d'Azur", "13001"),
    ("Strasbourg", "Grand Est", "67000"),
    ("Gourin", "Bretagne", "56110"),
    ("Toulouse", "Occitanie", "31000"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sirens_pass_luhn() {
        for base in [10_000_001, 10_000_002, 12_345_678, 99_999_999] {
            let s = siren(base);
            assert_eq!(s.len(), 9);
            assert!(crate::language::lookup::siren_ok(&s), "{s}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..10).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..10).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| *x < 1000));
    }
}
