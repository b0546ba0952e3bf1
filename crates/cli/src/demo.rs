//! `platefarm demo` and `platefarm render`: run a turnover on the embedded farm with a progress
//! display and a summary; the demo first writes the sample and ends with a contact sheet.

use crate::embedded::{EmbeddedFarm, FarmOptions};
use anyhow::Context;
use platefarm_catalog::TurnoverSummary;
use platefarm_core::ChunkState;
use platefarm_dispatcher::Progress;
use platefarm_store::ObjectStore;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct RunReport {
    pub summary: TurnoverSummary,
    pub wall: Duration,
    pub frames: u64,
    pub failures: Vec<(String, String)>,
}

impl RunReport {
    pub fn frames_per_second(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Submits `turnover` to a fresh embedded farm rooted at `opts.root`, shows progress and waits.
pub async fn run_turnover(
    opts: FarmOptions,
    turnover: &[u8],
    quiet: bool,
) -> anyhow::Result<RunReport> {
    run_on(EmbeddedFarm::start(opts).await?, turnover, quiet).await
}

/// Submits `turnover` to `farm`, shows progress, waits, and shuts the farm down.
pub async fn run_on(farm: EmbeddedFarm, turnover: &[u8], quiet: bool) -> anyhow::Result<RunReport> {
    let mut progress = farm.dispatcher.subscribe();
    let started = Instant::now();
    let receipt = match farm.submit(turnover).await {
        Ok(r) => r,
        Err(e) => {
            farm.shutdown().await;
            return Err(e.into());
        }
    };
    if !quiet {
        eprintln!(
            "turnover {}: {} shots, {} frames in {} chunks",
            receipt.turnover_id, receipt.n_shots, receipt.n_frames, receipt.n_chunks
        );
    }
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(receipt.n_frames);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} frames  {per_sec}  eta {eta}  {msg}",
            )
            .expect("valid template"),
        );
        bar
    });
    let mut frames_seen = 0u64;
    let mut failures = Vec::new();
    let mut last_line = Instant::now();
    let mut wait = Box::pin(farm.dispatcher.wait(&receipt.turnover_id));
    let summary = loop {
        tokio::select! {
            s = &mut wait => break s?,
            p = progress.recv() => match p {
                Ok(Progress::Chunk { turnover_id, shot, chunk_id, state, n_frames, detail }) if turnover_id == receipt.turnover_id && state.is_terminal() => {
                    frames_seen += n_frames;
                    if state == ChunkState::Failed {
                        let reason = detail.unwrap_or_default();
                        if let Some(bar) = &bar { bar.println(format!("FAILED {chunk_id}: {reason}")); } else if !quiet { eprintln!("FAILED {chunk_id}: {reason}"); }
                        failures.push((chunk_id, reason));
                    }
                    if let Some(bar) = &bar {
                        bar.set_position(frames_seen);
                        bar.set_message(shot);
                    } else if !quiet && (last_line.elapsed() > Duration::from_secs(2) || frames_seen == receipt.n_frames) {
                        let fps = frames_seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
                        eprintln!("progress: {frames_seen}/{} frames, {fps:.1} frames/s", receipt.n_frames);
                        last_line = Instant::now();
                    }
                }
                Ok(Progress::ShotDelivered { turnover_id, shot, ok, detail }) if turnover_id == receipt.turnover_id && !quiet => {
                    let line = if ok { format!("shot {shot} delivered (AMF, ASC MHL)") } else { format!("shot {shot} NOT delivered: {}", detail.unwrap_or_default()) };
                    if let Some(bar) = &bar { bar.println(line) } else { eprintln!("{line}") }
                }
                _ => {}
            }
        }
    };
    let wall = started.elapsed();
    drop(wait);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    farm.shutdown().await;
    Ok(RunReport {
        frames: summary.frames_done,
        summary,
        wall,
        failures,
    })
}

/// Writes `<root>/plates/contact_sheet.png`: the first frame of each shot (`(shot, input key)`)
/// developed to ACES and shown through a simple view transform.
pub async fn contact_sheet(root: &Path, firsts: &[(String, String)]) -> anyhow::Result<PathBuf> {
    use platefarm_imaging as im;
    let store = platefarm_store::LocalStore::open(root)?;
    let mut tiles = Vec::new();
    for (shot, key) in firsts {
        let bytes = store
            .get(key, 1 << 31)
            .await
            .with_context(|| format!("reading {key} of {shot}"))?;
        let raw = im::decode_dng(&bytes, &im::DecodeLimits::default())
            .with_context(|| format!("decoding {key}"))?;
        let img = im::develop_to_aces(&raw, &im::DevelopOptions::default())
            .with_context(|| format!("developing {key}"))?;
        tiles.push(im::preview_rgb8(&img, 960));
    }
    let (w, h, rgb) = im::contact_sheet(&tiles, 2);
    let png = im::encode_png(w, h, &rgb)?;
    let path = root.join("plates/contact_sheet.png");
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

pub fn print_summary(report: &RunReport, plates_dir: &Path) {
    let s = &report.summary;
    println!("turnover {} {}", s.turnover_id, s.state);
    println!(
        "  frames rendered: {} of {}   chunks: {} done, {} failed",
        s.frames_done, s.frames_total, s.chunks.done, s.chunks.failed
    );
    println!(
        "  wall time: {:.2} s   throughput: {:.2} frames/s",
        report.wall.as_secs_f64(),
        report.frames_per_second()
    );
    println!("  plates: {}", plates_dir.display());
    for (chunk, reason) in &report.failures {
        println!("  failed {chunk}: {reason}");
    }
}
