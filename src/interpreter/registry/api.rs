//! The two APIs' JSON, as their documentation describes it, read into our
//! types. Unknown fields are ignored; an answer without the documented
//! skeleton (`results` of the company search, the list of communes) is an
//! error: an API that answers something else is as good as unreachable.
//!
//! - Company registry, `GET /search?q=...` (its OpenAPI "payload"):
//!   `{"results": [{"siren", "nom_complet", "nom_raison_sociale",
//!   "activite_principale", "siege": {"numero_voie", "indice_repetition",
//!   "type_voie", "libelle_voie", "complement_adresse", "code_postal",
//!   "libelle_commune", "commune", "adresse", "code_pays_etranger",
//!   "libelle_pays_etranger", ...}, ...}], "total_results", "page",
//!   "per_page", "total_pages"}`.
//! - Geographic API, `GET /communes?codePostal=...|nom=...&fields=nom,code,
//!   codesPostaux,departement,region`: `[{"nom", "code", "codesPostaux":
//!   [...], "departement": {"code", "nom"}, "region": {"code", "nom"}}]`.

use serde_json::Value;

use super::{Address, Commune, Company, Place};

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The companies of a `/search` answer.
pub fn companies(v: &Value) -> Result<Vec<Company>, String> {
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or("its answer is not the documented JSON (no `results` list)")?;
    Ok(results.iter().filter_map(company).collect())
}

fn company(r: &Value) -> Option<Company> {
    let siren = str_of(r, "siren").filter(|s| crate::language::lookup::siren_ok(s))?;
    let name = str_of(r, "nom_complet").or_else(|| str_of(r, "nom_raison_sociale"))?;
    let office = r.get("siege").filter(|s| s.is_object());
    let activity = str_of(r, "activite_principale")
        .or_else(|| office.and_then(|s| str_of(s, "activite_principale")))
        .and_then(crate::language::naf::normalize);
    Some(Company {
        siren: siren.to_owned(),
        name: name.to_owned(),
        activity,
        head_office: office.and_then(address),
    })
}

fn address(s: &Value) -> Option<Address> {
    let street: Vec<&str> = [
        "numero_voie",
        "indice_repetition",
        "type_voie",
        "libelle_voie",
    ]
    .iter()
    .filter_map(|k| str_of(s, k))
    .collect();
    let postcode = str_of(s, "code_postal").unwrap_or_default();
    let city = str_of(s, "libelle_commune").unwrap_or_default();
    let street = if street.is_empty() {
        // Only the composed `adresse`: what comes before the postcode.
        let full = str_of(s, "adresse")?;
        match full.find(postcode).filter(|_| !postcode.is_empty()) {
            Some(i) => full[..i].trim().to_owned(),
            None => full.to_owned(),
        }
    } else {
        street.join(" ")
    };
    let country = str_of(s, "libelle_pays_etranger")
        .or_else(|| str_of(s, "code_pays_etranger"))
        .map(str::to_owned);
    let city = match (city, str_of(s, "libelle_commune_etranger")) {
        ("", Some(abroad)) => abroad,
        (city, _) => city,
    };
    if street.is_empty() || city.is_empty() {
        return None;
    }
    Some(Address {
        street,
        complement: str_of(s, "complement_adresse").map(str::to_owned),
        postcode: postcode.to_owned(),
        city: city.to_owned(),
        insee: str_of(s, "commune").map(str::to_owned),
        country,
    })
}

/// The communes of a `/communes` answer. A commune without its
/// département or région (fields not given back) takes them from the
/// bundled data.
pub fn communes(v: &Value) -> Result<Vec<Commune>, String> {
    let list = v
        .as_array()
        .ok_or("its answer is not the documented JSON (not a list of communes)")?;
    Ok(list.iter().filter_map(commune).collect())
}

fn commune(c: &Value) -> Option<Commune> {
    let name = str_of(c, "nom")?;
    let insee = str_of(c, "code")?;
    let postcodes: Vec<String> = c
        .get("codesPostaux")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let place = |key: &str| {
        let p = c.get(key)?;
        Some(Place::new(
            str_of(p, "code")?,
            str_of(p, "nom").unwrap_or_default(),
        ))
    };
    let known = super::commune_by_insee(insee);
    let department = place("departement")
        .or_else(|| known.as_ref().map(|k| k.department.clone()))
        .unwrap_or_default();
    let region = place("region")
        .or_else(|| known.as_ref().map(|k| k.region.clone()))
        .unwrap_or_default();
    Some(Commune {
        name: name.to_owned(),
        insee: insee.to_owned(),
        postcodes,
        department,
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_company_of_the_documented_shape() {
        let v = json!({
            "results": [{
                "siren": "356000000",
                "nom_complet": "LA POSTE",
                "activite_principale": "53.10Z",
                "siege": {
                    "numero_voie": "9", "type_voie": "RUE",
                    "libelle_voie": "DU COLONEL PIERRE AVIA",
                    "code_postal": "75015", "libelle_commune": "PARIS 15",
                    "commune": "75115",
                    "adresse": "9 RUE DU COLONEL PIERRE AVIA 75015 PARIS 15"
                }
            }, {"siren": "not one"}],
            "total_results": 2, "page": 1, "per_page": 10, "total_pages": 1
        });
        let found = companies(&v).unwrap();
        assert_eq!(found.len(), 1);
        let office = found[0].head_office.as_ref().unwrap();
        assert_eq!(office.street, "9 RUE DU COLONEL PIERRE AVIA");
        assert_eq!(office.postcode, "75015");
        assert_eq!(found[0].activity.as_deref(), Some("53.10Z"));
        assert!(companies(&json!({"erreur": "x"})).is_err());
        assert!(companies(&json!([1])).is_err());
    }

    #[test]
    fn only_the_composed_address() {
        let v = json!({"results": [{"siren": "356000000", "nom_raison_sociale": "X",
            "siege": {"adresse": "19 RUE DE LA POSTE 31700 CORNEBARRIEU",
                      "code_postal": "31700", "libelle_commune": "CORNEBARRIEU"}}]});
        let office = companies(&v).unwrap().remove(0).head_office.unwrap();
        assert_eq!(office.street, "19 RUE DE LA POSTE");
    }

    #[test]
    fn communes_of_the_documented_shape() {
        let v = json!([{"nom": "Le Faou", "code": "29053", "codesPostaux": ["29590"],
            "departement": {"code": "29", "nom": "Finistère"},
            "region": {"code": "53", "nom": "Bretagne"}},
            {"nom": "Brest", "code": "29019", "codesPostaux": ["29200"]}]);
        let found = communes(&v).unwrap();
        assert_eq!(found[0].region, Place::new("53", "Bretagne"));
        // Not given back: from the bundled data.
        assert_eq!(found[1].department, Place::new("29", "Finistère"));
        assert!(communes(&json!({"results": []})).is_err());
    }
}
