//! The binary's top level: parses the command line, runs the subcommand or
//! the shell, and turns the outcome into an exit code.

use std::io::Write;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, LocalAction};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::init::{self, InitOptions};
use crate::local::{self, LocalCluster, Status};

/// Runs the program and returns its exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", e.render("", None));
            e.kind.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let config = Config::load()?;
    // Flushed (within a bounded time) when it drops, at the end of the run.
    let _monitoring = crate::monitoring::init(&config);
    match cli.command {
        Some(Command::Init {
            admin_url,
            demo,
            first_manager,
        }) => run_init(
            &config,
            admin_url.as_deref(),
            demo,
            first_manager.as_deref(),
        ),
        Some(Command::Local { action }) => run_local(&config, action),
        Some(Command::Generate {
            events,
            seed,
            admin_url,
        }) => run_generate(&config, events, seed, admin_url),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            let shell: clap_complete::Shell = shell.into();
            clap_complete::generate(shell, &mut cmd, "oc12-shell", &mut std::io::stdout());
            Ok(0)
        }
        Some(command) => crate::shell::run_command(&config, command),
        None => crate::shell::run_shell(&config, &cli.run),
    }
}

fn run_init(
    config: &Config,
    admin_url: Option<&str>,
    demo: bool,
    first_manager: Option<&str>,
) -> Result<i32> {
    let Some(admin_url) = admin_url else {
        // The local cluster: created (with the demo CRM) on first use.
        let created = ensure_local(config)?.1;
        let cluster = LocalCluster::new(config.paths.pgdata());
        if !created {
            let report = init::init(&InitOptions {
                admin_url: &cluster.url(local::SUPERUSER, crate::db::DEFAULT_DATABASE),
                demo_hash: None,
                first_manager: None,
                app_password: Some(String::new()),
                migrations: init::MIGRATIONS,
            })?;
            println!("{}", report.summary());
        }
        println!("the local cluster at {} is ready", cluster.pgdata.display());
        return Ok(0);
    };
    let known = config
        .database_url()
        .and_then(|u| crate::db::parse_url(u).ok())
        .and_then(|c| {
            c.get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned())
        });
    let demo_hash = demo
        .then(|| crate::auth::hash_password(crate::local::DEMO_PASSWORD))
        .transpose()?;
    let first_manager = match first_manager {
        Some(reg) => {
            let password = crate::prompt::read_new_password(&format!("password for {reg}"))?;
            Some((reg.to_owned(), crate::auth::hash_password(&password)?))
        }
        None => None,
    };
    let report = init::init(&InitOptions {
        admin_url,
        demo_hash,
        first_manager,
        app_password: known,
        migrations: init::MIGRATIONS,
    })?;
    println!("{}", report.summary());
    let mut updates = vec![(config::DATABASE_URL, report.app_url.as_str())];
    let key;
    if config.secret_key().is_none() {
        key = init::random_token(48);
        updates.push((config::SECRET_KEY, key.as_str()));
    }
    config::update_config_file(&config.paths, &updates)?;
    println!(
        "OC12_DATABASE_URL={}\n(saved with a secret key in {})",
        report.app_url,
        config.paths.config_file().display()
    );
    Ok(0)
}

/// The benchmarks' data, into the given CRM or the local cluster's.
fn run_generate(config: &Config, events: u64, seed: u64, admin_url: Option<String>) -> Result<i32> {
    let admin_url = match admin_url {
        Some(u) => u,
        None => {
            ensure_local(config)?;
            LocalCluster::new(config.paths.pgdata())
                .url(local::SUPERUSER, crate::db::DEFAULT_DATABASE)
        }
    };
    let options = crate::generate::Options {
        events,
        seed,
        ..Default::default()
    };
    let report = crate::generate::generate(&admin_url, &options)?;
    println!("{}", report.summary());
    Ok(0)
}

fn run_local(config: &Config, action: LocalAction) -> Result<i32> {
    let cluster = LocalCluster::new(config.paths.pgdata());
    match action {
        LocalAction::Start { listen } => {
            let listen = listen.as_deref().map(parse_listen).transpose()?;
            ensure_local(config)?;
            if let Some((addr, port)) = &listen {
                cluster.start(Some((addr.as_str(), *port)))?;
                println!(
                    "listening on {addr}:{port}: connect a graphical tool as user `{}` with the \
                     password OC12_LOCAL_ADMIN_PASSWORD of {}",
                    local::SUPERUSER,
                    config.paths.config_file().display()
                );
            }
            print_status(&cluster);
        }
        LocalAction::Stop => {
            cluster.stop()?;
            print_status(&cluster);
        }
        LocalAction::Status => print_status(&cluster),
    }
    Ok(0)
}

fn print_status(cluster: &LocalCluster) {
    let at = cluster.pgdata.display();
    let line = match cluster.status() {
        Status::Absent => format!("no local cluster at {at} (it is created on first use)"),
        Status::Stopped => format!("local cluster at {at}: stopped"),
        Status::Running { pid, port, listen } => {
            let tcp = if listen.is_empty() {
                "socket only".to_owned()
            } else {
                format!("also on {listen}:{port}")
            };
            format!("local cluster at {at}: running (pid {pid}, {tcp})")
        }
    };
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn parse_listen(s: &str) -> Result<(String, u16)> {
    let (addr, port) = s.rsplit_once(':').ok_or_else(|| {
        Error::usage(format!(
            "--listen takes ADDR:PORT, e.g. 127.0.0.1:5433, not `{s}`"
        ))
    })?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::usage(format!("`{port}` is not a port number")))?;
    addr.parse::<std::net::IpAddr>()
        .map_err(|_| Error::usage(format!("`{addr}` is not an IP address")))?;
    Ok((addr.to_owned(), port))
}

/// The database URL to use: `OC12_DATABASE_URL`, or the local cluster,
/// created with the demo CRM on first use and started when it is down.
pub fn database_url(config: &Config) -> Result<String> {
    match config.database_url() {
        Some(url) => Ok(url.to_owned()),
        None => ensure_local(config).map(|(url, _)| url),
    }
}

/// Makes sure the local cluster exists, holds the CRM and runs; returns the
/// application role's URL and whether it was created just now.
pub fn ensure_local(config: &Config) -> Result<(String, bool)> {
    // One folder for everything (OC12_HOME) is the token's folder, which
    // is kept private: the server could not go through it.
    let cluster = LocalCluster::new(config.paths.pgdata())
        .with_private_parent(config.paths.data == config.paths.state);
    let app_url = || {
        let roles = crate::db::Roles::for_database(crate::db::DEFAULT_DATABASE)?;
        Ok(cluster.url(&roles.app(), crate::db::DEFAULT_DATABASE))
    };
    let ready = config.paths.data.join("pgdata.ready");
    if matches!(cluster.status(), Status::Running { .. }) && ready.exists() {
        return Ok((app_url()?, false));
    }
    let _lock = local::Lock::acquire(&config.paths.data)?;
    let mut created = false;
    if !cluster.exists() || !ready.exists() {
        if cluster.exists() {
            // A cluster without its configuration was never finished.
            cluster.stop()?;
            std::fs::remove_dir_all(cluster.socket_dir())
                .map_err(|e| config::io_error(&cluster.pgdata, e))?;
            let _ = std::fs::remove_file(&cluster.pgdata);
        }
        create_local(config, &cluster)?;
        std::fs::write(&ready, "").map_err(|e| config::io_error(&ready, e))?;
        created = true;
    }
    cluster.start(None)?;
    Ok((app_url()?, created))
}

fn create_local(config: &Config, cluster: &LocalCluster) -> Result<()> {
    let admin_password = init::random_token(24);
    eprintln!(
        "creating the local cluster with the demo CRM in {}...",
        cluster.pgdata.display()
    );
    cluster.create(&local::CreateOptions {
        admin_password: Some(admin_password.clone()),
        no_fsync: false,
    })?;
    cluster.start(None)?;
    let hash = crate::auth::hash_password(local::DEMO_PASSWORD)?;
    let result = init::init(&InitOptions {
        admin_url: &cluster.url(local::SUPERUSER, crate::db::DEFAULT_DATABASE),
        demo_hash: Some(hash),
        first_manager: None,
        app_password: None,
        migrations: init::MIGRATIONS,
    });
    if let Err(e) = result {
        cluster.stop_immediately();
        let _ = std::fs::remove_dir_all(cluster.socket_dir());
        let _ = std::fs::remove_file(&cluster.pgdata);
        return Err(e);
    }
    let key = config
        .secret_key()
        .map_or_else(|| init::random_token(48), str::to_owned);
    config::update_config_file(
        &config.paths,
        &[
            (config::LOCAL_ADMIN_PASSWORD, admin_password.as_str()),
            (config::SECRET_KEY, key.as_str()),
        ],
    )
}
