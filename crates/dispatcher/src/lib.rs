//! Dispatcher service: validates a turnover (every bad field, with its JSON path), checks it
//! against storage, plans chunks and records them in the catalog; a feeder keeps a bounded
//! window of chunks in the broker, chosen by priority and fair share (`platefarm_core::schedule`);
//! event loops apply worker results and dead letters in batches; a settler runs each complete
//! shot's delivery (MHL, delivery AMF) and finishes turnovers.
//!
//! Invariant: every planned chunk ends `done`, `failed` with a reason, or `cancelled`. Nothing
//! is failed because the broker or the catalog is down: chunks stay planned until the broker
//! takes them, events stay unacknowledged until the catalog records them.

pub mod delivery;
mod events;
mod feed;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod pictures;
pub mod resolve;
pub mod serve;
mod settle;
mod submit;
pub mod web;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platefarm_catalog::{Catalog, CatalogError, TurnoverSummary};
use platefarm_core::{ChunkState, OutputFile, Turnover, TurnoverState, ValidationErrors};
use platefarm_queue::{FarmQueues, QueueError, WorkQueue};
use platefarm_store::ObjectStore;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, Notify};

pub use metrics::DispatcherMetrics;
pub use serve::{serve, Adapters, ServeConfig};

#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    pub queues: FarmQueues,
    /// Frames per chunk.
    pub chunk_size: u32,
    /// Chunks kept in the broker (published or running). `None`: adaptive, twice the chunk
    /// queue's consumers plus two, at least `min_window`.
    pub window: Option<u64>,
    pub min_window: u64,
    /// Worker events applied per catalog transaction.
    pub event_batch: usize,
    /// Attempts of a shot's delivery before it is recorded failed.
    pub delivery_attempts: u32,
    /// First retry delay after an outage (broker, catalog); doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            queues: FarmQueues::default(),
            chunk_size: 8,
            window: None,
            min_window: 8,
            event_batch: 256,
            delivery_attempts: 3,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("turnover {0:?} exists already with a different request; give a new turnover_id")]
    Conflict(String),
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubmitReceipt {
    pub turnover_id: String,
    pub n_shots: usize,
    pub n_chunks: usize,
    pub n_frames: u64,
    /// True when the same request had been submitted before (idempotent resubmission).
    pub existing: bool,
}

/// A change the dispatcher saw, for progress displays and `GET …/events`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Progress {
    Chunk {
        turnover_id: String,
        shot: String,
        chunk_id: String,
        state: ChunkState,
        n_frames: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    ShotDelivered {
        turnover_id: String,
        shot: String,
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    Turnover {
        turnover_id: String,
        state: TurnoverState,
    },
}

impl Progress {
    pub fn turnover_id(&self) -> &str {
        match self {
            Progress::Chunk { turnover_id, .. }
            | Progress::ShotDelivered { turnover_id, .. }
            | Progress::Turnover { turnover_id, .. } => turnover_id,
        }
    }
}

/// Runs when every chunk of a shot is final (writes the delivery's AMF and MHL generation).
/// An error is retried, then recorded as the shot's delivery failure.
#[async_trait]
pub trait DeliveryHook: Send + Sync + 'static {
    /// `turnover` is the validated request; `shot` indexes its shots; `outputs` are the files
    /// the workers reported for it, with their sizes and hashes.
    async fn shot_complete(
        &self,
        turnover: &Turnover,
        shot: usize,
        outputs: &[OutputFile],
        failed_chunks: u64,
    ) -> Result<(), String>;
}

/// What the feeder needs of a turnover to build its chunk messages, loaded once.
struct TurnoverContext {
    turnover: Turnover,
    /// Resolved input pattern per shot name.
    patterns: HashMap<String, String>,
}

pub struct Dispatcher {
    store: Arc<dyn ObjectStore>,
    queue: Arc<dyn WorkQueue>,
    catalog: Arc<dyn Catalog>,
    config: DispatcherConfig,
    metrics: DispatcherMetrics,
    hook: Option<Arc<dyn DeliveryHook>>,
    progress: broadcast::Sender<Progress>,
    /// Wakes the feeder (a submission, freed window places, a retry).
    feed_wake: Notify,
    /// Chunks finished since the feeder last looked, and how many make a refill worth a look
    /// (a quarter window): results wake the feeder once per step, not once per event batch.
    freed_since_feed: AtomicU64,
    refill_step: AtomicU64,
    /// Turnovers whose shots or state may have changed, for the settler.
    settle_tx: mpsc::UnboundedSender<String>,
    settle_rx: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    contexts: Mutex<HashMap<String, Arc<TurnoverContext>>>,
    clock: fn() -> DateTime<Utc>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        queue: Arc<dyn WorkQueue>,
        catalog: Arc<dyn Catalog>,
        config: DispatcherConfig,
        registry: &prometheus::Registry,
    ) -> Self {
        let (settle_tx, settle_rx) = mpsc::unbounded_channel();
        Dispatcher {
            store,
            queue,
            catalog,
            config,
            metrics: DispatcherMetrics::new(registry),
            hook: None,
            progress: broadcast::channel(8192).0,
            feed_wake: Notify::new(),
            freed_since_feed: AtomicU64::new(0),
            refill_step: AtomicU64::new(1),
            settle_tx,
            settle_rx: Mutex::new(Some(settle_rx)),
            contexts: Mutex::new(HashMap::new()),
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

    pub fn queue(&self) -> &Arc<dyn WorkQueue> {
        &self.queue
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub fn config(&self) -> &DispatcherConfig {
        &self.config
    }

    pub fn metrics(&self) -> &DispatcherMetrics {
        &self.metrics
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.progress.subscribe()
    }

    fn emit(&self, p: Progress) {
        // No receiver is fine: progress is for displays, the catalog is the record.
        let _ = self.progress.send(p);
    }

    /// Asks the settler to look at a turnover again. If the settler has stopped (shutdown),
    /// nothing is lost: the next start settles every running turnover.
    fn settle_later(&self, turnover_id: String) {
        if let Err(e) = self.settle_tx.send(turnover_id) {
            tracing::warn!(turnover_id = %e.0, "settler stopped; the turnover is settled at the next start");
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        (self.config.backoff * 2u32.saturating_pow(attempt.min(16))).min(self.config.max_backoff)
    }

    /// Declares the queues, reconciles what a previous run left (deliveries due, turnovers to
    /// finish), then runs the feeder, the event loops and the settler until `shutdown`.
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), QueueError> {
        let mut attempt = 0;
        while let Err(e) = self.config.queues.declare(self.queue.as_ref()).await {
            if !e.is_retryable() {
                return Err(e);
            }
            tracing::warn!(error = %e, "broker unavailable, retrying the declaration");
            tokio::time::sleep(self.backoff(attempt)).await;
            attempt += 1;
        }
        let settle_rx = self
            .settle_rx
            .lock()
            .expect("settle lock")
            .take()
            .ok_or(QueueError::Closed)?;
        self.reconcile().await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let loops = async {
            tokio::join!(
                self.feed_loop(stopped()),
                self.event_loop(&self.config.queues.events, false, stopped()),
                self.event_loop(&self.config.queues.chunks_dead, true, stopped()),
                self.settle_loop(settle_rx, stopped()),
            )
        };
        tokio::pin!(loops);
        tokio::select! {
            _ = shutdown => {
                let _ = stop_tx.send(true);
                loops.await;
            }
            _ = &mut loops => {}
        }
        Ok(())
    }

    /// After a restart: every running turnover is settled once (deliveries that were due when
    /// the previous run died, turnovers whose last event it had already recorded).
    async fn reconcile(&self) {
        let mut attempt = 0;
        loop {
            match self.catalog.running_turnovers().await {
                Ok(ids) => {
                    if !ids.is_empty() {
                        tracing::info!(turnovers = ids.len(), "resuming running turnovers");
                    }
                    for id in ids {
                        self.settle_later(id);
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalog unavailable at start, retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Cancels a turnover: chunks not final are cancelled (those a worker holds finish and are
    /// ignored). `None` if there is no such turnover.
    pub async fn cancel(&self, turnover_id: &str) -> Result<Option<u64>, CatalogError> {
        let n = self.catalog.cancel(turnover_id, (self.clock)()).await?;
        if n.is_some() {
            self.contexts.lock().expect("contexts").remove(turnover_id);
            self.emit(Progress::Turnover {
                turnover_id: turnover_id.into(),
                state: TurnoverState::Cancelled,
            });
            tracing::info!(turnover_id, chunks = n, "turnover cancelled");
        }
        Ok(n)
    }

    /// Plans every failed chunk again. `None` if there is no such turnover.
    pub async fn retry_failed(&self, turnover_id: &str) -> Result<Option<u64>, CatalogError> {
        let n = self
            .catalog
            .retry_failed(turnover_id, (self.clock)())
            .await?;
        if let Some(n) = n {
            tracing::info!(turnover_id, chunks = n, "failed chunks planned again");
            self.settle_later(turnover_id.to_string());
            self.feed_wake.notify_one();
        }
        Ok(n)
    }

    /// Waits until a turnover is final and returns its summary.
    pub async fn wait(&self, turnover_id: &str) -> Result<TurnoverSummary, CatalogError> {
        let mut rx = self.subscribe();
        loop {
            if let Some(s) = self.catalog.turnover(turnover_id).await? {
                if s.state.is_terminal() {
                    return Ok(s);
                }
            }
            // Wake on this turnover's state changes; look again now and then in case the
            // change came from another dispatcher.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                loop {
                    match rx.recv().await {
                        Ok(Progress::Turnover { turnover_id: t, .. }) if t == turnover_id => return,
                        Err(broadcast::error::RecvError::Closed) => return,
                        _ => {}
                    }
                }
            })
            .await;
        }
    }
}
