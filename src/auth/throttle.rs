//! Slowing down repeated wrong passwords: one small file per registration
//! number under a directory of the caller's choosing (e.g.
//! `$OC12_HOME/failures`), holding the count of consecutive failures and the
//! time of the last one. The caller sleeps for [`login_delay`] before
//! checking a password, counts a failure with [`failed_login`], and clears
//! the count after a success with [`clear_failures`].
//!
//! The counter is advisory: an unreadable or corrupt file counts as no
//! failures, and a file that cannot be written only loses the count.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::store::{ensure_private_dir, write_private_file};

/// Failures allowed before any delay.
pub const FREE_FAILURES: u32 = 5;
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// After this long without a failure, the count starts again.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Counts one more wrong password for `reg` and returns the new count.
pub fn failed_login(dir: &Path, reg: &str) -> u32 {
    let count = current_count(dir, reg, now()).saturating_add(1);
    let _ = ensure_private_dir(dir).and_then(|()| {
        write_private_file(&file(dir, reg), format!("{count} {}\n", now()).as_bytes())
    });
    count
}

/// How long to wait before checking a password for `reg`: nothing for the
/// first 5 failures, then 1 s, 2 s, 4 s, ... up to 30 s.
pub fn login_delay(dir: &Path, reg: &str) -> Duration {
    delay_for(current_count(dir, reg, now()))
}

/// Forgets the failures of `reg` (after a successful login).
pub fn clear_failures(dir: &Path, reg: &str) {
    let _ = fs::remove_file(file(dir, reg));
}

fn delay_for(count: u32) -> Duration {
    match count.checked_sub(FREE_FAILURES) {
        None => Duration::ZERO,
        Some(extra) => Duration::from_secs(1u64 << extra.min(16)).min(MAX_DELAY),
    }
}

fn current_count(dir: &Path, reg: &str, now: u64) -> u32 {
    let Ok(text) = fs::read_to_string(file(dir, reg)) else {
        return 0;
    };
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(count)), Some(Ok(last))) if now.saturating_sub(last) < FORGET_AFTER.as_secs() => {
            u32::try_from(count).unwrap_or(u32::MAX)
        }
        _ => 0,
    }
}

/// The counter file of `reg`. The registration number is typed by whoever
/// tries to log in, so anything but a plain lowercase name is hex-encoded:
/// it can never climb out of `dir` or name a special file.
fn file(dir: &Path, reg: &str) -> PathBuf {
    let reg = reg.trim().to_lowercase();
    let plain = !reg.is_empty()
        && reg.len() <= 64
        && reg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if plain {
        dir.join(reg)
    } else {
        let hex: String = reg.bytes().take(64).map(|b| format!("{b:02x}")).collect();
        dir.join(format!("~{hex}"))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_delay_grows_after_five_failures() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("failures");
        let reg = "aa123456789";
        assert_eq!(login_delay(&dir, reg), Duration::ZERO);
        let mut delays = Vec::new();
        for expected in 1..=12 {
            assert_eq!(failed_login(&dir, reg), expected);
            delays.push(login_delay(&dir, reg).as_secs());
        }
        assert_eq!(delays, [0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(dir.join(reg)).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Another registration number has its own count.
        assert_eq!(login_delay(&dir, "ab123456789"), Duration::ZERO);
        assert_eq!(failed_login(&dir, "ab123456789"), 1);
    }

    #[test]
    fn a_success_clears_the_count() {
        let tmp = tempfile::tempdir().unwrap();
        for _ in 0..7 {
            failed_login(tmp.path(), "aa123456789");
        }
        assert!(login_delay(tmp.path(), "aa123456789") > Duration::ZERO);
        clear_failures(tmp.path(), "aa123456789");
        assert_eq!(login_delay(tmp.path(), "aa123456789"), Duration::ZERO);
        assert_eq!(failed_login(tmp.path(), "aa123456789"), 1);
        clear_failures(tmp.path(), "never-failed");
        clear_failures(&tmp.path().join("missing"), "aa123456789");
    }

    #[test]
    fn case_does_not_dodge_the_count() {
        let tmp = tempfile::tempdir().unwrap();
        failed_login(tmp.path(), "aa123456789");
        assert_eq!(failed_login(tmp.path(), "AA123456789"), 2);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let tmp = tempfile::tempdir().unwrap();
        let long_ago = now() - FORGET_AFTER.as_secs() - 1;
        fs::write(tmp.path().join("aa123456789"), format!("9 {long_ago}\n")).unwrap();
        assert_eq!(login_delay(tmp.path(), "aa123456789"), Duration::ZERO);
        assert_eq!(failed_login(tmp.path(), "aa123456789"), 1);
    }

    #[test]
    fn corrupt_files_count_as_no_failures() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("aa123456789");
        for junk in [
            "",
            "x",
            "7",
            "-3 12",
            "99999999999999999999 1",
            "\u{0}\u{1}",
        ] {
            fs::write(&path, junk).unwrap();
            assert_eq!(
                login_delay(tmp.path(), "aa123456789"),
                Duration::ZERO,
                "{junk:?}"
            );
            assert_eq!(failed_login(tmp.path(), "aa123456789"), 1, "{junk:?}");
        }
        // A huge but well-formed count is capped, not wrapped.
        fs::write(&path, format!("{} {}", u64::MAX, now())).unwrap();
        assert_eq!(login_delay(tmp.path(), "aa123456789"), MAX_DELAY);
        assert_eq!(failed_login(tmp.path(), "aa123456789"), u32::MAX);
        // A directory where the file should be: nothing breaks.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert_eq!(login_delay(tmp.path(), "aa123456789"), Duration::ZERO);
        assert_eq!(failed_login(tmp.path(), "aa123456789"), 1);
    }

    #[test]
    fn hostile_registration_numbers_stay_inside_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("failures");
        for reg in [
            "../../escape",
            "..",
            ".",
            "",
            "a/b",
            "x\u{0}y",
            &"z".repeat(500),
        ] {
            assert_eq!(failed_login(&dir, reg), 1, "{reg:?}");
            assert_eq!(file(&dir, reg).parent(), Some(dir.as_path()), "{reg:?}");
        }
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
