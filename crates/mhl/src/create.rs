//! Creating a generation: hash every file (in parallel across files, on the caller's rayon
//! pool), compare with the history as the reference tool's `ascmhl create` does, write the
//! manifest and append its C4 to the chain.

use crate::error::{io, MhlError};
use crate::hash::{hash_file, HashFormat};
use crate::ignore::IgnoreSpec;
use crate::manifest::{self, ChainProblem, HashEntry, History};
use crate::tree::{self, iso, Node};
use crate::writer::{self, Header, Record};
use crate::FileOutcome;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Who wrote a generation (`<creatorinfo>`).
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorInfo {
    pub tool_name: String,
    pub tool_version: String,
    pub hostname: String,
    /// `<author>` names.
    pub authors: Vec<String>,
    pub location: Option<String>,
    pub comment: Option<String>,
}

impl Default for CreatorInfo {
    fn default() -> Self {
        CreatorInfo {
            tool_name: "platefarm".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            hostname: hostname(),
            authors: Vec::new(),
            location: None,
            comment: None,
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `<process>`: the values ASCMHL.xsd allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Hashing files where they are (what `ascmhl create` records).
    InPlace,
    /// Hashing after a copy.
    Transfer,
    Flatten,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::InPlace => "in-place",
            Process::Transfer => "transfer",
            Process::Flatten => "flatten",
        }
    }
}

impl std::str::FromStr for Process {
    type Err = MhlError;
    fn from_str(s: &str) -> Result<Self, MhlError> {
        [Process::InPlace, Process::Transfer, Process::Flatten]
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| MhlError::UnknownProcess(s.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateOptions {
    pub hash: HashFormat,
    pub creator: CreatorInfo,
    pub process: Process,
    /// Patterns (gitwildmatch) added to the history's; the defaults are `.DS_Store`, `ascmhl`,
    /// `ascmhl/`, and a history keeps the patterns of its latest generation.
    pub ignore: Vec<String>,
    /// The time written into the manifest and its file name (the caller's clock).
    pub now: DateTime<Utc>,
}

impl CreateOptions {
    /// xxh64, platefarm as the tool, `in-place`, no extra ignores.
    pub fn new(now: DateTime<Utc>) -> Self {
        CreateOptions {
            hash: HashFormat::Xxh64,
            creator: CreatorInfo::default(),
            process: Process::InPlace,
            ignore: Vec::new(),
            now,
        }
    }
}

/// What a new generation recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSummary {
    pub generation: u32,
    pub manifest: PathBuf,
    pub files: usize,
    pub bytes: u64,
    /// Per file: `New` (recorded as `original`), `Verified`, or `Mismatch` (recorded `failed`).
    pub outcomes: BTreeMap<String, FileOutcome>,
    /// Paths recorded earlier that are no longer there (ascmhl exits with 10 for these).
    pub missing: Vec<String>,
    pub root_content_hash: String,
    pub root_structure_hash: String,
}

impl GenerationSummary {
    /// Files whose hash matched the history.
    pub fn count_verified(&self) -> usize {
        self.outcomes
            .values()
            .filter(|o| **o == FileOutcome::Verified)
            .count()
    }

    /// No file failed verification and none is missing.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty()
            && self
                .outcomes
                .values()
                .all(|o| !matches!(o, FileOutcome::Mismatch { .. }))
    }
}

/// Paths in the history but not on disk, leaving out what the ignore spec covers (a path
/// under an ignored directory counts as ignored).
pub(crate) fn missing_paths(
    history: &History,
    present: &BTreeSet<String>,
    spec: &IgnoreSpec,
) -> Vec<String> {
    let mut missing: Vec<String> = history
        .recorded_paths()
        .filter(|(p, is_dir)| !present.contains(*p) && !ignored_with_parents(spec, p, *is_dir))
        .map(|(p, _)| p.to_string())
        .collect();
    missing.sort();
    missing
}

fn ignored_with_parents(spec: &IgnoreSpec, path: &str, is_dir: bool) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    (1..=parts.len()).any(|n| spec.is_ignored(&parts[..n].join("/"), n < parts.len() || is_dir))
}

/// Hashes the tree under `root` and writes the next generation of its history.
///
/// Mismatches and missing files do not stop the generation (as in the reference tool they are
/// recorded and reported): check [`GenerationSummary::is_ok`].
pub fn create_generation(root: &Path, opts: &CreateOptions) -> Result<GenerationSummary, MhlError> {
    if !root.is_dir() {
        return Err(MhlError::NotADirectory(root.to_path_buf()));
    }
    let history = manifest::read_history(root)?;
    let fatal: Vec<String> = history
        .problems
        .iter()
        .filter(|p| !matches!(p, ChainProblem::UnchainedManifest { .. }))
        .map(|p| p.to_string())
        .collect();
    if !fatal.is_empty() {
        return Err(MhlError::DamagedChain {
            root: root.to_path_buf(),
            problems: fatal,
        });
    }
    let spec = IgnoreSpec::new(history.latest_ignore(), &opts.ignore);
    let tree = tree::walk(root, &spec)?;
    let f = opts.hash;

    // Formats per file: the requested one, plus the history's first format when the file was
    // recorded before but never in the requested one (so the old record is verified too).
    let jobs: Vec<(&Node, Vec<HashFormat>)> = tree::files(&tree)
        .into_iter()
        .map(|n| {
            let mut formats = vec![f];
            let known = history.formats_of(n.rel());
            if !known.is_empty() && !known.contains(&f) {
                formats.insert(0, known[0]);
            }
            (n, formats)
        })
        .collect();
    let digests: BTreeMap<String, Vec<(HashFormat, String)>> = jobs
        .par_iter()
        .map(|(n, formats)| {
            let path = root.join(n.rel());
            let d = hash_file(&path, formats).map_err(io(&path))?;
            Ok((
                n.rel().to_string(),
                formats.iter().copied().zip(d).collect(),
            ))
        })
        .collect::<Result<_, MhlError>>()?;

    let mut outcomes = BTreeMap::new();
    let mut entries: BTreeMap<String, Vec<HashEntry>> = BTreeMap::new();
    for (rel, hashes) in &digests {
        let (outcome, recorded) = judge(&history, rel, hashes);
        outcomes.insert(rel.clone(), outcome);
        entries.insert(rel.clone(), recorded);
    }
    let digest_in_f = |rel: &str| {
        digests
            .get(rel)
            .and_then(|v| v.iter().find(|(x, _)| *x == f))
            .map(|(_, d)| d.clone())
    };
    let dirs = tree::directory_hashes(&tree, f, &digest_in_f);

    let now = iso(opts.now);
    let mut records = String::new();
    for n in tree::manifest_order(&tree) {
        let record = match n {
            Node::File {
                rel,
                size,
                modified,
                ..
            } => Record {
                path: rel,
                size: Some(*size),
                modified,
                hashes: entries.remove(rel).unwrap_or_default(),
            },
            Node::Dir { rel, modified, .. } => Record {
                path: rel,
                size: None,
                modified,
                hashes: vec![dir_entry(f, &dirs[rel.as_str()])],
            },
        };
        writer::write_record(&mut records, &record, &now);
    }
    let root_hash = &dirs["."];
    let c = &opts.creator;
    let xml = writer::write_manifest(
        &Header {
            creation_date: &now,
            hostname: &c.hostname,
            tool: &c.tool_name,
            tool_version: &c.tool_version,
            authors: &c.authors,
            location: c.location.as_deref(),
            comment: c.comment.as_deref(),
            process: opts.process.name(),
            root_hashes: &[dir_entry(f, root_hash)],
            ignore: spec.patterns(),
        },
        &records,
    );

    let sequence = history.next_sequence();
    let folder = root
        .canonicalize()
        .map_err(io(root))?
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "root".into());
    let file = format!(
        "{sequence:04}_{folder}_{}.mhl",
        opts.now.format("%Y-%m-%d_%H%M%SZ")
    );
    let manifest = writer::commit(root, &history, &file, sequence, &xml)?;

    let mut present = BTreeSet::new();
    tree::all_paths(&tree, &mut present);
    let files = tree::files(&tree);
    let bytes = files
        .iter()
        .map(|n| match n {
            Node::File { size, .. } => *size,
            Node::Dir { .. } => 0,
        })
        .sum();
    Ok(GenerationSummary {
        generation: sequence,
        manifest,
        files: files.len(),
        bytes,
        outcomes,
        missing: missing_paths(&history, &present, &spec),
        root_content_hash: root_hash.content.clone(),
        root_structure_hash: root_hash.structure.clone(),
    })
}

fn dir_entry(format: HashFormat, d: &tree::DirectoryHash) -> HashEntry {
    HashEntry {
        format,
        digest: d.content.clone(),
        structure: Some(d.structure.clone()),
        action: None,
    }
}

/// The reference tool's `append_file_hash` + `_validate_new_hash_list`: a file never seen is
/// `original`; a file seen in this format is `verified`/`failed` against its first hash in
/// that format; a file seen only in other formats has its first format checked and the new
/// format recorded as `verified` only if that check passed.
fn judge(
    history: &History,
    rel: &str,
    hashes: &[(HashFormat, String)],
) -> (FileOutcome, Vec<HashEntry>) {
    let entry = |format: HashFormat, digest: &str, action: &str| HashEntry {
        format,
        digest: digest.to_string(),
        structure: None,
        action: Some(action.to_string()),
    };
    if history.original(rel).is_none() {
        let recorded = hashes
            .iter()
            .map(|(f, d)| entry(*f, d, "original"))
            .collect();
        return (FileOutcome::New, recorded);
    }
    let mut outcome = FileOutcome::Verified;
    let mut recorded = Vec::new();
    for (format, digest) in hashes {
        match history.first_in(rel, *format) {
            Some(first) if first.digest == *digest => {
                recorded.push(entry(*format, digest, "verified"))
            }
            Some(first) => {
                outcome = FileOutcome::Mismatch {
                    format: *format,
                    expected: first.digest.clone(),
                    actual: digest.clone(),
                };
                recorded.push(entry(*format, digest, "failed"));
            }
            // A new format counts as verified only when the known format verified.
            None if outcome == FileOutcome::Verified => {
                recorded.push(entry(*format, digest, "verified"))
            }
            None => {}
        }
    }
    (outcome, recorded)
}
