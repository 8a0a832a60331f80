//! The binary's top level: parses the command line, runs the subcommand or
//! the shell, and turns the outcome into an exit code.

use std::io::Write;

use clap::CommandFactory;

use crate::config::{self, Config};
use crate::db::init::{self, InitOptions};
use crate::db::local::{self, LocalCluster, Status};
use crate::error::{Error, Result};
use crate::shell::cli::{Cli, Command, LocalAction};

/// Runs the program and returns its exit code.
pub fn main() -> i32 {
    let cli = Cli::parse_args();
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
            statement_timeout,
        }) => run_init(
            &config,
            admin_url.as_deref(),
            demo,
            first_manager.as_deref(),
            statement_timeout.as_deref(),
        ),
        Some(Command::Local { action }) => run_local(&config, action),
        Some(Command::Generate {
            events,
            seed,
            admin_url,
        }) => run_generate(&config, events, seed, admin_url),
        Some(Command::Completions { shell }) => {
            print!("{}", completion_script(shell.into()));
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
    statement_timeout: Option<&str>,
) -> Result<i32> {
    if let Some(t) = statement_timeout {
        check_timeout(t)?;
    }
    let Some(admin_url) = admin_url else {
        // The local cluster: created (with the demo CRM) on first use.
        let created = local::ensure(config)?.1;
        let cluster = LocalCluster::new(config.paths.pgdata());
        if !created {
            let report = init::init(&InitOptions {
                admin_url: &cluster.url(local::SUPERUSER, crate::db::DEFAULT_DATABASE),
                demo_hash: None,
                first_manager: None,
                statement_timeout: statement_timeout.map(str::to_owned),
                migrations: init::MIGRATIONS,
            })?;
            println!("{}", report.summary());
        }
        println!("the local cluster at {} is ready", cluster.pgdata.display());
        return Ok(0);
    };
    let demo_hash = demo
        .then(|| crate::auth::hash_password(crate::db::local::DEMO_PASSWORD))
        .transpose()?;
    let first_manager = match first_manager {
        Some(reg) => {
            let password = crate::terminal::read_new_password(&format!("password for {reg}"))?;
            Some((reg.to_owned(), crate::auth::hash_password(&password)?))
        }
        None => None,
    };
    let report = init::init(&InitOptions {
        admin_url,
        demo_hash,
        first_manager,
        statement_timeout: statement_timeout.map(str::to_owned),
        migrations: init::MIGRATIONS,
    })?;
    println!("{}", report.summary());
    config::update_config_file(&config.paths, &[(config::DATABASE_URL, &report.server_url)])?;
    println!(
        "\nEvery collaborator's machine needs this one setting (in its environment or in \
         $OC12_HOME/config.env), and nothing else:\n\n    OC12_DATABASE_URL={}\n\n\
         (saved in {}). It holds no password: each collaborator logs in with their own.",
        report.server_url,
        config.paths.config_file().display()
    );
    Ok(0)
}

/// The completion script of `shell`, without the hidden subcommands, and
/// (bash) with the function names clap_complete writes two ways for a
/// program name with a hyphen made one, so that subcommands complete.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    let mut cmd = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(shell, &mut cmd, "oc12-shell", &mut bytes);
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if shell == clap_complete::Shell::Bash {
        text = text.replace("oc12__subcmd__shell__", "oc12__shell__");
    }
    let hidden: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in hidden {
        text = text
            .lines()
            .filter(|l| {
                !l.contains(&format!("-a \"{name}\""))
                    && !l.trim_start().starts_with(&format!("'{name}:"))
            })
            .map(|l| {
                if l.trim_start().starts_with("opts=\"") {
                    l.replace(&format!(" {name} "), " ")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
    }
    text
}

/// A PostgreSQL duration as `statement_timeout` takes it: `30s`, `2min`,
/// `500ms`, `1h`, or `0` for none.
fn check_timeout(t: &str) -> Result<()> {
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[digits.len()..];
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !["", "ms", "s", "min", "h"].contains(&unit)
    {
        return Err(Error::usage(format!(
            "invalid --statement-timeout `{t}`: a number and a unit, like `30s`, `2min`, \
             `500ms` or `1h` (`0`: no limit)"
        )));
    }
    Ok(())
}

/// The benchmarks' data, into the given CRM or the local cluster's.
fn run_generate(config: &Config, events: u64, seed: u64, admin_url: Option<String>) -> Result<i32> {
    let admin_url = match admin_url {
        Some(u) => u,
        None => {
            local::ensure(config)?;
            LocalCluster::new(config.paths.pgdata())
                .url(local::SUPERUSER, crate::db::DEFAULT_DATABASE)
        }
    };
    let options = crate::db::generate::Options {
        events,
        seed,
        ..Default::default()
    };
    let report = crate::db::generate::generate(&admin_url, &options)?;
    println!("{}", report.summary());
    Ok(0)
}

fn run_local(config: &Config, action: LocalAction) -> Result<i32> {
    let cluster = LocalCluster::new(config.paths.pgdata());
    match action {
        LocalAction::Start { listen } => {
            let listen = listen.as_deref().map(parse_listen).transpose()?;
            local::ensure(config)?;
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
        LocalAction::Destroy { yes } => {
            if !cluster.exists() && cluster.pgdata.symlink_metadata().is_err() {
                println!("no local cluster at {}", cluster.pgdata.display());
                return Ok(0);
            }
            if !yes {
                if !crate::terminal::interactive() {
                    return Err(Error::usage(
                        "`local destroy` removes the local cluster and all its data: \
                         confirm with --yes when no terminal can ask",
                    ));
                }
                let answer = crate::terminal::ask(&format!(
                    "remove the local cluster at {} and all its data? [y/N] ",
                    cluster.pgdata.display()
                ))?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("kept the local cluster");
                    return Ok(0);
                }
            }
            let _lock = local::Lock::acquire(&config.paths.data)?;
            cluster.destroy()?;
            let _ = std::fs::remove_file(config.paths.data.join("pgdata.ready"));
            println!("removed the local cluster at {}", cluster.pgdata.display());
        }
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
