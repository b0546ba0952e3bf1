//! Telemetry shared by every service: the Prometheus registry each crate's `metrics.rs`
//! registers into, tracing set-up, and the `/metrics`, `/health/livez`, `/health/readyz`
//! endpoints. Metric names follow `platefarm_<subsystem>_<name>_<unit>[_total]` with bounded
//! label values only (see docs/metrics.md).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, Registry, TextEncoder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use prometheus;

/// Whether a service is ready to take work (`/health/readyz`); liveness is the process itself.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct AppState {
    registry: Registry,
    ready: Readiness,
}

/// The health and metrics routes, to be merged into a service's own router.
pub fn router(registry: Registry, ready: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health/livez", get(|| async { "ok\n" }))
        .route("/health/readyz", get(readyz))
        .with_state(AppState { registry, ready })
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let mut buf = Vec::new();
    let families = st.registry.gather();
    match TextEncoder::new().encode(&families, &mut buf) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
            buf,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}"),
        )
            .into_response(),
    }
}

async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    if st.ready.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Installs a tracing subscriber (`RUST_LOG` filter, default `info`); `json` for log shippers.
/// Safe to call twice (the second call is a no-op).
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,platefarm=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_metrics_and_health() {
        let registry = Registry::new();
        let c = prometheus::IntCounter::new("platefarm_test_things_total", "things").unwrap();
        registry.register(Box::new(c.clone())).unwrap();
        c.inc_by(3);
        let ready = Readiness::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router(registry, ready.clone()), async {
            let _ = rx.await;
        }));
        let get = |path: &str| {
            let path = path.to_string();
            async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                s.write_all(
                    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await
                .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).await.unwrap();
                out
            }
        };
        assert!(get("/metrics")
            .await
            .contains("platefarm_test_things_total 3"));
        assert!(get("/health/livez").await.starts_with("HTTP/1.1 200"));
        assert!(get("/health/readyz").await.starts_with("HTTP/1.1 503"));
        ready.set(true);
        assert!(get("/health/readyz").await.starts_with("HTTP/1.1 200"));
        tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
