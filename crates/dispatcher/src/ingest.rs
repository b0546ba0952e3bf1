//! Ingest over an object store: list a prefix, run `platefarm_ingest::ingest` on it (ASC MHL
//! first, then every clip in parallel on the global rayon pool, off the async runtime), and
//! write each clip's thumbnail beside the footage (`thumbnail_key`). Shared by `platefarm
//! ingest` and `POST /v1/ingests`; the caller records the clips in its catalog.

use platefarm_ingest::{
    ingest, thumbnail_jpeg, thumbnail_key, Entry, IngestError, IngestOptions, IngestReport,
    ThumbnailOptions,
};
use platefarm_store::{ObjectStore, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The objects under `prefix` as an ingest listing (keys relative to the prefix).
async fn list_entries(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
) -> Result<Vec<Entry>, StoreError> {
    Ok(store
        .list(prefix)
        .await?
        .iter()
        .filter_map(|m| Some(Entry::new(m.key.strip_prefix(prefix)?, m.size)))
        .collect())
}

/// Reads of an ingest's files from the store, for the ingest crate's blocking code: called
/// from the rayon pool (never from a runtime thread), each read blocks on the runtime. Remembers
/// whether a read failed for an outage, so a caller tells "the store is down" from "this file
/// is bad".
struct StoreSource {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    max_bytes: u64,
    handle: tokio::runtime::Handle,
    outage: AtomicBool,
}

impl StoreSource {
    fn new(store: Arc<dyn ObjectStore>, prefix: &str, max_bytes: u64) -> Self {
        StoreSource {
            store,
            prefix: prefix.to_string(),
            max_bytes,
            handle: tokio::runtime::Handle::current(),
            outage: AtomicBool::new(false),
        }
    }

    fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        self.handle
            .block_on(
                self.store
                    .get(&format!("{}{key}", self.prefix), self.max_bytes),
            )
            .map_err(|e| {
                if e.is_retryable() {
                    self.outage.store(true, Ordering::Relaxed);
                }
                e.to_string()
            })
    }

    fn had_outage(&self) -> bool {
        self.outage.load(Ordering::Relaxed)
    }
}

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
    let entries = list_entries(&store, prefix).await.map_err(|e| {
        let what = format!("listing {location}: {e}");
        if e.is_retryable() {
            IngestFailure::Store(what)
        } else {
            IngestFailure::Location(what)
        }
    })?;
    let source = StoreSource::new(store.clone(), prefix, max_file_bytes);
    let handle = tokio::runtime::Handle::current();
    let (prefix, location) = (prefix.to_string(), location.to_string());
    tokio::task::spawn_blocking(move || {
        let source = |key: &str| source.read(key);
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

/// What `submit_ingest` handed to the workers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReceipt {
    pub ingest_id: String,
    pub location: String,
    /// Clips handed out, one job each.
    pub clips: usize,
    /// Keys that are not footage.
    pub ignored: usize,
    /// The ASC MHL check (it passed), if the location holds a history.
    pub mhl: Option<platefarm_ingest::MhlSummary>,
}

/// Ingest as farm work: lists `prefix`, verifies its ASC MHL histories here (a mismatch fails
/// before anything is handed out, naming the files), records the ingest with every clip
/// pending, and publishes one `IngestJob` per clip on the chunk queue. Workers inspect the
/// clips and write thumbnails; the dispatcher's event loop records each result
/// (`Catalog::record_ingest_result`). A location with no footage is refused.
pub async fn submit_ingest(
    store: Arc<dyn ObjectStore>,
    queue: &dyn platefarm_queue::WorkQueue,
    catalog: &dyn platefarm_catalog::Catalog,
    queues: &platefarm_queue::FarmQueues,
    prefix: &str,
    location: &str,
    thumbnails: bool,
) -> Result<IngestReceipt, SubmitIngestError> {
    use platefarm_ingest::job::{IngestJob, JOB_VERSION};
    let entries = list_entries(&store, prefix).await.map_err(|e| {
        let what = format!("listing {location}: {e}");
        if e.is_retryable() {
            SubmitIngestError::Unavailable(what)
        } else {
            SubmitIngestError::Refused(what)
        }
    })?;
    let source = StoreSource::new(store.clone(), prefix, 2 << 30);
    let (found, mhl) = tokio::task::spawn_blocking(move || {
        let found = platefarm_ingest::discover(&entries);
        if found.histories.is_empty() {
            return Ok((found, None));
        }
        let read = |key: &str| source.read(key);
        match platefarm_ingest::mhl::verify_histories(&entries, &found.histories, &read) {
            Ok(summary) => Ok((found, Some(summary))),
            Err(e) if source.had_outage() => Err(SubmitIngestError::Unavailable(format!(
                "verifying the ASC MHL history: {e}"
            ))),
            Err(e) => Err(SubmitIngestError::Refused(e.to_string())),
        }
    })
    .await
    .map_err(|e| SubmitIngestError::Unavailable(format!("the ingest task stopped: {e}")))??;
    if found.clips.is_empty() {
        return Err(SubmitIngestError::Refused(format!(
            "location {location:?} holds no footage ({} other files)",
            found.ignored.len()
        )));
    }
    let ingest_id = format!("IN-{}", uuid::Uuid::new_v4().simple());
    let catalog_down = |e: platefarm_catalog::CatalogError| {
        SubmitIngestError::Unavailable(format!("the catalog is unavailable, try again: {e}"))
    };
    catalog
        .create_ingest(
            &platefarm_catalog::NewIngest {
                ingest_id: ingest_id.clone(),
                location: location.to_string(),
                clip_keys: found.clips.iter().map(|c| c.key.clone()).collect(),
                ignored: found.ignored.clone(),
                mhl: mhl
                    .as_ref()
                    .map(|m| serde_json::to_value(m).expect("summaries serialise")),
            },
            chrono::Utc::now(),
        )
        .await
        .map_err(catalog_down)?;
    let jobs: Vec<Vec<u8>> = found
        .clips
        .iter()
        .map(|clip| {
            IngestJob {
                kind: "ingest".into(),
                version: JOB_VERSION,
                ingest_id: ingest_id.clone(),
                prefix: prefix.to_string(),
                location: location.to_string(),
                thumbnails,
                clip: clip.clone(),
            }
            .encode()
        })
        .collect();
    if let Err(e) = queue.publish_batch(&queues.chunks, jobs).await {
        // Nothing will answer for these clips: record them failed so the ingest ends.
        let reason = format!("the broker did not take the ingest job: {e}");
        for clip in &found.clips {
            let failed = platefarm_ingest::job::IngestResult {
                kind: "ingest_result".into(),
                version: JOB_VERSION,
                ingest_id: ingest_id.clone(),
                clip_key: clip.key.clone(),
                worker_id: "dispatcher".into(),
                outcome: platefarm_ingest::job::IngestOutcome::Failed {
                    reason: reason.clone(),
                },
            };
            if let Err(e) = catalog
                .record_ingest_result(&failed, chrono::Utc::now())
                .await
            {
                tracing::error!(%ingest_id, clip = %clip.key, error = %e, "could not record the clip failed; the ingest stays running");
            }
        }
        return Err(SubmitIngestError::Unavailable(reason));
    }
    tracing::info!(%ingest_id, location, clips = found.clips.len(), "ingest handed to the workers");
    Ok(IngestReceipt {
        ingest_id,
        location: location.to_string(),
        clips: found.clips.len(),
        ignored: found.ignored.len(),
        mhl,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitIngestError {
    /// The store, broker or catalog cannot be reached now: retrying later can help.
    #[error("{0}")]
    Unavailable(String),
    /// The location was refused: outside the store, no footage, an ASC MHL mismatch.
    #[error("{0}")]
    Refused(String),
}
