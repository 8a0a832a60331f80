//! "Did you mean …?": the closest known name to a misspelt one.

/// The closest candidate at edit distance < 3 (ignoring case), if any. The
/// distance must also be below the word's length, so that `a` does not
/// suggest `id`: two edits of a one-letter word is a different word.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let word = word.to_lowercase();
    let len = word.chars().count();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word, &c.to_lowercase()), c))
        .filter(|&(d, _)| d < 3 && d < len)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c.to_string())
}

/// Edit distance in characters, with one row of memory.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::catalog::entity_names;

    #[test]
    fn suggestions_use_a_small_edit_distance() {
        assert_eq!(
            suggest("contrats", entity_names()).as_deref(),
            Some("contracts")
        );
        assert_eq!(
            suggest("sined", ["unsigned", "signed", "canceled"]).as_deref(),
            Some("signed")
        );
        assert_eq!(suggest("xyz", entity_names()), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
