//! `platefarm bench-farm`: the farm's capacity measured against the real components — dispatch
//! capacity (no-op chunks through RabbitMQ and PostgreSQL), farm efficiency (dispatcher + worker
//! processes vs. the embedded farm on the same frames) and API latency — each over several runs
//! so the run-to-run spread is printed next to the figure.
//!
//! Every turnover it submits belongs to production `platefarm-bench`; each run uses queues of
//! its own (a fresh prefix) and cancels what it leaves running, so give it a scratch vhost and
//! a scratch database.

use crate::embedded::FarmOptions;
use crate::sample::{sample_clips, turnover_json, write_sample};
use anyhow::Context;
use futures_util::stream::{FuturesUnordered, StreamExt};
use platefarm_catalog::{Catalog, TurnoverFilter};
use platefarm_core::{
    ChunkMessage, ChunkOutcome, OutputFile, ResultEvent, TurnoverState, WIRE_VERSION,
};
use platefarm_dispatcher::{Dispatcher, DispatcherConfig};
use platefarm_queue::{Delivery, FarmQueues, WorkQueue};
use platefarm_store::{LocalStore, ObjectStore};
use platefarm_worker::EventPublisher;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PRODUCTION: &str = "platefarm-bench";

#[derive(Debug, Clone)]
pub struct BenchFarmOptions {
    /// Scratch folder (sample footage, plates, the embedded farm's catalog).
    pub dir: PathBuf,
    pub amqp_url: String,
    /// A PostgreSQL (or SQLite) catalog URL of a scratch database.
    pub catalog_url: String,
    pub runs: usize,
    /// Which measurements: any of `dispatch`, `farm`, `api`.
    pub sections: Vec<String>,
    /// No-op chunks per dispatch run (chunks of one frame).
    pub dispatch_chunks: u32,
    /// No-op consumers and chunks each holds at once.
    pub consumers: usize,
    pub consumer_slots: usize,
    /// Chunks the dispatcher keeps in the broker during the dispatch runs.
    pub window: u64,
    /// Frames per sample clip for the efficiency runs (two clips).
    pub farm_frames: u32,
    /// The store of the efficiency runs' farm (`s3://bucket[/prefix]`, with the usual AWS_*
    /// variables); the scratch folder when None.
    pub farm_store: Option<String>,
    pub workers: usize,
    /// Chunks each worker process holds at once (`platefarm worker --slots`).
    pub worker_slots: usize,
    pub chunk_size: u32,
    pub api_shots: usize,
    pub api_submits: usize,
    pub api_clients: usize,
    /// `GET`s per client.
    pub api_gets: usize,
}

/// A figure over several runs.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    pub runs: Vec<f64>,
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut runs: Vec<f64>) -> Spread {
        runs.sort_by(f64::total_cmp);
        let pick = |q: f64| percentile(&runs, q);
        Spread {
            min: runs.first().copied().unwrap_or(0.0),
            median: pick(0.5),
            max: runs.last().copied().unwrap_or(0.0),
            runs,
        }
    }
    /// The same runs as percentages (for ratios).
    fn percent(&self) -> Spread {
        Spread::of(self.runs.iter().map(|v| v * 100.0).collect())
    }
    fn show(&self, digits: usize) -> String {
        format!(
            "{:.d$} (min {:.d$}, max {:.d$}, {} runs)",
            self.median,
            self.min,
            self.max,
            self.runs.len(),
            d = digits
        )
    }
}

/// `q`-quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BenchFarmReport {
    /// No-op chunks/s from submission to every result recorded.
    pub dispatch_chunks_per_s: Option<Spread>,
    pub dispatch_chunks: u32,
    pub embedded_frames_per_s: Option<Spread>,
    pub farm_frames_per_s: Option<Spread>,
    /// Farm frames/s over the embedded farm's (local folder), per run pair.
    pub farm_efficiency: Option<Spread>,
    /// The embedded farm over the process farm's own store (`--farm-store`).
    pub embedded_same_store_frames_per_s: Option<Spread>,
    /// Farm frames/s over the embedded farm's on the same store, per run pair.
    pub farm_efficiency_same_store: Option<Spread>,
    pub farm_frames: u64,
    pub submit_p50_ms: Option<Spread>,
    pub submit_p99_ms: Option<Spread>,
    pub get_p50_ms: Option<Spread>,
    pub get_p99_ms: Option<Spread>,
}

fn fresh(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

async fn open_queue(amqp_url: &str) -> anyhow::Result<Arc<dyn WorkQueue>> {
    let args = crate::farm::BrokerArgs {
        amqp_url: amqp_url.to_string(),
        amqp_management: None,
        queue_prefix: String::new(),
        delivery_limit: 5,
    };
    crate::farm::open_queue(&args, &prometheus::Registry::new()).await
}

/// Cancels what an interrupted earlier run left running, so no dispatcher feeds it again.
async fn cancel_leftovers(catalog: &Arc<dyn Catalog>) -> anyhow::Result<()> {
    let filter = TurnoverFilter {
        production: Some(PRODUCTION.into()),
        state: Some(TurnoverState::Running),
        limit: 1000,
    };
    for t in catalog.list_turnovers(&filter).await? {
        catalog.cancel(&t.turnover_id, chrono::Utc::now()).await?;
    }
    Ok(())
}

pub async fn run(opts: &BenchFarmOptions) -> anyhow::Result<BenchFarmReport> {
    std::fs::create_dir_all(&opts.dir)
        .with_context(|| format!("creating {}", opts.dir.display()))?;
    let catalog = crate::farm::open_catalog(&opts.catalog_url).await?;
    cancel_leftovers(&catalog).await?;
    let want = |s: &str| opts.sections.iter().any(|x| x == s);
    let mut report = BenchFarmReport {
        dispatch_chunks: opts.dispatch_chunks,
        ..Default::default()
    };
    let runs = opts.runs.max(1);
    if want("dispatch") {
        let root = opts.dir.join("noop");
        let turnover = noop_footage(&root, opts.dispatch_chunks.div_ceil(2).max(1))?;
        let mut rates = Vec::new();
        for run in 0..runs {
            let (n, wall) = dispatch_run(opts, &catalog, &root, &turnover).await?;
            report.dispatch_chunks = n as u32;
            let rate = n as f64 / wall.as_secs_f64();
            eprintln!(
                "dispatch run {}: {n} chunks in {:.2} s = {rate:.0} chunks/s",
                run + 1,
                wall.as_secs_f64()
            );
            rates.push(rate);
        }
        report.dispatch_chunks_per_s = Some(Spread::of(rates));
    }
    if want("farm") {
        let root = opts.dir.join("farm");
        let turnover = std::fs::read(write_sample(&root, opts.farm_frames.max(1))?)?;
        // The same (deterministic) sample in the farm's store, when it is not the folder.
        let farm_store = match &opts.farm_store {
            Some(url) => {
                crate::sample::write_sample_to(url, opts.farm_frames.max(1)).await?;
                url.clone()
            }
            None => root.display().to_string(),
        };
        let (mut embedded, mut farm, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        let (mut embedded_same, mut ratio_same) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let e = embedded_run(opts, &root, &turnover, None).await?;
            // One process over the farm's own store too: on this machine an S3 server shares
            // the cores with the renders, so this is the baseline that isolates what
            // distributing the work costs.
            let e_same = match &opts.farm_store {
                Some(url) => Some(embedded_run(opts, &root, &turnover, Some(url)).await?),
                None => None,
            };
            let (frames, wall) = farm_run(opts, &catalog, &farm_store, &turnover).await?;
            report.farm_frames = frames;
            let f = frames as f64 / wall.as_secs_f64();
            let same = e_same
                .map(|x| {
                    format!(
                        ", embedded on the same store {x:.2} frames/s = {:.1} %",
                        100.0 * f / x
                    )
                })
                .unwrap_or_default();
            eprintln!("farm run {}: embedded {e:.2} frames/s, processes {f:.2} frames/s ({frames} frames) = {:.1} %{same}", run + 1, 100.0 * f / e);
            embedded.push(e);
            farm.push(f);
            ratio.push(f / e);
            if let Some(x) = e_same {
                embedded_same.push(x);
                ratio_same.push(f / x);
            }
        }
        report.embedded_frames_per_s = Some(Spread::of(embedded));
        report.farm_frames_per_s = Some(Spread::of(farm));
        report.farm_efficiency = Some(Spread::of(ratio));
        if !ratio_same.is_empty() {
            report.embedded_same_store_frames_per_s = Some(Spread::of(embedded_same));
            report.farm_efficiency_same_store = Some(Spread::of(ratio_same));
        }
    }
    if want("api") {
        let root = opts.dir.join("api");
        write_sample(&root, 1)?;
        let (mut s50, mut s99, mut g50, mut g99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for run in 0..runs {
            let (submits, gets) = api_run(opts, &catalog, &root).await?;
            eprintln!(
                "api run {}: submit p50 {:.1} ms p99 {:.1} ms; GET p50 {:.1} ms p99 {:.1} ms ({} GETs)",
                run + 1,
                percentile(&submits, 0.5),
                percentile(&submits, 0.99),
                percentile(&gets, 0.5),
                percentile(&gets, 0.99),
                gets.len()
            );
            s50.push(percentile(&submits, 0.5));
            s99.push(percentile(&submits, 0.99));
            g50.push(percentile(&gets, 0.5));
            g99.push(percentile(&gets, 0.99));
        }
        report.submit_p50_ms = Some(Spread::of(s50));
        report.submit_p99_ms = Some(Spread::of(s99));
        report.get_p50_ms = Some(Spread::of(g50));
        report.get_p99_ms = Some(Spread::of(g99));
    }
    Ok(report)
}

/// The sample's AMFs and FDLs with `n_frames` empty frame files per clip: enough for the
/// dispatcher to resolve the turnover, nothing for a no-op consumer to read.
fn noop_footage(root: &Path, n_frames: u32) -> anyhow::Result<serde_json::Value> {
    write_sample(root, 1)?;
    let clips = sample_clips(n_frames);
    for clip in &clips {
        for idx in 1..n_frames {
            let path = root.join(clip.frame_key(clip.first_frame + idx));
            std::fs::write(&path, b"").with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(turnover_json(&clips))
}

fn with_id(turnover: &serde_json::Value, id: &str) -> Vec<u8> {
    let mut t = turnover.clone();
    t["turnover_id"] = id.into();
    t["production"] = PRODUCTION.into();
    t.to_string().into_bytes()
}

/// A running dispatcher over RabbitMQ (queues of a fresh prefix) and the catalog.
struct RunningDispatcher {
    dispatcher: Arc<Dispatcher>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_dispatcher(
    catalog: &Arc<dyn Catalog>,
    store: Arc<dyn ObjectStore>,
    queue: Arc<dyn WorkQueue>,
    config: DispatcherConfig,
    hook: bool,
    local_root: Option<PathBuf>,
) -> anyhow::Result<RunningDispatcher> {
    let mut d = Dispatcher::new(
        store.clone(),
        queue,
        catalog.clone(),
        config,
        &prometheus::Registry::new(),
    );
    if hook {
        d = d.with_hook(Arc::new(
            platefarm_dispatcher::delivery::StoreDelivery::new(store, local_root),
        ));
    }
    let dispatcher = Arc::new(d);
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    let d = dispatcher.clone();
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Err(e) = d.run(stopped).await {
            tracing::error!(error = %e, "bench dispatcher stopped");
        }
    });
    Ok(RunningDispatcher {
        dispatcher,
        stop,
        task,
    })
}

impl RunningDispatcher {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// One dispatch run: returns (chunks, wall time from submission to the last result recorded).
async fn dispatch_run(
    opts: &BenchFarmOptions,
    catalog: &Arc<dyn Catalog>,
    root: &Path,
    turnover: &serde_json::Value,
) -> anyhow::Result<(u64, Duration)> {
    let queues = FarmQueues::with_prefix(&fresh("bench"), 5);
    let queue = open_queue(&opts.amqp_url).await?;
    queues.declare(queue.as_ref()).await?;
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(root)?);
    let config = DispatcherConfig {
        queues: queues.clone(),
        chunk_size: 1,
        window: Some(opts.window.max(1)),
        ..Default::default()
    };
    let d = start_dispatcher(
        catalog,
        store,
        queue.clone(),
        config,
        false,
        Some(root.to_path_buf()),
    )
    .await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut consumers = Vec::new();
    for i in 0..opts.consumers.max(1) {
        let (queue, queues, mut stop) = (queue.clone(), queues.clone(), stop_rx.clone());
        let slots = opts.consumer_slots.max(1);
        consumers.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            noop_consumer(queue, queues, format!("noop-{i}"), slots, stopped).await
        }));
    }
    let id = fresh("TO-dispatch");
    let started = Instant::now();
    let receipt = d.dispatcher.submit(&with_id(turnover, &id)).await?;
    let summary = tokio::time::timeout(Duration::from_secs(600), d.dispatcher.wait(&id))
        .await
        .context("dispatch run not finished after 600 s")??;
    let wall = started.elapsed();
    let _ = stop_tx.send(true);
    for c in consumers {
        c.await??;
    }
    d.stop().await;
    anyhow::ensure!(
        summary.chunks.done as usize == receipt.n_chunks,
        "dispatch run: {} of {} chunks done",
        summary.chunks.done,
        receipt.n_chunks
    );
    Ok((receipt.n_chunks as u64, wall))
}

/// Takes chunks as a worker does — `started`, then `done` with one output per frame, each
/// published and confirmed, then the ack — without rendering.
async fn noop_consumer(
    queue: Arc<dyn WorkQueue>,
    queues: FarmQueues,
    worker_id: String,
    slots: usize,
    stopped: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut consumer = queue
        .consume(&queues.chunks, slots.min(u16::MAX as usize) as u16)
        .await?;
    // As a worker does: one publisher packs the events of every slot.
    let events = EventPublisher::start(queue.clone(), queues.events.clone(), 256);
    let mut held = FuturesUnordered::new();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            d = consumer.next(), if held.len() < slots => {
                held.push(noop_chunk(&events, &worker_id, d?));
            }
            Some(r) = held.next() => r?,
        }
    }
    while let Some(r) = held.next().await {
        r?;
    }
    consumer.cancel().await?;
    Ok(())
}

async fn noop_chunk(events: &EventPublisher, worker_id: &str, d: Delivery) -> anyhow::Result<()> {
    let msg = ChunkMessage::decode(&d.payload)?;
    let event = |outcome| ResultEvent {
        version: WIRE_VERSION,
        turnover_id: msg.turnover_id.clone(),
        chunk_id: msg.chunk_id.clone(),
        generation: msg.generation,
        worker_id: worker_id.to_string(),
        delivery_count: d.delivery_count,
        outcome,
        render_seconds: 0.0,
    };
    events.publish(event(ChunkOutcome::Started)).await?;
    let outputs = msg
        .frames
        .frames()
        .map(|f| OutputFile {
            key: platefarm_core::plate_key(&msg.output_location, &msg.shot, f),
            size: 0,
            xxh64: "ef46db3751d8e999".into(),
        })
        .collect();
    events
        .publish(event(ChunkOutcome::Done { outputs }))
        .await?;
    d.ack().await?;
    Ok(())
}

/// One efficiency baseline: the sample on the embedded farm (one process, `workers` worker
/// tasks of one render thread each) over the scratch folder, or over `store_url` with a fresh
/// turnover id. Returns frames/s.
async fn embedded_run(
    opts: &BenchFarmOptions,
    root: &Path,
    turnover: &[u8],
    store_url: Option<&str>,
) -> anyhow::Result<f64> {
    let mut o = FarmOptions::new(root);
    o.workers = opts.workers.max(1);
    o.threads_per_worker = 1;
    o.chunk_size = opts.chunk_size;
    let r = match store_url {
        None => crate::demo::run_turnover(o, turnover, true).await?,
        Some(url) => {
            o.catalog = Some(opts.dir.join(format!("{}.db", fresh("embedded-catalog"))));
            let (store, local_root) =
                crate::farm::open_store(url, &prometheus::Registry::new()).await?;
            let farm = crate::embedded::EmbeddedFarm::start_on(o, store, local_root).await?;
            let body = with_id(&serde_json::from_slice(turnover)?, &fresh("TO-embedded"));
            crate::demo::run_on(farm, &body, true).await?
        }
    };
    anyhow::ensure!(
        r.summary.state == TurnoverState::Completed,
        "embedded run ended {}",
        r.summary.state
    );
    Ok(r.frames_per_second())
}

/// One efficiency run: the dispatcher here, `workers` worker processes of this binary.
/// Returns (frames, wall from submission to the turnover final).
async fn farm_run(
    opts: &BenchFarmOptions,
    catalog: &Arc<dyn Catalog>,
    store_url: &str,
    turnover: &[u8],
) -> anyhow::Result<(u64, Duration)> {
    let prefix = fresh("bench");
    let queues = FarmQueues::with_prefix(&prefix, 5);
    let queue = open_queue(&opts.amqp_url).await?;
    queues.declare(queue.as_ref()).await?;
    let exe = std::env::current_exe().context("finding the platefarm binary")?;
    let mut workers = Vec::new();
    for i in 0..opts.workers.max(1) {
        let log = std::fs::File::create(opts.dir.join(format!("worker-{i}.log")))?;
        let child = std::process::Command::new(&exe)
            .args(["worker", "--threads", "1", "--slots"])
            .arg(opts.worker_slots.max(1).to_string())
            .arg("--worker-id")
            .arg(format!("bench-worker-{i}"))
            .arg("--amqp")
            .arg(&opts.amqp_url)
            .arg("--queue-prefix")
            .arg(&prefix)
            .arg("--store")
            .arg(store_url)
            .env_remove("PLATEFARM_LISTEN")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting a worker process")?;
        workers.push(child);
    }
    let result = async {
        // Time the farm, not process start-up: wait until every worker consumes.
        let ready = Instant::now();
        while queue.depth(&queues.chunks).await?.consumers < workers.len() as u64 {
            anyhow::ensure!(
                ready.elapsed() < Duration::from_secs(60),
                "workers not consuming after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (store, local_root) =
            crate::farm::open_store(store_url, &prometheus::Registry::new()).await?;
        let config = DispatcherConfig {
            queues: queues.clone(),
            chunk_size: opts.chunk_size,
            ..Default::default()
        };
        let d = start_dispatcher(catalog, store, queue.clone(), config, true, local_root).await?;
        let id = fresh("TO-farm");
        let started = Instant::now();
        let submitted = d
            .dispatcher
            .submit(&with_id(&serde_json::from_slice(turnover)?, &id))
            .await;
        let summary = match submitted {
            Ok(_) => tokio::time::timeout(Duration::from_secs(1800), d.dispatcher.wait(&id)).await,
            Err(e) => {
                d.stop().await;
                return Err(e.into());
            }
        };
        let wall = started.elapsed();
        d.stop().await;
        let summary = summary.context("farm run not finished after 30 min")??;
        anyhow::ensure!(
            summary.state == TurnoverState::Completed,
            "farm run ended {}",
            summary.state
        );
        Ok((summary.frames_done, wall))
    }
    .await;
    for w in &mut workers {
        // SAFETY: kill(2) on a child we spawned and have not reaped.
        unsafe {
            libc::kill(w.id() as i32, libc::SIGTERM);
        }
    }
    for mut w in workers {
        let _ = w.wait();
    }
    result
}

/// One API run: `api_submits` submissions of an `api_shots`-shot turnover, then `api_clients`
/// clients each reading a turnover's status `api_gets` times. Latencies in ms.
async fn api_run(
    opts: &BenchFarmOptions,
    catalog: &Arc<dyn Catalog>,
    root: &Path,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let queues = FarmQueues::with_prefix(&fresh("bench"), 5);
    let queue = open_queue(&opts.amqp_url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(root)?);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let config = platefarm_dispatcher::ServeConfig {
        dispatcher: DispatcherConfig {
            queues,
            ..Default::default()
        },
        token: None,
    };
    let adapters = platefarm_dispatcher::Adapters {
        store,
        queue,
        catalog: catalog.clone(),
        hook: None,
    };
    let server = tokio::spawn(platefarm_dispatcher::serve(
        config,
        adapters,
        prometheus::Registry::new(),
        listener,
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
    ));
    let result = async {
        let clips = sample_clips(1);
        let mut body = turnover_json(&clips);
        let first = body["shots"].as_array().cloned().unwrap_or_default();
        anyhow::ensure!(!first.is_empty(), "the sample turnover has no shots");
        let shots: Vec<serde_json::Value> = (0..opts.api_shots.max(1))
            .map(|i| {
                let mut s = first[i % first.len()].clone();
                s["name"] = format!("SH{:04}", (i + 1) * 10).into();
                s["output_location"] = format!("api/SH{:04}", (i + 1) * 10).into();
                s
            })
            .collect();
        body["shots"] = shots.into();
        let client = crate::client::ApiClient::new(&base, None)?;
        let mut submits = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..opts.api_submits.max(1) {
            let id = fresh("TO-api");
            let started = Instant::now();
            client
                .ok("POST", "/v1/turnovers", with_id(&body, &id))
                .await?;
            submits.push(started.elapsed().as_secs_f64() * 1000.0);
            ids.push(id);
        }
        let ids = Arc::new(ids);
        let mut tasks = Vec::new();
        for c in 0..opts.api_clients.max(1) {
            let (ids, base, n) = (ids.clone(), base.clone(), opts.api_gets.max(1));
            tasks.push(tokio::spawn(async move {
                let client = crate::client::ApiClient::new(&base, None)?;
                let mut lat = Vec::with_capacity(n);
                for i in 0..n {
                    let id = &ids[(c + i) % ids.len()];
                    let started = Instant::now();
                    client
                        .ok("GET", &format!("/v1/turnovers/{id}"), Vec::new())
                        .await?;
                    lat.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                anyhow::Ok(lat)
            }));
        }
        let mut gets = Vec::new();
        for t in tasks {
            gets.extend(t.await??);
        }
        for id in ids.iter() {
            client
                .ok("POST", &format!("/v1/turnovers/{id}/cancel"), Vec::new())
                .await?;
        }
        submits.sort_by(f64::total_cmp);
        gets.sort_by(f64::total_cmp);
        Ok((submits, gets))
    }
    .await;
    let _ = stop_tx.send(true);
    server.await??;
    result
}

pub fn print(r: &BenchFarmReport) {
    println!("platefarm bench-farm (median, min–max over runs; a shared, noisy 2-core machine)");
    if let Some(s) = &r.dispatch_chunks_per_s {
        println!(
            "  dispatch capacity   {} chunks/s   ({} no-op chunks, RabbitMQ + catalog)",
            s.show(0),
            r.dispatch_chunks
        );
    }
    if let (Some(e), Some(f), Some(x)) = (
        &r.embedded_frames_per_s,
        &r.farm_frames_per_s,
        &r.farm_efficiency,
    ) {
        println!(
            "  embedded farm       {} frames/s   ({} frames)",
            e.show(2),
            r.farm_frames
        );
        println!(
            "  process farm        {} frames/s   (dispatcher + worker processes over RabbitMQ)",
            f.show(2)
        );
        println!(
            "  farm efficiency     {} %   (vs. the embedded farm on a local folder)",
            x.percent().show(1)
        );
        if let (Some(e), Some(x)) = (
            &r.embedded_same_store_frames_per_s,
            &r.farm_efficiency_same_store,
        ) {
            println!(
                "  embedded, same store {} frames/s   (one process over the farm's store)",
                e.show(2)
            );
            println!(
                "  farm efficiency     {} %   (vs. one process on the same store)",
                x.percent().show(1)
            );
        }
    }
    if let (Some(a), Some(b)) = (&r.submit_p50_ms, &r.submit_p99_ms) {
        println!("  submit p50          {} ms", a.show(1));
        println!("  submit p99          {} ms", b.show(1));
    }
    if let (Some(a), Some(b)) = (&r.get_p50_ms, &r.get_p99_ms) {
        println!("  GET status p50      {} ms", a.show(2));
        println!("  GET status p99      {} ms", b.show(2));
    }
}
