//! Who is at the keyboard: password hashes, the slow-down after wrong
//! passwords, session tokens (JWT) and the token file.
//!
//! Nothing here ever puts a password, a hash, a token or the secret key in
//! an error message or a `Debug` output.

mod password;
mod store;
mod throttle;
mod token;

pub use password::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, TEST_SCRYPT_LOG_N_VAR, check_password_policy,
    generate_password, hash_password, hash_password_with_cost, verify_password,
};
pub use store::{TOKEN_FILE, delete_token, load_token, save_token};
pub use throttle::{
    FORGET_AFTER, FREE_FAILURES, MAX_DELAY, clear_failures, failed_login, login_delay,
};
pub use token::{
    Claims, MIN_SECRET_KEY_BYTES, SECRET_KEY_VAR, SecretKey, issue, parse_ttl, validate,
};
