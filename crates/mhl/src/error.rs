//! The errors of this crate: IO (with the path), malformed histories (file and element),
//! bad options, and what we do not support.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MhlError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ASC MHL file {path} is malformed: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("no ASC MHL history in {0} (no ascmhl/ folder with manifests)")]
    NoHistory(PathBuf),
    #[error(
        "the ASC MHL history in {root} is damaged: {problems:?}; refusing to add a generation"
    )]
    DamagedChain {
        root: PathBuf,
        problems: Vec<String>,
    },
    #[error(
        "nested ASC MHL history at {0} is not supported (the reference tool would write a \
         generation into it); ignore that folder or create its generation separately"
    )]
    NestedHistory(PathBuf),
    #[error("unknown hash format {0:?}; allowed: xxh64, xxh3, xxh128, md5, sha1, c4")]
    UnknownHashFormat(String),
    #[error("unknown process {0:?}; allowed: in-place, transfer, flatten")]
    UnknownProcess(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MhlError + '_ {
    move |source| MhlError::Io {
        path: path.to_path_buf(),
        source,
    }
}
