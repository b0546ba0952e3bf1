//! Dispatcher service: validates a turnover (every bad field, with its JSON path), checks it
//! against storage, plans chunks, records them in the catalog, publishes them, then consumes
//! worker results and dead letters, keeps chunk and turnover states, and runs the delivery hook
//! (MHL, delivery AMF) when a shot is complete.
//!
//! Invariant: every planned chunk ends `done` or `failed` with a reason. A chunk that could not
//! be published is marked failed at once; a chunk the queue gives up on arrives through the
//! dead-letter queue and is marked failed with the queue's reason.

pub mod http;
pub mod metrics;
pub mod resolve;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platefarm_catalog::{Catalog, CatalogError, ChunkResult, NewTurnover, TurnoverSummary};
use platefarm_core::{
    parse_turnover, plan_chunks, ChunkMessage, ChunkOutcome, ChunkState, FieldError, ResultEvent,
    ShotFrames, Turnover, TurnoverState, ValidationErrors, WIRE_VERSION,
};
use platefarm_queue::{Delivery, FarmQueues, QueueError, WorkQueue};
use platefarm_store::ObjectStore;
use std::sync::Arc;
use tokio::sync::{broadcast, Notify};

pub use metrics::DispatcherMetrics;

#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    pub queues: FarmQueues,
    /// Frames per chunk.
    pub chunk_size: u32,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            queues: FarmQueues::default(),
            chunk_size: 8,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("queue: {source} ({published} of {planned} chunks published; the rest are recorded as failed)")]
    Queue {
        #[source]
        source: QueueError,
        published: usize,
        planned: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubmitReceipt {
    pub turnover_id: String,
    pub n_shots: usize,
    pub n_chunks: usize,
    pub n_frames: u64,
}

/// A change the dispatcher saw, for progress displays.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Chunk {
        turnover_id: String,
        shot: String,
        chunk_id: String,
        state: ChunkState,
        n_frames: u32,
        detail: Option<String>,
    },
    ShotComplete {
        turnover_id: String,
        shot: String,
    },
    Turnover {
        turnover_id: String,
        state: TurnoverState,
    },
}

/// Runs when every chunk of a shot is final (e.g. writes the delivery's MHL generation).
#[async_trait]
pub trait DeliveryHook: Send + Sync + 'static {
    /// `turnover` is the validated request; `shot` indexes its shots.
    async fn shot_complete(
        &self,
        turnover: &Turnover,
        shot: usize,
        failed_chunks: u64,
    ) -> Result<(), String>;
}

pub struct Dispatcher {
    store: Arc<dyn ObjectStore>,
    queue: Arc<dyn WorkQueue>,
    catalog: Arc<dyn Catalog>,
    config: DispatcherConfig,
    metrics: DispatcherMetrics,
    hook: Option<Arc<dyn DeliveryHook>>,
    progress: broadcast::Sender<Progress>,
    changed: Notify,
    clock: fn() -> DateTime<Utc>,
}

fn generated_id(now: DateTime<Utc>) -> String {
    let tail = uuid::Uuid::new_v4().simple().to_string();
    format!("TO-{}-{}", now.format("%Y%m%d-%H%M%S"), &tail[..6])
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        queue: Arc<dyn WorkQueue>,
        catalog: Arc<dyn Catalog>,
        config: DispatcherConfig,
        registry: &prometheus::Registry,
    ) -> Self {
        Dispatcher {
            store,
            queue,
            catalog,
            config,
            metrics: DispatcherMetrics::new(registry),
            hook: None,
            progress: broadcast::channel(4096).0,
            changed: Notify::new(),
            clock: Utc::now,
        }
    }

    pub fn with_hook(mut self, hook: Arc<dyn DeliveryHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Validates, resolves against storage, plans, records and publishes a turnover.
    pub async fn submit(&self, body: &[u8]) -> Result<SubmitReceipt, SubmitError> {
        let now = (self.clock)();
        let turnover = match parse_turnover(body, &generated_id(now)) {
            Ok(t) => t,
            Err(e) => {
                self.metrics.turnovers_rejected.inc();
                return Err(e.into());
            }
        };
        let mut errors: Vec<FieldError> = Vec::new();
        let mut patterns = Vec::new();
        for (i, shot) in turnover.shots.iter().enumerate() {
            let resolved = resolve::resolve_shot(
                self.store.as_ref(),
                shot,
                &format!("$.shots[{i}]"),
                &mut errors,
            )
            .await;
            patterns.push(resolved.map(|r| r.pattern));
        }
        if !errors.is_empty() {
            self.metrics.turnovers_rejected.inc();
            return Err(ValidationErrors(errors).into());
        }
        let shot_frames: Vec<ShotFrames> = turnover
            .shots
            .iter()
            .enumerate()
            .map(|(i, s)| ShotFrames {
                shot_idx: i,
                shot_name: s.name.clone(),
                frames: s.render_range(),
            })
            .collect();
        let chunks = plan_chunks(&turnover.turnover_id, &shot_frames, self.config.chunk_size)
            .map_err(|e| {
                ValidationErrors(vec![FieldError {
                    path: "$".into(),
                    reason: e.to_string(),
                }])
            })?;
        let request_json = serde_json::to_string(&turnover).expect("turnovers serialise");
        self.catalog
            .insert_turnover(
                &NewTurnover {
                    turnover_id: turnover.turnover_id.clone(),
                    production: turnover.production.clone(),
                    priority: turnover.priority,
                    deadline: turnover.deadline,
                    submitted_at: now,
                    request_json,
                },
                &chunks,
            )
            .await?;
        for (published, chunk) in chunks.iter().enumerate() {
            let shot = &turnover.shots[chunk.shot_idx];
            let msg = ChunkMessage {
                version: WIRE_VERSION,
                turnover_id: turnover.turnover_id.clone(),
                chunk_id: chunk.chunk_id.clone(),
                shot: shot.name.clone(),
                input_pattern: patterns[chunk.shot_idx]
                    .as_ref()
                    .expect("resolved")
                    .to_string(),
                frames: chunk.frames,
                output_location: shot.output_location.trim_start_matches("./").to_string(),
                amf_path: shot.amf_path.clone(),
                fdl_path: shot.fdl_path.clone(),
                fdl: shot.fdl.clone(),
                output: shot.output,
                input_colorspace: shot.input_colorspace.clone(),
                proxy: shot.proxy.clone(),
            };
            if let Err(source) = self
                .queue
                .publish(&self.config.queues.chunks, msg.encode())
                .await
            {
                // Nothing may be lost silently: what was not queued is failed, with the reason.
                let reason = format!("not queued: {source}");
                for c in &chunks[published..] {
                    self.apply(
                        &c.chunk_id,
                        ChunkState::Failed,
                        Some(&reason),
                        "dispatcher",
                        0,
                    )
                    .await?;
                }
                return Err(SubmitError::Queue {
                    source,
                    published,
                    planned: chunks.len(),
                });
            }
            self.metrics.chunks_published.inc();
        }
        self.metrics.turnovers_submitted.inc();
        tracing::info!(turnover_id = %turnover.turnover_id, shots = turnover.shots.len(), chunks = chunks.len(), "turnover accepted");
        Ok(SubmitReceipt {
            turnover_id: turnover.turnover_id.clone(),
            n_shots: turnover.shots.len(),
            n_chunks: chunks.len(),
            n_frames: shot_frames.iter().map(|s| s.frames.n_frames() as u64).sum(),
        })
    }

    /// Records a chunk's final state and advances shot and turnover states.
    async fn apply(
        &self,
        chunk_id: &str,
        state: ChunkState,
        detail: Option<&str>,
        worker_id: &str,
        attempts: u32,
    ) -> Result<(), CatalogError> {
        let now = (self.clock)();
        let applied = self
            .catalog
            .record_result(&ChunkResult {
                chunk_id,
                state,
                detail,
                worker_id,
                attempts,
                at: now,
            })
            .await?;
        if applied.changed {
            self.metrics
                .chunks_finished
                .with_label_values(&[state.as_str()])
                .inc();
            let rows = self.catalog.chunks(&applied.turnover_id).await?;
            let n_frames = rows
                .iter()
                .find(|r| r.chunk_id == chunk_id)
                .map(|r| r.frame_end - r.frame_start + 1)
                .unwrap_or(0);
            if state == ChunkState::Done {
                self.metrics.frames_done.inc_by(n_frames as u64);
            }
            let _ = self.progress.send(Progress::Chunk {
                turnover_id: applied.turnover_id.clone(),
                shot: applied.shot.clone(),
                chunk_id: chunk_id.to_string(),
                state,
                n_frames,
                detail: detail.map(str::to_string),
            });
            let shot_counts = self
                .catalog
                .shot_counts(&applied.turnover_id, &applied.shot)
                .await?;
            if shot_counts.queued == 0 {
                self.shot_complete(&applied.turnover_id, &applied.shot, shot_counts.failed)
                    .await?;
            }
        } else {
            self.metrics.duplicate_results.inc();
        }
        self.finish_if_done(&applied.turnover_id).await?;
        self.changed.notify_waiters();
        Ok(())
    }

    async fn shot_complete(
        &self,
        turnover_id: &str,
        shot: &str,
        failed: u64,
    ) -> Result<(), CatalogError> {
        let _ = self.progress.send(Progress::ShotComplete {
            turnover_id: turnover_id.into(),
            shot: shot.into(),
        });
        let Some(hook) = &self.hook else {
            return Ok(());
        };
        let Some(turnover) = self.load_turnover(turnover_id).await? else {
            return Ok(());
        };
        let Some(idx) = turnover.shots.iter().position(|s| s.name == shot) else {
            return Ok(());
        };
        if let Err(e) = hook.shot_complete(&turnover, idx, failed).await {
            tracing::error!(turnover_id, shot, error = %e, "delivery hook failed");
        }
        Ok(())
    }

    async fn load_turnover(&self, turnover_id: &str) -> Result<Option<Turnover>, CatalogError> {
        self.catalog
            .request_json(turnover_id)
            .await
            .map(|j| j.and_then(|j| serde_json::from_str(&j).ok()))
    }

    async fn finish_if_done(&self, turnover_id: &str) -> Result<(), CatalogError> {
        let Some(summary) = self.catalog.turnover(turnover_id).await? else {
            return Ok(());
        };
        let c = summary.chunks;
        let state = TurnoverState::from_counts(c.queued, c.done, c.failed);
        if state != summary.state {
            self.catalog
                .set_turnover_state(turnover_id, state, (self.clock)())
                .await?;
            tracing::info!(turnover_id, state = %state, done = c.done, failed = c.failed, "turnover finished");
            let _ = self.progress.send(Progress::Turnover {
                turnover_id: turnover_id.into(),
                state,
            });
        }
        Ok(())
    }

    /// Consumes result events and dead letters until `shutdown` resolves.
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), QueueError> {
        let q = &self.config.queues;
        q.declare(self.queue.as_ref()).await?;
        let mut events = self.queue.consume(&q.events, 64).await?;
        let mut dead = self.queue.consume(&q.chunks_dead, 16).await?;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                d = events.next() => self.on_event(d?).await,
                d = dead.next() => self.on_dead_letter(d?).await,
            }
        }
    }

    async fn on_event(&self, d: Delivery) {
        let event = match ResultEvent::decode(&d.payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "undecodable result event dead-lettered");
                let _ = d.reject(&e.to_string()).await;
                return;
            }
        };
        let (state, detail) = match &event.outcome {
            ChunkOutcome::Done { .. } => (ChunkState::Done, None),
            ChunkOutcome::Failed { reason } => (ChunkState::Failed, Some(reason.as_str())),
        };
        match self
            .apply(
                &event.chunk_id,
                state,
                detail,
                &event.worker_id,
                event.delivery_count,
            )
            .await
        {
            Ok(()) => {
                let _ = d.ack().await;
            }
            Err(CatalogError::UnknownChunk(id)) => {
                let _ = d.reject(&format!("result for unknown chunk {id:?}")).await;
            }
            Err(e) => {
                // Catalog outage: give the event back; it is applied when the catalog returns.
                tracing::warn!(error = %e, "catalog unavailable, result requeued");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let _ = d.requeue().await;
            }
        }
    }

    async fn on_dead_letter(&self, d: Delivery) {
        self.metrics.dead_letters.inc();
        let reason = d
            .death_reason
            .clone()
            .unwrap_or_else(|| "dead-lettered by the queue".into());
        let msg = match ChunkMessage::decode(&d.payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, reason, "a dead-lettered chunk could not be attributed to a turnover");
                let _ = d.ack().await;
                return;
            }
        };
        let detail = format!("dead-lettered: {reason}");
        match self
            .apply(&msg.chunk_id, ChunkState::Failed, Some(&detail), "queue", 0)
            .await
        {
            Ok(()) | Err(CatalogError::UnknownChunk(_)) => {
                let _ = d.ack().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "catalog unavailable, dead letter requeued");
                let _ = d.requeue().await;
            }
        }
    }

    /// Waits until a turnover is final and returns its summary.
    pub async fn wait(&self, turnover_id: &str) -> Result<TurnoverSummary, CatalogError> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(s) = self.catalog.turnover(turnover_id).await? {
                if s.state.is_terminal() {
                    return Ok(s);
                }
            }
            // Wake on any change, and poll now and then in case the change came from elsewhere.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), notified).await;
        }
    }
}
