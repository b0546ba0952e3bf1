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
    /// Write a synthetic camera turnover (CinemaDNG clips, AMF, FDL, turnover.json) into DIR.
    Sample {
        dir: PathBuf,
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
    /// Convert images or sequences between formats and colour spaces (like an oiiotool script).
    Convert(platefarm::convert::ConvertArgs),
    /// ASC Framing Decision List tools.
    Fdl(platefarm::commands::fdl::FdlArgs),
    /// ACES Metadata File tools.
    Amf(platefarm::commands::amf::AmfArgs),
    /// ASC Media Hash List tools.
    Mhl(platefarm::commands::mhl::MhlArgs),
    /// Validate a turnover JSON (syntax and, with --root, its files) without rendering.
    Validate {
        turnover: PathBuf,
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

/// Frames allocate and free buffers of hundreds of MB; by default glibc returns each to the
/// kernel (mmap) and the next frame page-faults it back in — measured as ~10 s of system time
/// per benchmark run. Keeping freed memory in the heap lets frames reuse it.
fn keep_freed_frame_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes glibc's allocator; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 30);
    }
}

fn main() -> anyhow::Result<()> {
    keep_freed_frame_buffers();
    platefarm_telemetry::init_tracing(false);
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
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
        Command::Sample { dir, frames } => {
            let path = write_sample(&dir, frames)?;
            println!("sample turnover: {}", path.display());
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
        Command::Fdl(args) => {
            let bad = platefarm::commands::fdl::run(args)?;
            if bad > 0 {
                std::process::exit(1);
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
                std::process::exit(1);
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
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}
