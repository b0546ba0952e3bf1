//! Dispatcher against the real embedded components (local store, in-process queue, SQLite):
//! storage checks, publishing, results, dead letters and duplicate results.

use platefarm_catalog::{Catalog, SqlCatalog};
use platefarm_core::{
    ChunkMessage, ChunkOutcome, ChunkState, ResultEvent, TurnoverState, WIRE_VERSION,
};
use platefarm_dispatcher::{Dispatcher, DispatcherConfig, SubmitError};
use platefarm_queue::{FarmQueues, MemoryQueue, QueueSpec, WorkQueue};
use platefarm_store::{LocalStore, ObjectStore};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const AMF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<aces:acesMetadataFile xmlns:aces="urn:ampas:aces:amf:v2.0" version="2.0">
  <aces:amfInfo><aces:uuid>urn:uuid:0badcafe-5a3e-4f00-8000-000000000001</aces:uuid></aces:amfInfo>
  <aces:pipeline>
    <aces:pipelineInfo><aces:uuid>urn:uuid:0badcafe-5a3e-4f00-8000-000000000002</aces:uuid></aces:pipelineInfo>
    <aces:inputTransform applied="false"><aces:transformId>urn:ampas:aces:transformId:v2.0:CSC.Arri.LogC3_to_ACES.a2.v1</aces:transformId></aces:inputTransform>
  </aces:pipeline>
</aces:acesMetadataFile>"#;

struct Rig {
    _dir: tempfile::TempDir,
    store: Arc<LocalStore>,
    queue: Arc<MemoryQueue>,
    catalog: Arc<SqlCatalog>,
    dispatcher: Arc<Dispatcher>,
}

async fn rig_with(queue: MemoryQueue, declare: bool) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    for f in 1001..=1010u32 {
        store
            .put(&format!("clips/A/A.{f:04}.dng"), b"raw".to_vec())
            .await
            .unwrap();
    }
    store
        .put("clips/A.amf", AMF.as_bytes().to_vec())
        .await
        .unwrap();
    let queue = Arc::new(queue);
    if declare {
        FarmQueues::default().declare(queue.as_ref()).await.unwrap();
    }
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let dispatcher = Arc::new(Dispatcher::new(
        store.clone(),
        queue.clone(),
        catalog.clone(),
        DispatcherConfig {
            chunk_size: 4,
            ..DispatcherConfig::default()
        },
        &prometheus::Registry::new(),
    ));
    Rig {
        _dir: dir,
        store,
        queue,
        catalog,
        dispatcher,
    }
}

async fn rig() -> Rig {
    rig_with(MemoryQueue::new(), true).await
}

fn turnover(shot: serde_json::Value) -> Vec<u8> {
    json!({"turnover_id": "TO-1", "production": "test", "shots": [shot]})
        .to_string()
        .into_bytes()
}

fn shot() -> serde_json::Value {
    json!({
        "name": "SH010",
        "input_clip": "clips/A/A.%04d.dng",
        "output_location": "plates",
        "frame_range": {"start": 1002, "end": 1009},
        "handles": 1,
        "amf_path": "clips/A.amf"
    })
}

fn problems(e: SubmitError) -> Vec<(String, String)> {
    match e {
        SubmitError::Invalid(v) => v.0.into_iter().map(|e| (e.path, e.reason)).collect(),
        other => panic!("expected validation errors, got {other}"),
    }
}

/// Runs the dispatcher's loops until the returned sender is dropped or sent to.
fn start(
    d: &Arc<Dispatcher>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let d = d.clone();
    let run = tokio::spawn(async move {
        d.run(async {
            let _ = stopped.await;
        })
        .await
        .unwrap()
    });
    (stop, run)
}

async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn accepted_turnover_is_planned_recorded_and_published() {
    let r = rig().await;
    let receipt = r.dispatcher.submit(&turnover(shot())).await.unwrap();
    assert_eq!((receipt.n_chunks, receipt.n_frames), (3, 10));
    let s = r.catalog.turnover("TO-1").await.unwrap().unwrap();
    assert_eq!(
        (s.state, s.chunks.planned, s.frames_total),
        (TurnoverState::Running, 3, 10),
        "recorded before anything is published"
    );
    let (stop, run) = start(&r.dispatcher);
    let q = r.queue.clone();
    eventually("3 chunks in the broker", || {
        let q = q.clone();
        async move { q.depth("platefarm.chunks").await.unwrap().ready == 3 }
    })
    .await;
    let mut c = r.queue.consume("platefarm.chunks", 1).await.unwrap();
    let msg = ChunkMessage::decode(&c.next().await.unwrap().payload).unwrap();
    assert_eq!(msg.input_pattern, "clips/A/A.%04d.dng");
    assert_eq!(msg.generation, 1, "first publish");
    assert_eq!(
        (msg.frames.start(), msg.frames.end()),
        (1001, 1004),
        "handles widen the range"
    );
    let s = r.catalog.turnover("TO-1").await.unwrap().unwrap();
    assert_eq!(s.chunks.published, 3);
    stop.send(()).unwrap();
    run.await.unwrap();
}

#[tokio::test]
async fn the_window_bounds_the_broker_and_refills_as_chunks_finish() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    for f in 1..=40u32 {
        store
            .put(&format!("c/A.{f:04}.dng"), b"raw".to_vec())
            .await
            .unwrap();
    }
    let queue = Arc::new(MemoryQueue::new());
    FarmQueues::default().declare(queue.as_ref()).await.unwrap();
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let d = Arc::new(Dispatcher::new(
        store,
        queue.clone(),
        catalog.clone(),
        DispatcherConfig {
            chunk_size: 4,
            window: Some(4),
            ..DispatcherConfig::default()
        },
        &prometheus::Registry::new(),
    ));
    let body = json!({"turnover_id": "TO-w", "production": "p", "shots": [{"name": "A",
        "input_clip": "c/A.%04d.dng", "output_location": "out", "frame_range": {"start": 1, "end": 40}}]});
    d.submit(body.to_string().as_bytes()).await.unwrap();
    let (stop, run) = start(&d);
    let mut c = queue.consume("platefarm.chunks", 100).await.unwrap();
    let mut seen = 0;
    while seen < 10 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), c.next())
            .await
            .unwrap()
            .unwrap();
        let msg = ChunkMessage::decode(&delivery.payload).unwrap();
        let s = catalog.turnover("TO-w").await.unwrap().unwrap();
        assert!(
            s.chunks.published + s.chunks.running <= 4,
            "at most the window in flight: {:?}",
            s.chunks
        );
        queue
            .publish(
                "platefarm.events",
                result_event(
                    "TO-w",
                    &msg.chunk_id,
                    1,
                    ChunkOutcome::Done { outputs: vec![] },
                ),
            )
            .await
            .unwrap();
        delivery.ack().await.unwrap();
        seen += 1;
    }
    let s = tokio::time::timeout(Duration::from_secs(10), d.wait("TO-w"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.state, s.chunks.done), (TurnoverState::Completed, 10));
    stop.send(()).unwrap();
    run.await.unwrap();
}

fn result_event(
    turnover_id: &str,
    chunk_id: &str,
    generation: u32,
    outcome: ChunkOutcome,
) -> Vec<u8> {
    ResultEvent {
        version: WIRE_VERSION,
        turnover_id: turnover_id.into(),
        chunk_id: chunk_id.into(),
        generation,
        worker_id: "w".into(),
        delivery_count: 1,
        outcome,
        render_seconds: 0.1,
    }
    .encode()
}

#[tokio::test]
async fn storage_problems_are_reported_with_paths() {
    let r = rig().await;
    let mut s = shot();
    s["frame_range"] = json!({"start": 1005, "end": 1012});
    s["amf_path"] = json!("clips/missing.amf");
    s["fdl_path"] = json!("/etc/frame.fdl");
    let got = problems(r.dispatcher.submit(&turnover(s)).await.unwrap_err());
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got.iter().any(|(p, m)| p == "$.shots[0].input_clip"
            && m.contains("3 of 10 frames")
            && m.contains("1011-1013")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|(p, m)| p == "$.shots[0].amf_path" && m.contains("no file")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|(p, m)| p == "$.shots[0].fdl_path" && m.contains("outside the farm's root")),
        "{got:#?}"
    );
    assert!(
        r.catalog.turnover("TO-1").await.unwrap().is_none(),
        "a rejected turnover is not recorded"
    );
}

#[tokio::test]
async fn s3_uris_need_an_s3_store() {
    let r = rig().await;
    let mut s = shot();
    s["output_location"] = json!("s3://plates-bucket/show");
    let got = problems(r.dispatcher.submit(&turnover(s)).await.unwrap_err());
    assert_eq!(got[0].0, "$.shots[0].output_location");
    assert!(got[0].1.contains("S3"), "{got:?}");
}

#[tokio::test]
async fn folders_resolve_to_their_one_sequence() {
    let r = rig().await;
    let mut s = shot();
    s["input_clip"] = json!("clips/A/");
    r.dispatcher.submit(&turnover(s.clone())).await.unwrap();
    r.store
        .put("clips/A/B.0001.exr", b"x".to_vec())
        .await
        .unwrap();
    let mut again = s;
    again["name"] = json!("SH020");
    let body = json!({"turnover_id": "TO-2", "production": "t", "shots": [again]}).to_string();
    let got = problems(r.dispatcher.submit(body.as_bytes()).await.unwrap_err());
    assert!(got[0].1.contains("holds 2 sequences"), "{got:?}");
}

#[tokio::test]
async fn resubmission_is_idempotent_and_a_reused_id_is_a_conflict() {
    let r = rig().await;
    let first = r.dispatcher.submit(&turnover(shot())).await.unwrap();
    let again = r.dispatcher.submit(&turnover(shot())).await.unwrap();
    assert!(!first.existing && again.existing);
    assert_eq!(again.turnover_id, first.turnover_id);
    assert_eq!(
        r.catalog.chunks("TO-1").await.unwrap().len(),
        3,
        "planned once"
    );
    let mut other = shot();
    other["frame_range"] = json!({"start": 1002, "end": 1005});
    assert!(matches!(
        r.dispatcher.submit(&turnover(other)).await,
        Err(SubmitError::Conflict(id)) if id == "TO-1"
    ));
}

#[tokio::test]
async fn results_and_dead_letters_finish_the_turnover() {
    let r = rig().await;
    r.dispatcher.submit(&turnover(shot())).await.unwrap();
    let (stop, run) = start(&r.dispatcher);
    let mut chunks = r.queue.consume("platefarm.chunks", 3).await.unwrap();
    let mut ids = Vec::new();
    let mut deliveries = Vec::new();
    for _ in 0..3 {
        let d = chunks.next().await.unwrap();
        ids.push(ChunkMessage::decode(&d.payload).unwrap().chunk_id);
        deliveries.push(d);
    }
    // chunk 0 done (twice: a redelivered chunk finishing again), chunk 1 failed, chunk 2 dead-lettered.
    let q = &r.queue;
    q.publish(
        "platefarm.events",
        event(&ids[0], ChunkOutcome::Done { outputs: vec![] }),
    )
    .await
    .unwrap();
    q.publish(
        "platefarm.events",
        event(
            &ids[0],
            ChunkOutcome::Failed {
                reason: "late".into(),
            },
        ),
    )
    .await
    .unwrap();
    q.publish(
        "platefarm.events",
        event(
            &ids[1],
            ChunkOutcome::Failed {
                reason: "corrupt DNG: truncated strip".into(),
            },
        ),
    )
    .await
    .unwrap();
    q.publish("platefarm.events", b"{not json".to_vec())
        .await
        .unwrap();
    let d2 = deliveries.pop().unwrap();
    d2.reject("worker gave up").await.unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(10), r.dispatcher.wait("TO-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.state, TurnoverState::CompletedWithFailures);
    assert_eq!(
        (
            summary.chunks.done,
            summary.chunks.failed,
            summary.frames_done
        ),
        (1, 2, 4)
    );
    let rows = r.catalog.chunks("TO-1").await.unwrap();
    assert_eq!(
        rows[0].state,
        ChunkState::Done,
        "the late duplicate did not flip it"
    );
    assert_eq!(
        rows[1].detail.as_deref(),
        Some("corrupt DNG: truncated strip")
    );
    assert_eq!(
        rows[2].detail.as_deref(),
        Some("dead-lettered: worker gave up")
    );
    // The malformed event was dead-lettered with its reason, not dropped.
    let mut dead_events = r.queue.consume("platefarm.events.dead", 1).await.unwrap();
    let dead = tokio::time::timeout(Duration::from_secs(5), dead_events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(dead.death_reason.unwrap().contains("malformed result"));
    stop.send(()).unwrap();
    run.await.unwrap();
}

#[tokio::test]
async fn declared_queue_settings_must_match() {
    let q = MemoryQueue::new();
    q.declare(&QueueSpec::new("platefarm.chunks").delivery_limit(9))
        .await
        .unwrap();
    let r = rig_with(q, false).await;
    assert!(FarmQueues::default()
        .declare(r.queue.as_ref())
        .await
        .is_err());
}

#[tokio::test]
async fn malformed_amf_and_fdl_and_bad_selectors_are_reported_with_paths() {
    let r = rig().await;
    r.store
        .put(
            "clips/bad.amf",
            AMF.replace("</aces:pipeline>", "").into_bytes(),
        )
        .await
        .unwrap();
    let fdl =
        std::fs::read_to_string(platefarm_testkit::vectors_dir().join("fdl/sources/S11_000.fdl"))
            .unwrap();
    r.store
        .put("clips/A.fdl", fdl.clone().into_bytes())
        .await
        .unwrap();
    r.store
        .put(
            "clips/broken.fdl",
            fdl.replace("\"C000-FI1\"", "\"C000-XX\"").into_bytes(),
        )
        .await
        .unwrap();
    let mut s = shot();
    s["amf_path"] = json!("clips/bad.amf");
    s["fdl_path"] = json!("clips/A.fdl");
    s["fdl"] = json!({"canvas": "C404", "canvas_template": "VFX"});
    let mut s2 = shot();
    s2["name"] = json!("SH020");
    s2["fdl_path"] = json!("clips/broken.fdl");
    s2["amf_path"] = json!("clips/A.amf");
    let body = json!({"turnover_id": "TO-x", "production": "t", "shots": [s, s2]}).to_string();
    let got = problems(r.dispatcher.submit(body.as_bytes()).await.unwrap_err());
    let has = |path: &str, frag: &str| got.iter().any(|(p, m)| p == path && m.contains(frag));
    assert!(
        has("$.shots[0].amf_path", "not well-formed XML"),
        "{got:#?}"
    );
    assert!(
        has("$.shots[0].fdl.canvas", "no canvas \"C404\""),
        "{got:#?}"
    );
    assert!(
        has(
            "$.shots[0].fdl.canvas_template",
            "no canvas template \"VFX\""
        ),
        "{got:#?}"
    );
    assert!(
        has("$.shots[1].fdl_path", "framing_decisions[0].id"),
        "{got:#?}"
    );
    assert_eq!(got.len(), 4, "{got:#?}");
}

fn event(chunk_id: &str, outcome: ChunkOutcome) -> Vec<u8> {
    result_event("TO-1", chunk_id, 1, outcome)
}
