//! The command line of PRODUCT.md, defined once: parsing, `--help` and shell
//! completions all come from these types.

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::output::Format;

const EXAMPLES: &str = "\
Examples:
  oc12-shell                                   open the shell (the demo CRM by default)
  oc12-shell -c 'list contracts where status = signed and remain > 0'
  oc12-shell --format csv -c 'list events' > events.csv
  oc12-shell -f morning.oc12 --continue-on-error
  printf %s \"$PW\" | oc12-shell login aa123456789 --password-stdin
  oc12-shell init --admin-url postgresql://postgres@db.example/crm --first-manager ac123456789";

#[derive(Debug, Parser)]
#[command(
    name = "oc12-shell",
    version,
    about = "The CRM of Epic Events: an interactive shell over PostgreSQL",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    /// Run one statement (may repeat; run in order)
    #[arg(
        short = 'c',
        long = "command",
        value_name = "STATEMENT",
        value_hint = ValueHint::Other
    )]
    pub commands: Vec<String>,

    /// Run the statements of a file (may repeat; `-` is standard input)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<String>,

    /// `-c` and `-f` in the order they were given (filled by [`Cli::parse_args`]).
    #[arg(skip)]
    pub sources: Vec<Source>,

    /// Output format
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Commit the whole script or nothing of it
    #[arg(short = '1', long)]
    pub single_transaction: bool,

    /// Go on after a failing statement (the exit code is still 1)
    #[arg(long, conflicts_with = "single_transaction")]
    pub continue_on_error: bool,

    /// Print each statement before its result
    #[arg(long)]
    pub echo: bool,

    /// No colour (also: the NO_COLOR environment variable)
    #[arg(long)]
    pub no_color: bool,

    /// Never page results taller than the terminal (also: OC12_PAGER= set to nothing)
    #[arg(long)]
    pub no_pager: bool,
}

/// One `-c` statement or one `-f` file, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Command(String),
    File(String),
}

impl Cli {
    /// Parses the process's arguments (exiting on a usage error, as clap
    /// does), keeping the order of `-c` and `-f` among themselves.
    pub fn parse_args() -> Cli {
        Cli::parse_from_iter(std::env::args_os())
    }

    pub fn parse_from_iter<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches_from(args);
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let at = |id: &str| -> Vec<usize> {
            matches
                .indices_of(id)
                .map(Iterator::collect)
                .unwrap_or_default()
        };
        let mut sources: Vec<(usize, Source)> = at("commands")
            .into_iter()
            .zip(cli.run.commands.iter().cloned().map(Source::Command))
            .chain(
                at("files")
                    .into_iter()
                    .zip(cli.run.files.iter().cloned().map(Source::File)),
            )
            .collect();
        sources.sort_by_key(|(i, _)| *i);
        cli.run.sources = sources.into_iter().map(|(_, s)| s).collect();
        cli
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and keep a session token on this machine
    Login {
        /// Registration number (asked when missing)
        registration: Option<String>,
        /// Read the password from standard input instead of the terminal
        #[arg(long)]
        password_stdin: bool,
        /// Print the token (for OC12_JWT) instead of only saving it
        #[arg(long)]
        print_token: bool,
    },
    /// Forget the session token
    Logout,
    /// Who is logged in, and until when
    Whoami,
    /// Create or upgrade the CRM in a PostgreSQL database
    Init {
        /// A superuser, or a role with CREATEROLE and CREATEDB; the local cluster when absent
        #[arg(long, value_name = "URL")]
        admin_url: Option<String>,
        /// Load the demo data (Epic Events' sample company)
        #[arg(long)]
        demo: bool,
        /// Create the first gestion manager (the password is asked)
        #[arg(long, value_name = "REGISTRATION")]
        first_manager: Option<String>,
        /// How long one statement may run on the server, for every session (default 30s)
        #[arg(long, value_name = "DURATION")]
        statement_timeout: Option<String>,
    },
    /// The embedded local cluster under $OC12_HOME/pgdata
    Local {
        #[command(subcommand)]
        action: LocalAction,
    },
    /// Load generated data for the benchmarks (see BENCHMARKS.md)
    #[command(hide = true)]
    Generate {
        /// How many events (other tables in proportion)
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// The random seed: the same seed gives the same data
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// A superuser of the CRM's database; the local cluster when absent
        #[arg(long, value_name = "URL")]
        admin_url: Option<String>,
    },
    /// Print a completion script for a shell
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

#[derive(Debug, Subcommand)]
pub enum LocalAction {
    /// Start it (created with the demo CRM on first use)
    Start {
        /// Also listen on TCP, for a graphical tool (pgAdmin, DBeaver)
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// Stop it
    Stop,
    /// Where it is and whether it runs
    Status,
    /// Stop it and remove it with all its data (asks first)
    Destroy {
        /// Do not ask
        #[arg(long)]
        yes: bool,
    },
}

/// The shells `completions` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for clap_complete::Shell {
    fn from(s: CompletionShell) -> Self {
        match s {
            CompletionShell::Bash => clap_complete::Shell::Bash,
            CompletionShell::Zsh => clap_complete::Shell::Zsh,
            CompletionShell::Fish => clap_complete::Shell::Fish,
        }
    }
}
