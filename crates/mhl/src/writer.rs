//! Writing the `ascmhl/` folder in the reference tool's layout: a manifest (two-space
//! indentation, element order of ASCMHL.xsd, hash entries sorted by format name) and the chain
//! file with every manifest's C4, each written through a temporary file and a rename.

use crate::error::{io, MhlError};
use crate::hash::{hash_data, HashFormat};
use crate::manifest::{HashEntry, History, CHAIN_FILE, HISTORY_DIR};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Element text escaped as lxml writes it (`"` and `'` stay literal). Characters XML 1.0
/// cannot carry at all (control characters other than tab/newline/CR) are dropped rather
/// than producing a manifest no parser accepts.
pub fn escape(s: &str) -> String {
    let valid = |c: &char| {
        matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
    };
    s.chars()
        .filter(valid)
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Attribute values escaped as lxml writes them.
fn escape_attr(s: &str) -> String {
    escape(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// A record to write: a file (`size` set) or a directory; dates already formatted.
pub struct Record<'a> {
    pub path: &'a str,
    pub size: Option<u64>,
    pub modified: &'a str,
    pub hashes: Vec<HashEntry>,
}

/// The `<hash>` / `<directoryhash>` element, indented for the `<hashes>` block.
pub fn write_record(xml: &mut String, r: &Record<'_>, hashdate: &str) {
    let path = escape(r.path);
    let modified = r.modified;
    match r.size {
        Some(size) => {
            let _ = write!(
                xml,
                "    <hash>\n      <path size=\"{size}\" lastmodificationdate=\"{modified}\">{path}</path>\n"
            );
            let mut hashes: Vec<&HashEntry> = r.hashes.iter().collect();
            hashes.sort_by_key(|h| h.format.name());
            for h in hashes {
                let (n, d) = (h.format.name(), &h.digest);
                let action = h.action.as_deref().unwrap_or("original");
                let _ = writeln!(
                    xml,
                    "      <{n} action=\"{action}\" hashdate=\"{hashdate}\">{d}</{n}>"
                );
            }
            xml.push_str("    </hash>\n");
        }
        None => {
            let _ = writeln!(
                xml,
                "    <directoryhash>\n      <path lastmodificationdate=\"{modified}\">{path}</path>"
            );
            write_dir_hashes(xml, &r.hashes, hashdate, "      ");
            xml.push_str("    </directoryhash>\n");
        }
    }
}

fn write_dir_hashes(xml: &mut String, hashes: &[HashEntry], hashdate: &str, indent: &str) {
    for (tag, structure) in [("content", false), ("structure", true)] {
        let _ = writeln!(xml, "{indent}<{tag}>");
        for h in hashes {
            let n = h.format.name();
            let d = if structure {
                h.structure.as_deref().unwrap_or_default()
            } else {
                &h.digest
            };
            let _ = writeln!(xml, "{indent}  <{n} hashdate=\"{hashdate}\">{d}</{n}>");
        }
        let _ = writeln!(xml, "{indent}</{tag}>");
    }
}

/// What goes into `<creatorinfo>` and `<processinfo>`.
pub struct Header<'a> {
    pub creation_date: &'a str,
    pub hostname: &'a str,
    pub tool: &'a str,
    pub tool_version: &'a str,
    pub authors: &'a [String],
    pub location: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub process: &'a str,
    pub root_hashes: &'a [HashEntry],
    pub ignore: &'a [String],
}

/// The whole manifest text around the already written `<hashes>` records.
pub fn write_manifest(h: &Header<'_>, records_xml: &str) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n  <creatorinfo>\n",
    );
    let _ = write!(
        xml,
        "    <creationdate>{}</creationdate>\n    <hostname>{}</hostname>\n    <tool version=\"{}\">{}</tool>\n",
        h.creation_date,
        escape(h.hostname),
        escape_attr(h.tool_version),
        escape(h.tool)
    );
    for a in h.authors {
        let _ = writeln!(xml, "    <author>{}</author>", escape(a));
    }
    if let Some(l) = h.location {
        let _ = writeln!(xml, "    <location>{}</location>", escape(l));
    }
    if let Some(c) = h.comment {
        let _ = writeln!(xml, "    <comment>{}</comment>", escape(c));
    }
    let _ = write!(
        xml,
        "  </creatorinfo>\n  <processinfo>\n    <process>{}</process>\n",
        escape(h.process)
    );
    if !h.root_hashes.is_empty() {
        xml.push_str("    <roothash>\n");
        write_dir_hashes(&mut xml, h.root_hashes, h.creation_date, "      ");
        xml.push_str("    </roothash>\n");
    }
    xml.push_str("    <ignore>\n");
    for p in h.ignore {
        let _ = writeln!(xml, "      <pattern>{}</pattern>", escape(p));
    }
    xml.push_str("    </ignore>\n  </processinfo>\n  <hashes>\n");
    xml.push_str(records_xml);
    xml.push_str("  </hashes>\n</hashlist>\n");
    xml
}

/// Writes the manifest and the chain (previous entries + the new manifest's C4), each through
/// a temporary file and a rename so a crash never leaves a half-written chain.
pub fn commit(
    root: &Path,
    history: &History,
    file: &str,
    sequence: u32,
    manifest_xml: &str,
) -> Result<PathBuf, MhlError> {
    let dir = root.join(HISTORY_DIR);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let manifest = dir.join(file);
    write_atomically(&manifest, manifest_xml.as_bytes())?;
    let mut chain = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n",
    );
    let c4 = hash_data(HashFormat::C4, manifest_xml.as_bytes());
    let entries = history
        .chain
        .iter()
        .map(|(s, f, c)| (*s, f.as_str(), c.as_str()))
        .chain([(sequence, file, c4.as_str())]);
    for (s, f, c) in entries {
        let _ = write!(
            chain,
            "  <hashlist sequencenr=\"{s}\">\n    <path>{}</path>\n    <c4>{c}</c4>\n  </hashlist>\n",
            escape(f)
        );
    }
    chain.push_str("</ascmhldirectory>\n");
    write_atomically(&dir.join(CHAIN_FILE), chain.as_bytes())?;
    Ok(manifest)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MhlError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
