// temporary shim: replaced by the monitoring branch
use crate::auth::Claims;
use crate::error::Error;
#[derive(Debug, Clone, Copy)]
pub enum CollaboratorAction {
    Created,
    Changed,
    Deleted,
}
pub fn collaborator_changed(_a: &Claims, _c: &str, _x: CollaboratorAction, _f: &[&str]) {}
pub fn contract_signed(_a: &Claims, _c: &str, _cl: &str, _t: &rust_decimal::Decimal, _h: &str) {}
pub fn failed_logins(_r: &str, _n: u32) {}
pub fn catch<T>(
    _k: &str,
    _a: Option<&Claims>,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    f()
}
