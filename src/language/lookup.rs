//! `lookup company|location QUERY`, checked: a SIREN (9 digits, Luhn), a
//! company's name, a postcode (5 digits) or a city. France's registries
//! answer it (`interpreter::registry`); nothing here asks them.

use crate::error::{Error, ErrorKind, Span};
use crate::language::ast;
use crate::language::catalog;
use crate::language::suggest::suggest;

/// `lookup company SIREN|NAME`, `lookup location POSTCODE|CITY`.
pub fn check(what: &ast::Name, query: &[ast::Value]) -> Result<Lookup, Error> {
    let span = match (query.first(), query.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => what.span,
    };
    let words: Vec<&str> = query.iter().map(|v| v.text.trim()).collect();
    let text = words.join(" ").trim().to_owned();
    let kind = catalog::entity(&what.text).map(|e| e.name);
    let digits = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == ' ');
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(invalid(span, "nothing to look up"));
    }
    let query = match kind {
        Some("company") if digits => {
            if compact.len() != 9 {
                let message = format!("`{text}` is not a SIREN: it has 9 digits");
                return Err(invalid(span, message));
            }
            if !siren_ok(&compact) {
                let message = format!("`{compact}` is not a SIREN: its check digit is wrong");
                return Err(invalid(span, message));
            }
            Query::Siren(compact)
        }
        Some("company") => Query::CompanyName(text),
        Some("location") if digits => {
            if compact.len() != 5 {
                let message = format!("`{text}` is not a French postcode: it has 5 digits");
                return Err(invalid(span, message));
            }
            Query::Postcode(compact)
        }
        Some("location") => Query::City(text),
        Some(other) => {
            let message = format!("`lookup` finds companies and locations, not {other}s");
            return Err(invalid(what.span, message));
        }
        None => {
            let message = format!(
                "`lookup` finds `company` or `location`, not `{}`",
                what.text
            );
            let error = Error::unknown(what.span, message);
            return Err(match suggest(&what.text, ["company", "location"]) {
                Some(s) => error.with_suggestion(s),
                None => error,
            });
        }
    };
    Ok(Lookup { query, span })
}

/// What `lookup` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// 9 digits with a valid check digit.
    Siren(String),
    CompanyName(String),
    /// 5 digits.
    Postcode(String),
    City(String),
}

/// `lookup company|location QUERY`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub query: Query,
    /// Where the query was typed.
    pub span: Span,
}

/// A SIREN's check: 9 digits whose Luhn sum is a multiple of 10 (as the
/// database's `crm.luhn_ok`).
pub fn siren_ok(siren: &str) -> bool {
    siren.len() == 9
        && siren.bytes().all(|b| b.is_ascii_digit())
        && luhn_sum(siren).is_multiple_of(10)
}

/// The digit that, written after `digits`, makes their Luhn sum a multiple
/// of 10.
pub fn luhn_check_digit(digits: &str) -> u32 {
    (10 - luhn_sum(&format!("{digits}0")) % 10) % 10
}

/// Luhn's sum: from the right, every second digit doubled (less 9 when
/// above 9).
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum()
}

fn invalid(span: Span, message: impl Into<String>) -> Error {
    Error::at(ErrorKind::Invalid, span, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sirens_are_luhn_checked() {
        for ok in [
            "999222888",
            "999333883",
            "999686686",
            "732829320",
            "356000000",
        ] {
            assert!(siren_ok(ok), "{ok}");
        }
        for bad in ["999222889", "99922288", "9992228880", "99922288a", ""] {
            assert!(!siren_ok(bad), "{bad}");
        }
        assert_eq!(luhn_check_digit("35600000"), 0);
        assert_eq!(luhn_check_digit("73282932"), 0);
        assert_eq!(luhn_check_digit("99922288"), 8);
    }
}
