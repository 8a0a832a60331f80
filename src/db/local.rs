//! The embedded default: a private PostgreSQL cluster under
//! `$OC12_HOME/pgdata`, listening on a Unix socket inside it, started on
//! demand with the machine's own server binaries.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::config::{self, Config, create_private_dir, io_error};
use crate::db::init::{self, InitOptions};
use crate::error::{Error, Result};

/// The OS user PostgreSQL runs as when we are root (it refuses to run as root).
const POSTGRES_USER: &str = "postgres";
/// The superuser name inside the cluster, whoever runs it.
pub const SUPERUSER: &str = "postgres";
/// The password of the seven demo collaborators (DATA.md).
pub const DEMO_PASSWORD: &str = "@pplepie94";
const DEFAULT_PORT: u16 = 5432;
/// Where the cluster lives when we are root and the postgres user cannot
/// reach `$OC12_HOME` (root's home is 0700).
const ROOT_FALLBACK_DIR: &str = "/var/lib/oc12-shell";

/// What `local status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No cluster has been created yet.
    Absent,
    Stopped,
    Running {
        pid: u32,
        port: u16,
        listen: String,
    },
}

#[derive(Debug, Clone)]
pub struct LocalCluster {
    /// `$OC12_HOME/pgdata`: the data directory or a link to it.
    pub pgdata: PathBuf,
    bindir: Option<PathBuf>,
    as_postgres: bool,
    /// The folder holding `pgdata` is kept private (mode 0700: it holds the
    /// token too), so another OS user cannot be let through it for long.
    private_parent: bool,
}

/// Options for a fresh cluster.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The superuser's password (for TCP access by a graphical tool).
    pub admin_password: Option<String>,
    /// Throwaway clusters (tests) skip fsync: much faster, never for real data.
    pub no_fsync: bool,
}

impl LocalCluster {
    pub fn new(pgdata: PathBuf) -> LocalCluster {
        LocalCluster {
            pgdata,
            bindir: find_bindir(),
            as_postgres: is_root(),
            private_parent: false,
        }
    }

    /// Says that the folder holding `pgdata` is kept private by the shell:
    /// a server running as another user then keeps its data elsewhere.
    pub fn with_private_parent(mut self, private: bool) -> LocalCluster {
        self.private_parent = private;
        self
    }

    /// The directory of the server's socket (and its data).
    pub fn socket_dir(&self) -> PathBuf {
        fs::canonicalize(&self.pgdata).unwrap_or_else(|_| self.pgdata.clone())
    }

    fn bindir(&self) -> Result<&Path> {
        self.bindir.as_deref().ok_or_else(missing_binaries)
    }

    pub fn exists(&self) -> bool {
        self.pgdata.join("PG_VERSION").exists()
    }

    pub fn status(&self) -> Status {
        if !self.exists() {
            return Status::Absent;
        }
        match read_pid_file(&self.pgdata) {
            Some(p) if process_alive(p.pid) => Status::Running {
                pid: p.pid,
                port: p.port,
                listen: p.listen,
            },
            _ => Status::Stopped,
        }
    }

    /// The port the server listens on (its socket file is named after it).
    pub fn port(&self) -> u16 {
        match self.status() {
            Status::Running { port, .. } => port,
            _ => DEFAULT_PORT,
        }
    }

    /// A connection URL for `user` over the cluster's socket.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!(
            "postgresql://{user}@/{database}?host={}&port={}",
            self.socket_dir().display(),
            self.port()
        )
    }

    /// The cluster's address for collaborators: its socket, no user.
    pub fn address(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&port={}",
            self.socket_dir().display(),
            self.port()
        )
    }

    /// `pg_hba.conf`: the superuser (the machine's owner, through the
    /// private socket) is trusted; every other role, sessions included,
    /// proves its password (SCRAM), so that PostgreSQL enforces a session's
    /// expiry and revocation here as on any server. Read at the next start.
    pub fn write_access_rules(&self) -> Result<()> {
        let data = self.socket_dir();
        let rules = format!(
            "# oc12-shell: the superuser through the private socket; everyone else by password.\n\
             local all {SUPERUSER} trust\n\
             local all all scram-sha-256\n\
             host all all 127.0.0.1/32 scram-sha-256\n\
             host all all ::1/128 scram-sha-256\n"
        );
        // Rewritten in place, so that it keeps its owner (the server's).
        fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(data.join("pg_hba.conf"))
            .and_then(|mut f| f.write_all(rules.as_bytes()))
            .map_err(|e| io_error(&data, e))
    }

    /// Runs `initdb`. The caller holds the lock.
    pub fn create(&self, options: &CreateOptions) -> Result<()> {
        let bindir = self.bindir()?.to_path_buf();
        let data = self.prepare_data_dir()?;
        // What a killed creation left: initdb wants an empty folder.
        clear_dir(&data)?;
        let mut args: Vec<String> = vec![
            "-D".into(),
            data.display().to_string(),
            "-U".into(),
            SUPERUSER.into(),
            "-E".into(),
            "UTF8".into(),
            "--auth-local=trust".into(),
            "--auth-host=scram-sha-256".into(),
        ];
        if options.no_fsync {
            args.push("--no-sync".into());
        }
        let pwfile = match &options.admin_password {
            Some(pw) => {
                let f = data.with_extension("pw");
                write_private(&f, pw)?;
                self.give_to_postgres(&f)?;
                args.push(format!("--pwfile={}", f.display()));
                Some(f)
            }
            None => None,
        };
        // C.UTF-8 gives byte order (prefix LIKE can use plain indexes) and
        // still lower-cases accented letters; not every system has it.
        let mut with_locale = args.clone();
        with_locale.push("--locale=C.UTF-8".into());
        let out = match self.run(&bindir.join("initdb"), &with_locale) {
            Ok(o) if o.status.success() => Ok(o),
            _ => clear_dir(&data).and_then(|()| {
                args.push("--no-locale".into());
                self.run(&bindir.join("initdb"), &args)
            }),
        };
        // Whatever happened, the password file goes.
        if let Some(f) = pwfile {
            let _ = fs::remove_file(f);
        }
        let out = out?;
        if !out.status.success() {
            return Err(Error::internal(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut conf = format!(
            "\n# oc12-shell: a private cluster, reachable only through its own socket.\n\
             listen_addresses = ''\nunix_socket_directories = '{}'\nport = {DEFAULT_PORT}\n\
             timezone = 'Europe/Paris'\n",
            data.display()
        );
        if options.no_fsync {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(|e| io_error(&data, e))?;
        self.write_access_rules()
    }

    /// Starts the server if it is not running; harmless when it is.
    /// `listen` adds a TCP address (`127.0.0.1:5433`) for graphical tools.
    pub fn start(&self, listen: Option<(&str, u16)>) -> Result<()> {
        if !self.exists() {
            return Err(Error::usage(format!(
                "no local cluster at {}",
                self.pgdata.display()
            )));
        }
        if let Status::Running {
            listen: now, port, ..
        } = self.status()
        {
            match listen {
                Some((addr, p)) if (addr, p) != (now.as_str(), port) => self.stop()?,
                _ => return Ok(()),
            }
        }
        let bindir = self.bindir()?.to_path_buf();
        let data = self.socket_dir();
        let mut opts = String::new();
        if let Some((addr, port)) = listen {
            opts = format!("-c listen_addresses={addr} -p {port}");
        }
        let log = data.join("server.log");
        let mut args = vec![
            "start".to_owned(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-D".into(),
            data.display().to_string(),
            "-l".into(),
            log.display().to_string(),
        ];
        if !opts.is_empty() {
            args.extend(["-o".into(), opts]);
        }
        let out = self.run(&bindir.join("pg_ctl"), &args)?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log)
                .map(|s| s.lines().rev().take(3).collect::<Vec<_>>().join(" | "))
                .unwrap_or_default();
            return Err(Error::connection(format!(
                "the local cluster at {} did not start: {} {tail}",
                self.pgdata.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Stops the server (fast shutdown: sessions are ended, data is safe).
    pub fn stop(&self) -> Result<()> {
        if !matches!(self.status(), Status::Running { .. }) {
            return Ok(());
        }
        let bindir = self.bindir()?.to_path_buf();
        let data = self.socket_dir().display().to_string();
        let out = self.run(
            &bindir.join("pg_ctl"),
            &["stop", "-w", "-m", "fast", "-D", &data],
        )?;
        if !out.status.success() && matches!(self.status(), Status::Running { .. }) {
            return Err(Error::internal(format!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Stops the server at once (tests tearing down a throwaway cluster).
    pub fn stop_immediately(&self) {
        if let (Ok(bindir), Status::Running { .. }) = (self.bindir(), self.status()) {
            let data = self.socket_dir().display().to_string();
            let _ = self.run(
                &bindir.join("pg_ctl"),
                &["stop", "-w", "-m", "immediate", "-D", &data],
            );
        }
    }

    /// Stops the server at once and removes the cluster: its data folder,
    /// wherever it lives (the one behind `pgdata` when that is a link into
    /// the fallback folder), and the link. Harmless when there is none.
    pub fn destroy(&self) -> Result<()> {
        self.stop_immediately();
        match fs::read_link(&self.pgdata) {
            Ok(target) => {
                let target = if target.is_absolute() {
                    target
                } else {
                    self.pgdata.parent().unwrap_or(Path::new("/")).join(target)
                };
                remove_tree(&target)?;
                fs::remove_file(&self.pgdata).map_err(|e| io_error(&self.pgdata, e))
            }
            Err(_) => remove_tree(&self.pgdata),
        }
    }

    /// Makes the data directory, owned by whoever will run the server, and
    /// returns its real path.
    fn prepare_data_dir(&self) -> Result<PathBuf> {
        let parent = self.pgdata.parent().unwrap_or(Path::new("/"));
        create_private_dir(parent)?;
        if !self.as_postgres {
            create_private_dir(&self.pgdata)?;
            return Ok(self.pgdata.clone());
        }
        let postgres = postgres_ids()?;
        let data = if !self.private_parent && reachable_by_others(parent) {
            // The postgres user must be able to enter the folders above.
            allow_traverse(parent)?;
            self.pgdata.clone()
        } else {
            let base = Path::new(ROOT_FALLBACK_DIR);
            fs::create_dir_all(base).map_err(|e| io_error(base, e))?;
            let real = base.join(format!("{:016x}", fnv1a(parent.as_os_str())));
            if self.pgdata.symlink_metadata().is_err() {
                std::os::unix::fs::symlink(&real, &self.pgdata)
                    .map_err(|e| io_error(&self.pgdata, e))?;
            }
            real
        };
        fs::create_dir_all(&data).map_err(|e| io_error(&data, e))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error(&data, e))?;
        std::os::unix::fs::chown(&data, Some(postgres.0), Some(postgres.1))
            .map_err(|e| io_error(&data, e))?;
        Ok(data)
    }

    fn give_to_postgres(&self, path: &Path) -> Result<()> {
        if self.as_postgres {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| io_error(path, e))?;
        }
        Ok(())
    }

    /// Runs a server program, as the postgres user when we are root.
    fn run<S: AsRef<OsStr>>(&self, program: &Path, args: &[S]) -> Result<Output> {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", POSTGRES_USER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args)
            .stdin(Stdio::null())
            // pg_ctl's server inherits stdout: keep it off our pipes.
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .current_dir("/")
            .env_remove("PGDATA")
            .env("LC_MESSAGES", "C");
        cmd.output()
            .map_err(|e| Error::internal(format!("cannot run {}: {e}", program.display())))
    }
}

/// Makes sure the local cluster exists, holds the CRM (with every
/// migration of the binary) and runs; returns its address (no user:
/// sessions log in) and whether it was created just now.
pub fn ensure(config: &Config) -> Result<(String, bool)> {
    // One folder for everything (OC12_HOME) is the token's folder, which
    // is kept private: the server could not go through it.
    let cluster = LocalCluster::new(config.paths.pgdata())
        .with_private_parent(config.paths.data == config.paths.state);
    let address = || cluster.address(crate::db::DEFAULT_DATABASE);
    let ready = config.paths.data.join("pgdata.ready");
    // Every migration's name, not only the last one's: a migration that
    // lands with a number below the last (two made side by side) still
    // brings the cluster up to date.
    let latest = init::MIGRATIONS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join("\n");
    let is_current = || std::fs::read_to_string(&ready).is_ok_and(|s| s.trim() == latest);
    if matches!(cluster.status(), Status::Running { .. }) && is_current() {
        return Ok((address(), false));
    }
    let _lock = Lock::acquire(&config.paths.data)?;
    let mut created = false;
    if !cluster.exists() || !ready.exists() {
        if cluster.exists() {
            // A cluster without its configuration was never finished.
            cluster.stop()?;
            std::fs::remove_dir_all(cluster.socket_dir())
                .map_err(|e| io_error(&cluster.pgdata, e))?;
            let _ = std::fs::remove_file(&cluster.pgdata);
        }
        create_local(config, &cluster)?;
        created = true;
    } else if !is_current() {
        // Made by an older version: its access rules and migrations are
        // brought up to date.
        cluster.write_access_rules()?;
        cluster.stop()?;
        cluster.start(None)?;
        let report = init::init(&InitOptions {
            admin_url: &cluster.url(SUPERUSER, crate::db::DEFAULT_DATABASE),
            migrations: init::MIGRATIONS,
            ..Default::default()
        })?;
        if report.changed_anything() {
            eprintln!("{}", report.summary());
        }
    }
    crate::fs::write_private_file(&ready, latest.as_bytes()).map_err(|e| io_error(&ready, e))?;
    cluster.start(None)?;
    Ok((address(), created))
}

fn create_local(config: &Config, cluster: &LocalCluster) -> Result<()> {
    let admin_password = crate::auth::random_text(24);
    eprintln!(
        "creating the local cluster with the demo CRM in {}...",
        cluster.pgdata.display()
    );
    cluster.create(&CreateOptions {
        admin_password: Some(admin_password.clone()),
        no_fsync: false,
    })?;
    cluster.start(None)?;
    let hash = crate::auth::hash_password(DEMO_PASSWORD)?;
    let result = init::init(&InitOptions {
        admin_url: &cluster.url(SUPERUSER, crate::db::DEFAULT_DATABASE),
        demo_hash: Some(hash),
        migrations: init::MIGRATIONS,
        ..Default::default()
    });
    if let Err(e) = result {
        cluster.stop_immediately();
        let _ = std::fs::remove_dir_all(cluster.socket_dir());
        let _ = std::fs::remove_file(&cluster.pgdata);
        return Err(e);
    }
    config::update_config_file(
        &config.paths,
        &[(config::LOCAL_ADMIN_PASSWORD, admin_password.as_str())],
    )
}

/// Takes an exclusive lock on the folder's `oc12.lock`, so that two shells
/// starting at once do not both create or start the cluster.
pub struct Lock {
    _file: fs::File,
}

impl Lock {
    pub fn acquire(dir: &Path) -> Result<Lock> {
        create_private_dir(dir)?;
        let path = dir.join("oc12.lock");
        let file = crate::fs::lock_exclusive(&path).map_err(|e| io_error(&path, e))?;
        Ok(Lock { _file: file })
    }
}

/// Where the server binaries are: `OC12_PG_BINDIR` when set, otherwise
/// PATH, `pg_config --bindir`, then the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("OC12_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return has_server(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_server(d))
    {
        return Some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_server(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

fn missing_binaries() -> Error {
    Error::connection(
        "no PostgreSQL server binaries found (initdb, pg_ctl) on PATH, through pg_config, \
         or in /usr/lib/postgresql/*/bin: install them (`apt-get install postgresql`, \
         `brew install postgresql@16`) or set OC12_DATABASE_URL to an existing CRM",
    )
}

struct PidFile {
    pid: u32,
    port: u16,
    listen: String,
}

/// postmaster.pid: pid, data dir, start time, port, socket dir, listen
/// addresses, shared memory key, status.
fn read_pid_file(data: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    Some(PidFile {
        pid: lines.first()?.trim().parse().ok()?,
        port: lines.get(3)?.trim().parse().ok()?,
        listen: lines.get(5).map_or("", |s| s.trim()).to_owned(),
    })
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // No signal, only the check that the process exists (EPERM: it does,
    // as another user's).
    matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Ok(()) | Err(nix::errno::Errno::EPERM)
    )
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn postgres_ids() -> Result<(u32, u32)> {
    let Ok(Some(user)) = nix::unistd::User::from_name(POSTGRES_USER) else {
        return Err(Error::usage(
            "running as root, the local cluster must run as the `postgres` OS user, which does \
             not exist: install PostgreSQL's server package (`apt-get install postgresql`) or \
             run as an ordinary user",
        ));
    };
    Ok((user.uid.as_raw(), user.gid.as_raw()))
}

/// Whether the postgres user can be let through every folder above `dir`:
/// those that are closed to others may be opened for traversal, except the
/// user's home and what lies above it, which stay as they are.
fn reachable_by_others(dir: &Path) -> bool {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    dir.ancestors().all(|a| {
        let open = fs::metadata(a).is_ok_and(|m| m.mode() & 0o001 != 0);
        let protected =
            home.as_deref().is_some_and(|h| h.starts_with(a)) || a == Path::new("/root");
        open || !protected
    })
}

/// Lets other users traverse (not list) the folders we own above `dir`.
fn allow_traverse(dir: &Path) -> Result<()> {
    for a in dir.ancestors() {
        let meta = fs::metadata(a).map_err(|e| io_error(a, e))?;
        if meta.mode() & 0o001 == 0 {
            fs::set_permissions(
                a,
                fs::Permissions::from_mode((meta.mode() & 0o7777) | 0o001),
            )
            .map_err(|e| io_error(a, e))?;
        }
    }
    Ok(())
}

/// Removes a folder and everything in it; a missing one is not an error.
fn remove_tree(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(dir, e)),
    }
}

/// Empties `dir`. What is already gone is not an error: an `initdb`
/// interrupted a moment ago (Ctrl-C, a killed shell) may still be removing
/// what it made.
fn clear_dir(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))?.flatten() {
        let p = entry.path();
        let r = if p.is_dir() {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&p, e)),
            _ => {}
        }
    }
    Ok(())
}

/// Writes `text` (the superuser's password for `initdb`) to a new file of
/// mode 0600: never into a file or through a link that was already there.
fn write_private(path: &Path, text: &str) -> Result<()> {
    crate::fs::create_new_private(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| io_error(path, e))
}

/// A stable, dependency-free hash for naming the fallback data folder.
fn fnv1a(bytes: &OsStr) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    bytes.as_bytes().iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_file_is_never_written_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        let pwfile = dir.path().join("pgdata.pw");
        std::os::unix::fs::symlink(&victim, &pwfile).unwrap();

        write_private(&pwfile, "s3cret").unwrap();

        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        let meta = fs::symlink_metadata(&pwfile).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&pwfile).unwrap(), "s3cret");
    }

    #[test]
    fn the_lock_is_never_taken_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        let home = dir.path().join("home");
        create_private_dir(&home).unwrap();
        std::os::unix::fs::symlink(&elsewhere, home.join("oc12.lock")).unwrap();

        assert!(Lock::acquire(&home).is_err());
        assert!(!elsewhere.exists(), "no file created through the link");
    }
}
