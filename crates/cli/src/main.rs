//! The platefarm command: a thin `main` over the `platefarm` library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use platefarm::demo::{contact_sheet, print_summary, run_turnover};
use platefarm::embedded::FarmOptions;
use platefarm::sample::{sample_clips, write_sample};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "platefarm",
    version,
    about = "An open, queue-driven render farm for camera-original footage"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines on stderr: `text` for people, `json` (one object per line; lines about a
    /// chunk carry its turnover, shot and chunk ids) for log shippers.
    #[arg(long, global = true, env = "PLATEFARM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct FarmArgs {
    /// Worker tasks (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Render threads per worker.
    #[arg(long, default_value_t = 1)]
    threads_per_worker: usize,
    /// Frames per chunk.
    #[arg(long, default_value_t = 8)]
    chunk_size: u32,
}

impl FarmArgs {
    fn options(&self, root: PathBuf) -> FarmOptions {
        let mut o = FarmOptions::new(root);
        if let Some(w) = self.workers {
            o.workers = w;
        }
        o.threads_per_worker = self.threads_per_worker;
        o.chunk_size = self.chunk_size;
        o
    }
}

#[derive(clap::Args)]
struct BenchFarmArgs {
    /// Scratch folder (sample footage, plates, worker logs).
    #[arg(long, default_value = "platefarm-bench-farm")]
    dir: PathBuf,
    /// RabbitMQ broker, vhost in the URL (give a scratch vhost).
    #[arg(
        long = "amqp",
        env = "PLATEFARM_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// Catalog of a scratch database: postgres://user@host/db (or sqlite:PATH).
    #[arg(long = "catalog", env = "PLATEFARM_CATALOG_URL")]
    catalog: String,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Measurements to run, comma-separated: dispatch, farm, api.
    #[arg(long, value_delimiter = ',', default_value = "dispatch,farm,api")]
    only: Vec<String>,
    /// No-op chunks per dispatch run.
    #[arg(long, default_value_t = 20_000)]
    dispatch_chunks: u32,
    /// No-op consumers in the dispatch runs.
    #[arg(long, default_value_t = 4)]
    consumers: usize,
    /// Chunks each no-op consumer holds at once.
    #[arg(long, default_value_t = 64)]
    consumer_slots: usize,
    /// Chunks the dispatcher keeps in the broker in the dispatch runs.
    #[arg(long, default_value_t = 2000)]
    window: u64,
    /// Frames per sample clip in the efficiency runs (two clips).
    #[arg(long, default_value_t = 128)]
    farm_frames: u32,
    /// Store of the efficiency runs' farm: `s3://bucket[/prefix]` (AWS_ENDPOINT_URL,
    /// AWS_ACCESS_KEY_ID, … apply); default the scratch folder.
    #[arg(long)]
    farm_store: Option<String>,
    /// Worker processes (and embedded workers), one render thread each.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Chunks each worker process holds at once: with 2, the next chunk's set-up and first
    /// fetch overlap the current chunk's renders.
    #[arg(long, default_value_t = 1)]
    worker_slots: usize,
    #[arg(long, default_value_t = 8)]
    chunk_size: u32,
    #[arg(long, default_value_t = 100)]
    api_shots: usize,
    #[arg(long, default_value_t = 20)]
    api_submits: usize,
    #[arg(long, default_value_t = 50)]
    api_clients: usize,
    /// GETs per client.
    #[arg(long, default_value_t = 40)]
    api_gets: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ClipsCommand {
    /// Search clips by reel, camera, text; `--timecode` finds the clip and frame holding it.
    Search(platefarm::ingest::SearchArgs),
}

#[derive(Subcommand)]
enum Command {
    /// Make a sample turnover, render it on the embedded farm, show the result.
    Demo {
        /// Working folder (sample inputs, plates, catalog).
        #[arg(long, default_value = "platefarm-demo")]
        dir: PathBuf,
        /// Frames per sample clip.
        #[arg(long, default_value_t = 24)]
        frames: u32,
        #[command(flatten)]
        farm: FarmArgs,
    },
    /// Write a synthetic camera turnover (CinemaDNG clips, AMF, FDL, turnover.json) into a
    /// folder or a store URL (file:///dir, s3://bucket/prefix).
    Sample {
        dir: String,
        #[arg(long, default_value_t = 24)]
        frames: u32,
    },
    /// Render a turnover JSON on the embedded farm; paths in it are relative to --root.
    Render {
        turnover: PathBuf,
        /// The local store root (inputs are read and plates written under it).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        #[command(flatten)]
        farm: FarmArgs,
    },
    /// Benchmark the plate pipeline (DPX LogC3 → ACES EXR) and compare with oiiotool.
    Bench {
        /// Working folder for the benchmark's files.
        #[arg(long, default_value = "platefarm-bench")]
        dir: PathBuf,
        #[arg(long, default_value_t = 8)]
        frames: usize,
        /// oiiotool to compare with (e.g. from the `openimageio` wheel).
        #[arg(long)]
        oiiotool: Option<PathBuf>,
    },
    /// Benchmark the farm against RabbitMQ and a catalog: dispatch capacity (no-op chunks/s),
    /// farm efficiency (worker processes vs. the embedded farm) and API latency, ≥ 3 runs each.
    BenchFarm(BenchFarmArgs),
    /// Scale workers to the backlog and the deadlines (spawns `platefarm worker` processes, or
    /// serves the decision for KEDA).
    Autoscaler(platefarm::autoscaler::AutoscalerArgs),
    /// Inspect camera originals (a folder, a store URL or a prefix in --store): verify their
    /// ASC MHL history, record every clip's metadata in the catalog, store thumbnails.
    Ingest(platefarm::ingest::IngestArgs),
    /// Ingested clips.
    Clips {
        #[command(subcommand)]
        command: ClipsCommand,
    },
    /// Simulate a day of the farm under our scaling policy, fixed fleets and KEDA's
    /// queue-length rule; prints a table and writes an SVG plot.
    Simulate(platefarm::simulate::SimulateArgs),
    /// Convert images or sequences between formats and colour spaces (like an oiiotool script).
    Convert(platefarm::convert::ConvertArgs),
    /// ASC Framing Decision List tools.
    Fdl(platefarm::commands::fdl::FdlArgs),
    /// ACES Metadata File tools.
    Amf(platefarm::commands::amf::AmfArgs),
    /// ASC Media Hash List tools.
    Mhl(platefarm::commands::mhl::MhlArgs),
    /// Run the dispatcher, its HTTP API and the web page (RabbitMQ, an object store, a
    /// catalog); with --embedded, the whole farm in this process (no services).
    Serve {
        /// API address.
        #[arg(long, env = "PLATEFARM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The in-process queue, a local folder store (--store, default ./platefarm-farm),
        /// SQLite (default <store>/.platefarm/catalog.db) and --workers worker tasks.
        #[arg(long)]
        embedded: bool,
        /// Worker tasks of --embedded, one render thread each (default: the cores).
        #[arg(long, requires = "embedded")]
        workers: Option<usize>,
        #[command(flatten)]
        broker: platefarm::farm::BrokerArgs,
        /// Object store: file:///dir, a plain folder, or s3://bucket[/prefix] (with
        /// AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
        /// PLATEFARM_S3_FORCE_PATH_STYLE).
        #[arg(
            long = "store",
            env = "PLATEFARM_STORE",
            required_unless_present = "embedded"
        )]
        store: Option<String>,
        /// Catalog: sqlite:PATH or postgres://user@host/db.
        #[arg(
            long = "catalog",
            env = "PLATEFARM_CATALOG_URL",
            required_unless_present = "embedded"
        )]
        catalog: Option<String>,
        /// Bearer token the API requires (required to listen on a non-loopback address).
        #[arg(long, env = "PLATEFARM_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Frames per chunk.
        #[arg(long, env = "PLATEFARM_CHUNK_SIZE", default_value_t = 8)]
        chunk_size: u32,
        /// Chunks kept in the broker (default: twice the workers plus two, at least 8).
        #[arg(long, env = "PLATEFARM_WINDOW")]
        window: Option<u64>,
    },
    /// Run a worker: pull chunks from RabbitMQ, render, write to the store, report.
    Worker {
        /// Address of the worker's /metrics and /health (port 0: any free port).
        #[arg(long, env = "PLATEFARM_LISTEN", default_value = "127.0.0.1:0")]
        listen: String,
        #[command(flatten)]
        broker: platefarm::farm::BrokerArgs,
        #[command(flatten)]
        store: platefarm::farm::StoreArgs,
        /// Chunks held at once.
        #[arg(long, env = "PLATEFARM_SLOTS", default_value_t = 1)]
        slots: usize,
        /// Render threads (default: the cores available).
        #[arg(long, env = "PLATEFARM_RENDER_THREADS")]
        threads: Option<usize>,
        /// Name in the catalog and logs (default: worker-<host>-<pid>).
        #[arg(long, env = "PLATEFARM_WORKER_ID")]
        worker_id: Option<String>,
    },
    /// Submit a turnover JSON to the farm's API; prints the turnover id.
    Submit {
        file: PathBuf,
        #[command(flatten)]
        api: platefarm::farm::ApiArgs,
    },
    /// Show a turnover: state, per-shot progress, failures with reasons.
    Status {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: platefarm::farm::ApiArgs,
    },
    /// Follow a turnover until it is final; exit 0 if it completed, 1 otherwise.
    Watch {
        id: String,
        #[command(flatten)]
        api: platefarm::farm::ApiArgs,
    },
    /// Cancel a turnover's chunks that are not final yet.
    Cancel {
        id: String,
        #[command(flatten)]
        api: platefarm::farm::ApiArgs,
    },
    /// Plan a turnover's failed chunks again.
    RetryFailed {
        id: String,
        #[command(flatten)]
        api: platefarm::farm::ApiArgs,
    },
    /// Validate a turnover JSON (syntax and, with --root, its files) without rendering.
    Validate {
        turnover: PathBuf,
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

/// Frames allocate and free buffers of hundreds of MB; by default glibc returns each to the
/// kernel (mmap) and the next frame page-faults it back in — measured as ~10 s of system time
/// per benchmark run. Keeping freed memory in the heap lets frames reuse it. That threshold
/// only governs glibc's main arena: the per-thread arenas (up to 8 per core) have 64 MiB heaps,
/// so the render threads' frame buffers were still mapped and unmapped per frame. One arena
/// makes every thread reuse the freed buffers: `platefarm bench`'s many-frames rate 3.5–3.7 →
/// 5.3–5.7 frames/s and peak memory 639–651 → 498–506 MiB per frame (docs/bench.md). A
/// `MALLOC_ARENA_MAX` in the environment still wins.
fn keep_freed_frame_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes glibc's allocator; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 30);
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

fn main() -> std::process::ExitCode {
    keep_freed_frame_buffers();
    let cli = Cli::parse();
    platefarm_telemetry::init_tracing(cli.log_format == LogFormat::Json);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("platefarm: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // A user error is a message, never a backtrace (whatever RUST_BACKTRACE says).
    match rt.block_on(run(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("platefarm: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn bind(listen: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Demo { dir, frames, farm } => {
            let started = std::time::Instant::now();
            let turnover_path = write_sample(&dir, frames)?;
            eprintln!(
                "sample written to {} in {:.1} s",
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            let body = std::fs::read(&turnover_path)?;
            let report = run_turnover(farm.options(dir.clone()), &body, false).await?;
            let plates = dir.join("plates");
            print_summary(&report, &plates);
            let firsts: Vec<(String, String)> = sample_clips(frames)
                .iter()
                .map(|c| (c.shot.to_string(), c.frame_key(c.first_frame)))
                .collect();
            let sheet = contact_sheet(&dir, &firsts).await?;
            println!("  contact sheet: {}", sheet.display());
            anyhow::ensure!(
                report.summary.chunks.failed == 0,
                "{} chunks failed",
                report.summary.chunks.failed
            );
        }
        Command::Ingest(args) => platefarm::ingest::run_ingest(&args).await?,
        Command::Clips {
            command: ClipsCommand::Search(args),
        } => platefarm::ingest::run_search(&args).await?,
        Command::Autoscaler(args) => {
            platefarm::autoscaler::run(args, platefarm::farm::shutdown_signal()).await?;
        }
        Command::Simulate(args) => {
            let outcomes = platefarm::simulate::run(&args)?;
            print!("{}", platefarm::simulate::table(&outcomes, args.price));
            println!("plot: {}", args.svg.display());
        }
        Command::Sample { dir, frames } => {
            let path = platefarm::sample::write_sample_to(&dir, frames).await?;
            println!("sample turnover: {path}");
        }
        Command::Serve {
            listen,
            embedded,
            workers,
            broker,
            store,
            catalog,
            token,
            chunk_size,
            window,
        } => {
            let listener = bind(&listen).await?;
            if embedded {
                let store = store.unwrap_or_else(|| "platefarm-farm".into());
                let root = match platefarm_store::StoreUrl::parse(&store)? {
                    platefarm_store::StoreUrl::Local(dir) => dir,
                    platefarm_store::StoreUrl::S3 { .. } => anyhow::bail!(
                        "serve --embedded keeps its store in a local folder; {store:?} is S3 (run `platefarm serve` with a broker for that)"
                    ),
                };
                let cores = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2);
                platefarm::embedded::serve_embedded(
                    platefarm::embedded::EmbeddedServe {
                        root,
                        catalog,
                        workers: workers.unwrap_or(cores),
                        token,
                        chunk_size,
                        delivery_limit: broker.delivery_limit,
                    },
                    listener,
                    platefarm::farm::shutdown_signal(),
                )
                .await?;
                return Ok(0);
            }
            let (Some(store), Some(catalog)) = (store, catalog) else {
                anyhow::bail!("serve needs --store and --catalog (or --embedded)");
            };
            let registry = prometheus::Registry::new();
            let (store, local_root) = platefarm::farm::open_store(&store, &registry).await?;
            let queue = platefarm::farm::open_queue(&broker, &registry).await?;
            let catalog = platefarm::farm::open_catalog(&catalog).await?;
            let hook = std::sync::Arc::new(platefarm_dispatcher::delivery::StoreDelivery::new(
                store.clone(),
                local_root,
            ));
            let config = platefarm_dispatcher::ServeConfig {
                dispatcher: platefarm_dispatcher::DispatcherConfig {
                    queues: broker.queues(),
                    chunk_size,
                    window,
                    ..Default::default()
                },
                token,
            };
            platefarm_dispatcher::serve(
                config,
                platefarm_dispatcher::Adapters {
                    store,
                    queue,
                    catalog,
                    hook: Some(hook),
                },
                registry,
                listener,
                platefarm::farm::shutdown_signal(),
            )
            .await?;
        }
        Command::Worker {
            listen,
            broker,
            store,
            slots,
            threads,
            worker_id,
        } => {
            let registry = prometheus::Registry::new();
            let listener = bind(&listen).await?;
            let (store, _) = platefarm::farm::open_store(&store.store, &registry).await?;
            let queue = platefarm::farm::open_queue(&broker, &registry).await?;
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            let config = platefarm_worker::WorkerConfig {
                worker_id: worker_id.unwrap_or_else(|| {
                    format!(
                        "worker-{}-{}",
                        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()),
                        std::process::id()
                    )
                }),
                queues: broker.queues(),
                slots,
                ..Default::default()
            };
            platefarm_worker::service::serve(
                config,
                threads.unwrap_or(cores),
                queue,
                store,
                registry,
                listener,
                platefarm::farm::shutdown_signal(),
            )
            .await?;
        }
        Command::Submit { file, api } => {
            let client = platefarm::client::ApiClient::new(&api.api, api.token)?;
            println!("{}", platefarm::remote::submit(&client, &file).await?);
        }
        Command::Status { id, json, api } => {
            let client = platefarm::client::ApiClient::new(&api.api, api.token)?;
            platefarm::remote::status(&client, &id, json).await?;
        }
        Command::Watch { id, api } => {
            let client = platefarm::client::ApiClient::new(&api.api, api.token)?;
            if !platefarm::remote::watch(&client, &id).await? {
                return Ok(1);
            }
        }
        Command::Cancel { id, api } => {
            let client = platefarm::client::ApiClient::new(&api.api, api.token)?;
            platefarm::remote::cancel(&client, &id).await?;
        }
        Command::RetryFailed { id, api } => {
            let client = platefarm::client::ApiClient::new(&api.api, api.token)?;
            platefarm::remote::retry_failed(&client, &id).await?;
        }
        Command::Render {
            turnover,
            root,
            farm,
        } => {
            let body = std::fs::read(&turnover)
                .with_context(|| format!("reading {}", turnover.display()))?;
            let report = run_turnover(farm.options(root.clone()), &body, false).await?;
            print_summary(&report, &root);
            anyhow::ensure!(
                report.summary.chunks.failed == 0,
                "{} chunks failed",
                report.summary.chunks.failed
            );
        }
        Command::Bench {
            dir,
            frames,
            oiiotool,
        } => {
            let report = platefarm::bench::run(&dir, frames.max(1), oiiotool.as_deref())?;
            platefarm::bench::print(&report);
        }
        Command::BenchFarm(a) => {
            let opts = platefarm::farm_bench::BenchFarmOptions {
                dir: a.dir,
                amqp_url: a.amqp_url,
                catalog_url: a.catalog,
                runs: a.runs,
                sections: a.only,
                dispatch_chunks: a.dispatch_chunks,
                consumers: a.consumers,
                consumer_slots: a.consumer_slots,
                worker_slots: a.worker_slots,
                window: a.window,
                farm_frames: a.farm_frames,
                farm_store: a.farm_store,
                workers: a.workers,
                chunk_size: a.chunk_size,
                api_shots: a.api_shots,
                api_submits: a.api_submits,
                api_clients: a.api_clients,
                api_gets: a.api_gets,
            };
            let report = platefarm::farm_bench::run(&opts).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                platefarm::farm_bench::print(&report);
            }
        }
        Command::Fdl(args) => {
            let bad = platefarm::commands::fdl::run(args)?;
            if bad > 0 {
                return Ok(1);
            }
        }
        Command::Amf(args) => platefarm::commands::amf::run(args)?,
        Command::Convert(args) => {
            let started = std::time::Instant::now();
            let n = platefarm::convert::run(&args)?;
            println!(
                "converted {n} frame(s) in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Mhl(args) => {
            if !platefarm::commands::mhl::run(args)? {
                return Ok(1);
            }
        }
        Command::Validate { turnover, root } => {
            let body = std::fs::read(&turnover)
                .with_context(|| format!("reading {}", turnover.display()))?;
            let result = match root {
                None => platefarm_core::parse_turnover(&body, "TO-unsubmitted").map(|_| ()),
                Some(root) => platefarm::embedded::check_turnover(&root, &body).await?,
            };
            match result {
                Ok(()) => println!("{}: ok", turnover.display()),
                Err(errors) => {
                    eprintln!("{}: {errors}", turnover.display());
                    return Ok(1);
                }
            }
        }
    }
    Ok(0)
}
