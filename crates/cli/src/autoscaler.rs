//! `platefarm autoscaler`: observes the farm, runs the pure policy
//! (`platefarm_core::scaling::decide`) every `--interval`, and acts on the decision.
//!
//! Observations: the chunks queue's ready + unacknowledged messages from RabbitMQ's management
//! API (a passive declare sees only *ready* messages, so a queue whose chunks are all being
//! rendered would look empty and the workers would be stopped under their work); the chunks the
//! dispatcher has planned but not published, and every running turnover's remaining frames and
//! deadline, from the catalog; the measured seconds per frame of one worker, from the frames the
//! catalog records done per worker-second of the running fleet (a moving average).
//!
//! Actuators: `process` spawns `platefarm worker` children and stops them with SIGTERM (a
//! worker finishes or hands back the chunk it holds, so nothing is lost); `external` acts on
//! nothing and only serves the decision at `GET /v1/scaling` for KEDA's `metrics-api` trigger.

use anyhow::Context;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use platefarm_catalog::{Catalog, TurnoverFilter};
use platefarm_core::scaling::{decide, Decision, Demand, Observations, ScalingConfig};
use platefarm_core::TurnoverState;
use platefarm_queue::WorkQueue;
use prometheus::{IntGauge, Registry};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ActuatorKind {
    /// Spawn and stop `platefarm worker` processes on this machine.
    Process,
    /// Act on nothing; serve the decision for KEDA (`GET /v1/scaling`).
    External,
}

#[derive(Debug, clap::Args)]
pub struct AutoscalerArgs {
    #[arg(
        long,
        env = "PLATEFARM_ACTUATOR",
        value_enum,
        default_value = "process"
    )]
    pub actuator: ActuatorKind,
    #[arg(long, env = "PLATEFARM_MIN_WORKERS", default_value_t = 0)]
    pub min_workers: u32,
    #[arg(long, env = "PLATEFARM_MAX_WORKERS", default_value_t = 4)]
    pub max_workers: u32,
    /// Seconds with nothing to do before scaling to --min-workers.
    #[arg(long, env = "PLATEFARM_IDLE_AFTER", default_value_t = 300.0)]
    pub idle_after: f64,
    /// Seconds over which scale-down takes the largest need seen.
    #[arg(long, env = "PLATEFARM_STABILISATION", default_value_t = 120.0)]
    pub stabilisation: f64,
    /// Seconds in which work without a deadline should be done.
    #[arg(long, env = "PLATEFARM_DRAIN_TARGET", default_value_t = 1800.0)]
    pub drain_target: f64,
    /// Seconds from a scale-up to a new worker rendering.
    #[arg(long, env = "PLATEFARM_WORKER_STARTUP", default_value_t = 10.0)]
    pub startup: f64,
    /// Seconds between evaluations.
    #[arg(long, env = "PLATEFARM_INTERVAL", default_value_t = 5.0)]
    pub interval: f64,
    /// Address of /v1/scaling, /metrics and /health/livez.
    #[arg(long, env = "PLATEFARM_LISTEN", default_value = "127.0.0.1:9091")]
    pub listen: String,
    /// Chunks each worker holds (`platefarm worker --slots`).
    #[arg(long = "worker-slots", env = "PLATEFARM_SLOTS", default_value_t = 1)]
    pub worker_slots: u32,
    /// Render threads of each worker process (default: the worker's own default).
    #[arg(long = "worker-threads", env = "PLATEFARM_RENDER_THREADS")]
    pub worker_threads: Option<usize>,
    /// The store the workers write to (process actuator).
    #[arg(long = "store", env = "PLATEFARM_STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub broker: crate::farm::BrokerArgs,
    #[command(flatten)]
    pub catalog: crate::farm::CatalogArgs,
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        (0.0..1e9).contains(&v),
        "--{name} must be a number of seconds ≥ 0, got {v}"
    );
    Ok(Duration::from_secs_f64(v))
}

impl AutoscalerArgs {
    pub fn scaling(&self) -> anyhow::Result<ScalingConfig> {
        anyhow::ensure!(
            self.min_workers <= self.max_workers,
            "--min-workers {} is above --max-workers {}",
            self.min_workers,
            self.max_workers
        );
        anyhow::ensure!(self.worker_slots >= 1, "--worker-slots must be at least 1");
        Ok(ScalingConfig {
            min_workers: self.min_workers,
            max_workers: self.max_workers,
            drain_target: secs("drain-target", self.drain_target)?,
            stabilisation: secs("stabilisation", self.stabilisation)?,
            idle_after: secs("idle-after", self.idle_after)?,
            startup: secs("startup", self.startup)?,
            slots_per_worker: self.worker_slots,
        })
    }
}

/// Starts, counts and stops workers.
#[async_trait::async_trait]
pub trait Actuator: Send {
    /// Makes `n` workers run (start or gracefully stop the difference).
    async fn scale_to(&mut self, n: u32) -> anyhow::Result<()>;
    /// Workers running now (stopping ones not counted).
    fn running(&mut self) -> u32;
    /// Process ids of the running workers (empty where not known).
    fn pids(&self) -> Vec<u32>;
    /// Workers told to stop that have not exited yet.
    fn stopping(&mut self) -> u32;
    /// Stops every worker gracefully and waits for them.
    async fn shutdown(&mut self);
}

/// Local `platefarm worker` children.
pub struct ProcessActuator {
    exe: std::path::PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    children: Vec<tokio::process::Child>,
    stopping: Vec<tokio::process::Child>,
    spawned: u64,
}

impl ProcessActuator {
    pub fn new(a: &AutoscalerArgs) -> anyhow::Result<Self> {
        let store = a
            .store
            .clone()
            .context("the process actuator needs --store (or PLATEFARM_STORE) for its workers")?;
        let mut args = vec![
            "worker".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--slots".into(),
            a.worker_slots.to_string(),
        ];
        if let Some(t) = a.worker_threads {
            args.extend(["--threads".into(), t.to_string()]);
        }
        let mut env = vec![
            ("PLATEFARM_AMQP_URL", a.broker.amqp_url.clone()),
            ("PLATEFARM_QUEUE_PREFIX", a.broker.queue_prefix.clone()),
            (
                "PLATEFARM_DELIVERY_LIMIT",
                a.broker.delivery_limit.to_string(),
            ),
            ("PLATEFARM_STORE", store),
        ];
        if let Some(m) = &a.broker.amqp_management {
            env.push(("PLATEFARM_AMQP_MANAGEMENT_URL", m.clone()));
        }
        Ok(ProcessActuator {
            exe: std::env::current_exe().context("locating the platefarm binary")?,
            args,
            env,
            children: Vec::new(),
            stopping: Vec::new(),
            spawned: 0,
        })
    }

    fn reap(&mut self) {
        self.children.retain_mut(|c| match c.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                tracing::warn!(pid = ?c.id(), %status, "worker exited on its own; it will be replaced");
                false
            }
            Err(_) => false,
        });
        self.stopping.retain_mut(|c| match c.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                tracing::info!(pid = ?c.id(), %status, "worker exited after SIGTERM");
                false
            }
            Err(_) => false,
        });
    }
}

fn terminate(c: &tokio::process::Child) {
    if let Some(pid) = c.id() {
        // SIGTERM: the worker stops taking work, finishes or hands back what it holds.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
}

#[async_trait::async_trait]
impl Actuator for ProcessActuator {
    async fn scale_to(&mut self, n: u32) -> anyhow::Result<()> {
        self.reap();
        while self.children.len() < n as usize {
            self.spawned += 1;
            let child = tokio::process::Command::new(&self.exe)
                .args(&self.args)
                .arg("--worker-id")
                .arg(format!("worker-{}-{}", std::process::id(), self.spawned))
                .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
                .env_remove("PLATEFARM_LISTEN")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {} worker", self.exe.display()))?;
            tracing::info!(pid = ?child.id(), "worker started");
            self.children.push(child);
        }
        while self.children.len() > n as usize {
            let c = self.children.pop().expect("len > n");
            tracing::info!(pid = ?c.id(), "stopping a worker (SIGTERM)");
            terminate(&c);
            self.stopping.push(c);
        }
        Ok(())
    }

    fn running(&mut self) -> u32 {
        self.reap();
        self.children.len() as u32
    }

    fn pids(&self) -> Vec<u32> {
        self.children.iter().filter_map(|c| c.id()).collect()
    }

    fn stopping(&mut self) -> u32 {
        self.reap();
        self.stopping.len() as u32
    }

    async fn shutdown(&mut self) {
        for c in &self.children {
            terminate(c);
        }
        let mut all: Vec<_> = self
            .children
            .drain(..)
            .chain(self.stopping.drain(..))
            .collect();
        for c in &mut all {
            match tokio::time::timeout(Duration::from_secs(300), c.wait()).await {
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(pid = ?c.id(), "worker did not stop within 300 s; killing it");
                    if let Err(e) = c.kill().await {
                        tracing::error!(pid = ?c.id(), error = %e, "cannot kill a worker");
                    }
                }
            }
        }
    }
}

/// Acts on nothing: KEDA (or an operator) reads `/v1/scaling`; running = the queue's
/// consumers.
pub struct ExternalActuator {
    consumers: u32,
}

#[async_trait::async_trait]
impl Actuator for ExternalActuator {
    async fn scale_to(&mut self, _n: u32) -> anyhow::Result<()> {
        Ok(())
    }
    fn running(&mut self) -> u32 {
        self.consumers
    }
    fn pids(&self) -> Vec<u32> {
        Vec::new()
    }
    fn stopping(&mut self) -> u32 {
        0
    }
    async fn shutdown(&mut self) {}
}

/// What `GET /v1/scaling` answers.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ScalingStatus {
    pub desired_workers: u32,
    pub running_workers: u32,
    /// Told to stop (SIGTERM), finishing what they hold.
    pub stopping_workers: u32,
    pub reason: String,
    pub chunks_pending: u64,
    pub frames_remaining: u64,
    pub seconds_per_frame: Option<f64>,
    pub worker_pids: Vec<u32>,
    pub evaluated_at: Option<DateTime<Utc>>,
}

struct Metrics {
    desired: IntGauge,
    running: IntGauge,
    pending: IntGauge,
}

impl Metrics {
    fn new(r: &Registry) -> anyhow::Result<Self> {
        let g = |name: &str, help: &str| -> anyhow::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            r.register(Box::new(g.clone()))?;
            Ok(g)
        };
        Ok(Metrics {
            desired: g(
                "platefarm_autoscaler_workers_desired",
                "Workers the policy asks for",
            )?,
            running: g(
                "platefarm_autoscaler_workers_running",
                "Workers running (started by this autoscaler, or consuming the chunks queue)",
            )?,
            pending: g(
                "platefarm_autoscaler_backlog_chunks",
                "Chunks in the broker (ready + unacknowledged) or not yet published",
            )?,
        })
    }
}

/// Measures seconds per frame of one worker from frames done per worker-second.
#[derive(Default)]
struct SpeedMeter {
    frames_done: HashMap<String, u64>,
    at: Option<std::time::Instant>,
    workers: u32,
    estimate: Option<f64>,
}

impl SpeedMeter {
    async fn observe(
        &mut self,
        catalog: &dyn Catalog,
        running: &[platefarm_catalog::TurnoverSummary],
        workers: u32,
    ) -> anyhow::Result<()> {
        let now = std::time::Instant::now();
        let mut delta = 0u64;
        for (id, before) in &self.frames_done {
            let after = match running.iter().find(|t| &t.turnover_id == id) {
                Some(t) => t.frames_done,
                None => catalog
                    .turnover(id)
                    .await?
                    .map(|t| t.frames_done)
                    .unwrap_or(*before),
            };
            delta += after.saturating_sub(*before);
        }
        if let Some(at) = self.at {
            let worker_seconds = self.workers as f64 * (now - at).as_secs_f64();
            if delta > 0 && worker_seconds > 0.0 {
                let sample = worker_seconds / delta as f64;
                self.estimate = Some(match self.estimate {
                    Some(e) => 0.7 * e + 0.3 * sample,
                    None => sample,
                });
            }
        }
        self.frames_done = running
            .iter()
            .map(|t| (t.turnover_id.clone(), t.frames_done))
            .collect();
        self.at = Some(now);
        self.workers = workers;
        Ok(())
    }
}

pub async fn run(
    args: AutoscalerArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let cfg = args.scaling()?;
    let interval = secs("interval", args.interval)?.max(Duration::from_millis(100));
    let registry = Registry::new();
    let metrics = Metrics::new(&registry)?;
    let queue = crate::farm::open_queue(&args.broker, &registry).await?;
    let catalog = crate::farm::open_catalog(&args.catalog.catalog).await?;
    let queues = args.broker.queues();
    let mut actuator: Box<dyn Actuator> = match args.actuator {
        ActuatorKind::Process => Box::new(ProcessActuator::new(&args)?),
        ActuatorKind::External => Box::new(ExternalActuator { consumers: 0 }),
    };
    let status = Arc::new(Mutex::new(ScalingStatus::default()));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "platefarm autoscaler serving");
    let ready = platefarm_telemetry::Readiness::default();
    ready.set(true);
    let app = {
        let status = status.clone();
        Router::new()
            .route(
                "/v1/scaling",
                get(move || {
                    let s = status.lock().expect("status").clone();
                    async move { Json(s) }
                }),
            )
            .merge(platefarm_telemetry::router(registry.clone(), ready))
    };
    let (stop_http, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platefarm_telemetry::serve(listener, app, async move {
        let _ = stopped.await;
    }));

    tokio::pin!(shutdown);
    let mut decision = Decision::default();
    let mut meter = SpeedMeter::default();
    let mut failures = 0u32;
    loop {
        match observe(
            queue.as_ref(),
            &queues,
            catalog.as_ref(),
            &mut meter,
            actuator.as_mut(),
        )
        .await
        {
            Ok((obs, consumers)) => {
                failures = 0;
                if args.actuator == ActuatorKind::External {
                    actuator = Box::new(ExternalActuator { consumers });
                }
                let now = Utc::now();
                decision = decide(&obs, &decision, &cfg, now);
                if let Err(e) = actuator.scale_to(decision.desired).await {
                    tracing::error!(error = %e, "cannot scale");
                }
                let running = actuator.running();
                metrics.desired.set(decision.desired as i64);
                metrics.running.set(running as i64);
                metrics.pending.set(obs.chunks_pending as i64);
                let frames: u64 = obs.demands.iter().map(|d| d.frames_remaining).sum();
                let mut s = status.lock().expect("status");
                if s.desired_workers != decision.desired {
                    tracing::info!(
                        desired = decision.desired,
                        running,
                        reason = %decision.reason,
                        "scaling decision"
                    );
                }
                *s = ScalingStatus {
                    desired_workers: decision.desired,
                    running_workers: running,
                    stopping_workers: actuator.stopping(),
                    reason: decision.reason.clone(),
                    chunks_pending: obs.chunks_pending,
                    frames_remaining: frames,
                    seconds_per_frame: obs.seconds_per_frame,
                    worker_pids: actuator.pids(),
                    evaluated_at: Some(now),
                };
            }
            Err(e) => {
                // Keep the fleet as it is while the farm cannot be observed.
                failures += 1;
                tracing::warn!(error = %e, failures, "cannot observe the farm; keeping the fleet");
            }
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
    tracing::info!("stopping: workers finish what they hold");
    actuator.shutdown().await;
    // The server may already have ended (its error is reported just below).
    let _ = stop_http.send(());
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the autoscaler's HTTP server failed"),
        Err(e) => tracing::error!(error = %e, "the autoscaler's HTTP server panicked"),
    }
    Ok(())
}

async fn observe(
    queue: &dyn WorkQueue,
    queues: &platefarm_queue::FarmQueues,
    catalog: &dyn Catalog,
    meter: &mut SpeedMeter,
    actuator: &mut dyn Actuator,
) -> anyhow::Result<(Observations, u32)> {
    let depth = queue
        .depth(&queues.chunks)
        .await
        .context("reading the chunks queue's depth")?;
    let backlog = catalog.backlog().await.context("reading the backlog")?;
    let running = catalog
        .list_turnovers(&TurnoverFilter {
            state: Some(TurnoverState::Running),
            limit: 1000,
            ..TurnoverFilter::default()
        })
        .await
        .context("listing running turnovers")?;
    let consumers = depth.consumers as u32;
    let workers = actuator.running().max(consumers);
    meter.observe(catalog, &running, workers).await?;
    let planned: u64 = backlog.iter().map(|b| b.planned_chunks).sum();
    Ok((
        Observations {
            chunks_pending: depth.ready + depth.unacked + planned,
            demands: running
                .iter()
                .map(|t| Demand {
                    frames_remaining: t.frames_total.saturating_sub(t.frames_done),
                    deadline: t.deadline,
                })
                .collect(),
            seconds_per_frame: meter.estimate,
        },
        consumers,
    ))
}
