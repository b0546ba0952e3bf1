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
    pub store: Arc<dyn ObjectStore>,
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

/// What an in-process worker task needs: the farm's queue and store, a renderer, its
/// threads and the shared metrics.
struct LocalWorkers {
    queues: FarmQueues,
    queue: Arc<MemoryQueue>,
    store: Arc<dyn ObjectStore>,
    renderer: Arc<dyn Renderer>,
    threads: usize,
    metrics: platefarm_worker::WorkerMetrics,
}

/// Starts worker task `idx` with its own rayon pool of `w.threads`; it stops (finishing its
/// chunk in hand) when `shutdown` turns true.
fn spawn_worker(
    idx: usize,
    w: &LocalWorkers,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<WorkerStats>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(w.threads.max(1))
        .thread_name(move |i| format!("render-w{idx}-{i}"))
        .build()
        .context("building a worker's render pool")?;
    let worker = Worker::new(
        WorkerConfig {
            worker_id: format!("embedded-{idx}"),
            queues: w.queues.clone(),
            ..WorkerConfig::default()
        },
        w.queue.clone() as Arc<dyn WorkQueue>,
        w.store.clone(),
        w.renderer.clone(),
        Arc::new(pool),
        w.metrics.clone(),
    );
    Ok(tokio::spawn(async move {
        match worker.run(shutdown_signal(shutdown)).await {
            Ok(stats) => stats,
            Err(e) => {
                tracing::error!(error = %e, "worker stopped");
                WorkerStats::default()
            }
        }
    }))
}

/// The in-process queue with the farm's queues declared on it.
async fn memory_queue(delivery_limit: u32) -> anyhow::Result<(Arc<MemoryQueue>, FarmQueues)> {
    let queue = Arc::new(MemoryQueue::new());
    let queues = FarmQueues {
        delivery_limit,
        ..FarmQueues::default()
    };
    queues.declare(queue.as_ref()).await?;
    Ok((queue, queues))
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
        let local_root = Some(opts.root.clone());
        Self::start_on(opts, store, local_root).await
    }

    /// The same farm over any object store (`local_root`: the store's folder when it is
    /// local, where deliveries are hashed in place). `opts.root` still holds the catalog.
    pub async fn start_on(
        opts: FarmOptions,
        store: Arc<dyn ObjectStore>,
        local_root: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let hook = Arc::new(StoreDelivery::new(store.clone(), local_root));
        Self::start_with(
            opts,
            store,
            Arc::new(ImagingRenderer::default()),
            Some(hook),
        )
        .await
    }

    pub async fn start_with(
        opts: FarmOptions,
        store: Arc<dyn ObjectStore>,
        renderer: Arc<dyn Renderer>,
        hook: Option<Arc<dyn DeliveryHook>>,
    ) -> anyhow::Result<Self> {
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
        let (queue, queues) = memory_queue(opts.delivery_limit).await?;
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
        let handle = spawn_worker(
            idx,
            &LocalWorkers {
                queues: self.queues.clone(),
                queue: self.queue.clone(),
                store: self.store.clone(),
                renderer: self.renderer.clone(),
                threads: self.threads_per_worker,
                metrics: self.worker_metrics.clone(),
            },
            self.shutdown.subscribe(),
        )?;
        self.workers.push(Some(handle));
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

/// `platefarm serve --embedded`: the dispatcher and its API (and the web page) over the
/// in-process queue, a local folder and SQLite, with worker tasks in this process — the farm a
/// user can open in a browser with no services.
#[derive(Debug, Clone)]
pub struct EmbeddedServe {
    /// The local store's root (turnover paths are keys under it).
    pub root: PathBuf,
    /// Catalog URL; default `sqlite:<root>/.platefarm/catalog.db`.
    pub catalog: Option<String>,
    pub workers: usize,
    pub token: Option<String>,
    pub chunk_size: u32,
    pub delivery_limit: u32,
}

/// Serves until `shutdown`; then the workers finish their chunks in hand and report, and the
/// dispatcher records what they reported before it stops.
pub async fn serve_embedded(
    opts: EmbeddedServe,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.root)
        .with_context(|| format!("creating the store folder {}", opts.root.display()))?;
    let store: Arc<dyn ObjectStore> = Arc::new(
        LocalStore::open(&opts.root)
            .with_context(|| format!("opening the store at {}", opts.root.display()))?,
    );
    let catalog_url = match opts.catalog.clone() {
        Some(url) => url,
        None => {
            let dir = opts.root.join(".platefarm");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            format!("sqlite:{}", dir.join("catalog.db").display())
        }
    };
    let catalog = crate::farm::open_catalog(&catalog_url).await?;
    let (queue, queues) = memory_queue(opts.delivery_limit).await?;
    let registry = prometheus::Registry::new();
    let local = LocalWorkers {
        queues: queues.clone(),
        queue: queue.clone(),
        store: store.clone(),
        renderer: Arc::new(ImagingRenderer::default()),
        threads: 1,
        metrics: platefarm_worker::WorkerMetrics::new(&registry),
    };
    let (stop_workers, rx) = watch::channel(false);
    let mut workers = Vec::new();
    for idx in 0..opts.workers.max(1) {
        workers.push(spawn_worker(idx, &local, rx.clone())?);
    }
    let addr = listener.local_addr()?;
    tracing::info!(
        url = %format!("http://{addr}/"),
        store = %opts.root.display(),
        catalog = %crate::farm::redact(&catalog_url),
        workers = workers.len(),
        "embedded farm: open the URL in a browser"
    );
    let hook = Arc::new(StoreDelivery::new(store.clone(), Some(opts.root.clone())));
    let config = platefarm_dispatcher::ServeConfig {
        dispatcher: DispatcherConfig {
            queues,
            chunk_size: opts.chunk_size,
            ..DispatcherConfig::default()
        },
        token: opts.token,
    };
    let stop = async move {
        shutdown.await;
        // The receivers live in the worker tasks; none left means they have all stopped.
        let _ = stop_workers.send(true);
        for w in workers {
            if let Err(e) = w.await {
                tracing::error!(error = %e, "a worker task ended abnormally");
            }
        }
    };
    platefarm_dispatcher::serve(
        config,
        platefarm_dispatcher::Adapters {
            store,
            queue: queue as Arc<dyn WorkQueue>,
            catalog,
            hook: Some(hook),
        },
        registry,
        listener,
        stop,
    )
    .await?;
    Ok(())
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
