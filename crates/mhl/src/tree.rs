//! The folder tree as ASC MHL sees it: children sorted by name, ignored paths left out, and
//! directory content / structure hashes computed exactly as the reference tool does:
//! content = hash of the sorted child hashes' bytes; structure = hash of the sorted hashes of
//! (child name bytes + child hash bytes), where a child directory contributes its structure hash.

use crate::error::{io, MhlError};
use crate::hash::{digest_bytes, hash_data, hash_of_hash_list, HashFormat};
use crate::ignore::IgnoreSpec;
use crate::manifest::HISTORY_DIR;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use std::path::Path;

/// A file or directory under the root (`rel` is `/`-separated, relative to the root).
#[derive(Debug, Clone)]
pub enum Node {
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

impl Node {
    pub fn rel(&self) -> &str {
        match self {
            Node::File { rel, .. } | Node::Dir { rel, .. } => rel,
        }
    }
}

/// A time as ASC MHL writes it (`2026-11-25T09:00:00+00:00`).
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub fn mtime(meta: &std::fs::Metadata) -> String {
    meta.modified()
        .map(|m| iso(DateTime::<Utc>::from(m)))
        .unwrap_or_else(|_| iso(DateTime::<Utc>::UNIX_EPOCH))
}

/// Lists the tree under `root`, sorted by name at each level, without ignored paths.
/// Symbolic links to directories are skipped (the reference tool does not descend into them);
/// links to files are followed. A nested `ascmhl/` history is an error (not supported).
pub fn walk(root: &Path, spec: &IgnoreSpec) -> Result<Vec<Node>, MhlError> {
    walk_dir(root, "", spec)
}

fn walk_dir(root: &Path, rel: &str, spec: &IgnoreSpec) -> Result<Vec<Node>, MhlError> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut entries: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().to_string(), e.path())))
        .collect::<Result<_, _>>()
        .map_err(io(&dir))?;
    // Python sorts names by code point, which is UTF-8 byte order: the same as String's Ord.
    entries.sort();
    let mut out = Vec::new();
    for (name, path) in entries {
        let child_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        if !rel.is_empty() && name == HISTORY_DIR && meta.is_dir() {
            return Err(MhlError::NestedHistory(dir.clone()));
        }
        if spec.is_ignored(&child_rel, meta.is_dir()) {
            continue;
        }
        if meta.is_dir() {
            let is_link = std::fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if is_link {
                continue;
            }
            let children = walk_dir(root, &child_rel, spec)?;
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

/// Every file of the tree, depth first.
pub fn files(nodes: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    fn go<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
        for n in nodes {
            match n {
                Node::File { .. } => out.push(n),
                Node::Dir { children, .. } => go(children, out),
            }
        }
    }
    go(nodes, &mut out);
    out
}

/// Every path of the tree (files and directories).
pub fn all_paths(nodes: &[Node], out: &mut std::collections::BTreeSet<String>) {
    for n in nodes {
        out.insert(n.rel().to_string());
        if let Node::Dir { children, .. } = n {
            all_paths(children, out);
        }
    }
}

/// The records in the order the reference tool writes them: for each directory, its
/// subdirectories' records first (recursively), then its files, then the directory itself.
/// The root itself is not included (it becomes `<roothash>`).
pub fn manifest_order(nodes: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    fn go<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
        for n in nodes {
            if let Node::Dir { children, .. } = n {
                go(children, out);
                out.push(n);
            }
        }
        out.extend(nodes.iter().filter(|n| matches!(n, Node::File { .. })));
    }
    go(nodes, &mut out);
    out
}

/// A directory's content and structure hash (`path` "." is the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryHash {
    pub path: String,
    pub content: String,
    pub structure: String,
}

/// Content and structure hashes of every directory (and the root, path "."), given each
/// file's digest in `format`.
pub fn directory_hashes(
    nodes: &[Node],
    format: HashFormat,
    file_digest: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, DirectoryHash> {
    let mut out = BTreeMap::new();
    let (content, structure) = dir_hash(nodes, format, file_digest, &mut out);
    out.insert(
        ".".to_string(),
        DirectoryHash {
            path: ".".into(),
            content,
            structure,
        },
    );
    out
}

fn dir_hash(
    nodes: &[Node],
    f: HashFormat,
    file_digest: &dyn Fn(&str) -> Option<String>,
    out: &mut BTreeMap<String, DirectoryHash>,
) -> (String, String) {
    let (mut content, mut structure) = (Vec::new(), Vec::new());
    let mut add = |name: &str, content_hash: String, structure_of: &str| {
        let mut data = name.as_bytes().to_vec();
        data.extend(digest_bytes(f, structure_of).unwrap_or_default());
        structure.push(hash_data(f, &data));
        content.push(content_hash);
    };
    for n in nodes {
        match n {
            Node::File { rel, name, .. } => {
                if let Some(h) = file_digest(rel) {
                    add(name, h.clone(), &h);
                }
            }
            Node::Dir {
                rel,
                name,
                children,
                ..
            } => {
                let (c, s) = dir_hash(children, f, file_digest, out);
                add(name, c.clone(), &s);
                out.insert(
                    rel.clone(),
                    DirectoryHash {
                        path: rel.clone(),
                        content: c,
                        structure: s,
                    },
                );
            }
        }
    }
    (
        hash_of_hash_list(f, &content),
        hash_of_hash_list(f, &structure),
    )
}
