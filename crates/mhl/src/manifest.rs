//! The `ascmhl/` folder as read: manifests (`NNNN_<folder>_<date>.mhl`, generation number from
//! the file name as in the reference tool), the chain file (`ascmhl_chain.xml`, one C4 per
//! manifest) and what is wrong with them. Writing is in `writer.rs`.

use crate::error::{io, MhlError};
use crate::hash::{hash_data, HashFormat};
use platefarm_standards::xml::{parse_xml, Element};
use std::collections::HashMap;
use std::path::Path;

pub const HISTORY_DIR: &str = "ascmhl";
pub const CHAIN_FILE: &str = "ascmhl_chain.xml";

/// One `<xxh64 …>` (or other format) element of a `<hash>`, `<directoryhash>` or `<roothash>`.
#[derive(Debug, Clone, PartialEq)]
pub struct HashEntry {
    pub format: HashFormat,
    /// File hash, or a directory's content hash.
    pub digest: String,
    /// A directory's structure hash.
    pub structure: Option<String>,
    /// `original`, `verified` or `failed` (files only).
    pub action: Option<String>,
}

/// A `<hash>` (file) or `<directoryhash>` record.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaEntry {
    pub path: String,
    pub is_dir: bool,
    pub size: Option<u64>,
    pub hashes: Vec<HashEntry>,
}

/// The creator of a generation, as recorded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreatorRecord {
    pub creation_date: String,
    pub hostname: String,
    pub tool: String,
    pub tool_version: String,
    pub authors: Vec<String>,
    pub location: Option<String>,
    pub comment: Option<String>,
}

/// One generation (a parsed `.mhl` file).
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub sequence: u32,
    pub file: String,
    pub creator: CreatorRecord,
    pub process: String,
    pub root_hashes: Vec<HashEntry>,
    pub ignore: Vec<String>,
    pub entries: Vec<MediaEntry>,
}

/// The history of a folder: its manifests by generation, the chain, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub manifests: Vec<Manifest>,
    /// (sequence number, manifest file name, C4) as listed in the chain file.
    pub chain: Vec<(u32, String, String)>,
    /// Chain problems in the reference tool's classes (modified / missing manifest, no chain).
    pub problems: Vec<ChainProblem>,
    /// path → (manifest index, entry index), oldest first: lookups stay O(1) per file, so a
    /// history of 100 000 files is not searched 100 000 times.
    index: HashMap<String, Vec<(usize, usize)>>,
}

/// What is wrong with the chain of manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The manifest's C4 differs from the chain's (someone edited the manifest).
    ModifiedManifest {
        file: String,
        expected: String,
        actual: String,
    },
    /// The chain lists a manifest that is not there.
    MissingManifest { file: String },
    /// `ascmhl/` exists but `ascmhl_chain.xml` does not.
    NoChainFile,
    /// A manifest in `ascmhl/` that the chain does not list.
    UnchainedManifest { file: String },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::ModifiedManifest {
                file,
                expected,
                actual,
            } => write!(
                f,
                "modified manifest {file}: C4 {actual}, chain says {expected}"
            ),
            ChainProblem::MissingManifest { file } => write!(f, "missing manifest {file}"),
            ChainProblem::NoChainFile => write!(f, "no {CHAIN_FILE}"),
            ChainProblem::UnchainedManifest { file } => {
                write!(f, "manifest {file} is not listed in {CHAIN_FILE}")
            }
        }
    }
}

impl History {
    /// The latest generation's ignore patterns (None without a history).
    pub fn latest_ignore(&self) -> Option<&[String]> {
        self.manifests.last().map(|m| m.ignore.as_slice())
    }

    /// Every record of `path`, oldest generation first.
    pub fn records<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a MediaEntry> + 'a {
        self.index
            .get(path)
            .into_iter()
            .flatten()
            .map(|&(m, e)| &self.manifests[m].entries[e])
    }

    /// Every recorded path and whether it is a directory (as last recorded).
    pub fn recorded_paths(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        self.index.iter().filter_map(|(p, at)| {
            let &(m, e) = at.last()?;
            Some((p.as_str(), self.manifests[m].entries[e].is_dir))
        })
    }

    /// The latest hash of directory `path` in `format`, with its generation (None for the
    /// root: see `Manifest::root_hashes`).
    pub fn latest_dir_hash(&self, path: &str, format: HashFormat) -> Option<(u32, &HashEntry)> {
        self.index.get(path)?.iter().rev().find_map(|&(m, e)| {
            let entry = &self.manifests[m].entries[e];
            let h = entry.hashes.iter().find(|h| h.format == format)?;
            entry.is_dir.then_some((self.manifests[m].sequence, h))
        })
    }

    /// The `original` hash of a file (the reference tool's `find_original_hash_entry_for_path`).
    pub fn original(&self, path: &str) -> Option<&HashEntry> {
        self.records(path)
            .flat_map(|e| e.hashes.iter())
            .find(|h| h.action.as_deref() == Some("original"))
    }

    /// The first recorded hash of a file in `format`.
    pub fn first_in(&self, path: &str, format: HashFormat) -> Option<&HashEntry> {
        self.records(path)
            .flat_map(|e| e.hashes.iter())
            .find(|h| h.format == format)
    }

    /// The formats a file was ever hashed in, first seen first.
    pub fn formats_of(&self, path: &str) -> Vec<HashFormat> {
        let mut out = Vec::new();
        for h in self.records(path).flat_map(|e| e.hashes.iter()) {
            if !out.contains(&h.format) {
                out.push(h.format);
            }
        }
        out
    }

    pub fn next_sequence(&self) -> u32 {
        self.manifests.last().map_or(0, |m| m.sequence) + 1
    }
}

/// Reads `<root>/ascmhl/` (an empty history when the folder does not exist).
pub fn read_history(root: &Path) -> Result<History, MhlError> {
    let dir = root.join(HISTORY_DIR);
    let mut history = History::default();
    if !dir.is_dir() {
        return Ok(history);
    }
    let chain_path = dir.join(CHAIN_FILE);
    if chain_path.exists() {
        history.chain = read_chain(&chain_path)?;
    } else {
        history.problems.push(ChainProblem::NoChainFile);
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".mhl") && !n.starts_with("._"))
        .collect();
    names.sort();
    for name in names {
        // The generation number is the file name's leading digits (4 or more), as in ascmhl.
        let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
        let Ok(sequence) = digits.parse::<u32>() else {
            continue;
        };
        if digits.len() < 4 {
            continue;
        }
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        match history.chain.iter().find(|(_, f, _)| *f == name) {
            Some((_, _, expected)) => {
                let actual = hash_data(HashFormat::C4, &bytes);
                if *expected != actual {
                    history.problems.push(ChainProblem::ModifiedManifest {
                        file: name.clone(),
                        expected: expected.clone(),
                        actual,
                    });
                }
            }
            None if !history.chain.is_empty() => history
                .problems
                .push(ChainProblem::UnchainedManifest { file: name.clone() }),
            None => {}
        }
        let text = String::from_utf8(bytes).map_err(|_| MhlError::Malformed {
            path: path.clone(),
            what: "not UTF-8".into(),
        })?;
        history
            .manifests
            .push(parse_manifest(&text, sequence, &name, &path)?);
    }
    for (_, file, _) in &history.chain {
        if !dir.join(file).exists() {
            history
                .problems
                .push(ChainProblem::MissingManifest { file: file.clone() });
        }
    }
    history.manifests.sort_by_key(|m| m.sequence);
    for (mi, m) in history.manifests.iter().enumerate() {
        for (ei, e) in m.entries.iter().enumerate() {
            history
                .index
                .entry(e.path.clone())
                .or_default()
                .push((mi, ei));
        }
    }
    Ok(history)
}

fn read_chain(path: &Path) -> Result<Vec<(u32, String, String)>, MhlError> {
    let bad = |what: String| MhlError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let doc = parse_xml(&text).map_err(bad)?;
    if doc.name != "ascmhldirectory" {
        return Err(bad(format!(
            "root element <{}>, expected <ascmhldirectory>",
            doc.name
        )));
    }
    let mut out = Vec::new();
    for (i, h) in doc.all("hashlist").enumerate() {
        let sequence = h
            .attr("sequencenr")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                bad(format!(
                    "<hashlist> #{} without a numeric sequencenr",
                    i + 1
                ))
            })?;
        let file = h.text_of("path").ok_or_else(|| {
            bad(format!(
                "<hashlist sequencenr=\"{sequence}\"> without <path>"
            ))
        })?;
        let c4 = h
            .text_of("c4")
            .ok_or_else(|| bad(format!("<hashlist sequencenr=\"{sequence}\"> without <c4>")))?;
        out.push((sequence, file, c4));
    }
    Ok(out)
}

fn hash_entries(parent: &Element, is_dir: bool) -> Vec<HashEntry> {
    let entry = |e: &Element| {
        HashFormat::from_name(&e.name).map(|format| HashEntry {
            format,
            digest: e.text.trim().to_string(),
            structure: None,
            action: e.attr("action").map(String::from),
        })
    };
    if !is_dir {
        return parent.children.iter().filter_map(entry).collect();
    }
    let mut out: Vec<HashEntry> = parent
        .child("content")
        .map(|c| c.children.iter().filter_map(entry).collect())
        .unwrap_or_default();
    if let Some(s) = parent.child("structure") {
        for e in s.children.iter().filter_map(entry) {
            if let Some(h) = out.iter_mut().find(|h| h.format == e.format) {
                h.structure = Some(e.digest);
            }
        }
    }
    out
}

/// Parses one manifest; `sequence` comes from its file name.
pub fn parse_manifest(
    text: &str,
    sequence: u32,
    file: &str,
    path: &Path,
) -> Result<Manifest, MhlError> {
    let bad = |what: String| MhlError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let doc = parse_xml(text).map_err(bad)?;
    if doc.name != "hashlist" {
        return Err(bad(format!(
            "root element <{}>, expected <hashlist>",
            doc.name
        )));
    }
    let ci = doc.child("creatorinfo");
    let text_in = |e: Option<&Element>, name: &str| e.and_then(|c| c.text_of(name));
    let creator = CreatorRecord {
        creation_date: text_in(ci, "creationdate").unwrap_or_default(),
        hostname: text_in(ci, "hostname").unwrap_or_default(),
        tool: text_in(ci, "tool").unwrap_or_default(),
        tool_version: ci
            .and_then(|c| c.child("tool"))
            .and_then(|t| t.attr("version"))
            .unwrap_or_default()
            .to_string(),
        authors: ci
            .map(|c| c.all("author").map(|a| a.text.trim().to_string()).collect())
            .unwrap_or_default(),
        location: text_in(ci, "location"),
        comment: text_in(ci, "comment"),
    };
    let pi = doc.child("processinfo");
    let mut entries = Vec::new();
    if let Some(hashes) = doc.child("hashes") {
        for e in &hashes.children {
            let is_dir = match e.name.as_str() {
                "hash" => false,
                "directoryhash" => true,
                _ => continue,
            };
            let p = e.child("path").ok_or_else(|| {
                bad(format!(
                    "<{}> #{} without <path>",
                    e.name,
                    entries.len() + 1
                ))
            })?;
            entries.push(MediaEntry {
                path: p.text.trim().to_string(),
                is_dir,
                size: p.attr("size").and_then(|s| s.parse().ok()),
                hashes: hash_entries(e, is_dir),
            });
        }
    }
    Ok(Manifest {
        sequence,
        file: file.to_string(),
        creator,
        process: text_in(pi, "process").unwrap_or_default(),
        root_hashes: pi
            .and_then(|p| p.child("roothash"))
            .map(|r| hash_entries(r, true))
            .unwrap_or_default(),
        ignore: pi
            .and_then(|p| p.child("ignore"))
            .map(|i| {
                i.all("pattern")
                    .map(|p| p.text.trim().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        entries,
    })
}
