//! The integration tests, in one binary: one build, one link, and one
//! private PostgreSQL cluster shared by every test (`support`), each test
//! with a CRM database of its own. A module per feature.

mod support;

mod constraints;
mod database_rules;
mod foundation;
mod fuzz_corpus;
mod history;
mod interactive;
mod language;
mod language_robustness;
mod layers;
mod monitoring;
mod monitoring_events;
mod output_cells;
mod passwords;
mod plans;
mod registry;
mod reliability_faults;
mod reliability_input;
mod reliability_load;
mod reliability_pgbouncer;
mod reliability_secrets;
mod reliability_signals;
mod role_isolation;
mod round_trips;
mod scale;
mod script_mode;
mod shell_permissions;
mod team_mode;
mod tls;
