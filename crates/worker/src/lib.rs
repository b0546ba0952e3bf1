//! Worker service: stateless. Holds at most `slots` chunks (the broker's prefetch), announces
//! each (`started`), fetches its frames, renders them on its own rayon pool (never on the async
//! runtime; a panicking render fails its frame, not the process), writes outputs under
//! deterministic names, publishes the result with each output's size and xxh64, and only then
//! acks. Killing it at any moment loses nothing: an unacked chunk is redelivered, outputs are
//! written atomically, and a redelivered chunk resumes from its record of finished frames.
//!
//! Errors are typed: a *permanent* failure (bad input) is reported as a failed chunk with its
//! reason; a *retryable* one (storage outage) requeues the chunk after a backoff, until the last
//! delivery the queue allows, which reports the chunk failed with the outage's reason.
//! On shutdown the worker cancels its consumer, finishes what it holds and returns.

mod events;
mod ingest;
pub mod metrics;
pub mod render;
mod resume;
pub mod service;

use futures_util::stream::{FuturesUnordered, StreamExt};
use platefarm_core::{
    plate_key, proxy_key, ChunkMessage, ChunkOutcome, ClipPattern, OutputFile, ResultEvent,
    WIRE_VERSION,
};
use platefarm_queue::{Delivery, FarmQueues, QueueError, WorkQueue};
use platefarm_store::{ObjectStore, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use events::EventPublisher;
pub use metrics::WorkerMetrics;
pub use render::{
    ChunkContext, FrameJob, ImagingRenderer, ProxyBytes, RenderFailure, RenderedFrame, Renderer,
};

/// The store keys of one frame to render.
struct FrameKeys {
    frame: u32,
    input: String,
    plate: String,
    proxy: Option<String>,
}

/// A rendered frame waiting to be written: (key, bytes, xxh64) of its plate and proxy.
struct RenderedOutputs {
    frame: u32,
    plate: (String, Vec<u8>, String),
    proxy: Option<(String, Vec<u8>, String)>,
}

/// Most result events packed into one broker message.
const EVENTS_PER_MESSAGE: usize = 256;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    pub queues: FarmQueues,
    /// Chunks held at once (the consumer's prefetch); frames of all of them share the pool.
    pub slots: usize,
    /// Largest input frame or sidecar accepted, in bytes.
    pub max_input_bytes: u64,
    /// First retry delay; doubles per delivery up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// After shutdown, how long to finish held chunks before handing them back.
    pub drain_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            worker_id: format!("worker-{}", std::process::id()),
            queues: FarmQueues::default(),
            slots: 1,
            max_input_bytes: 2 << 30,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(600),
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

impl WorkerStats {
    fn add(&mut self, o: WorkerStats) {
        self.chunks_done += o.chunks_done;
        self.chunks_failed += o.chunks_failed;
        self.frames_rendered += o.frames_rendered;
    }
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

/// Runs `f` on `pool` and awaits it; a panic becomes a `RenderFailure`.
async fn on_pool<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    f: impl FnOnce() -> Result<T, RenderFailure> + Send + 'static,
) -> Result<T, RenderFailure> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
                let what = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(RenderFailure(format!("render panicked: {what}")))
            });
        let _ = tx.send(result);
    });
    rx.await
        .unwrap_or_else(|_| Err(RenderFailure("render pool dropped the job".into())))
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

    fn backoff(&self, attempt: u32) -> Duration {
        (self.config.backoff * 2u32.saturating_pow(attempt.min(16))).min(self.config.max_backoff)
    }

    /// Pulls and renders chunks until `shutdown` resolves; then cancels the consumer, finishes
    /// the chunks in hand (up to `drain_timeout`) and returns. Aborting the task instead is
    /// crash semantics: held chunks go back to the queue.
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<WorkerStats, QueueError> {
        let slots = self.config.slots.max(1);
        let mut attempt = 0;
        let mut consumer = loop {
            let started = async {
                self.config.queues.declare(self.queue.as_ref()).await?;
                self.queue
                    .consume(
                        &self.config.queues.chunks,
                        slots.min(u16::MAX as usize) as u16,
                    )
                    .await
            };
            match started.await {
                Ok(c) => break c,
                Err(e) if e.is_retryable() => {
                    tracing::warn!(error = %e, "broker unavailable, retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        self.metrics.slots.set(slots as i64);
        tracing::info!(worker = %self.config.worker_id, slots, "worker taking chunks");
        // One publisher for every slot's events: concurrent results share a broker message.
        let events = EventPublisher::start(
            self.queue.clone(),
            self.config.queues.events.clone(),
            EVENTS_PER_MESSAGE,
        );
        let mut stats = WorkerStats::default();
        let mut held = FuturesUnordered::new();
        let mut draining = false;
        let mut drained = false; // the consumer has nothing more to give
        let mut deadline = None;
        tokio::pin!(shutdown);
        loop {
            if draining && drained && held.is_empty() {
                break;
            }
            let drain_expired = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown, if !draining => {
                    draining = true;
                    deadline = Some(tokio::time::Instant::now() + self.config.drain_timeout);
                    tracing::info!(worker = %self.config.worker_id, held = held.len(), "stopping: no new chunks, finishing those in hand");
                    if let Err(e) = consumer.cancel().await {
                        tracing::warn!(error = %e, "consumer cancel failed");
                        drained = true;
                    }
                }
                d = consumer.next(), if !drained && held.len() < slots => match d {
                    Ok(d) => held.push(self.handle(d, &events)),
                    Err(QueueError::Cancelled) => drained = true,
                    Err(e) if draining => {
                        tracing::warn!(error = %e, "consumer closed while draining");
                        drained = true;
                    }
                    Err(e) => {
                        // Lost the broker: held chunks go back when it notices; consume again.
                        tracing::warn!(error = %e, "consumer lost, consuming again");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        if let Ok(c) = self
                            .queue
                            .consume(&self.config.queues.chunks, slots.min(u16::MAX as usize) as u16)
                            .await
                        {
                            consumer = c;
                            attempt = 0;
                        }
                    }
                },
                Some(s) = held.next() => stats.add(s),
                _ = drain_expired => {
                    tracing::warn!(worker = %self.config.worker_id, held = held.len(), "drain timeout: handing held chunks back");
                    break;
                }
            }
        }
        tracing::info!(worker = %self.config.worker_id, done = stats.chunks_done, failed = stats.chunks_failed, "worker stopped");
        Ok(stats)
    }

    async fn settle(&self, what: &str, chunk_id: &str, r: Result<(), QueueError>) {
        if let Err(e) = r {
            // The broker redelivers an unsettled chunk; its duplicate result is ignored.
            self.metrics.settle_errors.inc();
            tracing::warn!(chunk_id, error = %e, "{what} failed; the chunk will be redelivered");
        }
    }

    async fn handle(&self, d: Delivery, events: &EventPublisher) -> WorkerStats {
        use platefarm_ingest::job::{IngestJob, JobError};
        match IngestJob::decode(&d.payload) {
            Ok(job) => return self.handle_ingest(d, job).await,
            Err(JobError::NotIngest) => {}
            Err(e) => {
                tracing::error!(worker = %self.config.worker_id, error = %e, "undecodable ingest job dead-lettered");
                self.metrics.chunks.with_label_values(&["rejected"]).inc();
                let r = d.reject(&e.to_string()).await;
                self.settle("reject", "?", r).await;
                return WorkerStats::default();
            }
        }
        let msg = match ChunkMessage::decode(&d.payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(worker = %self.config.worker_id, error = %e, "undecodable chunk dead-lettered");
                self.metrics.chunks.with_label_values(&["rejected"]).inc();
                let r = d.reject(&format!("undecodable chunk message: {e}")).await;
                self.settle("reject", "?", r).await;
                return WorkerStats::default();
            }
        };
        // Every line logged about this chunk carries its turnover, shot and chunk ids.
        let span = tracing::info_span!(
            "chunk",
            turnover_id = %msg.turnover_id,
            shot = %msg.shot,
            chunk_id = %msg.chunk_id,
            frames = %msg.frames,
            delivery = d.delivery_count,
        );
        tracing::Instrument::instrument(self.handle_chunk(d, msg, events), span).await
    }

    async fn handle_chunk(
        &self,
        d: Delivery,
        msg: ChunkMessage,
        events: &EventPublisher,
    ) -> WorkerStats {
        let mut stats = WorkerStats::default();
        let event = |outcome: ChunkOutcome, render_seconds: f64| ResultEvent {
            version: WIRE_VERSION,
            turnover_id: msg.turnover_id.clone(),
            chunk_id: msg.chunk_id.clone(),
            generation: msg.generation,
            worker_id: self.config.worker_id.clone(),
            delivery_count: d.delivery_count,
            outcome,
            render_seconds,
        };
        if let Err(e) = events.publish(event(ChunkOutcome::Started, 0.0)).await {
            tracing::warn!(error = %e, "could not announce the chunk; rendering anyway");
        }
        self.metrics.busy.inc();
        let started = Instant::now();
        let result = self.render_chunk(&msg, &mut stats).await;
        self.metrics.busy.dec();
        let last_attempt = d.delivery_count >= self.config.queues.delivery_limit;
        let outcome = match result {
            Ok(outputs) => ChunkOutcome::Done { outputs },
            Err(ChunkError::Permanent(reason)) => ChunkOutcome::Failed { reason },
            Err(ChunkError::Retryable(reason)) if last_attempt => ChunkOutcome::Failed {
                reason: format!(
                    "gave up after {} deliveries; last error: {reason}",
                    d.delivery_count
                ),
            },
            Err(ChunkError::Retryable(reason)) => {
                let delay = self.backoff(d.delivery_count.saturating_sub(1));
                tracing::warn!(
                    delivery = d.delivery_count,
                    ?delay,
                    reason,
                    "retryable failure, requeueing"
                );
                self.metrics.chunks.with_label_values(&["requeued"]).inc();
                tokio::time::sleep(delay).await;
                let r = d.requeue().await;
                self.settle("requeue", &msg.chunk_id, r).await;
                return stats;
            }
        };
        let failed = matches!(outcome, ChunkOutcome::Failed { .. });
        if let ChunkOutcome::Failed { reason } = &outcome {
            tracing::warn!(reason, "chunk failed");
        }
        // Report first, ack second: a crash between the two redelivers the chunk, and the
        // dispatcher ignores the duplicate result.
        let seconds = started.elapsed().as_secs_f64();
        if let Err(e) = events.publish(event(outcome, seconds)).await {
            tracing::warn!(error = %e, "could not publish the result, requeueing the chunk");
            let r = d.requeue().await;
            self.settle("requeue", &msg.chunk_id, r).await;
            return stats;
        }
        if failed {
            tracing::info!(seconds, "chunk failed and reported");
            stats.chunks_failed += 1;
            self.metrics.chunks.with_label_values(&["failed"]).inc();
        } else {
            tracing::info!(seconds, frames = stats.frames_rendered, "chunk rendered");
            stats.chunks_done += 1;
            self.metrics.chunks.with_label_values(&["done"]).inc();
        }
        let r = d.ack().await;
        self.settle("ack", &msg.chunk_id, r).await;
        stats
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

    async fn fetch(&self, key: &str) -> Result<Vec<u8>, ChunkError> {
        let started = Instant::now();
        let bytes = self
            .store
            .get(key, self.config.max_input_bytes)
            .await
            .map_err(store_failure)?;
        self.stage("fetch", started);
        self.metrics
            .bytes
            .with_label_values(&["read"])
            .inc_by(bytes.len() as u64);
        Ok(bytes)
    }

    fn stage(&self, stage: &str, started: Instant) {
        self.metrics
            .stage_seconds
            .with_label_values(&[stage])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Writes a rendered frame's proxy, then its plate, each recorded in the chunk's record
    /// (so a redelivery resumes after it); returns the frame's output files, plate first.
    async fn write_outputs(
        &self,
        r: RenderedOutputs,
        record: &mut resume::ChunkRecord,
    ) -> Result<(u32, Vec<OutputFile>), ChunkError> {
        let started = Instant::now();
        let written = r.plate.1.len() + r.proxy.as_ref().map_or(0, |p| p.1.len());
        let mut proxy_file = None;
        if let Some((key, bytes, xxh64)) = r.proxy {
            let file = OutputFile {
                size: bytes.len() as u64,
                key,
                xxh64,
            };
            self.store
                .put(&file.key, bytes)
                .await
                .map_err(store_failure)?;
            record
                .add(self.store.as_ref(), file.clone())
                .await
                .map_err(store_failure)?;
            proxy_file = Some(file);
        }
        let (key, bytes, xxh64) = r.plate;
        let file = OutputFile {
            size: bytes.len() as u64,
            key,
            xxh64,
        };
        self.store
            .put(&file.key, bytes)
            .await
            .map_err(store_failure)?;
        record
            .add(self.store.as_ref(), file.clone())
            .await
            .map_err(store_failure)?;
        self.stage("write", started);
        self.metrics
            .bytes
            .with_label_values(&["written"])
            .inc_by(written as u64);
        Ok((r.frame, std::iter::once(file).chain(proxy_file).collect()))
    }

    async fn render_chunk(
        &self,
        msg: &ChunkMessage,
        stats: &mut WorkerStats,
    ) -> Result<Vec<OutputFile>, ChunkError> {
        let pattern = ClipPattern::parse(&msg.input_pattern).map_err(|e| {
            ChunkError::Permanent(format!("input pattern {:?}: {e}", msg.input_pattern))
        })?;
        // What a chunk needs before its first render comes down at once: a store's latency per
        // request (tens of ms on S3) would otherwise idle the render slot several times a chunk.
        // The first frame is fetched on the guess that the chunk starts from scratch.
        let first_input = pattern.frame_path(msg.frames.start());
        let (fdl, amf, record, first) = tokio::join!(
            self.read_sidecar(msg.fdl_path.as_deref(), 16 << 20),
            self.read_sidecar(msg.amf_path.as_deref(), 16 << 20),
            resume::ChunkRecord::load(self.store.as_ref(), msg),
            self.fetch(&first_input),
        );
        let (fdl, amf) = (fdl?, amf?);
        let context = self
            .renderer
            .prepare(msg, fdl.as_deref(), amf.as_deref())
            .map_err(|f| ChunkError::Permanent(f.to_string()))?;
        let mut record = record.map_err(store_failure)?;
        // A redelivered chunk resumes: a frame this turnover's chunk already wrote (its record
        // says so and the object has the recorded size) is not rendered again. The proxy is
        // written before its plate, so a finished plate has its proxy.
        let mut by_frame: std::collections::BTreeMap<u32, Vec<OutputFile>> = Default::default();
        let mut todo = Vec::new();
        for frame in msg.frames.frames() {
            let out_key = plate_key(&msg.output_location, &msg.shot, frame);
            let proxy_key = msg
                .proxy
                .as_ref()
                .map(|p| proxy_key(&msg.output_location, &msg.shot, frame, p.format));
            if let Some(done) = record.finished(self.store.as_ref(), &out_key).await {
                let proxy_done = match &proxy_key {
                    Some(k) => record.finished(self.store.as_ref(), k).await.map(Some),
                    None => Some(None),
                };
                if let Some(proxy_done) = proxy_done {
                    self.metrics.frames_resumed.inc();
                    by_frame.insert(frame, std::iter::once(done).chain(proxy_done).collect());
                    continue;
                }
            }
            todo.push(FrameKeys {
                frame,
                input: pattern.frame_path(frame),
                plate: out_key,
                proxy: proxy_key,
            });
        }
        // A pipeline of three: while frame n renders on the pool, frame n+1 is fetched and
        // frame n-1 is written, so the store's latency hides behind the render.
        let mut next_input: Option<Vec<u8>> = None;
        if todo.first().is_some_and(|k| k.input == first_input) {
            next_input = Some(first?);
        }
        let mut written: Option<RenderedOutputs> = None;
        for (i, keys) in todo.iter().enumerate() {
            let started = Instant::now();
            let input = match next_input.take() {
                Some(bytes) => bytes,
                None => self.fetch(&keys.input).await?,
            };
            let fetch_next = async {
                match todo.get(i + 1) {
                    Some(next) => self.fetch(&next.input).await.map(Some),
                    None => Ok(None),
                }
            };
            let previous = written.take();
            let write_previous = async {
                match previous {
                    Some(r) => self.write_outputs(r, &mut record).await.map(Some),
                    None => Ok(None),
                }
            };
            let renderer = self.renderer.clone();
            let job = FrameJob {
                frame: keys.frame,
                context: context.clone(),
            };
            let render_started = Instant::now();
            let render = on_pool(&self.pool, move || {
                let rendered = renderer.render(&input, &job)?;
                let hash = |b: &[u8]| platefarm_mhl::hash_data(platefarm_mhl::HashFormat::Xxh64, b);
                let plate_hash = hash(&rendered.plate);
                let proxy_hash = rendered.proxy.as_ref().map(|p| hash(&p.bytes));
                Ok((rendered, plate_hash, proxy_hash))
            });
            let (rendered, fetched, wrote) = tokio::join!(render, fetch_next, write_previous);
            if let Some((frame, files)) = wrote? {
                by_frame.insert(frame, files);
            }
            self.stage("render", render_started);
            let (rendered, plate_hash, proxy_hash) = rendered.map_err(|f| {
                ChunkError::Permanent(format!("frame {} ({}): {f}", keys.frame, keys.input))
            })?;
            next_input = fetched?;
            self.metrics.frames_rendered.inc();
            self.metrics
                .frame_seconds
                .observe(started.elapsed().as_secs_f64());
            stats.frames_rendered += 1;
            written = Some(RenderedOutputs {
                frame: keys.frame,
                plate: (keys.plate.clone(), rendered.plate, plate_hash),
                proxy: match (&keys.proxy, rendered.proxy, proxy_hash) {
                    (Some(k), Some(p), Some(h)) => Some((k.clone(), p.bytes, h)),
                    _ => None,
                },
            });
        }
        if let Some(r) = written.take() {
            let (frame, files) = self.write_outputs(r, &mut record).await?;
            by_frame.insert(frame, files);
        }
        let outputs = by_frame.into_values().flatten().collect();
        Ok(outputs)
    }
}
