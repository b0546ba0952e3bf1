//! Local-filesystem object store rooted at a directory: the embedded farm's default.

use crate::{check_key, ObjectMeta, ObjectStore, StoreError};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    tmp_counter: AtomicU64,
}

impl LocalStore {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref();
        std::fs::create_dir_all(root).map_err(|source| StoreError::Io {
            key: root.display().to_string(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| StoreError::Io {
            key: root.display().to_string(),
            source,
        })?;
        Ok(LocalStore {
            root,
            tmp_counter: AtomicU64::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The filesystem path of a key (after checking it stays under the root).
    pub fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// Converts an absolute filesystem path under the root into a key.
    pub fn key_of(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let key = rel.to_str()?.replace(std::path::MAIN_SEPARATOR, "/");
        check_key(&key).ok()?;
        Some(key)
    }
}

fn io(key: &str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound {
                key: key.to_string(),
            }
        } else {
            StoreError::Io {
                key: key.to_string(),
                source,
            }
        }
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(key)?;
        let meta = tokio::fs::metadata(&path).await.map_err(io(key))?;
        if !meta.is_file() {
            return Err(StoreError::NotFound {
                key: key.to_string(),
            });
        }
        if meta.len() > max_bytes {
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size: meta.len(),
                limit: max_bytes,
            });
        }
        tokio::fs::read(&path).await.map_err(io(key))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io(key))?;
        }
        // Write into the root's partial-object folder and rename into place: a reader, or a
        // delivery folder after a worker is killed mid-write, never holds a partial object.
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp_dir = self.root.join(PARTIAL_DIR);
        tokio::fs::create_dir_all(&tmp_dir).await.map_err(io(key))?;
        let tmp = tmp_dir.join(format!("{}.{n}", std::process::id()));
        tokio::fs::write(&tmp, &bytes).await.map_err(io(key))?;
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(key)(e));
        }
        Ok(())
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        if !prefix.is_empty() {
            // A prefix need not be a whole key, but it must not climb out of the root.
            check_key(prefix.trim_end_matches('/'))?;
        }
        // Start from the deepest directory the prefix names, then filter by full prefix.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start = self.root.join(dir_part);
        let root = self.root.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![start];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(StoreError::Io {
                            key: dir.display().to_string(),
                            source,
                        })
                    }
                };
                for entry in entries {
                    let entry = entry.map_err(|source| StoreError::Io {
                        key: dir.display().to_string(),
                        source,
                    })?;
                    let path = entry.path();
                    let ft = entry.file_type().map_err(|source| StoreError::Io {
                        key: path.display().to_string(),
                        source,
                    })?;
                    let Some(key) = path
                        .strip_prefix(&root)
                        .ok()
                        .and_then(|p| p.to_str())
                        .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
                    else {
                        continue;
                    };
                    if ft.is_dir() {
                        if key.starts_with(&prefix) || prefix.starts_with(&format!("{key}/")) {
                            stack.push(path);
                        }
                    } else if ft.is_file() && key.starts_with(&prefix) && !is_partial(&key) {
                        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                        out.push(ObjectMeta { key, size });
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("list task failed: {e}")))?
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(key)(e)),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Where objects are written before they are renamed into place (same filesystem as the root).
pub const PARTIAL_DIR: &str = ".partial";

fn is_partial(key: &str) -> bool {
    key.starts_with(PARTIAL_DIR) && key[PARTIAL_DIR.len()..].starts_with('/')
}
