//! The shell's own folders and files: private (folders 0700, files 0600),
//! never written through a symbolic link or into a file somebody else
//! planted, and replaced in one step so that a reader or a crash never
//! sees half a file. Configuration, the session token, the history, the
//! local cluster's files and its lock all go through here.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates `dir` and its missing parents with mode 0700; a folder already
/// there is left as it is (the local cluster's folders may have been
/// opened for the postgres user to traverse).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates `dir` like [`create_private_dir`], and takes the group's and
/// others' rights away from it if it already existed: for the folder of
/// the token and the history.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    create_private_dir(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates `path` as a new, empty file of mode 0600, open for writing.
///
/// Whatever is at `path` already is removed first: a file left by a crash,
/// or one planted by someone else. `remove_file` removes a symbolic link
/// itself, never its target. The file is then created new (`O_CREAT |
/// O_EXCL`) and not through a symbolic link (`O_NOFOLLOW`): if anything
/// reappears at `path` in between, this fails instead of writing into it.
/// So a secret written here never lands in a file that somebody else
/// created, owns or can read.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
}

/// Replaces `path` with `bytes` in one step: written to a new private file
/// next to it ([`create_new_private`]), synced, renamed into place, and the
/// rename made durable by syncing the folder.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = create_new_private(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => File::open(dir)?.sync_all(),
            None => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `path.tmp.PID`: one temporary name per process, so that two shells
/// replacing the same file do not write into each other's.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// Opens `path` for appending, created with mode 0600 if missing, and takes
/// any access by others away if it exists. A symbolic link in its place is
/// refused (`O_NOFOLLOW`, the error `ELOOP`).
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)?;
    if file.metadata()?.permissions().mode() & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Waits for an exclusive lock on `path` (created 0600 if missing, never
/// through a link); it is released when the returned file is closed.
pub fn lock_exclusive(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)?;
    file.lock()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn only_ensure_narrows_an_existing_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        fs::set_permissions(&dir, Permissions::from_mode(0o751)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o751);
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_private_file_replaces_a_planted_link_not_its_target() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let path = tmp.path().join("secret");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_private_file(&path, b"s3cret").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&path).unwrap(), "s3cret");
        assert_eq!(mode(&path), 0o600);
        let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file left");
    }

    #[test]
    fn appending_refuses_a_link_and_narrows_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("history");
        fs::write(&path, "").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        open_private_append(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = open_private_append(&link).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn a_second_lock_waits() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("oc12.lock");
        let held = lock_exclusive(&path).unwrap();
        let again = File::open(&path).unwrap();
        assert!(again.try_lock().is_err());
        drop(held);
        assert!(again.try_lock().is_ok());
    }
}
