//! Event loops: worker results and dead-lettered chunks, applied to the catalog in batches — one transaction per batch, then
//! every delivery of the batch is acked. A catalog outage holds the batch unacknowledged and
//! retries with backoff: nothing is requeued into a delivery limit, nothing is lost. Only an
//! undecodable event goes to the events' dead-letter queue (with its reason, for ops to read).
//! Ingest results (and dead-lettered ingest jobs) share the queues and are recorded per clip.

use crate::{Dispatcher, Progress};
use platefarm_catalog::{ChunkChange, ChunkUpdate};
use platefarm_core::{decode_results, ChunkMessage, ChunkOutcome, ChunkState};
use platefarm_ingest::job::{IngestJob, IngestOutcome, IngestResult, JobError, JOB_VERSION};
use platefarm_queue::{Consumer, Delivery, QueueError};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Dispatcher {
    /// Consumes `queue` until shutdown. `dead_chunks`: its messages are chunk messages the
    /// broker (or a worker) dead-lettered, recorded failed with their reason.
    pub(crate) async fn event_loop(
        &self,
        queue: &str,
        dead_chunks: bool,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let prefetch = (self.config.event_batch * 2).clamp(1, u16::MAX as usize) as u16;
        let mut failures = 0u32;
        'connect: loop {
            let mut consumer = tokio::select! {
                _ = &mut shutdown => return,
                c = self.queue.consume(queue, prefetch) => match c {
                    Ok(c) => c,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(queue, error = %e, "cannot consume, retrying");
                        tokio::time::sleep(self.backoff(failures)).await;
                        continue 'connect;
                    }
                },
            };
            failures = 0;
            loop {
                let first = tokio::select! {
                    _ = &mut shutdown => {
                        let _ = consumer.cancel().await;
                        return;
                    }
                    d = consumer.next() => d,
                };
                let first = match first {
                    Ok(d) => d,
                    Err(QueueError::Cancelled) => return,
                    Err(e) => {
                        tracing::warn!(queue, error = %e, "event consumer lost, reconnecting");
                        tokio::time::sleep(self.backoff(0)).await;
                        continue 'connect;
                    }
                };
                let batch = self.collect_batch(first, consumer.as_mut()).await;
                self.handle_batch(batch, dead_chunks).await;
            }
        }
    }

    /// The first delivery plus whatever else is already there, up to `event_batch`.
    async fn collect_batch(&self, first: Delivery, consumer: &mut dyn Consumer) -> Vec<Delivery> {
        let mut batch = vec![first];
        while batch.len() < self.config.event_batch {
            match tokio::time::timeout(Duration::from_millis(2), consumer.next()).await {
                Ok(Ok(d)) => batch.push(d),
                _ => break,
            }
        }
        batch
    }

    async fn handle_batch(&self, batch: Vec<Delivery>, dead_chunks: bool) {
        let now = (self.clock)();
        let mut updates = Vec::with_capacity(batch.len());
        let mut keep = Vec::with_capacity(batch.len());
        let mut ingested = Vec::new();
        for d in batch {
            let found = match self.ingest_result(&d, dead_chunks) {
                Some(Ok(r)) => {
                    ingested.push((d, r));
                    continue;
                }
                Some(Err(reason)) => Err(reason),
                None => self.to_updates(&d, dead_chunks, now),
            };
            match found {
                Ok(u) => {
                    updates.extend(u);
                    keep.push(d);
                }
                Err(reason) => {
                    self.metrics.events_rejected.inc();
                    tracing::error!(reason, "event dead-lettered");
                    if let Err(e) = d.reject(&reason).await {
                        tracing::warn!(error = %e, "could not dead-letter an event; the broker redelivers it");
                    }
                }
            }
        }
        self.record_ingested(ingested, now).await;
        if updates.is_empty() {
            self.ack_all(keep).await;
            return;
        }
        let updates = without_superseded_starts(updates);
        let mut attempt = 0;
        let applied = loop {
            match self.catalog.apply(&updates).await {
                Ok(a) => break a,
                Err(e) => {
                    // Hold the deliveries: the catalog records them when it is back.
                    self.metrics.catalog_errors.inc();
                    tracing::warn!(error = %e, events = updates.len(), "catalog unavailable, holding events");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        };
        self.ack_all(keep).await;
        let mut touched = BTreeSet::new();
        let mut freed = 0u64;
        for (u, a) in updates.iter().zip(&applied) {
            if !a.changed {
                self.metrics.duplicate_events.inc();
                continue;
            }
            let (Some(turnover_id), Some(shot)) = (&a.turnover_id, &a.shot) else {
                continue;
            };
            if a.state.is_terminal() {
                freed += 1;
                self.metrics
                    .chunks_finished
                    .with_label_values(&[a.state.as_str()])
                    .inc();
                if a.state == ChunkState::Done {
                    self.metrics.frames_done.inc_by(a.n_frames);
                }
                touched.insert(turnover_id.clone());
            }
            self.emit(Progress::Chunk {
                turnover_id: turnover_id.clone(),
                shot: shot.clone(),
                chunk_id: u.chunk_id.clone(),
                state: a.state,
                n_frames: a.n_frames,
                detail: match &u.change {
                    ChunkChange::Failed { reason } => Some(reason.clone()),
                    _ => None,
                },
            });
        }
        for t in touched {
            self.settle_later(t);
        }
        if freed > 0 {
            let since = self.freed_since_feed.fetch_add(freed, Ordering::Relaxed) + freed;
            if since >= self.refill_step.load(Ordering::Relaxed) {
                self.feed_wake.notify_one();
            }
        }
    }

    async fn ack_all(&self, deliveries: Vec<Delivery>) {
        for d in deliveries {
            if let Err(e) = d.ack().await {
                // The broker redelivers it; the catalog ignores the duplicate.
                self.metrics.ack_errors.inc();
                tracing::warn!(error = %e, "event ack failed");
            }
        }
    }

    /// An ingest job's result (or, from the dead-letter queue, the job itself — the clip is
    /// recorded failed with the queue's reason); `None` for a render message.
    fn ingest_result(&self, d: &Delivery, dead: bool) -> Option<Result<IngestResult, String>> {
        if dead {
            let job = match IngestJob::decode(&d.payload) {
                Err(JobError::NotIngest) => return None,
                Err(e) => return Some(Err(format!("dead-lettered ingest job: {e}"))),
                Ok(job) => job,
            };
            self.metrics.dead_letters.inc();
            let reason = d
                .death_reason
                .clone()
                .unwrap_or_else(|| "dead-lettered by the queue".into());
            tracing::warn!(ingest_id = %job.ingest_id, clip = %job.clip.key, reason, "ingest job dead-lettered");
            return Some(Ok(IngestResult {
                kind: "ingest_result".into(),
                version: JOB_VERSION,
                ingest_id: job.ingest_id,
                clip_key: job.clip.key,
                worker_id: "queue".into(),
                outcome: IngestOutcome::Failed {
                    reason: format!("dead-lettered: {reason}"),
                },
            }));
        }
        match IngestResult::decode(&d.payload) {
            Err(JobError::NotIngest) => None,
            Err(e) => Some(Err(e.to_string())),
            Ok(r) => Some(Ok(r)),
        }
    }

    /// Records ingest results one by one (each its own transaction), holding them through a
    /// catalog outage, then acks them.
    async fn record_ingested(
        &self,
        results: Vec<(Delivery, IngestResult)>,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        for (d, r) in results {
            let mut attempt = 0;
            let changed = loop {
                match self.catalog.record_ingest_result(&r, now).await {
                    Ok(c) => break c,
                    Err(e) => {
                        self.metrics.catalog_errors.inc();
                        tracing::warn!(error = %e, ingest_id = %r.ingest_id, "catalog unavailable, holding the ingest result");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                    }
                }
            };
            if !changed {
                self.metrics.duplicate_events.inc();
                tracing::debug!(ingest_id = %r.ingest_id, clip = %r.clip_key, "ingest result ignored (duplicate or unknown ingest)");
            }
            self.ack_all(vec![d]).await;
        }
    }

    /// The catalog updates one delivery carries: a dead-lettered chunk, or a worker's message
    /// of one or many result events.
    fn to_updates(
        &self,
        d: &Delivery,
        dead_chunk: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ChunkUpdate>, String> {
        if dead_chunk {
            self.metrics.dead_letters.inc();
            let msg = ChunkMessage::decode(&d.payload)
                .map_err(|e| format!("dead-lettered chunk cannot be attributed: {e}"))?;
            let reason = d
                .death_reason
                .clone()
                .unwrap_or_else(|| "dead-lettered by the queue".into());
            tracing::warn!(chunk_id = %msg.chunk_id, reason, "chunk dead-lettered");
            return Ok(vec![ChunkUpdate {
                chunk_id: msg.chunk_id,
                generation: msg.generation,
                worker_id: "queue".into(),
                attempts: 0,
                at: now,
                change: ChunkChange::Failed {
                    reason: format!("dead-lettered: {reason}"),
                },
            }]);
        }
        let events = decode_results(&d.payload).map_err(|e| e.to_string())?;
        Ok(events
            .into_iter()
            .map(|e| ChunkUpdate {
                chunk_id: e.chunk_id,
                generation: e.generation,
                worker_id: e.worker_id,
                attempts: e.delivery_count,
                at: now,
                change: match e.outcome {
                    ChunkOutcome::Started => ChunkChange::Started,
                    ChunkOutcome::Done { outputs } => ChunkChange::Done { outputs },
                    ChunkOutcome::Failed { reason } => ChunkChange::Failed { reason },
                },
            })
            .collect())
    }
}

/// Drops a `started` whose chunk (same generation) also finished in the same batch: the
/// catalog would write the row twice to end where the terminal event leaves it. With many
/// fast chunks a worker's `started` and `done` usually arrive together; this halves the
/// catalog's writes for them.
fn without_superseded_starts(updates: Vec<ChunkUpdate>) -> Vec<ChunkUpdate> {
    let finished: std::collections::HashSet<(&str, u32)> = updates
        .iter()
        .filter(|u| !matches!(u.change, ChunkChange::Started))
        .map(|u| (u.chunk_id.as_str(), u.generation))
        .collect();
    if finished.is_empty() {
        return updates;
    }
    let keep: Vec<bool> = updates
        .iter()
        .map(|u| {
            !matches!(u.change, ChunkChange::Started)
                || !finished.contains(&(u.chunk_id.as_str(), u.generation))
        })
        .collect();
    updates
        .into_iter()
        .zip(keep)
        .filter_map(|(u, k)| k.then_some(u))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(chunk: &str, generation: u32, change: ChunkChange) -> ChunkUpdate {
        ChunkUpdate {
            chunk_id: chunk.into(),
            generation,
            worker_id: "w".into(),
            attempts: 1,
            at: chrono::Utc::now(),
            change,
        }
    }

    #[test]
    fn a_start_is_dropped_only_when_the_same_attempt_finished_in_the_batch() {
        let done = || ChunkChange::Done { outputs: vec![] };
        let kept = without_superseded_starts(vec![
            update("a", 1, ChunkChange::Started),
            update("b", 1, ChunkChange::Started),
            update("a", 1, done()),
            update("c", 2, ChunkChange::Started),
            update("c", 1, done()),
        ]);
        let kept: Vec<(String, u32, &str)> = kept
            .iter()
            .map(|u| (u.chunk_id.clone(), u.generation, u.change.state().as_str()))
            .collect();
        assert_eq!(
            kept,
            vec![
                ("b".into(), 1, "running"),
                ("a".into(), 1, "done"),
                ("c".into(), 2, "running"),
                ("c".into(), 1, "done"),
            ]
        );
    }
}
