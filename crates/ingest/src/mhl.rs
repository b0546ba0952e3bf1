//! ASC MHL verification through a [`ByteSource`]: the manifests of each `ascmhl/` folder are
//! parsed with platefarm-mhl, their C4s checked against `ascmhl_chain.xml`, and every file
//! the history records is hashed (in the format of its `original` record) and compared.
//! Directory hashes are not recomputed (that is `platefarm_mhl::verify` on a local folder).

use crate::discover::Entry;
use crate::{ByteSource, IngestError};
use platefarm_mhl::{hash_data, parse_manifest, HashFormat, Manifest};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The outcome of a verification that passed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MhlSummary {
    /// History roots (`""` for the location's root).
    pub histories: Vec<String>,
    /// Files whose hash matched their history.
    pub verified: usize,
    /// Media files the histories do not record (not an error: new since the last generation).
    pub new_files: Vec<String>,
}

fn join(root: &str, rel: &str) -> String {
    if root.is_empty() {
        rel.to_string()
    } else {
        format!("{root}/{rel}")
    }
}

/// Verifies every history of the listing. Fails with every mismatched, missing or
/// unreadable file named, or with the chain problem.
pub fn verify_histories(
    entries: &[Entry],
    roots: &[String],
    source: &dyn ByteSource,
) -> Result<MhlSummary, IngestError> {
    let present: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.key.as_str(), e)).collect();
    let mut summary = MhlSummary {
        histories: roots.to_vec(),
        ..MhlSummary::default()
    };
    let mut mismatched = Vec::new();
    let mut missing = Vec::new();
    let mut recorded_all = BTreeSet::new();
    for root in roots {
        let dir = join(root, "ascmhl");
        let fail = |what: String| IngestError::Mhl {
            history: dir.clone(),
            what,
        };
        let mut manifests: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                e.key
                    .strip_prefix(&format!("{dir}/"))
                    .is_some_and(|n| n.ends_with(".mhl") && !n.contains('/'))
            })
            .collect();
        manifests.sort();
        let chain_key = format!("{dir}/ascmhl_chain.xml");
        let chain: Vec<(String, String)> = match present.get(chain_key.as_str()) {
            None => return Err(fail("no ascmhl_chain.xml".into())),
            Some(_) => {
                let bytes = source.read(&chain_key).map_err(|e| fail(e.to_string()))?;
                let text =
                    String::from_utf8(bytes).map_err(|_| fail("chain is not UTF-8".into()))?;
                let doc = platefarm_standards::xml::parse_xml(&text)
                    .map_err(|e| fail(format!("ascmhl_chain.xml: {e}")))?;
                doc.all("hashlist")
                    .filter_map(|h| Some((h.text_of("path")?, h.text_of("c4")?)))
                    .collect()
            }
        };
        let mut parsed: Vec<Manifest> = Vec::new();
        for m in &manifests {
            let name = m.key.rsplit('/').next().unwrap_or(&m.key).to_string();
            let bytes = source.read(&m.key).map_err(|e| fail(e.to_string()))?;
            match chain.iter().find(|(p, _)| *p == name) {
                Some((_, c4)) if *c4 != hash_data(HashFormat::C4, &bytes) => {
                    return Err(fail(format!(
                        "manifest {name} was modified (its C4 differs from ascmhl_chain.xml)"
                    )))
                }
                Some(_) => {}
                None => {
                    return Err(fail(format!(
                        "manifest {name} is not listed in ascmhl_chain.xml"
                    )))
                }
            }
            let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
            let text =
                String::from_utf8(bytes).map_err(|_| fail(format!("{name} is not UTF-8")))?;
            let manifest = parse_manifest(
                &text,
                digits.parse().unwrap_or(0),
                &name,
                std::path::Path::new(&m.key),
            )
            .map_err(|e| fail(e.to_string()))?;
            parsed.push(manifest);
        }
        for (p, _) in &chain {
            if !manifests.iter().any(|m| m.key.ends_with(&format!("/{p}"))) {
                return Err(fail(format!("manifest {p} listed in the chain is missing")));
            }
        }
        if parsed.is_empty() {
            return Err(fail("no manifests".into()));
        }
        parsed.sort_by_key(|m| m.sequence);
        // The original hash of each file: its first record, preferring action="original".
        let mut originals: BTreeMap<String, (HashFormat, String)> = BTreeMap::new();
        for m in &parsed {
            for e in m.entries.iter().filter(|e| !e.is_dir) {
                if originals.contains_key(&e.path) {
                    continue;
                }
                let h = e
                    .hashes
                    .iter()
                    .find(|h| h.action.as_deref() == Some("original"))
                    .or(e.hashes.first());
                if let Some(h) = h {
                    originals.insert(e.path.clone(), (h.format, h.digest.clone()));
                }
            }
        }
        let checks: Vec<(String, Result<bool, String>)> = originals
            .par_iter()
            .filter_map(|(rel, (format, digest))| {
                let key = join(root, rel);
                present.get(key.as_str())?;
                let r = source
                    .read(&key)
                    .map(|b| hash_data(*format, &b).eq_ignore_ascii_case(digest))
                    .map_err(|e| e.to_string());
                Some((key, r))
            })
            .collect();
        for rel in originals.keys() {
            let key = join(root, rel);
            recorded_all.insert(key.clone());
            if !present.contains_key(key.as_str()) {
                missing.push(key);
            }
        }
        for (key, r) in checks {
            match r {
                Ok(true) => summary.verified += 1,
                Ok(false) => mismatched.push(key),
                Err(e) => mismatched.push(format!("{key} (unreadable: {e})")),
            }
        }
    }
    if !mismatched.is_empty() || !missing.is_empty() {
        return Err(IngestError::MhlMismatch {
            mismatched,
            missing,
        });
    }
    summary.new_files = entries
        .iter()
        .filter(|e| {
            !recorded_all.contains(&e.key)
                && !e
                    .key
                    .split('/')
                    .any(|s| s == "ascmhl" || s.starts_with('.'))
                && roots
                    .iter()
                    .any(|r| r.is_empty() || e.key.starts_with(&format!("{r}/")))
        })
        .map(|e| e.key.clone())
        .collect();
    Ok(summary)
}
