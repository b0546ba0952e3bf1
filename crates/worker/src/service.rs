//! `platefarm worker` as a library: `serve(config, adapters, listener, shutdown)` runs a worker
//! with its own rayon pool and serves `/metrics` and `/health/*` on `listener`. Ready while it
//! takes chunks; on shutdown it stops taking work, finishes what it holds and returns.

use crate::{ImagingRenderer, Worker, WorkerConfig, WorkerMetrics, WorkerStats};
use platefarm_queue::WorkQueue;
use platefarm_store::ObjectStore;
use platefarm_telemetry::Readiness;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum WorkerServiceError {
    #[error("building the render pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("queue: {0}")]
    Queue(#[from] platefarm_queue::QueueError),
}

pub async fn serve(
    config: WorkerConfig,
    render_threads: usize,
    queue: Arc<dyn WorkQueue>,
    store: Arc<dyn ObjectStore>,
    registry: prometheus::Registry,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<WorkerStats, WorkerServiceError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(render_threads.max(1))
        .thread_name(|i| format!("render-{i}"))
        .build()?;
    let metrics = WorkerMetrics::new(&registry);
    let worker = Worker::new(
        config,
        queue,
        store,
        Arc::new(ImagingRenderer::default()),
        Arc::new(pool),
        metrics,
    );
    let ready = Readiness::default();
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "worker metrics and health");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let http = platefarm_telemetry::serve(
        listener,
        platefarm_telemetry::router(registry, ready.clone()),
        stopped(),
    );
    let work = async {
        ready.set(true);
        let stats = worker.run(shutdown).await;
        ready.set(false);
        let _ = stop_tx.send(true);
        stats
    };
    let (http, stats) = tokio::join!(http, work);
    http?;
    Ok(stats?)
}
