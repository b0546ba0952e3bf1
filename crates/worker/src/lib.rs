//! Worker service: stateless. Pulls one chunk at a time, fetches its frames, renders them on
//! its own rayon pool (never on the async runtime), writes outputs under deterministic names,
//! publishes a result event, and only then acks. Killing it at any moment loses nothing: an
//! unacked chunk is redelivered, and outputs are written atomically.
//!
//! Errors are typed: a *permanent* failure (bad input) is reported as a failed chunk with its
//! reason; a *retryable* one (storage outage) requeues the chunk after a backoff, and the queue
//! dead-letters it past the delivery limit.

pub mod metrics;
pub mod render;

use platefarm_core::{
    plate_key, proxy_key, ChunkMessage, ChunkOutcome, ClipPattern, ResultEvent, WIRE_VERSION,
};
use platefarm_queue::{Delivery, FarmQueues, QueueError, WorkQueue};
use platefarm_store::{ObjectStore, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use metrics::WorkerMetrics;
pub use render::{
    ChunkContext, FrameJob, ImagingRenderer, ProxyBytes, RenderFailure, RenderedFrame, Renderer,
};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    pub queues: FarmQueues,
    /// Largest input frame or sidecar accepted, in bytes.
    pub max_input_bytes: u64,
    /// First retry delay; doubles per delivery up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            worker_id: format!("worker-{}", std::process::id()),
            queues: FarmQueues::default(),
            max_input_bytes: 2 << 30,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Why a chunk did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Retrying cannot help (corrupt input, missing frame, unsupported format).
    Permanent(String),
    /// May succeed later (storage outage).
    Retryable(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub chunks_done: u64,
    pub chunks_failed: u64,
    pub frames_rendered: u64,
}

pub struct Worker {
    config: WorkerConfig,
    queue: Arc<dyn WorkQueue>,
    store: Arc<dyn ObjectStore>,
    renderer: Arc<dyn Renderer>,
    pool: Arc<rayon::ThreadPool>,
    metrics: WorkerMetrics,
}

fn store_failure(e: StoreError) -> ChunkError {
    if e.is_retryable() {
        ChunkError::Retryable(e.to_string())
    } else {
        ChunkError::Permanent(e.to_string())
    }
}

impl Worker {
    /// `pool` is this worker's CPU quota: every render runs inside it. Workers in one process
    /// share one `WorkerMetrics` (created once per registry).
    pub fn new(
        config: WorkerConfig,
        queue: Arc<dyn WorkQueue>,
        store: Arc<dyn ObjectStore>,
        renderer: Arc<dyn Renderer>,
        pool: Arc<rayon::ThreadPool>,
        metrics: WorkerMetrics,
    ) -> Self {
        Worker {
            config,
            queue,
            store,
            renderer,
            pool,
            metrics,
        }
    }

    /// Pulls and renders chunks until `shutdown` resolves. The chunk in hand when shutdown
    /// arrives is finished first (graceful), unless the task is aborted (crash semantics).
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<WorkerStats, QueueError> {
        self.config.queues.declare(self.queue.as_ref()).await?;
        let mut consumer = self.queue.consume(&self.config.queues.chunks, 1).await?;
        let mut stats = WorkerStats::default();
        tokio::pin!(shutdown);
        loop {
            let delivery = tokio::select! {
                _ = &mut shutdown => return Ok(stats),
                d = consumer.next() => d?,
            };
            self.handle(delivery, &mut stats).await?;
        }
    }

    async fn handle(&self, d: Delivery, stats: &mut WorkerStats) -> Result<(), QueueError> {
        let msg = match ChunkMessage::decode(&d.payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(worker = %self.config.worker_id, error = %e, "undecodable chunk dead-lettered");
                self.metrics.chunks.with_label_values(&["rejected"]).inc();
                return d.reject(&e.to_string()).await;
            }
        };
        self.metrics.busy.inc();
        let started = Instant::now();
        let result = self.render_chunk(&msg, d.delivery_count, stats).await;
        self.metrics.busy.dec();
        let outcome = match result {
            Ok(outputs) => ChunkOutcome::Done { outputs },
            Err(ChunkError::Permanent(reason)) => ChunkOutcome::Failed { reason },
            Err(ChunkError::Retryable(reason)) => {
                let exp = d.delivery_count.saturating_sub(1).min(16);
                let delay = (self.config.backoff * 2u32.pow(exp)).min(self.config.max_backoff);
                tracing::warn!(chunk_id = %msg.chunk_id, delivery = d.delivery_count, ?delay, reason, "retryable failure, requeueing");
                self.metrics.chunks.with_label_values(&["requeued"]).inc();
                tokio::time::sleep(delay).await;
                return d.requeue().await;
            }
        };
        let failed = matches!(outcome, ChunkOutcome::Failed { .. });
        let event = ResultEvent {
            version: WIRE_VERSION,
            turnover_id: msg.turnover_id.clone(),
            chunk_id: msg.chunk_id.clone(),
            worker_id: self.config.worker_id.clone(),
            delivery_count: d.delivery_count,
            outcome,
            render_seconds: started.elapsed().as_secs_f64(),
        };
        // Report first, ack second: a crash between the two redelivers the chunk, and the
        // dispatcher ignores the duplicate result.
        if let Err(e) = self
            .queue
            .publish(&self.config.queues.events, event.encode())
            .await
        {
            tracing::warn!(chunk_id = %msg.chunk_id, error = %e, "could not publish the result, requeueing the chunk");
            return d.requeue().await;
        }
        if failed {
            stats.chunks_failed += 1;
            self.metrics.chunks.with_label_values(&["failed"]).inc();
        } else {
            stats.chunks_done += 1;
            self.metrics.chunks.with_label_values(&["done"]).inc();
        }
        d.ack().await
    }

    async fn read_sidecar(
        &self,
        key: Option<&str>,
        max: u64,
    ) -> Result<Option<Vec<u8>>, ChunkError> {
        let Some(key) = key else { return Ok(None) };
        self.store
            .get(key, max)
            .await
            .map(Some)
            .map_err(store_failure)
    }

    async fn render_chunk(
        &self,
        msg: &ChunkMessage,
        delivery_count: u32,
        stats: &mut WorkerStats,
    ) -> Result<Vec<String>, ChunkError> {
        let pattern = ClipPattern::parse(&msg.input_pattern).map_err(|e| {
            ChunkError::Permanent(format!("input pattern {:?}: {e}", msg.input_pattern))
        })?;
        let fdl = self.read_sidecar(msg.fdl_path.as_deref(), 16 << 20).await?;
        let amf = self.read_sidecar(msg.amf_path.as_deref(), 16 << 20).await?;
        let context = self
            .renderer
            .prepare(msg, fdl.as_deref(), amf.as_deref())
            .map_err(|f| ChunkError::Permanent(f.to_string()))?;
        let mut outputs = Vec::with_capacity(msg.frames.n_frames() as usize);
        for frame in msg.frames.frames() {
            let out_key = plate_key(&msg.output_location, &msg.shot, frame);
            let proxy_key = msg
                .proxy
                .as_ref()
                .map(|p| proxy_key(&msg.output_location, &msg.shot, frame, p.format));
            // A redelivered chunk resumes: outputs are written atomically, so one that exists
            // was completely written by the earlier attempt of this very chunk.
            if delivery_count > 1
                && self
                    .store
                    .head(&out_key)
                    .await
                    .map_err(store_failure)?
                    .is_some()
            {
                self.metrics.frames_resumed.inc();
                outputs.push(out_key);
                outputs.extend(proxy_key);
                continue;
            }
            let started = Instant::now();
            let in_key = pattern.frame_path(frame);
            let input = self
                .store
                .get(&in_key, self.config.max_input_bytes)
                .await
                .map_err(store_failure)?;
            let renderer = self.renderer.clone();
            let job = FrameJob {
                frame,
                context: context.clone(),
            };
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.pool.spawn(move || {
                let _ = tx.send(renderer.render(&input, &job));
            });
            let rendered = rx
                .await
                .map_err(|_| ChunkError::Retryable("render pool dropped the job".into()))?
                .map_err(|f| ChunkError::Permanent(format!("frame {frame} ({in_key}): {f}")))?;
            // The proxy first: a plate that exists (the resume check above) has its proxy.
            if let (Some(key), Some(proxy)) = (&proxy_key, rendered.proxy) {
                self.store
                    .put(key, proxy.bytes)
                    .await
                    .map_err(store_failure)?;
            }
            self.store
                .put(&out_key, rendered.plate)
                .await
                .map_err(store_failure)?;
            self.metrics.frames_rendered.inc();
            self.metrics
                .frame_seconds
                .observe(started.elapsed().as_secs_f64());
            stats.frames_rendered += 1;
            outputs.push(out_key);
            outputs.extend(proxy_key);
        }
        Ok(outputs)
    }
}
