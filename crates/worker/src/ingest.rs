//! Ingest jobs on the chunk queue (`platefarm_ingest::job`): inspect one clip on this worker's
//! pool through the store, write its thumbnail beside the footage, publish the record on the
//! events queue, then ack. A store outage while reading is retried (the job is requeued with
//! backoff, then failed with the reason on the last delivery); a corrupt frame is part of the
//! record (`frames.bad`), never a failure.

use crate::{on_pool, RenderFailure, Worker, WorkerStats};
use platefarm_ingest::job::{IngestJob, IngestOutcome, IngestResult, JOB_VERSION};
use platefarm_ingest::{inspect_clip, thumbnail_jpeg, thumbnail_key, IngestOptions};
use platefarm_queue::Delivery;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Frames (and thumbnails' frames) larger than this are reported as bad frames.
const MAX_FILE_BYTES: u64 = 2 << 30;

enum Inspected {
    Done(IngestOutcome),
    /// The store failed in a way a later attempt may not: the last error.
    Outage(String),
}

impl Worker {
    pub(crate) async fn handle_ingest(&self, d: Delivery, job: IngestJob) -> WorkerStats {
        let span = tracing::info_span!(
            "ingest",
            ingest_id = %job.ingest_id,
            clip = %job.clip.key,
            delivery = d.delivery_count,
        );
        tracing::Instrument::instrument(self.ingest_clip(d, job), span).await
    }

    async fn ingest_clip(&self, d: Delivery, job: IngestJob) -> WorkerStats {
        self.metrics.busy.inc();
        let inspected = self.inspect(&job).await;
        self.metrics.busy.dec();
        let last_attempt = d.delivery_count >= self.config.queues.delivery_limit;
        let outcome = match inspected {
            Inspected::Done(o) => o,
            Inspected::Outage(why) if last_attempt => IngestOutcome::Failed {
                reason: format!(
                    "gave up after {} deliveries; last error: {why}",
                    d.delivery_count
                ),
            },
            Inspected::Outage(why) => {
                let delay = self.backoff(d.delivery_count.saturating_sub(1));
                tracing::warn!(reason = %why, ?delay, "store unavailable, requeueing the ingest job");
                self.metrics.chunks.with_label_values(&["requeued"]).inc();
                tokio::time::sleep(delay).await;
                let r = d.requeue().await;
                self.settle("requeue", &job.clip.key, r).await;
                return WorkerStats::default();
            }
        };
        let failed = matches!(outcome, IngestOutcome::Failed { .. });
        let result = IngestResult {
            kind: "ingest_result".into(),
            version: JOB_VERSION,
            ingest_id: job.ingest_id.clone(),
            clip_key: job.clip.key.clone(),
            worker_id: self.config.worker_id.clone(),
            outcome,
        };
        // Report first, ack second, as for chunks: a duplicate result is recorded once.
        if let Err(e) = self
            .queue
            .publish(&self.config.queues.events, result.encode())
            .await
        {
            tracing::warn!(error = %e, "could not publish the ingest result, requeueing");
            let r = d.requeue().await;
            self.settle("requeue", &job.clip.key, r).await;
            return WorkerStats::default();
        }
        let label = if failed { "failed" } else { "done" };
        self.metrics.chunks.with_label_values(&[label]).inc();
        tracing::info!(outcome = label, "clip ingested");
        let r = d.ack().await;
        self.settle("ack", &job.clip.key, r).await;
        WorkerStats {
            chunks_done: u64::from(!failed),
            chunks_failed: u64::from(failed),
            frames_rendered: 0,
        }
    }

    /// Inspects on this worker's pool; store reads block on the runtime from pool threads.
    async fn inspect(&self, job: &IngestJob) -> Inspected {
        let store = self.store.clone();
        let handle = tokio::runtime::Handle::current();
        let clip_key = job.clip.key.clone();
        let job = job.clone();
        let outcome = on_pool(&self.pool, move || {
            let outage = AtomicBool::new(false);
            let last_outage = Mutex::new(String::new());
            let source = |key: &str| -> Result<Vec<u8>, String> {
                let full = format!("{}{key}", job.prefix);
                handle
                    .block_on(store.get(&full, MAX_FILE_BYTES))
                    .map_err(|e| {
                        if e.is_retryable() {
                            outage.store(true, Ordering::Relaxed);
                            *last_outage.lock().expect("not poisoned") = e.to_string();
                        }
                        e.to_string()
                    })
            };
            let opts = IngestOptions {
                location: job.location.clone(),
                ..IngestOptions::default()
            };
            let record = inspect_clip(&job.clip, &source, &opts);
            let mut thumbnail_error = None;
            if job.thumbnails {
                match thumbnail_jpeg(&record, &source, &Default::default()) {
                    Ok((_, _, _, jpeg)) => {
                        let key = format!("{}{}", job.prefix, thumbnail_key(&record));
                        if let Err(e) = handle.block_on(store.put(&key, jpeg)) {
                            let why = format!("writing the thumbnail {key}: {e}");
                            if e.is_retryable() {
                                outage.store(true, Ordering::Relaxed);
                                *last_outage.lock().expect("not poisoned") = why.clone();
                            }
                            thumbnail_error = Some(why);
                        }
                    }
                    Err(e) => thumbnail_error = Some(format!("no thumbnail: {e}")),
                }
            }
            if outage.load(Ordering::Relaxed) {
                let why = last_outage.into_inner().expect("not poisoned");
                return Ok::<_, RenderFailure>(Inspected::Outage(why));
            }
            Ok(Inspected::Done(IngestOutcome::Done {
                record: Box::new(record),
                thumbnail_error,
            }))
        })
        .await;
        match outcome {
            Ok(i) => i,
            Err(RenderFailure(why)) => Inspected::Done(IngestOutcome::Failed {
                reason: format!("inspecting {clip_key}: {why}"),
            }),
        }
    }
}
