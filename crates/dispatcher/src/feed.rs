//! The feeder: keeps at most a window of chunks in the broker (published or running) and
//! refills it with the scheduler's picks (`platefarm_core::pick_chunks`: strict priority, then
//! fair share between productions, then deadline). RabbitMQ 3.10 quorum queues have no message
//! priorities; a bounded window is how a priority turnover overtakes a long one — it waits
//! behind one window of chunks, not behind the whole backlog.
//!
//! Publish first, record second: a crash between the two leaves the chunk `planned`, and the
//! next run publishes it again with the same generation; the duplicate's result is ignored.

use crate::{Dispatcher, TurnoverContext};
use platefarm_catalog::{BacklogRow, CatalogError, PlannedChunk};
use platefarm_core::{pick_chunks, ChunkMessage, Turnover, TurnoverBacklog, WIRE_VERSION};
use platefarm_queue::QueueError;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FeedError {
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("broker: {0}")]
    Queue(#[from] QueueError),
    #[error("turnover {0:?}: its recorded request cannot be read: {1}")]
    Request(String, String),
}

impl Dispatcher {
    pub(crate) async fn feed_loop(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        let mut consumers = 0u64;
        let mut last_depth = std::time::Instant::now() - Duration::from_secs(60);
        loop {
            if last_depth.elapsed() > Duration::from_secs(2) && self.config.window.is_none() {
                if let Ok(d) = self.queue.depth(&self.config.queues.chunks).await {
                    consumers = d.consumers;
                }
                last_depth = std::time::Instant::now();
            }
            let delay = match self.feed_once(consumers).await {
                Ok(_) => {
                    failures = 0;
                    Duration::from_secs(1)
                }
                Err(e) => {
                    failures += 1;
                    self.metrics.feed_errors.inc();
                    tracing::warn!(error = %e, "feeding the broker failed; chunks stay planned and are retried");
                    self.backoff(failures)
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.feed_wake.notified(), if failures == 0 => {}
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    fn window(&self, consumers: u64) -> u64 {
        self.config
            .window
            .unwrap_or_else(|| (2 * consumers + 2).max(self.config.min_window))
            .max(1)
    }

    /// One refill; returns the number of chunks published.
    pub(crate) async fn feed_once(&self, consumers: u64) -> Result<u64, FeedError> {
        let window = self.window(consumers);
        self.freed_since_feed.store(0, Ordering::Relaxed);
        self.refill_step
            .store((window / 4).max(1), Ordering::Relaxed);
        let backlog = self.catalog.backlog().await?;
        let in_flight: u64 = backlog.iter().map(|b| b.in_flight_chunks).sum();
        self.metrics.in_flight.set(in_flight as i64);
        self.record_backlog(&backlog);
        let free = window.saturating_sub(in_flight);
        // Refill in steps of a quarter window: fewer, larger batches under load.
        if free == 0 || (in_flight > 0 && free * 4 < window) {
            return Ok(0);
        }
        let candidates: Vec<TurnoverBacklog> = backlog
            .iter()
            .filter(|b| b.planned_chunks > 0)
            .map(to_candidate)
            .collect();
        let picks = pick_chunks(&candidates, free);
        let mut messages = Vec::new();
        let mut published = Vec::new();
        for pick in &picks {
            let ctx = self.context(&pick.turnover_id).await?;
            let chunks = self
                .catalog
                .next_planned(&pick.turnover_id, pick.n_chunks as u32)
                .await?;
            for c in chunks {
                messages.push(chunk_message(&ctx, &c)?.encode());
                published.push((c.chunk_id, c.next_generation));
            }
        }
        if messages.is_empty() {
            return Ok(0);
        }
        let n = messages.len() as u64;
        self.queue
            .publish_batch(&self.config.queues.chunks, messages)
            .await?;
        self.catalog
            .mark_published(&published, (self.clock)())
            .await?;
        self.metrics.chunks_published.inc_by(n);
        self.metrics.in_flight.set((in_flight + n) as i64);
        tracing::debug!(chunks = n, window, "window refilled");
        Ok(n)
    }

    /// The backlog and deadline gauges, from the same catalog read the feeder schedules from.
    fn record_backlog(&self, backlog: &[BacklogRow]) {
        let m = &self.metrics;
        m.backlog_chunks
            .set(backlog.iter().map(|b| b.planned_chunks).sum::<u64>() as i64);
        let frames_left = |b: &BacklogRow| b.planned_frames + b.in_flight_frames;
        m.backlog_frames
            .set(backlog.iter().map(frames_left).sum::<u64>() as i64);
        let earliest = backlog
            .iter()
            .filter(|b| frames_left(b) > 0)
            .filter_map(|b| b.deadline)
            .min();
        match earliest {
            Some(due) => {
                let frames: u64 = backlog
                    .iter()
                    .filter(|b| b.deadline == Some(due))
                    .map(frames_left)
                    .sum();
                m.deadline.set(due.timestamp_millis() as f64 / 1000.0);
                m.deadline_frames.set(frames as i64);
            }
            None => {
                m.deadline.set(0.0);
                m.deadline_frames.set(0);
            }
        }
    }

    async fn context(&self, turnover_id: &str) -> Result<Arc<TurnoverContext>, FeedError> {
        if let Some(c) = self.contexts.lock().expect("contexts").get(turnover_id) {
            return Ok(c.clone());
        }
        let json = self
            .catalog
            .request_json(turnover_id)
            .await?
            .ok_or_else(|| FeedError::Request(turnover_id.into(), "missing".into()))?;
        let turnover: Turnover = serde_json::from_str(&json)
            .map_err(|e| FeedError::Request(turnover_id.into(), e.to_string()))?;
        let patterns: HashMap<String, String> = self
            .catalog
            .shots(turnover_id)
            .await?
            .into_iter()
            .map(|s| (s.shot, s.input_pattern))
            .collect();
        let ctx = Arc::new(TurnoverContext { turnover, patterns });
        self.contexts
            .lock()
            .expect("contexts")
            .insert(turnover_id.to_string(), ctx.clone());
        Ok(ctx)
    }
}

fn to_candidate(b: &BacklogRow) -> TurnoverBacklog {
    TurnoverBacklog {
        turnover_id: b.turnover_id.clone(),
        production: b.production.clone(),
        priority: b.priority,
        deadline: b.deadline,
        submitted_at: b.submitted_at,
        pending_chunks: b.planned_chunks,
        frames_per_chunk: b.planned_frames.div_ceil(b.planned_chunks.max(1)).max(1),
        in_flight_frames: b.in_flight_frames,
    }
}

fn chunk_message(ctx: &TurnoverContext, c: &PlannedChunk) -> Result<ChunkMessage, FeedError> {
    let t = &ctx.turnover;
    let bad = |why: &str| FeedError::Request(t.turnover_id.clone(), why.to_string());
    let shot = t
        .shots
        .iter()
        .find(|s| s.name == c.shot)
        .ok_or_else(|| bad(&format!("no shot {:?}", c.shot)))?;
    let input_pattern = ctx
        .patterns
        .get(&c.shot)
        .ok_or_else(|| bad(&format!("no input pattern for shot {:?}", c.shot)))?
        .clone();
    Ok(ChunkMessage {
        version: WIRE_VERSION,
        turnover_id: t.turnover_id.clone(),
        chunk_id: c.chunk_id.clone(),
        generation: c.next_generation,
        shot: shot.name.clone(),
        input_pattern,
        frames: c.frames,
        output_location: shot.output_location.trim_start_matches("./").to_string(),
        amf_path: shot.amf_path.clone(),
        fdl_path: shot.fdl_path.clone(),
        fdl: shot.fdl.clone(),
        output: shot.output,
        input_colorspace: shot.input_colorspace.clone(),
        proxy: shot.proxy.clone(),
    })
}
