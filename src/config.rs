//! Configuration: the process environment first, then `$OC12_HOME/config.env`
//! written by `init` and the local cluster. The environment wins.
//!
//! A `.env` file in the working directory is never read: a repository a user
//! clones and runs the shell in could otherwise send them, and their
//! password, to a server of its author's choosing.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The variables of PRODUCT.md's configuration table, and the few that the
/// local cluster adds.
pub const HOME: &str = "OC12_HOME";
pub const DATABASE_URL: &str = "OC12_DATABASE_URL";
pub const TOKEN_TTL: &str = "OC12_TOKEN_TTL";
pub const JWT: &str = "OC12_JWT";
pub const SENTRY_DSN: &str = "SENTRY_DSN";
pub const NO_COLOR: &str = "NO_COLOR";
/// The pager for results taller than the terminal; set to nothing: none.
pub const PAGER: &str = "OC12_PAGER";
/// How money is shown to people: what 1234.50 looks like (`1 234.50 €`).
pub const MONEY: &str = "OC12_MONEY";
/// Password of the local cluster's superuser, for a graphical tool over TCP.
pub const LOCAL_ADMIN_PASSWORD: &str = "OC12_LOCAL_ADMIN_PASSWORD";

/// Where things live. With `OC12_HOME` they all share that folder; without
/// it they follow the XDG base directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The local cluster (`pgdata`).
    pub data: PathBuf,
    /// Token, history, event log, failed-login counters.
    pub state: PathBuf,
    /// `config.env`.
    pub config: PathBuf,
}

impl Paths {
    pub fn in_home(home: &Path) -> Paths {
        Paths {
            data: home.to_path_buf(),
            state: home.to_path_buf(),
            config: home.to_path_buf(),
        }
    }

    fn xdg(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Paths> {
        let home = lookup("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| Error::usage("neither OC12_HOME nor HOME is set; set OC12_HOME"))?;
        let base = |var: &str, default: &str| {
            lookup(var)
                .filter(|v| v.starts_with('/'))
                .map_or_else(|| home.join(default), PathBuf::from)
                .join("oc12-shell")
        };
        Ok(Paths {
            data: base("XDG_DATA_HOME", ".local/share"),
            state: base("XDG_STATE_HOME", ".local/state"),
            config: base("XDG_CONFIG_HOME", ".config"),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.env")
    }
    pub fn pgdata(&self) -> PathBuf {
        self.data.join("pgdata")
    }
    pub fn history_file(&self) -> PathBuf {
        self.state.join("history")
    }
    pub fn events_file(&self) -> PathBuf {
        self.state.join("events.jsonl")
    }
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub paths: Paths,
    vars: HashMap<String, String>,
}

impl std::fmt::Debug for Config {
    // Passwords and tokens must never be printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("paths", &self.paths)
            .field("database_url", &self.database_url().map(|_| "(not shown)"))
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment and `config.env`.
    pub fn load() -> Result<Config> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Config::from_env(&env)
    }

    /// The resolution itself, with the environment given, so that tests
    /// need not touch the process environment.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Config> {
        let lookup = |k: &str| env.get(k).cloned();
        let paths = match lookup(HOME).filter(|h| !h.is_empty()) {
            Some(home) => Paths::in_home(Path::new(&home)),
            None => Paths::xdg(&lookup)?,
        };
        let mut vars = read_env_file(&paths.config_file())?;
        // The environment wins over config.env.
        vars.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Config { paths, vars })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A variable as it is set, empty included (`OC12_PAGER=` means "no
    /// pager", not "the default one").
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `None` means the embedded local cluster.
    pub fn database_url(&self) -> Option<&str> {
        self.get(DATABASE_URL)
    }

    pub fn no_color(&self) -> bool {
        self.vars.contains_key(NO_COLOR)
    }
}

/// Reads a dotenv file into a map; a missing file is an empty map.
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter
            .map(|item| {
                item.map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))
            })
            .collect(),
        Err(e) if e.not_found() => Ok(HashMap::new()),
        Err(dotenvy::Error::Io(e)) => Err(Error::file(format!(
            "cannot read {}: {e}; check OC12_HOME",
            path.display()
        ))),
        Err(e) => Err(Error::usage(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Sets `updates` in `config.env`, keeping the other lines, written with
/// mode 0600 (it may hold the local cluster's admin password) through a
/// temporary file and a rename so that a crash never leaves half a file. The
/// temporary file is always a new one of ours
/// (`crate::fs::write_private_file`): a symbolic link or a file planted
/// there never receives the configuration.
pub fn update_config_file(paths: &Paths, updates: &[(&str, &str)]) -> Result<()> {
    let path = paths.config_file();
    create_private_dir(&paths.config)?;
    let old = match fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(&path, e)),
    };
    let mut lines: Vec<String> = old
        .lines()
        .filter(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            !updates.iter().any(|(k, _)| *k == key)
        })
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        lines.push(
            "# oc12-shell configuration, written by `oc12-shell init`. Keep it private.".into(),
        );
    }
    for (k, v) in updates {
        lines.push(format!("{k}={}", quote_env_value(v)));
    }
    crate::fs::write_private_file(&path, (lines.join("\n") + "\n").as_bytes())
        .map_err(|e| io_error(&path, e))
}

fn quote_env_value(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@%?&=+,".contains(c))
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', ""))
    }
}

/// Creates `dir` (and its parents) with mode 0700 if it is missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    crate::fs::create_private_dir(dir).map_err(|e| io_error(dir, e))
}

pub fn io_error(path: &Path, e: std::io::Error) -> Error {
    let hint = match e.kind() {
        std::io::ErrorKind::PermissionDenied => "; set OC12_HOME to a folder you can write",
        _ => "",
    };
    Error::file(format!("{}: {e}{hint}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_wins_over_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let paths = Paths::in_home(dir.path());
        update_config_file(
            &paths,
            &[(NO_COLOR, "from-config"), (TOKEN_TTL, "1h"), (JWT, "cfg")],
        )
        .unwrap();
        let env = map(&[(HOME, home), (NO_COLOR, "from-env")]);
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.get(NO_COLOR), Some("from-env"));
        assert_eq!(c.get(TOKEN_TTL), Some("1h"));
        assert_eq!(c.get(JWT), Some("cfg"));
        assert_eq!(c.database_url(), None);
    }

    #[test]
    fn config_file_is_private_and_keeps_other_lines() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(&dir.path().join("h"));
        update_config_file(
            &paths,
            &[
                (LOCAL_ADMIN_PASSWORD, "k1"),
                (DATABASE_URL, "postgresql://a:b@/c"),
            ],
        )
        .unwrap();
        update_config_file(&paths, &[(LOCAL_ADMIN_PASSWORD, "k2")]).unwrap();
        let meta = fs::metadata(paths.config_file()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dirmode = fs::metadata(&paths.config).unwrap().permissions().mode();
        assert_eq!(dirmode & 0o777, 0o700);
        let vars = read_env_file(&paths.config_file()).unwrap();
        assert_eq!(vars[LOCAL_ADMIN_PASSWORD], "k2");
        assert_eq!(vars[DATABASE_URL], "postgresql://a:b@/c");
    }

    #[test]
    fn a_link_planted_at_the_temporary_file_never_receives_the_secret() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(&dir.path().join("h"));
        update_config_file(&paths, &[(LOCAL_ADMIN_PASSWORD, "old-key")]).unwrap();
        // The attacker's file, and a link to it where the temporary file goes.
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        let tmp = paths
            .config
            .join(format!("config.env.tmp.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();

        update_config_file(&paths, &[(LOCAL_ADMIN_PASSWORD, "new-key")]).unwrap();

        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        let victim_mode = fs::metadata(&victim).unwrap().permissions().mode();
        assert_eq!(victim_mode & 0o777, 0o644);
        let config = paths.config_file();
        let meta = fs::symlink_metadata(&config).unwrap();
        assert!(meta.file_type().is_file(), "config.env is a plain file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            read_env_file(&config).unwrap()[LOCAL_ADMIN_PASSWORD],
            "new-key"
        );
        assert!(
            fs::symlink_metadata(&tmp).is_err(),
            "no temporary file left"
        );
    }

    #[test]
    fn a_temporary_file_planted_by_someone_else_never_receives_the_secret() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_home(&dir.path().join("h"));
        update_config_file(&paths, &[(LOCAL_ADMIN_PASSWORD, "old-key")]).unwrap();
        // A readable file at the temporary path, which the attacker also
        // keeps under a name of their own (a hard link): were it written
        // and renamed into place, they would read the secret through it.
        let tmp = paths
            .config
            .join(format!("config.env.tmp.{}", std::process::id()));
        fs::write(&tmp, "planted\n").unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o666)).unwrap();
        let theirs = dir.path().join("theirs");
        fs::hard_link(&tmp, &theirs).unwrap();
        let planted_inode = fs::metadata(&theirs).unwrap().ino();

        update_config_file(&paths, &[(LOCAL_ADMIN_PASSWORD, "new-key")]).unwrap();

        assert_eq!(fs::read_to_string(&theirs).unwrap(), "planted\n");
        let meta = fs::metadata(paths.config_file()).unwrap();
        assert_ne!(meta.ino(), planted_inode);
        assert_eq!(meta.nlink(), 1);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let vars = read_env_file(&paths.config_file()).unwrap();
        assert_eq!(vars[LOCAL_ADMIN_PASSWORD], "new-key");
    }

    #[test]
    fn xdg_directories_without_oc12_home() {
        let env = map(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/s")]);
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.paths.data, Path::new("/home/u/.local/share/oc12-shell"));
        assert_eq!(c.paths.state, Path::new("/s/oc12-shell"));
        assert_eq!(c.paths.config, Path::new("/home/u/.config/oc12-shell"));
    }
}
