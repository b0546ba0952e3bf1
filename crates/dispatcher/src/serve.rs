//! `platefarm serve` as a library: `serve(config, adapters, listener, shutdown)` wires the
//! dispatcher, its HTTP API, `/metrics`, `/health/*` and a readiness probe of the broker, the
//! store and the catalog. The binary picks the adapters (RabbitMQ/S3/PostgreSQL or embedded).

use crate::{DeliveryHook, Dispatcher, DispatcherConfig};
use platefarm_catalog::Catalog;
use platefarm_queue::WorkQueue;
use platefarm_store::ObjectStore;
use platefarm_telemetry::Readiness;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct ServeConfig {
    pub dispatcher: DispatcherConfig,
    /// Bearer token of the API; required to serve a non-loopback address.
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to serve {0} without an API token: give --token or PLATEFARM_API_TOKEN (only loopback addresses may go without)")]
    NoToken(std::net::SocketAddr),
    #[error("API token is empty")]
    EmptyToken,
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("queue: {0}")]
    Queue(#[from] platefarm_queue::QueueError),
}

pub struct Adapters {
    pub store: Arc<dyn ObjectStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub catalog: Arc<dyn Catalog>,
    pub hook: Option<Arc<dyn DeliveryHook>>,
}

/// Serves until `shutdown` resolves, then stops taking requests, stops the loops and returns.
pub async fn serve(
    config: ServeConfig,
    adapters: Adapters,
    registry: prometheus::Registry,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    match &config.token {
        Some(t) if t.trim().is_empty() => return Err(ServeError::EmptyToken),
        None if !addr.ip().is_loopback() => return Err(ServeError::NoToken(addr)),
        _ => {}
    }
    let mut dispatcher = Dispatcher::new(
        adapters.store.clone(),
        adapters.queue.clone(),
        adapters.catalog.clone(),
        config.dispatcher.clone(),
        &registry,
    );
    if let Some(h) = adapters.hook {
        dispatcher = dispatcher.with_hook(h);
    }
    let dispatcher = Arc::new(dispatcher);
    let ready = Readiness::default();
    let app = crate::http::router(dispatcher.clone(), config.token.clone())
        .merge(crate::web::router())
        .merge(platefarm_telemetry::router(registry, ready.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    tracing::info!(%addr, "platefarm dispatcher serving");
    let http = platefarm_telemetry::serve(listener, app, stopped());
    let loops = dispatcher.run(stopped());
    let probe = readiness(
        &adapters.queue,
        &adapters.store,
        &adapters.catalog,
        &ready,
        stopped(),
    );
    let signal = async {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    let (http, loops, _, _) = tokio::join!(http, loops, probe, signal);
    http?;
    loops?;
    Ok(())
}

/// Ready while the broker, the store and the catalog answer; checked every 2 s.
async fn readiness(
    queue: &Arc<dyn WorkQueue>,
    store: &Arc<dyn ObjectStore>,
    catalog: &Arc<dyn Catalog>,
    ready: &Readiness,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let t = Duration::from_secs(5);
        let q = tokio::time::timeout(t, queue.ping()).await;
        let s = tokio::time::timeout(t, store.head(".platefarm/readyz")).await;
        let c = tokio::time::timeout(t, catalog.ping()).await;
        let ok = matches!(q, Ok(Ok(_))) && matches!(s, Ok(Ok(_))) && matches!(c, Ok(Ok(_)));
        if ok != ready.is_ready() {
            tracing::info!(
                ready = ok,
                broker = matches!(q, Ok(Ok(_))),
                store = matches!(s, Ok(Ok(_))),
                catalog = matches!(c, Ok(Ok(_))),
                "readiness changed"
            );
        }
        ready.set(ok);
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
