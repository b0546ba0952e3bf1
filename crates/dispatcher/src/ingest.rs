//! Ingest over an object store: list a prefix, run `platefarm_ingest::ingest` on it (ASC MHL
//! first, then every clip in parallel on the global rayon pool, off the async runtime), and
//! write each clip's thumbnail beside the footage (`thumbnail_key`). Shared by `platefarm
//! ingest` and `POST /v1/ingests`; the caller records the clips in its catalog.

use platefarm_ingest::{
    ingest, thumbnail_jpeg, thumbnail_key, Entry, IngestError, IngestOptions, IngestReport,
    ThumbnailOptions,
};
use platefarm_store::ObjectStore;
use std::sync::Arc;

/// What an ingest produced.
#[derive(Debug)]
pub struct StoreIngest {
    pub report: IngestReport,
    /// Thumbnails written.
    pub thumbnails: usize,
    /// Clips without a thumbnail, each with the reason (a clip with no readable frame).
    pub thumbnail_errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestFailure {
    /// The store cannot be reached now: retrying later can help.
    #[error("{0}")]
    Store(String),
    /// The store refused the location (a key it does not accept).
    #[error("{0}")]
    Location(String),
    /// The ingest itself refused the location (an ASC MHL mismatch names the files).
    #[error("{0}")]
    Ingest(#[from] IngestError),
}

impl IngestFailure {
    /// A storage outage: retrying later can help.
    pub fn is_store(&self) -> bool {
        matches!(self, IngestFailure::Store(_))
    }
}

/// Ingests every object under `prefix` (`""` or ending in `/`); `location` is how the
/// records name it. Files above `max_file_bytes` are reported as bad frames.
pub async fn ingest_store(
    store: Arc<dyn ObjectStore>,
    prefix: &str,
    location: &str,
    thumbnails: bool,
    max_file_bytes: u64,
) -> Result<StoreIngest, IngestFailure> {
    let listing = store.list(prefix).await.map_err(|e| {
        let what = format!("listing {location}: {e}");
        if e.is_retryable() {
            IngestFailure::Store(what)
        } else {
            IngestFailure::Location(what)
        }
    })?;
    let entries: Vec<Entry> = listing
        .iter()
        .filter_map(|m| Some(Entry::new(m.key.strip_prefix(prefix)?, m.size)))
        .collect();
    let handle = tokio::runtime::Handle::current();
    let (prefix, location) = (prefix.to_string(), location.to_string());
    tokio::task::spawn_blocking(move || {
        // Called from the rayon pool, never from a runtime thread.
        let source = |key: &str| -> Result<Vec<u8>, String> {
            handle
                .block_on(store.get(&format!("{prefix}{key}"), max_file_bytes))
                .map_err(|e| e.to_string())
        };
        let opts = IngestOptions {
            location,
            ..Default::default()
        };
        let report = ingest(&entries, &source, &opts)?;
        let (mut written, mut thumbnail_errors) = (0, Vec::new());
        if thumbnails {
            use rayon::prelude::*;
            let made: Vec<Result<(String, Vec<u8>), String>> = report
                .clips
                .par_iter()
                .map(|clip| {
                    thumbnail_jpeg(clip, &source, &ThumbnailOptions::default())
                        .map(|(_, _, _, jpeg)| (format!("{prefix}{}", thumbnail_key(clip)), jpeg))
                        .map_err(|e| format!("no thumbnail for {}: {e}", clip.key))
                })
                .collect();
            for m in made {
                match m {
                    Ok((key, jpeg)) => {
                        handle.block_on(store.put(&key, jpeg)).map_err(|e| {
                            IngestFailure::Store(format!("writing the thumbnail {key}: {e}"))
                        })?;
                        written += 1;
                    }
                    Err(why) => thumbnail_errors.push(why),
                }
            }
        }
        Ok(StoreIngest {
            report,
            thumbnails: written,
            thumbnail_errors,
        })
    })
    .await
    .map_err(|e| IngestFailure::Store(format!("the ingest task stopped: {e}")))?
}
