//! The bundled communes of France (`data/communes.tsv`, see
//! `data/generate.mjs`): parsed on first use only, so a shell that never
//! looks a place up never pays for it.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Commune, Place};

static DATA: &str = include_str!("data/communes.tsv");

/// The bundled data. Nothing is parsed until a question needs it, and
/// then only what that question needs: a postcode or an INSEE code is
/// found by a scan of the text (under a millisecond), commune names are
/// folded and sorted on the first name search or completion only.
pub(crate) struct Communes {
    text: &'static str,
    /// `(département, région)` by département code: the header lines.
    places: OnceLock<HashMap<&'static str, (Place, Place)>>,
    index: OnceLock<Index>,
}

/// For name searches and completion. Names are not sorted: a scan of
/// them takes well under a millisecond, sorting them far longer.
struct Index {
    /// `(folded name, line)`, in INSEE code order.
    names: Vec<(String, &'static str)>,
    /// Every postcode, sorted, each once.
    postcodes: Vec<&'static str>,
}

/// The bundled communes.
pub(crate) fn all() -> &'static Communes {
    static COMMUNES: Communes = Communes::new(DATA);
    &COMMUNES
}

/// The département of an INSEE commune code: its first two characters, three
/// overseas (`971..`, `987..`).
fn departement_of(insee: &str) -> &str {
    let n = if insee.starts_with("97") || insee.starts_with("98") {
        3
    } else {
        2
    };
    insee.get(..n).unwrap_or(insee)
}

/// A commune line's fields: INSEE code, name, population, postcodes.
fn fields(line: &str) -> Option<(&str, &str, u32, &str)> {
    let mut cols = line.split('\t');
    let insee = cols.next()?;
    let name = cols.next()?;
    let population = cols.next()?.parse().unwrap_or(0);
    let postcodes = cols.next()?;
    (cols.next().is_none() && insee != "R" && insee != "D")
        .then_some((insee, name, population, postcodes))
}

/// The whole line around byte `at`.
fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

impl Communes {
    const fn new(text: &'static str) -> Communes {
        Communes {
            text,
            places: OnceLock::new(),
            index: OnceLock::new(),
        }
    }

    fn places(&self) -> &HashMap<&'static str, (Place, Place)> {
        self.places.get_or_init(|| {
            let mut regions: HashMap<&str, &str> = HashMap::new();
            let mut places = HashMap::new();
            for line in self.text.lines().filter(|l| !l.starts_with('#')) {
                let cols: Vec<&'static str> = line.split('\t').collect();
                match cols.as_slice() {
                    ["R", code, name] => {
                        regions.insert(code, name);
                    }
                    ["D", code, region, name] => {
                        let r =
                            Place::new(region, regions.get(region).copied().unwrap_or_default());
                        places.insert(*code, (Place::new(code, name), r));
                    }
                    // The header is over.
                    _ => break,
                }
            }
            places
        })
    }

    fn commune(&self, line: &str) -> Option<Commune> {
        let (insee, name, _, postcodes) = fields(line)?;
        let (department, region) = self
            .places()
            .get(departement_of(insee))
            .cloned()
            .unwrap_or_default();
        Some(Commune {
            name: name.to_owned(),
            insee: insee.to_owned(),
            postcodes: postcodes.split(',').map(str::to_owned).collect(),
            department,
            region,
        })
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut names = Vec::with_capacity(35_000);
            // Postcodes are five digits: a slot for each sorts them.
            let mut slots: Vec<Option<&'static str>> = vec![None; 100_000];
            for line in self.text.lines() {
                if let Some((_, name, _, codes)) = fields(line) {
                    names.push((fold(name), line));
                    for code in codes.split(',') {
                        let slot = code.parse::<usize>().ok().and_then(|n| slots.get_mut(n));
                        if let Some(slot) = slot {
                            *slot = Some(code);
                        }
                    }
                }
            }
            let postcodes = slots.into_iter().flatten().collect();
            Index { names, postcodes }
        })
    }

    /// Every postcode, sorted.
    pub fn postcodes(&self) -> &[&'static str] {
        &self.index().postcodes
    }

    /// The communes a postcode serves, in INSEE code order.
    pub fn by_postcode(&self, postcode: &str) -> Vec<Commune> {
        if postcode.is_empty() || postcode.contains(['\t', '\n', ',']) {
            return Vec::new();
        }
        let mut found: Vec<Commune> = Vec::new();
        let mut last_line = usize::MAX;
        for (at, _) in self.text.match_indices(postcode) {
            let before = self.text[..at].chars().next_back();
            let after = self.text[at + postcode.len()..].chars().next();
            // A whole item of the postcodes column: after a tab or a comma
            // that follows the population, before a comma or the end.
            if !matches!(before, Some('\t' | ',')) || !matches!(after, Some(',' | '\n') | None) {
                continue;
            }
            let line = line_at(self.text, at);
            let start = line.as_ptr() as usize - self.text.as_ptr() as usize;
            if start == last_line {
                continue;
            }
            if let Some((_, _, _, codes)) = fields(line)
                && codes.split(',').any(|c| c == postcode)
                && let Some(c) = self.commune(line)
            {
                last_line = start;
                found.push(c);
            }
        }
        found
    }

    /// The commune of an INSEE code.
    pub fn by_insee(&self, insee: &str) -> Option<Commune> {
        if insee.is_empty() || insee.contains(['\t', '\n']) {
            return None;
        }
        let at = self.text.find(&format!("\n{insee}\t"))?;
        self.commune(line_at(self.text, at + 1))
    }

    /// The lines whose folded name equals `q` or starts with it.
    fn names_from<'a>(&'a self, q: &'a str) -> impl Iterator<Item = &'a (String, &'static str)> {
        self.index()
            .names
            .iter()
            .filter(move |(n, _)| n.starts_with(q))
    }

    /// The communes of exactly that name (ignoring case, accents, hyphens
    /// and `St`/`Saint`), largest first.
    pub fn named(&self, name: &str) -> Vec<Commune> {
        let q = fold(name);
        let mut found: Vec<(u32, &str)> = self
            .names_from(&q)
            .filter(|(n, _)| *n == q)
            .filter_map(|(_, line)| fields(line).map(|f| (f.2, *line)))
            .collect();
        found.sort_by_key(|&(population, _)| std::cmp::Reverse(population));
        found
            .into_iter()
            .filter_map(|(_, l)| self.commune(l))
            .collect()
    }

    /// A name search, as a person types it: exact names first, then names
    /// starting with it, then names containing it as a word; largest first
    /// within each, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Commune> {
        let q = fold(query);
        if q.is_empty() {
            return Vec::new();
        }
        let word = format!(" {q}");
        let mut ranked: Vec<(u8, std::cmp::Reverse<u32>, &str)> = Vec::new();
        for (name, line) in &self.index().names {
            let rank = if *name == q {
                0
            } else if name.starts_with(&q) {
                1
            } else if name.contains(&word) {
                2
            } else {
                continue;
            };
            let population = fields(line).map_or(0, |f| f.2);
            ranked.push((rank, std::cmp::Reverse(population), line));
        }
        ranked.sort_by_key(|&(rank, population, _)| (rank, population));
        ranked
            .into_iter()
            .take(limit)
            .filter_map(|(_, _, line)| self.commune(line))
            .collect()
    }

    /// Commune names starting with `prefix` (folded), largest first, each
    /// once, at most `limit`.
    pub fn names_starting(&self, prefix: &str, limit: usize) -> Vec<&'static str> {
        let p = fold(prefix);
        let mut found: Vec<(u32, &'static str)> = self
            .names_from(&p)
            .filter_map(|(_, line)| fields(line).map(|f| (f.2, f.1)))
            .collect();
        found.sort_by_key(|&(population, _)| std::cmp::Reverse(population));
        let mut out: Vec<&'static str> = Vec::new();
        for (_, name) in found {
            if !out.contains(&name) {
                out.push(name);
            }
            if out.len() == limit {
                break;
            }
        }
        out
    }

    /// Postcodes starting with `prefix`, in order, at most `limit`.
    pub fn postcodes_starting(&self, prefix: &str, limit: usize) -> Vec<&'static str> {
        let postcodes = self.postcodes();
        let start = postcodes.partition_point(|p| *p < prefix);
        postcodes[start..]
            .iter()
            .take_while(|p| p.starts_with(prefix))
            .take(limit)
            .copied()
            .collect()
    }
}

/// A place name as compared: lower case, no accents, every run of
/// punctuation or blanks one space, `st`/`ste` read as `saint`/`sainte`.
/// `Saint-Étienne`, `ST ETIENNE` and `saint étienne` fold alike.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut word = 0;
    let mut space = false;
    for c in name.chars() {
        let plain: Option<&str> = match c {
            'a'..='z' | '0'..='9' => None,
            'A'..='Z' => None,
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'À' | 'Â' | 'Ä' | 'Á' => Some("a"),
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => Some("e"),
            'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' => Some("i"),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' => Some("o"),
            'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => Some("u"),
            'ÿ' | 'ý' | 'Ÿ' => Some("y"),
            'ç' | 'Ç' => Some("c"),
            'ñ' | 'Ñ' => Some("n"),
            'œ' | 'Œ' => Some("oe"),
            'æ' | 'Æ' => Some("ae"),
            c if c.is_alphanumeric() => None,
            _ => {
                end_word(&mut out, word);
                space = true;
                continue;
            }
        };
        if space && !out.is_empty() {
            out.push(' ');
            word = out.len();
        }
        space = false;
        match plain {
            Some(p) => out.push_str(p),
            None => out.extend(c.to_lowercase()),
        }
    }
    end_word(&mut out, word);
    out
}

/// `st` and `ste` as words are `saint` and `sainte`.
fn end_word(out: &mut String, word: usize) {
    let long = match &out[word..] {
        "st" => "saint",
        "ste" => "sainte",
        _ => return,
    };
    out.truncate(word);
    out.push_str(long);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_alike() {
        assert_eq!(fold("Saint-Étienne"), "saint etienne");
        assert_eq!(fold("ST ETIENNE"), "saint etienne");
        assert_eq!(fold("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(fold("Candé-sur-Beuvron"), fold("cande sur beuvron"));
        assert_eq!(fold("Œuilly"), "oeuilly");
        assert_eq!(fold("Ste-Anne st"), "sainte anne saint");
        assert_eq!(fold("Stella"), "stella");
        assert_eq!(fold("--"), "");
        assert_eq!(fold("ÉCOLE"), "ecole");
    }

    #[test]
    fn departements_of_insee_codes() {
        assert_eq!(departement_of("29053"), "29");
        assert_eq!(departement_of("2A004"), "2A");
        assert_eq!(departement_of("97411"), "974");
        assert_eq!(departement_of("98818"), "988");
    }

    #[test]
    fn a_small_file_answers() {
        static TEXT: &str = "# comment\nR\t53\tBretagne\nD\t29\t53\tFinistère\n\
             29019\tBrest\t139619\t29200,29590\n29053\tLe Faou\t1700\t29590\n";
        let data = Communes::new(TEXT);
        let faou = data.by_postcode("29590");
        assert_eq!(faou.len(), 2, "{faou:?}");
        assert_eq!(faou[1].name, "Le Faou");
        assert_eq!(faou[1].department, Place::new("29", "Finistère"));
        assert_eq!(faou[1].region, Place::new("53", "Bretagne"));
        assert_eq!(data.by_postcode("2959"), []);
        assert_eq!(
            data.by_postcode("1700"),
            [],
            "a population is not a postcode"
        );
        assert_eq!(data.named("le faou")[0].insee, "29053");
        assert_eq!(data.postcodes(), ["29200", "29590"]);
        assert_eq!(data.names_starting("le", 10), ["Le Faou"]);
        assert_eq!(data.postcodes_starting("29", 1), ["29200"]);
        assert_eq!(data.by_insee("29019").unwrap().name, "Brest");
        assert_eq!(data.by_insee("2901"), None);
        assert_eq!(data.search("brest", 5)[0].insee, "29019");
    }
}
