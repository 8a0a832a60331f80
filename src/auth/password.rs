//! Password hashes (scrypt, PHC strings), the password policy and the
//! generator of initial passwords.

use std::sync::OnceLock;

use rand::RngExt;
use scrypt::Scrypt;
use scrypt::password_hash::CustomizedPasswordHasher;
use scrypt::phc::{Output, PasswordHash};

use scrypt::Params;

use crate::error::Error;

/// **Test-only.** When set (to a number from 1 to 16), new hashes use
/// `ln=<value>` instead of the default `ln=17`, so test suites can create and
/// check many passwords quickly. Read once per process. Never set it for real
/// users: it makes stolen hashes cheap to crack.
pub const TEST_SCRYPT_LOG_N_VAR: &str = "OC12_TEST_SCRYPT_LOG_N";

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters: a hash costs the same either
/// way, this only stops absurd input.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Length of the generated passwords.
const GENERATED_LEN: usize = 16;
/// Letters and digits that cannot be mistaken for one another when read
/// aloud or copied from a screen (no 0/O, 1/l/I).
const UNAMBIGUOUS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

const SALT_LEN: usize = 16;

/// Stored hashes are trusted only up to this cost: a corrupt or hostile row
/// must not make a login allocate gigabytes (ln=20, r=8 is already 1 GiB).
const MAX_LOG_N: u8 = 20;
const MAX_R: u32 = 32;
const MAX_P: u32 = 16;

/// Hashes `password` with a fresh random salt into a PHC string
/// (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`).
pub fn hash_password(password: &str) -> Result<String, Error> {
    hash_with(password, configured_params()?)
}

/// Hashes with an explicit cost `ln=log_n` (r=8, p=1): for test suites that
/// make many hashes in one process, where the environment is shared.
pub fn hash_password_with_cost(password: &str, log_n: u8) -> Result<String, Error> {
    let params = Params::new(log_n, Params::RECOMMENDED_R, Params::RECOMMENDED_P)
        .map_err(|e| Error::usage(format!("scrypt cost ln={log_n}: {e}")))?;
    hash_with(password, params)
}

/// The proof a login sends: the scrypt output (unpadded base64) of
/// `password` under the parameters and salt the server handed out
/// (`$scrypt$ln=17,r=8,p=1$<salt>`, from `crm.login_salt`). Parameters
/// costlier than we accept (a hostile server) are refused before computing.
pub fn proof(password: &str, salt_phc: &str) -> Result<String, Error> {
    let bad = || Error::internal("the server sent unusable password parameters");
    let parsed = PasswordHash::new(salt_phc).map_err(|_| bad())?;
    if !acceptable(&parsed) {
        return Err(bad());
    }
    let params = Params::try_from(&parsed).map_err(|_| bad())?;
    let salt = parsed.salt.ok_or_else(bad)?;
    let mut output = [0u8; Params::RECOMMENDED_LEN];
    scrypt::scrypt(password.as_bytes(), salt.as_ref(), &params, &mut output).map_err(|_| bad())?;
    let hash = Output::new(&output).map_err(|_| bad())?;
    Ok(hash.to_string())
}

/// The password policy: at least 8 characters, at least one letter, and at
/// least one digit or symbol.
pub fn check_password_policy(pw: &str) -> Result<(), Error> {
    let chars = pw.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(format!(
            "the password is too short: it needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(format!(
            "the password is too long: at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if pw.chars().any(char::is_control) {
        return Err(Error::invalid(
            "the password contains a control character (tab, newline, ...)",
        ));
    }
    if !pw.chars().any(char::is_alphabetic) {
        return Err(Error::invalid("the password needs at least one letter"));
    }
    if !pw.chars().any(|c| !c.is_alphabetic() && !c.is_whitespace()) {
        return Err(Error::invalid(
            "the password needs at least one digit or symbol",
        ));
    }
    Ok(())
}

/// `len` random letters and digits, none that reads like another (no `0`
/// and `O`, `1` and `l`): passwords and secrets a person may have to copy.
pub fn random_text(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(UNAMBIGUOUS[rng.random_range(0..UNAMBIGUOUS.len())]))
        .collect()
}

/// A strong password (16 characters from an unambiguous alphabet, about 93
/// bits) that always satisfies [`check_password_policy`].
pub fn generate_password() -> String {
    loop {
        let pw = random_text(GENERATED_LEN);
        // Redrawing (rather than forcing a digit into place) keeps every
        // valid password equally likely; a draw with no digit is rare.
        if check_password_policy(&pw).is_ok() {
            return pw;
        }
    }
}

pub(crate) fn hash_with(password: &str, params: Params) -> Result<String, Error> {
    let mut salt = [0u8; SALT_LEN];
    rand::fill(&mut salt[..]);
    Scrypt::new()
        .hash_password_with_params(password.as_bytes(), &salt, params)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("cannot hash the password: {e}")))
}

/// The parameters of new hashes: `ln=17, r=8, p=1` unless the test-only
/// variable says otherwise.
pub(crate) fn configured_params() -> Result<Params, Error> {
    static PARAMS: OnceLock<Result<Params, Error>> = OnceLock::new();
    PARAMS
        .get_or_init(|| {
            let setting = std::env::var(TEST_SCRYPT_LOG_N_VAR).ok();
            params_from_setting(setting.as_deref())
        })
        .clone()
}

pub(crate) fn params_from_setting(setting: Option<&str>) -> Result<Params, Error> {
    let Some(value) = setting.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Params::RECOMMENDED);
    };
    let bad = || {
        Error::usage(format!(
            "{TEST_SCRYPT_LOG_N_VAR} must be a number from 1 to {} (test-only setting)",
            Params::RECOMMENDED_LOG_N - 1
        ))
    };
    let log_n: u8 = value.parse().map_err(|_| bad())?;
    if !(1..Params::RECOMMENDED_LOG_N).contains(&log_n) {
        return Err(bad());
    }
    Params::new(log_n, Params::RECOMMENDED_R, Params::RECOMMENDED_P).map_err(|_| bad())
}

fn acceptable(hash: &PasswordHash) -> bool {
    hash.algorithm == scrypt::phc::ALG_ID
        && Params::try_from(hash)
            .is_ok_and(|p| p.log_n() <= MAX_LOG_N && p.r() <= MAX_R && p.p() <= MAX_P)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn cheap() -> Params {
        Params::new(4, 8, 1).unwrap()
    }

    #[test]
    fn the_proof_is_the_hash_part_of_the_phc_string() {
        let phc = hash_with("@pplepie94", cheap()).unwrap();
        assert!(phc.starts_with("$scrypt$ln=4,r=8,p=1$"), "{phc}");
        let (salt_phc, hash) = phc.rsplit_once('$').unwrap();
        assert_eq!(proof("@pplepie94", salt_phc).unwrap(), hash);
        assert_ne!(proof("@pplepie95", salt_phc).unwrap(), hash);
        assert_ne!(proof("", salt_phc).unwrap(), hash);
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        let a = hash_with("@pplepie94", cheap()).unwrap();
        let b = hash_with("@pplepie94", cheap()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn default_parameters_are_ln17_r8_p1() {
        let params = params_from_setting(None).unwrap();
        assert_eq!((params.log_n(), params.r(), params.p()), (17, 8, 1));
        assert_eq!(params_from_setting(Some("")).unwrap(), params);
    }

    #[test]
    fn the_test_only_setting_lowers_the_cost_and_nothing_else() {
        let params = params_from_setting(Some("4")).unwrap();
        assert_eq!((params.log_n(), params.r(), params.p()), (4, 8, 1));
        for bad in ["0", "17", "30", "x", "-1"] {
            let e = params_from_setting(Some(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{bad}");
            assert!(e.message.contains(TEST_SCRYPT_LOG_N_VAR), "{}", e.message);
        }
    }

    #[test]
    fn unusable_parameters_are_refused_without_computing() {
        for salt_phc in [
            "",
            "not a hash",
            "$scrypt$",
            "$argon2id$v=19$m=16,t=2,p=1$c2FsdHNhbHQ",
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0",
            "$scrypt$ln=4,r=8,p=1",
        ] {
            let e = proof("x", salt_phc).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal, "{salt_phc}");
        }
    }

    #[test]
    fn policy() {
        for ok in [
            "@pplepie94",
            "abcdefg1",
            "abcdefg!",
            "motdepasse-long",
            "éléphant9",
        ] {
            assert_eq!(check_password_policy(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("abc1", "too short"),
            ("", "too short"),
            ("abcdefgh", "digit or symbol"),
            ("abcd efgh", "digit or symbol"),
            ("12345678", "letter"),
            ("!!!!????", "letter"),
            ("abcdefg1\n", "control"),
        ];
        for (pw, why) in cases {
            let e = check_password_policy(pw).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid, "{pw:?}");
            assert!(e.message.contains(why), "{pw:?}: {}", e.message);
            assert!(
                !e.message.contains(pw) || pw.is_empty(),
                "echoes the password"
            );
        }
        assert!(check_password_policy(&"a1".repeat(600)).is_err());
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        for _ in 0..200 {
            let pw = generate_password();
            assert_eq!(pw.chars().count(), GENERATED_LEN);
            assert_eq!(check_password_policy(&pw), Ok(()), "{pw}");
            assert!(pw.bytes().all(|b| UNAMBIGUOUS.contains(&b)), "{pw}");
        }
        assert_ne!(generate_password(), generate_password());
    }
}
