//! The bundled communes of France (`data/communes.tsv`, see
//! `data/generate.mjs`): parsed on first use only, so a shell that never
//! looks a place up never pays for it.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Commune, Place};

static DATA: &str = include_str!("data/communes.tsv");

/// Every commune, indexed by postcode and by folded name.
pub(crate) struct Communes {
    pub communes: Vec<Commune>,
    /// Population, for ordering name searches (largest first).
    population: Vec<u32>,
    /// Postcode → indexes into `communes`, in INSEE code order.
    by_postcode: HashMap<String, Vec<usize>>,
    /// Folded name → indexes, in INSEE code order.
    by_name: HashMap<String, Vec<usize>>,
    /// Every postcode, sorted, for completion.
    pub postcodes: Vec<String>,
    /// `(folded name, index)`, sorted, for completion and prefix search.
    names: Vec<(String, usize)>,
}

/// The data, parsed on first call.
pub(crate) fn all() -> &'static Communes {
    static COMMUNES: OnceLock<Communes> = OnceLock::new();
    COMMUNES.get_or_init(|| parse(DATA))
}

fn parse(text: &str) -> Communes {
    let mut regions: HashMap<&str, &str> = HashMap::new();
    let mut departements: HashMap<&str, (&str, &str)> = HashMap::new();
    let mut data = Communes {
        communes: Vec::with_capacity(35_000),
        population: Vec::with_capacity(35_000),
        by_postcode: HashMap::with_capacity(6_400),
        by_name: HashMap::with_capacity(35_000),
        postcodes: Vec::new(),
        names: Vec::with_capacity(35_000),
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        match cols.as_slice() {
            ["R", code, name] => {
                regions.insert(code, name);
            }
            ["D", code, region, name] => {
                departements.insert(code, (region, name));
            }
            [insee, name, population, postcodes] => {
                let dep_code = departement_of(insee);
                let (region_code, dep_name) =
                    departements.get(dep_code).copied().unwrap_or(("", ""));
                let region_name = regions.get(region_code).copied().unwrap_or("");
                let index = data.communes.len();
                let postcodes: Vec<String> = postcodes.split(',').map(str::to_owned).collect();
                for p in &postcodes {
                    data.by_postcode.entry(p.clone()).or_default().push(index);
                }
                let folded = fold(name);
                data.by_name.entry(folded.clone()).or_default().push(index);
                data.names.push((folded, index));
                data.population.push(population.parse().unwrap_or(0));
                data.communes.push(Commune {
                    name: (*name).to_owned(),
                    insee: (*insee).to_owned(),
                    postcodes,
                    department: Place::new(dep_code, dep_name),
                    region: Place::new(region_code, region_name),
                });
            }
            _ => debug_assert!(false, "a line of communes.tsv of an unknown shape: {line}"),
        }
    }
    data.postcodes = data.by_postcode.keys().cloned().collect();
    data.postcodes.sort();
    data.names.sort();
    data
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

impl Communes {
    /// The communes a postcode serves, in INSEE code order.
    pub fn by_postcode(&self, postcode: &str) -> Vec<&Commune> {
        self.by_postcode
            .get(postcode)
            .map(|ix| ix.iter().map(|&i| &self.communes[i]).collect())
            .unwrap_or_default()
    }

    /// The communes of exactly that name (ignoring case, accents, hyphens
    /// and `St`/`Saint`), largest first.
    pub fn named(&self, name: &str) -> Vec<&Commune> {
        let mut found: Vec<usize> = self.by_name.get(&fold(name)).cloned().unwrap_or_default();
        found.sort_by_key(|&i| std::cmp::Reverse(self.population[i]));
        found.iter().map(|&i| &self.communes[i]).collect()
    }

    /// A name search, as a person types it: exact names first, then names
    /// starting with it, then names containing it as a word; largest first
    /// within each, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Commune> {
        let q = fold(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut ranked: Vec<(u8, std::cmp::Reverse<u32>, usize)> = Vec::new();
        for (name, i) in &self.names {
            let rank = if *name == q {
                0
            } else if name.starts_with(&q) {
                1
            } else if name.contains(&format!(" {q}")) {
                2
            } else {
                continue;
            };
            ranked.push((rank, std::cmp::Reverse(self.population[*i]), *i));
        }
        ranked.sort();
        ranked
            .into_iter()
            .take(limit)
            .map(|(_, _, i)| &self.communes[i])
            .collect()
    }

    /// Commune names starting with `prefix` (folded), largest first, each
    /// once, at most `limit`.
    pub fn names_starting(&self, prefix: &str, limit: usize) -> Vec<&str> {
        let p = fold(prefix);
        let start = self.names.partition_point(|(n, _)| n.as_str() < p.as_str());
        let mut found: Vec<usize> = self.names[start..]
            .iter()
            .take_while(|(n, _)| n.starts_with(&p))
            .map(|&(_, i)| i)
            .collect();
        found.sort_by_key(|&i| std::cmp::Reverse(self.population[i]));
        let mut names: Vec<&str> = Vec::new();
        for i in found {
            let name = self.communes[i].name.as_str();
            if !names.contains(&name) {
                names.push(name);
            }
            if names.len() == limit {
                break;
            }
        }
        names
    }

    /// Postcodes starting with `prefix`, in order, at most `limit`.
    pub fn postcodes_starting(&self, prefix: &str, limit: usize) -> Vec<&str> {
        let start = self.postcodes.partition_point(|p| p.as_str() < prefix);
        self.postcodes[start..]
            .iter()
            .take_while(|p| p.starts_with(prefix))
            .take(limit)
            .map(String::as_str)
            .collect()
    }

    /// The commune of an INSEE code.
    pub fn by_insee(&self, insee: &str) -> Option<&Commune> {
        self.communes
            .binary_search_by(|c| c.insee.as_str().cmp(insee))
            .ok()
            .map(|i| &self.communes[i])
    }
}

/// A place name as compared: lower case, no accents, every run of
/// punctuation or blanks one space, `st`/`ste` read as `saint`/`sainte`.
/// `Saint-Étienne`, `ST ETIENNE` and `saint étienne` fold alike.
pub fn fold(name: &str) -> String {
    let mut plain = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => plain.push('a'),
            'é' | 'è' | 'ê' | 'ë' => plain.push('e'),
            'î' | 'ï' | 'í' | 'ì' => plain.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => plain.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => plain.push('u'),
            'ÿ' | 'ý' => plain.push('y'),
            'ç' => plain.push('c'),
            'ñ' => plain.push('n'),
            'œ' => plain.push_str("oe"),
            'æ' => plain.push_str("ae"),
            c if c.is_alphanumeric() => plain.push(c),
            _ => plain.push(' '),
        }
    }
    plain
        .split_whitespace()
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    }

    #[test]
    fn departements_of_insee_codes() {
        assert_eq!(departement_of("29053"), "29");
        assert_eq!(departement_of("2A004"), "2A");
        assert_eq!(departement_of("97411"), "974");
        assert_eq!(departement_of("98818"), "988");
    }

    #[test]
    fn a_small_file_parses() {
        let data = parse(
            "# comment\nR\t53\tBretagne\nD\t29\t53\tFinistère\n\
             29019\tBrest\t139619\t29200\n29053\tLe Faou\t1700\t29590\n",
        );
        assert_eq!(data.communes.len(), 2);
        let faou = data.by_postcode("29590");
        assert_eq!(faou[0].name, "Le Faou");
        assert_eq!(faou[0].department, Place::new("29", "Finistère"));
        assert_eq!(faou[0].region, Place::new("53", "Bretagne"));
        assert_eq!(data.named("le faou")[0].insee, "29053");
        assert_eq!(data.postcodes, ["29200", "29590"]);
        assert_eq!(data.names_starting("le", 10), ["Le Faou"]);
        assert_eq!(data.postcodes_starting("29", 1), ["29200"]);
        assert_eq!(data.by_insee("29019").unwrap().name, "Brest");
    }
}
