//! The token file `$OC12_HOME/token` (one line, `TOKEN:SECRET`), in a
//! private folder (`crate::fs`).

use std::fs;
use std::io::ErrorKind as IoErrorKind;
use std::path::Path;

use crate::error::Error;

/// The name of the token file inside `$OC12_HOME`.
pub const TOKEN_FILE: &str = "token";

/// Saves the session token to `$OC12_HOME/token` (mode 0600; `home` is
/// created, or narrowed, to mode 0700). The file is replaced in one step, so
/// a reader never sees half a token.
pub fn save_token(home: &Path, token: &str) -> Result<(), Error> {
    crate::fs::ensure_private_dir(home)
        .map_err(|e| Error::file(format!("cannot create {}: {e}", home.display())))?;
    let path = home.join(TOKEN_FILE);
    crate::fs::write_private_file(&path, format!("{}\n", token.trim()).as_bytes())
        .map_err(|e| Error::file(format!("cannot write {}: {e}", path.display())))
}

/// The session token: `env_jwt` (the value of `OC12_JWT`) when set and not
/// empty, otherwise the content of `$OC12_HOME/token`.
pub fn load_token(home: &Path, env_jwt: Option<&str>) -> Result<String, Error> {
    if let Some(token) = env_jwt.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(token.to_owned());
    }
    let path = home.join(TOKEN_FILE);
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Ok(_) => Err(not_logged_in()),
        Err(e) if e.kind() == IoErrorKind::NotFound => Err(not_logged_in()),
        Err(e) => Err(Error::auth(format!(
            "cannot read the session token {}: {e}",
            path.display()
        ))),
    }
}

/// Deletes the token file (`logout`). No file is not an error.
pub fn delete_token(home: &Path) -> Result<(), Error> {
    let path = home.join(TOKEN_FILE);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == IoErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(format!(
            "cannot delete {}: {e}",
            path.display()
        ))),
    }
}

fn not_logged_in() -> Error {
    Error::auth("not logged in; run `login`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::fs::Permissions;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn token_file_is_0600_in_a_0700_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("a/oc12");
        save_token(&home, "t0k3n").unwrap();
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&home.join(TOKEN_FILE)), 0o600);
        assert_eq!(load_token(&home, None).unwrap(), "t0k3n");
        // Only the token: no temporary file left behind.
        assert_eq!(fs::read_dir(&home).unwrap().count(), 1);
    }

    #[test]
    fn an_open_directory_is_narrowed_and_a_loose_file_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("oc12");
        fs::create_dir(&home).unwrap();
        fs::set_permissions(&home, Permissions::from_mode(0o755)).unwrap();
        let path = home.join(TOKEN_FILE);
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();

        save_token(&home, "new").unwrap();
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[test]
    fn the_environment_wins() {
        let tmp = tempfile::tempdir().unwrap();
        save_token(tmp.path(), "from-file").unwrap();
        assert_eq!(
            load_token(tmp.path(), Some(" from-env\n")).unwrap(),
            "from-env"
        );
        assert_eq!(load_token(tmp.path(), Some("")).unwrap(), "from-file");
    }

    #[test]
    fn no_token_means_not_logged_in() {
        let tmp = tempfile::tempdir().unwrap();
        for home in [tmp.path().to_path_buf(), tmp.path().join("missing")] {
            let e = load_token(&home, None).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Auth);
            assert_eq!(e.message, "not logged in; run `login`");
        }
        fs::write(tmp.path().join(TOKEN_FILE), "\n").unwrap();
        assert_eq!(
            load_token(tmp.path(), None).unwrap_err().kind,
            ErrorKind::Auth
        );
    }

    #[test]
    fn logout_deletes_the_token_and_tolerates_its_absence() {
        let tmp = tempfile::tempdir().unwrap();
        save_token(tmp.path(), "t").unwrap();
        delete_token(tmp.path()).unwrap();
        assert!(!tmp.path().join(TOKEN_FILE).exists());
        delete_token(tmp.path()).unwrap();
        delete_token(&tmp.path().join("missing")).unwrap();
        assert_eq!(
            load_token(tmp.path(), None).unwrap_err().kind,
            ErrorKind::Auth
        );
    }
}
