//! ASC MHL v2.0 histories on a local directory: create a generation (hash every file, streaming,
//! in parallel across files; directory content and structure hashes as the ASC reference tool
//! computes them; the `ascmhl/` folder with numbered manifests and `ascmhl_chain.xml`), verify
//! a tree against its history, and summarise a history. Writes only inside `<root>/ascmhl/`.
//!
//! Nested histories (an `ascmhl/` folder below the root) are not supported: create and verify
//! refuse them with [`MhlError::NestedHistory`].

mod create;
mod error;
pub mod hash;
pub mod ignore;
mod manifest;
mod tree;
mod verify;
mod writer;

pub use create::{create_generation, CreateOptions, CreatorInfo, GenerationSummary, Process};
pub use error::MhlError;
pub use hash::{hash_data, hash_file, hash_of_hash_list, HashFormat};
pub use manifest::{parse_manifest, ChainProblem, CreatorRecord, HashEntry, Manifest, MediaEntry};
pub use tree::DirectoryHash;
pub use verify::{
    directory_hashes, info, verify, DirectoryMismatch, FileOutcome, GenerationInfo, HistoryInfo,
    VerifyReport,
};

/// A directory hash as a manifest records it (path "." for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedDirectoryHash {
    pub generation: u32,
    pub path: String,
    pub format: HashFormat,
    pub content: String,
    pub structure: String,
}

/// Every directory hash the history records, oldest generation first, for comparing with
/// [`directory_hashes`].
pub fn recorded_directory_hashes(
    root: &std::path::Path,
) -> Result<Vec<RecordedDirectoryHash>, MhlError> {
    let history = manifest::read_history(root)?;
    let mut out = Vec::new();
    for m in &history.manifests {
        let dirs = m
            .entries
            .iter()
            .filter(|e| e.is_dir)
            .map(|e| (e.path.as_str(), &e.hashes));
        for (path, hashes) in std::iter::once((".", &m.root_hashes)).chain(dirs) {
            for h in hashes {
                out.push(RecordedDirectoryHash {
                    generation: m.sequence,
                    path: path.to_string(),
                    format: h.format,
                    content: h.digest.clone(),
                    structure: h.structure.clone().unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}
