//! The embedded farm: dispatcher, in-process queue, local store, SQLite catalog and a pool of
//! worker tasks in one process — the same dispatcher → queue → worker path that runs on
//! RabbitMQ and S3 at scale.

use anyhow::Context;
use platefarm_catalog::{Catalog, SqlCatalog, TurnoverSummary};
use platefarm_dispatcher::delivery::StoreDelivery;
use platefarm_dispatcher::{DeliveryHook, Dispatcher, DispatcherConfig, SubmitReceipt};
use platefarm_queue::{FarmQueues, MemoryQueue, WorkQueue};
use platefarm_store::{LocalStore, ObjectStore};
use platefarm_worker::{ImagingRenderer, Renderer, Worker, WorkerConfig, WorkerStats};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct FarmOptions {
    /// The local store's root: inputs are read and plates written under it.
    pub root: PathBuf,
    /// SQLite catalog file; default `<root>/.platefarm/catalog.db`.
    pub catalog: Option<PathBuf>,
    pub workers: usize,
    /// rayon threads per worker (its CPU quota).
    pub threads_per_worker: usize,
    pub chunk_size: u32,
    pub delivery_limit: u32,
}

impl FarmOptions {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        FarmOptions {
            root: root.into(),
            catalog: None,
            workers: cores,
            threads_per_worker: 1,
            chunk_size: 8,
            delivery_limit: 5,
        }
    }
}

pub struct EmbeddedFarm {
    pub store: Arc<LocalStore>,
    pub queue: Arc<MemoryQueue>,
    pub dispatcher: Arc<Dispatcher>,
    pub registry: prometheus::Registry,
    worker_metrics: platefarm_worker::WorkerMetrics,
    renderer: Arc<dyn Renderer>,
    queues: FarmQueues,
    threads_per_worker: usize,
    shutdown: watch::Sender<bool>,
    dispatcher_task: JoinHandle<()>,
    workers: Vec<Option<JoinHandle<WorkerStats>>>,
}

async fn shutdown_signal(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

impl EmbeddedFarm {
    /// A farm that renders with the imaging crate and delivers each complete shot with a
    /// delivery AMF and an ASC MHL generation.
    pub async fn start(opts: FarmOptions) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = Arc::new(
            LocalStore::open(&opts.root)
                .with_context(|| format!("opening the store at {}", opts.root.display()))?,
        );
        let hook = Arc::new(StoreDelivery::new(store, Some(opts.root.clone())));
        Self::start_with(opts, Arc::new(ImagingRenderer::default()), Some(hook)).await
    }

    pub async fn start_with(
        opts: FarmOptions,
        renderer: Arc<dyn Renderer>,
        hook: Option<Arc<dyn DeliveryHook>>,
    ) -> anyhow::Result<Self> {
        let store = Arc::new(
            LocalStore::open(&opts.root)
                .with_context(|| format!("opening the store at {}", opts.root.display()))?,
        );
        let catalog_path = opts
            .catalog
            .clone()
            .unwrap_or_else(|| opts.root.join(".platefarm/catalog.db"));
        if let Some(parent) = catalog_path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let catalog: Arc<dyn Catalog> = Arc::new(
            SqlCatalog::sqlite_file(&catalog_path)
                .await
                .with_context(|| format!("opening the catalog {}", catalog_path.display()))?,
        );
        let queue = Arc::new(MemoryQueue::new());
        let queues = FarmQueues {
            delivery_limit: opts.delivery_limit,
            ..FarmQueues::default()
        };
        queues.declare(queue.as_ref()).await?;
        let registry = prometheus::Registry::new();
        let config = DispatcherConfig {
            queues: queues.clone(),
            chunk_size: opts.chunk_size,
            ..DispatcherConfig::default()
        };
        let mut dispatcher =
            Dispatcher::new(store.clone(), queue.clone(), catalog, config, &registry);
        if let Some(hook) = hook {
            dispatcher = dispatcher.with_hook(hook);
        }
        let dispatcher = Arc::new(dispatcher);
        let (shutdown, rx) = watch::channel(false);
        let d = dispatcher.clone();
        let dispatcher_task = tokio::spawn(async move {
            if let Err(e) = d.run(shutdown_signal(rx)).await {
                tracing::error!(error = %e, "dispatcher stopped");
            }
        });
        let worker_metrics = platefarm_worker::WorkerMetrics::new(&registry);
        let mut farm = EmbeddedFarm {
            store,
            queue,
            dispatcher,
            registry,
            worker_metrics,
            renderer,
            queues,
            threads_per_worker: opts.threads_per_worker.max(1),
            shutdown,
            dispatcher_task,
            workers: Vec::new(),
        };
        for _ in 0..opts.workers.max(1) {
            farm.spawn_worker()?;
        }
        Ok(farm)
    }

    /// Starts one more worker task with its own rayon pool; returns its index.
    pub fn spawn_worker(&mut self) -> anyhow::Result<usize> {
        let idx = self.workers.len();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads_per_worker)
            .thread_name(move |i| format!("render-w{idx}-{i}"))
            .build()
            .context("building a worker's render pool")?;
        let worker = Worker::new(
            WorkerConfig {
                worker_id: format!("embedded-{idx}"),
                queues: self.queues.clone(),
                ..WorkerConfig::default()
            },
            self.queue.clone() as Arc<dyn WorkQueue>,
            self.store.clone() as Arc<dyn ObjectStore>,
            self.renderer.clone(),
            Arc::new(pool),
            self.worker_metrics.clone(),
        );
        let rx = self.shutdown.subscribe();
        self.workers.push(Some(tokio::spawn(async move {
            match worker.run(shutdown_signal(rx)).await {
                Ok(stats) => stats,
                Err(e) => {
                    tracing::error!(error = %e, "worker stopped");
                    WorkerStats::default()
                }
            }
        })));
        Ok(idx)
    }

    /// Kills a worker as a crash would: mid-chunk, without acking. Its chunk is redelivered.
    pub async fn kill_worker(&mut self, idx: usize) {
        if let Some(Some(handle)) = self.workers.get_mut(idx).map(Option::take) {
            handle.abort();
            let _ = handle.await;
        }
    }

    pub async fn submit(
        &self,
        body: &[u8],
    ) -> Result<SubmitReceipt, platefarm_dispatcher::SubmitError> {
        self.dispatcher.submit(body).await
    }

    pub async fn wait(&self, turnover_id: &str) -> anyhow::Result<TurnoverSummary> {
        Ok(self.dispatcher.wait(turnover_id).await?)
    }

    /// Stops workers (each finishes its chunk in hand) and the dispatcher.
    pub async fn shutdown(mut self) -> WorkerStats {
        let _ = self.shutdown.send(true);
        let mut total = WorkerStats::default();
        for handle in self.workers.drain(..).flatten() {
            if let Ok(s) = handle.await {
                total.chunks_done += s.chunks_done;
                total.chunks_failed += s.chunks_failed;
                total.frames_rendered += s.frames_rendered;
            }
        }
        let _ = (&mut self.dispatcher_task).await;
        total
    }
}

/// Validates a turnover and checks its files under `root` without submitting it.
pub async fn check_turnover(
    root: &std::path::Path,
    body: &[u8],
) -> anyhow::Result<Result<(), platefarm_core::ValidationErrors>> {
    let store = LocalStore::open(root)?;
    let turnover = match platefarm_core::parse_turnover(body, "TO-unsubmitted") {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let mut errors = Vec::new();
    for (i, shot) in turnover.shots.iter().enumerate() {
        platefarm_dispatcher::resolve::resolve_shot(
            &store,
            shot,
            &format!("$.shots[{i}]"),
            &mut errors,
        )
        .await;
    }
    Ok(if errors.is_empty() {
        Ok(())
    } else {
        Err(platefarm_core::ValidationErrors(errors))
    })
}
