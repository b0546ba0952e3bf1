//! A folder on disk as a listing and a `ByteSource` (what the CLI's local source does).

#![allow(dead_code)]

use platefarm_ingest::{ByteSource, Entry};
use std::io::Read;
use std::path::{Path, PathBuf};

pub struct DirSource {
    pub root: PathBuf,
}

impl ByteSource for DirSource {
    fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(key)).map_err(|e| format!("{key}: {e}"))
    }
    fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        let f = std::fs::File::open(self.root.join(key)).map_err(|e| format!("{key}: {e}"))?;
        let mut buf = Vec::with_capacity(len.min(1 << 20));
        f.take(len as u64)
            .read_to_end(&mut buf)
            .map_err(|e| format!("{key}: {e}"))?;
        Ok(buf)
    }
}

/// Every file under `root`, keys relative with `/`.
pub fn listing(root: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(Entry::new(rel, meta.len()));
            }
        }
    }
    out.sort();
    out
}

pub fn write_all(root: &Path, objects: &std::collections::BTreeMap<String, Vec<u8>>) {
    for (key, bytes) in objects {
        let p = root.join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}
