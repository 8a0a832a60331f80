//! Who is at the keyboard: password hashes and login proofs, the session
//! (token and secret) the server issued, and the token file.
//!
//! Passwords are checked, and sessions issued, expired and revoked, by the
//! server (sql/SECURITY.md); nothing here decides who may do what. Nothing
//! here ever puts a password, a proof, a hash or a session secret in an
//! error message or a `Debug` output.
//!
//! - `password.rs`: scrypt hashes, login proofs, the password policy, the
//!   generator of initial passwords and random text.
//! - `token.rs`: the credential (the server's signed token and the session
//!   secret) and its claims, read for the prompt and `whoami`.
//! - `store.rs`: the token file `$OC12_HOME/token`.
//!
//! May use: `output` (an expiry shown in the user's zone), `fs`, `error`.

mod password;
mod store;
mod token;

pub use password::{
    check_password_policy, generate_password, hash_password, hash_password_with_cost, proof,
    random_text,
};
pub use store::{delete_token, load_token, save_token};
pub use token::{Claims, Credential, parse_ttl};

use std::path::Path;

/// The session of this home: `OC12_JWT` when set, otherwise the token file.
pub fn load_credential(
    home: &Path,
    env_jwt: Option<&str>,
) -> Result<Credential, crate::error::Error> {
    Credential::parse(&load_token(home, env_jwt)?)
}
