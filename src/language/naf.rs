//! The APE codes: INSEE's NAF rév. 2 sub-classes (`62.01Z`) and their labels
//! (`data/naf.tsv`, written by `interpreter/registry/data/generate.mjs`).

use std::sync::OnceLock;

static DATA: &str = include_str!("data/naf.tsv");

/// Every `(code, label)`, in code order.
pub fn codes() -> &'static [(&'static str, &'static str)] {
    static CODES: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    CODES.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// The label of a known code.
pub fn label(code: &str) -> Option<&'static str> {
    let codes = codes();
    codes
        .binary_search_by(|(c, _)| c.cmp(&code))
        .ok()
        .map(|i| codes[i].1)
}

/// An APE code as the database stores it: `6201Z`, `62.01z` and ` 62.01Z `
/// all read `62.01Z`. `None` when it has not the shape of one.
pub fn normalize(text: &str) -> Option<String> {
    let t: String = text.trim().to_ascii_uppercase();
    let letter = t.chars().last()?;
    let digits: String = t[..t.len() - letter.len_utf8()]
        .chars()
        .filter(|c| *c != '.')
        .collect();
    let shaped = digits.len() == 4
        && digits.bytes().all(|b| b.is_ascii_digit())
        && letter.is_ascii_uppercase()
        && (t.len() == 5 || (t.len() == 6 && t.as_bytes().get(2) == Some(&b'.')));
    shaped.then(|| format!("{}.{}{letter}", &digits[..2], &digits[2..]))
}

/// The known code closest to `code`, for "did you mean": same first digits
/// first.
pub fn closest(code: &str) -> Option<&'static str> {
    let code = normalize(code).unwrap_or_else(|| code.to_ascii_uppercase());
    let division = code.get(..2).unwrap_or_default();
    codes()
        .iter()
        .map(|(c, _)| (crate::language::suggest::levenshtein(&code, c), *c))
        .filter(|&(d, _)| d < 3)
        .min_by_key(|&(d, c)| (!c.starts_with(division), d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_class_of_naf_rev_2_is_there() {
        assert_eq!(codes().len(), 732);
        assert!(codes().windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert_eq!(label("62.01Z"), Some("Programmation informatique"));
        assert_eq!(
            label("82.30Z"),
            Some("Organisation de foires, salons professionnels et congrès")
        );
        assert_eq!(label("62.01"), None);
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize("6201Z").as_deref(), Some("62.01Z"));
        assert_eq!(normalize(" 62.01z").as_deref(), Some("62.01Z"));
        assert_eq!(normalize("62.01Z").as_deref(), Some("62.01Z"));
        assert_eq!(normalize("620.1Z"), None);
        assert_eq!(normalize("62.01"), None);
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("é"), None);
        assert_eq!(closest("62.10Z"), Some("62.01Z"));
    }
}
