//! Generations, the chain file and verification.

use crate::hash::{hash_data, hash_of_hash_list, hash_reader, HashFormat};
use chrono::{DateTime, SecondsFormat, Utc};
use platefarm_standards::xml::{parse_xml, Element};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MhlError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ASC MHL history in {path} is malformed: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("no ASC MHL history in {0} (no ascmhl/ascmhl_chain.xml)")]
    NoHistory(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MhlError + '_ {
    move |source| MhlError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatorInfo {
    pub tool_name: String,
    pub tool_version: String,
    pub hostname: String,
    pub comment: Option<String>,
}

impl Default for CreatorInfo {
    fn default() -> Self {
        CreatorInfo {
            tool_name: "platefarm".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            hostname: std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into()),
            comment: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateOptions {
    pub format: HashFormat,
    pub creator: CreatorInfo,
    /// `in-place` (hashing where the files are) or `transfer` (after a copy).
    pub process: String,
    /// Extra ignore patterns (names or `*` globs) on top of `.DS_Store` and `ascmhl`.
    pub ignore: Vec<String>,
    /// Time written into the manifest (the caller's clock).
    pub now: DateTime<Utc>,
}

impl CreateOptions {
    pub fn new(now: DateTime<Utc>) -> Self {
        CreateOptions {
            format: HashFormat::Xxh64,
            creator: CreatorInfo::default(),
            process: "in-place".into(),
            ignore: Vec::new(),
            now,
        }
    }
}

/// Per-file outcome, in the reference tool's classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Hash matches the history.
    Verified,
    /// Not in the history: recorded as `original`.
    New,
    /// Hash differs from the history.
    Mismatch { expected: String, actual: String },
    /// In the history but no longer on disk.
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSummary {
    pub generation: u32,
    pub manifest: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub outcomes: BTreeMap<String, FileOutcome>,
    pub root_content_hash: String,
    pub root_structure_hash: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct VerifyReport {
    pub outcomes: BTreeMap<String, FileOutcome>,
    /// Manifests whose C4 does not match the chain.
    pub chain_errors: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.chain_errors.is_empty() && self.outcomes.values().all(|o| *o == FileOutcome::Verified)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationInfo {
    pub sequence: u32,
    pub manifest: String,
    pub creation_date: String,
    pub tool: String,
    pub hostname: String,
    pub process: String,
    pub files: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryInfo {
    pub generations: Vec<GenerationInfo>,
}

const DEFAULT_IGNORE: [&str; 3] = [".DS_Store", "ascmhl", "ascmhl/"];

fn ignored(name: &str, is_dir: bool, patterns: &[String]) -> bool {
    patterns.iter().any(|p| {
        let p = p.as_str();
        if let Some(dir) = p.strip_suffix('/') {
            return is_dir && glob(dir, name);
        }
        glob(p, name)
    })
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            if !name.starts_with(head) {
                return false;
            }
            let rest = &name[head.len()..];
            (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn mtime(meta: &std::fs::Metadata) -> String {
    meta.modified()
        .map(|m| ts(DateTime::<Utc>::from(m)))
        .unwrap_or_else(|_| ts(Utc::now()))
}

enum Node {
    File {
        rel: String,
        name: String,
        size: u64,
        modified: String,
    },
    Dir {
        rel: String,
        name: String,
        modified: String,
        children: Vec<Node>,
    },
}

fn walk(root: &Path, rel: &str, patterns: &[String]) -> Result<Vec<Node>, MhlError> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .collect::<Result<_, _>>()
        .map_err(io(&dir))?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = Vec::new();
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        let path = e.path();
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        let child_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if ignored(&name, meta.is_dir(), patterns) {
            continue;
        }
        if meta.is_dir() {
            let children = walk(root, &child_rel, patterns)?;
            out.push(Node::Dir {
                rel: child_rel,
                name,
                modified: mtime(&meta),
                children,
            });
        } else if meta.is_file() {
            out.push(Node::File {
                rel: child_rel,
                name,
                size: meta.len(),
                modified: mtime(&meta),
            });
        }
    }
    Ok(out)
}

fn files_of(nodes: &[Node], out: &mut Vec<(String, PathBuf)>, root: &Path) {
    for n in nodes {
        match n {
            Node::File { rel, .. } => out.push((rel.clone(), root.join(rel))),
            Node::Dir { children, .. } => files_of(children, out, root),
        }
    }
}

/// Per-directory (content, structure) hashes, and the manifest `<hashes>` entries in the
/// reference tool's order (children first, sorted by name).
fn emit(
    nodes: &[Node],
    hashes: &BTreeMap<String, String>,
    f: HashFormat,
    prior: &BTreeMap<String, String>,
    now: &str,
    xml: &mut String,
) -> (String, String) {
    let (mut content, mut structure) = (Vec::new(), Vec::new());
    let fname = f.name();
    for n in nodes {
        match n {
            Node::File {
                rel,
                name,
                size,
                modified,
            } => {
                let h = &hashes[rel];
                let action = match prior.get(rel) {
                    None => "original",
                    Some(p) if p == h => "verified",
                    Some(_) => "failed",
                };
                let _ = write!(
                    xml,
                    "    <hash>\n      <path size=\"{size}\" lastmodificationdate=\"{modified}\">{}</path>\n      <{fname} action=\"{action}\" hashdate=\"{now}\">{h}</{fname}>\n    </hash>\n",
                    escape(rel)
                );
                content.push(h.clone());
                let mut data = name.as_bytes().to_vec();
                data.extend(crate::hash::digest_bytes(f, h).unwrap_or_default());
                structure.push(hash_data(f, &data));
            }
            Node::Dir {
                rel,
                name,
                modified,
                children,
            } => {
                let (c, s) = emit(children, hashes, f, prior, now, xml);
                let _ = write!(
                    xml,
                    "    <directoryhash>\n      <path lastmodificationdate=\"{modified}\">{}</path>\n      <content>\n        <{fname} hashdate=\"{now}\">{c}</{fname}>\n      </content>\n      <structure>\n        <{fname} hashdate=\"{now}\">{s}</{fname}>\n      </structure>\n    </directoryhash>\n",
                    escape(rel)
                );
                content.push(c);
                let mut data = name.as_bytes().to_vec();
                data.extend(crate::hash::digest_bytes(f, &s).unwrap_or_default());
                structure.push(hash_data(f, &data));
            }
        }
    }
    (
        hash_of_hash_list(f, &content),
        hash_of_hash_list(f, &structure),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Manifest {
    sequence: u32,
    file: String,
    c4: String,
    root: Element,
}

fn read_history(root: &Path) -> Result<Vec<Manifest>, MhlError> {
    let dir = root.join("ascmhl");
    let chain_path = dir.join("ascmhl_chain.xml");
    if !chain_path.exists() {
        return Ok(Vec::new());
    }
    let bad = |what: String| MhlError::Malformed {
        path: chain_path.clone(),
        what,
    };
    let chain =
        parse_xml(&std::fs::read_to_string(&chain_path).map_err(io(&chain_path))?).map_err(bad)?;
    let mut out = Vec::new();
    for h in chain.all("hashlist") {
        let sequence = h
            .attr("sequencenr")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| MhlError::Malformed {
                path: chain_path.clone(),
                what: "hashlist without sequencenr".into(),
            })?;
        let file = h.text_of("path").ok_or_else(|| MhlError::Malformed {
            path: chain_path.clone(),
            what: format!("hashlist {sequence} without path"),
        })?;
        let c4 = h.text_of("c4").unwrap_or_default();
        let mpath = dir.join(&file);
        let text = std::fs::read_to_string(&mpath).map_err(io(&mpath))?;
        let root = parse_xml(&text).map_err(|what| MhlError::Malformed {
            path: mpath.clone(),
            what,
        })?;
        out.push(Manifest {
            sequence,
            file,
            c4,
            root,
        });
    }
    out.sort_by_key(|m| m.sequence);
    Ok(out)
}

/// The latest recorded hash of each file (path → (format, digest)).
fn recorded(history: &[Manifest]) -> BTreeMap<String, (HashFormat, String)> {
    let mut out = BTreeMap::new();
    for m in history {
        let Some(hashes) = m.root.child("hashes") else {
            continue;
        };
        for h in hashes.all("hash") {
            let Some(path) = h.text_of("path") else {
                continue;
            };
            for c in &h.children {
                if let Some(f) = HashFormat::from_name(&c.name) {
                    out.insert(path.clone(), (f, c.text.trim().to_string()));
                }
            }
        }
    }
    out
}

fn hash_files(
    files: &[(String, PathBuf)],
    format: HashFormat,
) -> Result<BTreeMap<String, String>, MhlError> {
    files
        .par_iter()
        .map(|(rel, path)| {
            let f = std::fs::File::open(path).map_err(io(path))?;
            Ok((rel.clone(), hash_reader(format, f).map_err(io(path))?))
        })
        .collect()
}

/// Hashes the tree under `root` and writes the next generation of its history.
pub fn create_generation(root: &Path, opts: &CreateOptions) -> Result<GenerationSummary, MhlError> {
    if !root.is_dir() {
        return Err(MhlError::NotADirectory(root.to_path_buf()));
    }
    let history = read_history(root)?;
    let mut patterns: Vec<String> = DEFAULT_IGNORE.iter().map(|s| s.to_string()).collect();
    patterns.extend(opts.ignore.iter().cloned());
    let tree = walk(root, "", &patterns)?;
    let mut files = Vec::new();
    files_of(&tree, &mut files, root);
    let f = opts.format;
    let hashes = hash_files(&files, f)?;
    let prior: BTreeMap<String, String> = recorded(&history)
        .into_iter()
        .filter(|(_, (pf, _))| *pf == f)
        .map(|(k, (_, v))| (k, v))
        .collect();
    let now = ts(opts.now);
    let mut entries = String::new();
    let (root_c, root_s) = emit(&tree, &hashes, f, &prior, &now, &mut entries);
    let fname = f.name();
    let c = &opts.creator;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n  <creatorinfo>\n");
    let _ = write!(xml, "    <creationdate>{now}</creationdate>\n    <hostname>{}</hostname>\n    <tool version=\"{}\">{}</tool>\n", escape(&c.hostname), escape(&c.tool_version), escape(&c.tool_name));
    if let Some(comment) = &c.comment {
        let _ = writeln!(xml, "    <comment>{}</comment>", escape(comment));
    }
    let _ = write!(
        xml,
        "  </creatorinfo>\n  <processinfo>\n    <process>{}</process>\n    <roothash>\n      <content>\n        <{fname} hashdate=\"{now}\">{root_c}</{fname}>\n      </content>\n      <structure>\n        <{fname} hashdate=\"{now}\">{root_s}</{fname}>\n      </structure>\n    </roothash>\n    <ignore>\n",
        escape(&opts.process)
    );
    for p in &patterns {
        let _ = writeln!(xml, "      <pattern>{}</pattern>", escape(p));
    }
    xml.push_str("    </ignore>\n  </processinfo>\n  <hashes>\n");
    xml.push_str(&entries);
    xml.push_str("  </hashes>\n</hashlist>\n");

    let sequence = history.last().map(|m| m.sequence).unwrap_or(0) + 1;
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
    let dir = root.join("ascmhl");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let manifest = dir.join(&file);
    std::fs::write(&manifest, &xml).map_err(io(&manifest))?;

    let mut chain = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n");
    for m in &history {
        let _ = write!(
            chain,
            "  <hashlist sequencenr=\"{}\">\n    <path>{}</path>\n    <c4>{}</c4>\n  </hashlist>\n",
            m.sequence,
            escape(&m.file),
            m.c4
        );
    }
    let c4 = hash_data(HashFormat::C4, xml.as_bytes());
    let _ = write!(chain, "  <hashlist sequencenr=\"{sequence}\">\n    <path>{}</path>\n    <c4>{c4}</c4>\n  </hashlist>\n</ascmhldirectory>\n", escape(&file));
    let chain_path = dir.join("ascmhl_chain.xml");
    std::fs::write(&chain_path, chain).map_err(io(&chain_path))?;

    let outcomes = hashes
        .iter()
        .map(|(rel, h)| {
            let o = match prior.get(rel) {
                None => FileOutcome::New,
                Some(p) if p == h => FileOutcome::Verified,
                Some(p) => FileOutcome::Mismatch {
                    expected: p.clone(),
                    actual: h.clone(),
                },
            };
            (rel.clone(), o)
        })
        .collect();
    let bytes = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    Ok(GenerationSummary {
        generation: sequence,
        manifest,
        files: files.len(),
        bytes,
        outcomes,
        root_content_hash: root_c,
        root_structure_hash: root_s,
    })
}

/// Verifies the tree under `root` against its history (and the chain's manifest hashes).
pub fn verify(root: &Path) -> Result<VerifyReport, MhlError> {
    let history = read_history(root)?;
    if history.is_empty() {
        return Err(MhlError::NoHistory(root.to_path_buf()));
    }
    let mut report = VerifyReport::default();
    for m in &history {
        let path = root.join("ascmhl").join(&m.file);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let c4 = hash_data(HashFormat::C4, &bytes);
        if c4 != m.c4 {
            report.chain_errors.push(format!(
                "{}: C4 {c4} does not match the chain's {}",
                m.file, m.c4
            ));
        }
    }
    let recorded = recorded(&history);
    let mut patterns: Vec<String> = DEFAULT_IGNORE.iter().map(|s| s.to_string()).collect();
    if let Some(ig) = history
        .last()
        .and_then(|m| m.root.child("processinfo"))
        .and_then(|p| p.child("ignore"))
    {
        patterns.extend(ig.all("pattern").map(|p| p.text.trim().to_string()));
    }
    let tree = walk(root, "", &patterns)?;
    let mut files = Vec::new();
    files_of(&tree, &mut files, root);
    let on_disk: BTreeMap<String, PathBuf> = files.into_iter().collect();
    let to_hash: Vec<(String, PathBuf, HashFormat, String)> = recorded
        .iter()
        .filter_map(|(rel, (f, h))| {
            on_disk
                .get(rel)
                .map(|p| (rel.clone(), p.clone(), *f, h.clone()))
        })
        .collect();
    let checked: Vec<(String, FileOutcome)> = to_hash
        .par_iter()
        .map(|(rel, path, f, expected)| {
            let file = std::fs::File::open(path).map_err(io(path))?;
            let actual = hash_reader(*f, file).map_err(io(path))?;
            Ok((
                rel.clone(),
                if &actual == expected {
                    FileOutcome::Verified
                } else {
                    FileOutcome::Mismatch {
                        expected: expected.clone(),
                        actual,
                    }
                },
            ))
        })
        .collect::<Result<_, MhlError>>()?;
    report.outcomes.extend(checked);
    for rel in recorded.keys().filter(|r| !on_disk.contains_key(*r)) {
        report.outcomes.insert(rel.clone(), FileOutcome::Missing);
    }
    for rel in on_disk.keys().filter(|r| !recorded.contains_key(*r)) {
        report.outcomes.insert(rel.clone(), FileOutcome::New);
    }
    Ok(report)
}

/// The generations of a history.
pub fn info(root: &Path) -> Result<HistoryInfo, MhlError> {
    let history = read_history(root)?;
    if history.is_empty() {
        return Err(MhlError::NoHistory(root.to_path_buf()));
    }
    let generations = history
        .iter()
        .map(|m| {
            let ci = m.root.child("creatorinfo");
            GenerationInfo {
                sequence: m.sequence,
                manifest: m.file.clone(),
                creation_date: ci
                    .and_then(|c| c.text_of("creationdate"))
                    .unwrap_or_default(),
                tool: ci
                    .and_then(|c| c.child("tool"))
                    .map(|t| format!("{} {}", t.text.trim(), t.attr("version").unwrap_or("")))
                    .unwrap_or_default(),
                hostname: ci.and_then(|c| c.text_of("hostname")).unwrap_or_default(),
                process: m
                    .root
                    .child("processinfo")
                    .and_then(|p| p.text_of("process"))
                    .unwrap_or_default(),
                files: m
                    .root
                    .child("hashes")
                    .map(|h| h.all("hash").count())
                    .unwrap_or(0),
            }
        })
        .collect();
    Ok(HistoryInfo { generations })
}

/// The content and structure hashes recorded for a directory (`""` = root) in a manifest.
pub fn recorded_directory_hashes(root: &Path) -> Result<Vec<(String, String, String)>, MhlError> {
    let history = read_history(root)?;
    let mut out = Vec::new();
    for m in &history {
        let text = |e: Option<&Element>| {
            e.and_then(|x| x.children.first())
                .map(|h| h.text.trim().to_string())
                .unwrap_or_default()
        };
        if let Some(rh) = m
            .root
            .child("processinfo")
            .and_then(|p| p.child("roothash"))
        {
            out.push((
                String::new(),
                text(rh.child("content")),
                text(rh.child("structure")),
            ));
        }
        if let Some(hashes) = m.root.child("hashes") {
            for d in hashes.all("directoryhash") {
                out.push((
                    d.text_of("path").unwrap_or_default(),
                    text(d.child("content")),
                    text(d.child("structure")),
                ));
            }
        }
    }
    Ok(out)
}
