//! Verifying a folder against its history (the reference tool's `ascmhl-debug verify` and
//! `verify --directory_hash` in one pass), and summarising a history (`ascmhl info`).

use crate::create::missing_paths;
use crate::error::{io, MhlError};
use crate::hash::{hash_file, HashFormat};
use crate::ignore::IgnoreSpec;
use crate::manifest::{self, ChainProblem, CreatorRecord, History};
use crate::tree::{self, DirectoryHash};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Per-file outcome, in the reference tool's classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// The hash matches the history (`verified`).
    Verified,
    /// Not in the history ("found new file"; recorded as `original` by create).
    New,
    /// The hash differs from the recorded one ("hash mismatch"; recorded `failed` by create).
    Mismatch {
        format: HashFormat,
        expected: String,
        actual: String,
    },
    /// In the history but not on disk ("missing file(s)"); directories included.
    Missing,
}

/// A directory (or the root, ".") whose content or structure hash no longer matches the
/// latest generation that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryMismatch {
    pub path: String,
    pub format: HashFormat,
    pub generation: u32,
    /// (recorded, computed) when the content hash differs.
    pub content: Option<(String, String)>,
    /// (recorded, computed) when the structure hash differs.
    pub structure: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct VerifyReport {
    pub outcomes: BTreeMap<String, FileOutcome>,
    pub directories: Vec<DirectoryMismatch>,
    pub chain: Vec<ChainProblem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.exit_code() == 0
    }

    pub fn count(&self, pred: impl Fn(&FileOutcome) -> bool) -> usize {
        self.outcomes.values().filter(|o| pred(o)).count()
    }

    /// The exit status `ascmhl-debug verify` would give for the same findings: chain problems
    /// first (31 modified manifest, 33 missing manifest, 32 no chain file), then 11 hash
    /// mismatch, 21 new files, 10 missing files, 12 directory hashes (what `verify -dh` gives).
    pub fn exit_code(&self) -> i32 {
        for p in &self.chain {
            match p {
                ChainProblem::NoChainFile => return 32,
                ChainProblem::ModifiedManifest { .. } => return 31,
                ChainProblem::MissingManifest { .. } => return 33,
                ChainProblem::UnchainedManifest { .. } => {}
            }
        }
        let has = |f: fn(&FileOutcome) -> bool| self.outcomes.values().any(f);
        if has(|o| matches!(o, FileOutcome::Mismatch { .. })) {
            11
        } else if has(|o| *o == FileOutcome::New) {
            21
        } else if has(|o| *o == FileOutcome::Missing) {
            10
        } else if !self.directories.is_empty() {
            12
        } else {
            0
        }
    }
}

/// Verifies the files under `root` against their `original` hashes, lists new and missing
/// files, recomputes directory hashes (in the formats of the recorded root hashes) against
/// the latest generation recording each directory, and checks the chain's manifest C4s.
pub fn verify(root: &Path) -> Result<VerifyReport, MhlError> {
    let history = manifest::read_history(root)?;
    if history.manifests.is_empty() {
        return Err(MhlError::NoHistory(root.to_path_buf()));
    }
    let spec = IgnoreSpec::new(history.latest_ignore(), &[]);
    let tree = tree::walk(root, &spec)?;
    let mut dir_formats: Vec<HashFormat> = Vec::new();
    for h in history.manifests.iter().flat_map(|m| &m.root_hashes) {
        if !dir_formats.contains(&h.format) {
            dir_formats.push(h.format);
        }
    }

    let files = tree::files(&tree);
    let computed: BTreeMap<String, Vec<(HashFormat, String)>> = files
        .par_iter()
        .map(|n| {
            let rel = n.rel();
            let mut formats = dir_formats.clone();
            if let Some(o) = history.original(rel) {
                if !formats.contains(&o.format) {
                    formats.push(o.format);
                }
            }
            let path = root.join(rel);
            let d = hash_file(&path, &formats).map_err(io(&path))?;
            Ok((rel.to_string(), formats.into_iter().zip(d).collect()))
        })
        .collect::<Result<_, MhlError>>()?;

    let mut report = VerifyReport {
        chain: history.problems.clone(),
        ..Default::default()
    };
    for (rel, digests) in &computed {
        let outcome = match history.original(rel) {
            None => FileOutcome::New,
            Some(o) => {
                let actual = digests
                    .iter()
                    .find(|(f, _)| *f == o.format)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_default();
                if actual == o.digest {
                    FileOutcome::Verified
                } else {
                    FileOutcome::Mismatch {
                        format: o.format,
                        expected: o.digest.clone(),
                        actual,
                    }
                }
            }
        };
        report.outcomes.insert(rel.clone(), outcome);
    }
    let mut present = BTreeSet::new();
    tree::all_paths(&tree, &mut present);
    for p in missing_paths(&history, &present, &spec) {
        report.outcomes.insert(p, FileOutcome::Missing);
    }

    for f in dir_formats {
        let digest = |rel: &str| {
            computed
                .get(rel)
                .and_then(|v| v.iter().find(|(x, _)| *x == f))
                .map(|(_, d)| d.clone())
        };
        for d in tree::directory_hashes(&tree, f, &digest).values() {
            if let Some(m) = compare_directory(&history, d, f) {
                report.directories.push(m);
            }
        }
    }
    Ok(report)
}

/// Compares with the latest generation that recorded this directory in this format.
fn compare_directory(
    history: &History,
    d: &DirectoryHash,
    f: HashFormat,
) -> Option<DirectoryMismatch> {
    let (generation, rec) = if d.path == "." {
        history.manifests.iter().rev().find_map(|m| {
            let h = m.root_hashes.iter().find(|h| h.format == f)?;
            Some((m.sequence, h))
        })?
    } else {
        history.latest_dir_hash(&d.path, f)?
    };
    let content = (rec.digest != d.content).then(|| (rec.digest.clone(), d.content.clone()));
    let recorded_structure = rec.structure.clone().unwrap_or_default();
    let structure =
        (recorded_structure != d.structure).then(|| (recorded_structure, d.structure.clone()));
    (content.is_some() || structure.is_some()).then(|| DirectoryMismatch {
        path: d.path.clone(),
        format: f,
        generation,
        content,
        structure,
    })
}

/// One generation as `ascmhl info` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationInfo {
    pub sequence: u32,
    pub manifest: String,
    pub creator: CreatorRecord,
    pub process: String,
    pub hash_formats: Vec<String>,
    pub files: usize,
    pub directories: usize,
    /// Counts of file hash actions: original, verified, failed.
    pub original: usize,
    pub verified: usize,
    pub failed: usize,
    /// (format, content, structure) of the root.
    pub root_hash: Option<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryInfo {
    pub generations: Vec<GenerationInfo>,
    pub chain: Vec<ChainProblem>,
}

/// The generations of a history, oldest first.
pub fn info(root: &Path) -> Result<HistoryInfo, MhlError> {
    let history = manifest::read_history(root)?;
    if history.manifests.is_empty() {
        return Err(MhlError::NoHistory(root.to_path_buf()));
    }
    let generations = history
        .manifests
        .iter()
        .map(|m| {
            let file_hashes = m
                .entries
                .iter()
                .filter(|e| !e.is_dir)
                .flat_map(|e| &e.hashes);
            let actions = |a: &str| {
                file_hashes
                    .clone()
                    .filter(|h| h.action.as_deref() == Some(a))
                    .count()
            };
            let mut hash_formats: Vec<String> = Vec::new();
            for h in m.entries.iter().flat_map(|e| &e.hashes) {
                if !hash_formats.iter().any(|x| x == h.format.name()) {
                    hash_formats.push(h.format.name().to_string());
                }
            }
            GenerationInfo {
                sequence: m.sequence,
                manifest: m.file.clone(),
                creator: m.creator.clone(),
                process: m.process.clone(),
                hash_formats,
                files: m.entries.iter().filter(|e| !e.is_dir).count(),
                directories: m.entries.iter().filter(|e| e.is_dir).count(),
                original: actions("original"),
                verified: actions("verified"),
                failed: actions("failed"),
                root_hash: m.root_hashes.first().map(|h| {
                    (
                        h.format.name().to_string(),
                        h.digest.clone(),
                        h.structure.clone().unwrap_or_default(),
                    )
                }),
            }
        })
        .collect();
    Ok(HistoryInfo {
        generations,
        chain: history.problems,
    })
}

/// The directory hashes of the tree under `root` in `format` (path "." is the root), with the
/// history's ignore patterns plus `ignore`: what the reference tool computes for
/// `verify --directory_hash --calculate_only`.
pub fn directory_hashes(
    root: &Path,
    format: HashFormat,
    ignore: &[String],
) -> Result<Vec<DirectoryHash>, MhlError> {
    let history = manifest::read_history(root)?;
    let spec = IgnoreSpec::new(history.latest_ignore(), ignore);
    let tree = tree::walk(root, &spec)?;
    let computed: BTreeMap<String, String> = tree::files(&tree)
        .par_iter()
        .map(|n| {
            let path = root.join(n.rel());
            let d = hash_file(&path, &[format]).map_err(io(&path))?;
            Ok((
                n.rel().to_string(),
                d.into_iter().next().unwrap_or_default(),
            ))
        })
        .collect::<Result<_, MhlError>>()?;
    let digest = |rel: &str| computed.get(rel).cloned();
    Ok(tree::directory_hashes(&tree, format, &digest)
        .into_values()
        .collect())
}
