//! Priority and fair share through the real dispatcher (feeder, window, events, catalog) with
//! two simulated workers that take a chunk, "render" it for a fixed time and report it, as
//! `platefarm worker` does: a 10-chunk high-priority turnover submitted behind a 2,000-chunk one
//! starts within a few chunk durations and finishes long before it; two productions submitting
//! at once get equal worker time.

use platefarm_catalog::{Catalog, SqlCatalog};
use platefarm_core::{ChunkMessage, ChunkOutcome, ResultEvent, WIRE_VERSION};
use platefarm_dispatcher::{Dispatcher, DispatcherConfig};
use platefarm_queue::{FarmQueues, MemoryQueue, WorkQueue};
use platefarm_store::{LocalStore, ObjectStore};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHUNK: Duration = Duration::from_millis(4);

struct Rig {
    _dir: tempfile::TempDir,
    queue: Arc<MemoryQueue>,
    catalog: Arc<SqlCatalog>,
    dispatcher: Arc<Dispatcher>,
}

async fn rig(frames: u32) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    for f in 1..=frames {
        store
            .put(&format!("c/A.{f:05}.dng"), Vec::new())
            .await
            .unwrap();
    }
    let queue = Arc::new(MemoryQueue::new());
    FarmQueues::default().declare(queue.as_ref()).await.unwrap();
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let dispatcher = Arc::new(Dispatcher::new(
        store,
        queue.clone(),
        catalog.clone(),
        DispatcherConfig {
            chunk_size: 1,
            ..DispatcherConfig::default()
        },
        &prometheus::Registry::new(),
    ));
    Rig {
        _dir: dir,
        queue,
        catalog,
        dispatcher,
    }
}

fn turnover(id: &str, production: &str, priority: u8, frames: u32) -> Vec<u8> {
    json!({"turnover_id": id, "production": production, "priority": priority, "shots": [{
        "name": "A", "input_clip": "c/A.%05d.dng", "output_location": "out",
        "frame_range": {"start": 1, "end": frames}}]})
    .to_string()
    .into_bytes()
}

/// Two workers; records, per turnover, the order in which chunks were taken.
fn workers(
    queue: Arc<MemoryQueue>,
    log: Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..2)
        .map(|w| {
            let queue = queue.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut c = queue.consume("platefarm.chunks", 1).await.unwrap();
                while let Ok(d) = c.next().await {
                    let msg = ChunkMessage::decode(&d.payload).unwrap();
                    log.lock().unwrap().push(msg.turnover_id.clone());
                    tokio::time::sleep(CHUNK).await;
                    let event = ResultEvent {
                        version: WIRE_VERSION,
                        turnover_id: msg.turnover_id.clone(),
                        chunk_id: msg.chunk_id.clone(),
                        generation: msg.generation,
                        worker_id: format!("sim-{w}"),
                        delivery_count: d.delivery_count,
                        outcome: ChunkOutcome::Done { outputs: vec![] },
                        render_seconds: CHUNK.as_secs_f64(),
                    };
                    queue
                        .publish("platefarm.events", event.encode())
                        .await
                        .unwrap();
                    d.ack().await.unwrap();
                }
            })
        })
        .collect()
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priority_turnover_overtakes_a_long_one() {
    let r = rig(2000).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let w = workers(r.queue.clone(), log.clone());
    let (stop, run) = start(&r.dispatcher);
    r.dispatcher
        .submit(&turnover("TO-long", "show", 50, 2000))
        .await
        .unwrap();
    // Let the long one run for a while, then the urgent one arrives.
    while log.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    r.dispatcher
        .submit(&turnover("TO-urgent", "show", 90, 10))
        .await
        .unwrap();
    let taken_before = log.lock().unwrap().len();
    let urgent = tokio::time::timeout(Duration::from_secs(60), r.dispatcher.wait("TO-urgent"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(urgent.chunks.done, 10);
    let order = log.lock().unwrap().clone();
    let first_urgent = order.iter().position(|t| t == "TO-urgent").unwrap();
    let last_urgent = order.iter().rposition(|t| t == "TO-urgent").unwrap();
    // It waits behind at most one window (default 8 with no consumers counted) of chunks
    // already in the broker, i.e. a few chunk durations on two workers.
    assert!(
        first_urgent - taken_before <= 12,
        "the urgent turnover started after {} more chunks of the long one",
        first_urgent - taken_before
    );
    assert!(
        last_urgent - first_urgent <= 10 + 12,
        "its 10 chunks ran together ({first_urgent}..{last_urgent})"
    );
    let long = r.catalog.turnover("TO-long").await.unwrap().unwrap();
    eprintln!(
        "urgent: started after {} chunks of the long one, ran within {} takes; long had {} of 2000 done",
        first_urgent - taken_before,
        last_urgent - first_urgent + 1,
        long.chunks.done
    );
    assert!(
        long.chunks.done < 1000,
        "the urgent turnover finished long before the long one ({} of 2000 done)",
        long.chunks.done
    );
    stop.send(()).unwrap();
    run.await.unwrap();
    for h in w {
        h.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_productions_get_equal_worker_time() {
    let r = rig(400).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let w = workers(r.queue.clone(), log.clone());
    r.dispatcher
        .submit(&turnover("TO-a", "alpha", 50, 400))
        .await
        .unwrap();
    r.dispatcher
        .submit(&turnover("TO-b", "beta", 50, 400))
        .await
        .unwrap();
    let (stop, run) = start(&r.dispatcher);
    let started = Instant::now();
    // Shares are compared from the moment both turnovers are in the queue: alpha's first
    // window goes out before beta is submitted, and on a loaded machine the workers may take
    // much of it before beta's first chunk is published.
    let both_from = |order: &[String]| order.iter().position(|t| t == "TO-b");
    loop {
        let order = log.lock().unwrap().clone();
        let enough = both_from(&order).is_some_and(|i| order.len() >= i + 300);
        if enough || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let order = log.lock().unwrap().clone();
    let from = both_from(&order).expect("beta's chunks were taken");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &order[from..from + 300] {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    let (a, b) = (counts["TO-a"], counts["TO-b"]);
    eprintln!("fair share: alpha {a}, beta {b} of the first 300 chunks");
    assert!(
        a.abs_diff(b) <= 12,
        "alpha took {a} chunks and beta {b} of the first 300 once both were queued"
    );
    stop.send(()).unwrap();
    run.await.unwrap();
    for h in w {
        h.abort();
    }
}
