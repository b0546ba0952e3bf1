//! The dispatcher's HTTP API on a real socket: submit (202 / 422 with every problem), status,
//! chunks, list, 404s, and the shared health and metrics routes.

use platefarm_catalog::SqlCatalog;
use platefarm_dispatcher::{http, Dispatcher, DispatcherConfig};
use platefarm_queue::{FarmQueues, MemoryQueue};
use platefarm_store::{LocalStore, ObjectStore};
use platefarm_testkit::http as request;
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_status_and_errors_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    for f in 1..=4u32 {
        store
            .put(&format!("in/C.{f:03}.dng"), b"x".to_vec())
            .await
            .unwrap();
    }
    let queue = Arc::new(MemoryQueue::new());
    FarmQueues::default().declare(queue.as_ref()).await.unwrap();
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let registry = prometheus::Registry::new();
    let d = Arc::new(Dispatcher::new(
        store,
        queue,
        catalog,
        DispatcherConfig::default(),
        &registry,
    ));
    let ready = platefarm_telemetry::Readiness::default();
    ready.set(true);
    let app = http::router(d).merge(platefarm_telemetry::router(registry, ready));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platefarm_telemetry::serve(listener, app, async {
        let _ = stopped.await;
    }));

    let good = json!({"turnover_id": "TO-http", "production": "p", "shots": [{
        "name": "SH1", "input_clip": "in/C.%03d.dng", "output_location": "out",
        "frame_range": {"start": 1, "end": 4}}]});
    let bad = json!({"production": "p", "shots": [{"name": "SH1", "input_clip": "in/C.%03d.dng",
        "output_location": "out", "frame_range": {"start": 3, "end": 9}, "handles": "x"}]});
    let results = tokio::task::spawn_blocking(move || {
        let post =
            |body: &Value| request(addr, "POST", "/v1/turnovers", body.to_string().as_bytes());
        (
            post(&good),
            post(&bad),
            request(addr, "POST", "/v1/turnovers", b"{oops"),
            request(addr, "GET", "/v1/turnovers/TO-http", b""),
            request(addr, "GET", "/v1/turnovers/TO-http/chunks", b""),
            request(addr, "GET", "/v1/turnovers", b""),
            request(addr, "GET", "/v1/turnovers/nope", b""),
            request(addr, "GET", "/metrics", b""),
            request(addr, "GET", "/health/readyz", b""),
        )
    })
    .await
    .unwrap();
    let (created, rejected, malformed, status, chunks, list, missing, metrics, readyz) = results;
    assert_eq!(created.0, 202, "{}", created.1);
    let receipt: Value = serde_json::from_str(&created.1).unwrap();
    assert_eq!(receipt["n_frames"], 4);

    assert_eq!(rejected.0, 422);
    let problems: Value = serde_json::from_str(&rejected.1).unwrap();
    let paths: Vec<&str> = problems["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["$.shots[0].handles"], "{problems}");
    assert_eq!(malformed.0, 422);
    assert!(malformed.1.contains("malformed JSON"));

    assert_eq!(status.0, 200);
    let s: Value = serde_json::from_str(&status.1).unwrap();
    assert_eq!(
        (s["state"].as_str(), s["chunks"]["queued"].as_u64()),
        (Some("running"), Some(1))
    );
    assert_eq!(
        serde_json::from_str::<Value>(&chunks.1)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(list.1.contains("TO-http"));
    assert_eq!(missing.0, 404);
    assert!(
        metrics
            .1
            .contains("platefarm_dispatcher_turnovers_submitted_total 1"),
        "{}",
        metrics.1
    );
    assert!(
        metrics
            .1
            .contains("platefarm_dispatcher_turnovers_rejected_total 2"),
        "both rejections counted"
    );
    assert_eq!(readyz.0, 200);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
