//! `platefarm bench`: the plate pipeline a user would otherwise script with oiiotool, timed per
//! stage and as whole frames per second, side by side with oiiotool on the same machine:
//! 10-bit DPX, ARRI LogC3 (EI800) 4448×3096 → ACES2065-1 → crop 4096×2160+176+468 → resize
//! 3840×2025 → EXR half PIZ.

use anyhow::Context;
use platefarm_color::{ColorSpace, IntegerDecoder};
use platefarm_imaging::dpx::{decode_dpx, encode_dpx_10bit, DpxImage, DpxMetadata};
use platefarm_imaging::{
    encode_exr, reframe, DecodeLimits, ExrOptions, Filter, FrameHeader, Framing, RgbImage,
};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const SRC: (u32, u32) = (4448, 3096);
pub const CUT: (u32, u32, u32, u32) = (176, 468, 4096, 2160);
pub const OUT: (u32, u32) = (3840, 2025);

/// A smooth LogC3 test frame: gradients and soft patches, so resampling filters agree.
pub fn synthetic_logc3_dpx() -> Vec<u8> {
    let (w, h) = SRC;
    let mut rgb = vec![0u16; (w * h * 3) as usize];
    rgb.par_chunks_mut((w * 3) as usize)
        .enumerate()
        .for_each(|(y, row)| {
            let fy = y as f64 / h as f64;
            for x in 0..w as usize {
                let fx = x as f64 / w as f64;
                let wave = 0.5 + 0.5 * (fx * 9.0 + fy * 5.0).sin() * (fy * 7.0).cos();
                let r = 0.15 + 0.55 * fx;
                let g = 0.2 + 0.5 * fy;
                let b = 0.25 + 0.45 * wave;
                for (c, v) in [r, g, b].into_iter().enumerate() {
                    row[x * 3 + c] = (v * 1023.0).round() as u16;
                }
            }
        });
    encode_dpx_10bit(
        w,
        h,
        &rgb,
        &DpxMetadata {
            creator: "platefarm bench".into(),
            transfer: 1,
            ..DpxMetadata::default()
        },
    )
}

#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimes {
    pub decode: Duration,
    pub colour: Duration,
    pub reframe: Duration,
    pub encode: Duration,
}

impl StageTimes {
    pub fn total(&self) -> Duration {
        self.decode + self.colour + self.reframe + self.encode
    }
}

fn colour(img: &DpxImage, dec: &IntegerDecoder) -> RgbImage {
    // Only the rows the crop needs are converted.
    let (cx, cy, cw, ch) = CUT;
    let w = img.width as usize;
    let mut out = vec![0f32; (cw * ch * 3) as usize];
    out.par_chunks_mut((cw * 3) as usize)
        .enumerate()
        .for_each(|(r, orow)| {
            let y = cy as usize + r;
            let codes = &img.data[(y * w + cx as usize) * 3..][..(cw * 3) as usize];
            dec.decode_row(codes, orow);
        });
    RgbImage {
        width: cw,
        height: ch,
        data: out,
    }
}

/// One frame through our pipeline; returns the EXR bytes and the time of each stage.
pub fn run_frame(dpx: &[u8], dec: &IntegerDecoder) -> anyhow::Result<(Vec<u8>, StageTimes)> {
    let mut t = StageTimes::default();
    let start = Instant::now();
    let img = decode_dpx(dpx, &DecodeLimits::default())?;
    t.decode = start.elapsed();
    let start = Instant::now();
    let cropped = colour(&img, dec);
    t.colour = start.elapsed();
    let start = Instant::now();
    let (cw, ch) = (cropped.width, cropped.height);
    let framing = Framing {
        source: (0.0, 0.0, cw as f64, ch as f64),
        scale: (OUT.0 as f64 / cw as f64, OUT.1 as f64 / ch as f64),
        canvas: OUT,
        translation: (0.0, 0.0),
        filter: Filter::Lanczos3,
    };
    let resized = RgbImage {
        width: OUT.0,
        height: OUT.1,
        data: reframe(&cropped.data, cw, ch, 3, &framing)?,
    };
    t.reframe = start.elapsed();
    let start = Instant::now();
    let exr = encode_exr(&resized, &ExrOptions::default(), &FrameHeader::default())?;
    t.encode = start.elapsed();
    Ok((exr, t))
}

pub struct BenchReport {
    /// 4.6K CinemaDNG (lossless JPEG, 12-bit) → ACES EXR half PIZ: one frame, and frames/s.
    pub dng_frame: Duration,
    pub dng_fps: f64,
    pub stages: StageTimes,
    /// One frame through the worker's streamed path (all cores, warm, best of 3).
    pub streamed_frame: Duration,
    pub frames: usize,
    pub ours_fps: f64,
    pub oiiotool_fps: Option<f64>,
    /// How many oiiotool processes ran at once (the number of cores).
    pub oiiotool_parallel: usize,
    pub max_rel_diff: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    /// Frames the throughput phase had in flight at once (the pool's threads).
    pub frames_in_flight: usize,
    /// LibRaw's linear demosaic alone (rawpy, in-process, warm) on the same 4.6K DNG.
    pub rawpy_linear: Option<Duration>,
    /// One frame, one process: `platefarm convert` against `oiiotool`, side by side.
    pub convert: Vec<ConvertRun>,
}

/// Side-by-side single-frame runs of `platefarm convert` and `oiiotool` on the full DPX plate
/// (LogC3 → ACES2065-1 → resize 3840×2673 → EXR half), alternating so load hits both alike.
#[derive(Debug, Clone)]
pub struct ConvertRun {
    pub compression: &'static str,
    pub ours: Vec<Duration>,
    pub theirs: Vec<Duration>,
    /// Peak resident memory of our `convert` process (MiB), when it ran as a process.
    pub ours_rss_mb: Option<f64>,
    /// Peak resident memory of oiiotool's process (MiB).
    pub theirs_rss_mb: f64,
}

impl ConvertRun {
    /// Ratio of each pair (oiiotool time / ours): min and max over the runs.
    pub fn ratio_spread(&self) -> (f64, f64) {
        self.ours
            .iter()
            .zip(&self.theirs)
            .map(|(o, t)| t.as_secs_f64() / o.as_secs_f64())
            .fold((f64::INFINITY, 0f64), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }
}

/// Single-frame resize target: the full 4448×3096 plate scaled to 3840 wide.
pub const CONVERT_OUT: (u32, u32) = (3840, 2673);
const CONVERT_RUNS: usize = 3;

/// Times `platefarm convert` (this binary as a child process when it is `platefarm`, else the
/// same code in-process) against `oiiotool`, each pair back to back.
fn convert_runs(dir: &Path, input: &Path, tool: &Path) -> anyhow::Result<Vec<ConvertRun>> {
    let exe = std::env::current_exe().ok().filter(|p| {
        p.file_stem()
            .is_some_and(|s| s.to_string_lossy() == "platefarm")
    });
    let resize = format!("{}x{}", CONVERT_OUT.0, CONVERT_OUT.1);
    let mut runs = Vec::new();
    for compression in ["piz", "zip"] {
        let ours_out = dir.join(format!("convert_ours_{compression}.exr"));
        let theirs_out = dir.join(format!("convert_oiiotool_{compression}.exr"));
        let mut run = ConvertRun {
            compression,
            ours: Vec::new(),
            theirs: Vec::new(),
            ours_rss_mb: None,
            theirs_rss_mb: 0.0,
        };
        for _ in 0..CONVERT_RUNS {
            let start = Instant::now();
            match &exe {
                Some(exe) => {
                    let rss = run_measured(
                        Command::new(exe)
                            .arg("convert")
                            .arg(input)
                            .arg(&ours_out)
                            .args(["--from", "ARRI LogC3 (EI800)", "--resize", &resize])
                            .args(["--compression", compression]),
                    )?;
                    run.ours_rss_mb = Some(run.ours_rss_mb.unwrap_or(0f64).max(rss));
                }
                None => {
                    let args = crate::convert::ConvertArgs::for_plate(
                        input,
                        &ours_out,
                        "ARRI LogC3 (EI800)",
                        &resize,
                        compression,
                    );
                    crate::convert::run(&args)?;
                }
            }
            run.ours.push(start.elapsed());
            let start = Instant::now();
            let rss = run_measured(
                Command::new(tool)
                    .args([
                        "--colorconfig",
                        "ocio://studio-config-v2.2.0_aces-v1.3_ocio-v2.4",
                    ])
                    .arg(input)
                    .args(["--colorconvert", "ARRI LogC3 (EI800)", "ACES2065-1"])
                    .args([
                        "--resize",
                        &resize,
                        "-d",
                        "half",
                        "--compression",
                        compression,
                    ])
                    .arg("-o")
                    .arg(&theirs_out),
            )?;
            run.theirs_rss_mb = run.theirs_rss_mb.max(rss);
            run.theirs.push(start.elapsed());
        }
        runs.push(run);
    }
    Ok(runs)
}

/// Runs a command to completion; returns its peak resident memory in MiB (`wait4`'s rusage
/// of that one child), or an error if it failed.
fn run_measured(cmd: &mut Command) -> anyhow::Result<f64> {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("running {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 reaps our own child and writes into the two locals; `child` is never
    // waited for again.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    anyhow::ensure!(rc == pid, "waiting for {cmd:?} failed");
    anyhow::ensure!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed (wait status {status})"
    );
    Ok(usage.ru_maxrss as f64 / 1024.0)
}

const RAWPY_LINEAR: &str = r#"
import sys, time, rawpy
best = []
for _ in range(3):
    with rawpy.imread(sys.argv[1]) as raw:
        t = time.perf_counter()
        raw.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.LINEAR, output_bps=16,
                        no_auto_bright=True, gamma=(1, 1), output_color=rawpy.ColorSpace.raw)
        best.append(time.perf_counter() - t)
print(min(best))
"#;

/// LibRaw's linear demosaic alone (no file IO, no encode) on the DNG, through the venv's rawpy.
fn rawpy_linear(dir: &Path, dng: &[u8], tool: &Path) -> anyhow::Result<Duration> {
    let path = dir.join("bench_4k6.dng");
    std::fs::write(&path, dng)?;
    let python = tool.with_file_name("python");
    let out = Command::new(python)
        .arg("-c")
        .arg(RAWPY_LINEAR)
        .arg(&path)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "rawpy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok(Duration::from_secs_f64(secs))
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn oiiotool_args(input: &Path, output: &Path) -> Vec<String> {
    let (cx, cy, cw, ch) = CUT;
    vec![
        "--colorconfig".into(),
        "ocio://studio-config-v2.2.0_aces-v1.3_ocio-v2.4".into(),
        input.display().to_string(),
        "--colorconvert".into(),
        "ARRI LogC3 (EI800)".into(),
        "ACES2065-1".into(),
        "--cut".into(),
        format!("{cw}x{ch}+{cx}+{cy}"),
        "--resize".into(),
        format!("{}x{}", OUT.0, OUT.1),
        "-d".into(),
        "half".into(),
        "--compression".into(),
        "piz".into(),
        "-o".into(),
        output.display().to_string(),
    ]
}

/// Runs the benchmark in `dir`: `frames` frames through our pipeline (frames in parallel over
/// the pool, as a worker does), and the same through `oiiotool` if given.
pub fn run(dir: &Path, frames: usize, oiiotool: Option<&Path>) -> anyhow::Result<BenchReport> {
    std::fs::create_dir_all(dir)?;
    let input = dir.join("bench_logc3_4448x3096.dpx");
    let dpx = synthetic_logc3_dpx();
    std::fs::write(&input, &dpx).with_context(|| format!("writing {}", input.display()))?;
    let dec = IntegerDecoder::new(
        ColorSpace::from_name("ARRI LogC3 (EI800)")?,
        ColorSpace::from_name("ACES2065-1")?,
        10,
    );
    // One frame, one process, side by side, before this process holds any frame buffers.
    let convert = match oiiotool {
        Some(tool) => convert_runs(dir, &input, tool)?,
        None => Vec::new(),
    };

    // Throughput: frames in parallel through the worker's own path (`render_plate`: the DPX
    // streams in bands through colour, framing and encode), reading the file each time as a
    // worker would.
    let (cx, cy, cw, ch) = CUT;
    let spec = platefarm_imaging::PlateSpec {
        input: Some(platefarm_imaging::InputTransform::new(
            ColorSpace::from_name("ARRI LogC3 (EI800)")?,
        )),
        framing: Some(Framing {
            source: (cx as f64, cy as f64, cw as f64, ch as f64),
            scale: (OUT.0 as f64 / cw as f64, OUT.1 as f64 / ch as f64),
            canvas: OUT,
            translation: (0.0, 0.0),
            filter: Filter::Lanczos3,
        }),
        ..Default::default()
    };
    let streamed_frame = (0..3)
        .map(|_| -> anyhow::Result<Duration> {
            let start = Instant::now();
            platefarm_imaging::render_plate(&dpx, 0, &spec)?;
            Ok(start.elapsed())
        })
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .min()
        .unwrap_or_default();
    // The peak is the streamed phase's own: nothing before it held a frame in this process.
    let start = Instant::now();
    let first: Vec<Vec<u8>> = (0..frames)
        .into_par_iter()
        .map(|k| -> anyhow::Result<Vec<u8>> {
            let bytes = std::fs::read(&input)?;
            let exr = platefarm_imaging::render_plate(&bytes, 0, &spec)?.exr;
            // A worker uploads a plate and lets it go; keep one to compare.
            Ok(if k == 0 { exr } else { Vec::new() })
        })
        .collect::<anyhow::Result<_>>()?;
    let ours_fps = frames as f64 / start.elapsed().as_secs_f64();
    let peak_rss_mb = peak_rss_mb();
    let ours_path = dir.join("ours.exr");
    std::fs::write(&ours_path, &first[0])?;

    // Stage times: one frame at a time, warm, each stage over the whole frame (the worker's
    // path above fuses them).
    run_frame(&dpx, &dec)?;
    let mut stages = StageTimes::default();
    let reps = 3;
    for _ in 0..reps {
        let (_, t) = run_frame(&dpx, &dec)?;
        stages.decode += t.decode / reps;
        stages.colour += t.colour / reps;
        stages.reframe += t.reframe / reps;
        stages.encode += t.encode / reps;
    }
    let staged = run_frame(&dpx, &dec)?.0;
    let streamed = platefarm_imaging::render_plate(&dpx, 0, &spec)?.exr;
    anyhow::ensure!(
        staged == streamed,
        "the streamed plate differs from the staged one"
    );

    let (mut oiiotool_fps, mut max_rel_diff) = (None, None);
    let oiiotool_parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(tool) = oiiotool {
        let theirs = dir.join("oiiotool.exr");
        let run_once = |out: &PathBuf| -> anyhow::Result<()> {
            let status = Command::new(tool)
                .args(oiiotool_args(&input, out))
                .status()
                .with_context(|| format!("running {}", tool.display()))?;
            anyhow::ensure!(status.success(), "oiiotool failed with {status}");
            Ok(())
        };
        run_once(&theirs)?; // warm-up (config load, caches)
                            // As a user's script on this machine would: one process per frame, as many at once as
                            // there are cores.
        let start = Instant::now();
        let mut done = 0;
        while done < frames {
            let batch = oiiotool_parallel.min(frames - done);
            let children = (0..batch)
                .map(|k| {
                    Command::new(tool)
                        .args(oiiotool_args(
                            &input,
                            &dir.join(format!("oiiotool_{k}.exr")),
                        ))
                        .spawn()
                        .with_context(|| format!("running {}", tool.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            for mut child in children {
                let status = child.wait()?;
                anyhow::ensure!(status.success(), "oiiotool failed with {status}");
            }
            done += batch;
        }
        oiiotool_fps = Some(frames as f64 / start.elapsed().as_secs_f64());
        let a =
            platefarm_imaging::decode_exr(&std::fs::read(&ours_path)?, &DecodeLimits::default())?;
        let b = platefarm_imaging::decode_exr(&std::fs::read(&theirs)?, &DecodeLimits::default())?;
        anyhow::ensure!(
            (a.width, a.height) == (b.width, b.height),
            "sizes differ: ours {}×{}, oiiotool {}×{}",
            a.width,
            a.height,
            b.width,
            b.height
        );
        // Compare away from the borders, where the two resamplers treat edges differently,
        // relative to each pixel's largest channel: a small channel that is the difference of
        // large ones (after the gamut matrix) would otherwise magnify half-float rounding.
        let (w, h) = (a.width as usize, a.height as usize);
        let mut worst = 0f64;
        for y in 8..h - 8 {
            for x in 8..w - 8 {
                let i = (y * w + x) * 3;
                let scale = (0..3)
                    .map(|c| (b.data[i + c] as f64).abs())
                    .fold(1e-2, f64::max);
                for c in 0..3 {
                    worst = worst.max((a.data[i + c] as f64 - b.data[i + c] as f64).abs() / scale);
                }
            }
        }
        max_rel_diff = Some(worst);
    }
    // Camera raw: a 4.6K (4608×2592) lossless-JPEG 12-bit CinemaDNG to an ACES EXR plate.
    let spec = platefarm_imaging::synth::SampleSpec {
        width: 4608,
        height: 2592,
        n_frames: 1,
        bit_depth: 12,
        compression: platefarm_imaging::synth::SampleCompression::LosslessJpeg,
        ..Default::default()
    };
    let dng = platefarm_imaging::synth::sample_frame_dng(&spec, 0);
    let render =
        || platefarm_imaging::render_dng_to_exr(&dng, &platefarm_imaging::RenderSpec::default());
    render()?;
    let start = Instant::now();
    render()?;
    let dng_frame = start.elapsed();
    let start = Instant::now();
    (0..frames)
        .into_par_iter()
        .try_for_each(|_| render().map(|_| ()))?;
    let dng_fps = frames as f64 / start.elapsed().as_secs_f64();
    Ok(BenchReport {
        dng_frame,
        dng_fps,
        rawpy_linear: oiiotool.and_then(|t| rawpy_linear(dir, &dng, t).ok()),
        stages,
        streamed_frame,
        frames,
        ours_fps,
        oiiotool_fps,
        oiiotool_parallel,
        max_rel_diff,
        peak_rss_mb,
        frames_in_flight: rayon::current_num_threads().min(frames),
        convert,
    })
}

pub fn print(report: &BenchReport) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let s = &report.stages;
    println!("stage times per frame (all cores on one frame, each stage over the whole frame):");
    println!("  decode DPX   {:8.1} ms", ms(s.decode));
    println!(
        "  colour       {:8.1} ms   (ARRI LogC3 (EI800) → ACES2065-1, crop rows only)",
        ms(s.colour)
    );
    println!(
        "  reframe      {:8.1} ms   (Lanczos3 4096×2160 → 3840×2025)",
        ms(s.reframe)
    );
    println!("  encode EXR   {:8.1} ms   (half, PIZ)", ms(s.encode));
    println!("  total        {:8.1} ms", ms(s.total()));
    println!(
        "  streamed     {:8.1} ms   (the worker's path: the stages fused, band by band)",
        ms(report.streamed_frame)
    );
    if let (Some(mb), n) = (report.peak_rss_mb, report.frames_in_flight.max(1)) {
        println!(
            "peak resident memory: {mb:.0} MiB for {n} frame(s) in flight ({:.0} MiB per frame)",
            mb / n as f64
        );
    }
    println!();
    println!("side by side with the peers (ratio > 1: platefarm is faster):");
    for run in &report.convert {
        let (lo, hi) = run.ratio_spread();
        let secs = |v: &[Duration]| {
            v.iter()
                .map(|d| format!("{:.2}", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "  one frame, one process, EXR half {:3}: platefarm convert {} s | oiiotool {} s | {lo:.1}–{hi:.1}×{}",
            run.compression.to_uppercase(),
            secs(&run.ours),
            secs(&run.theirs),
            run.ours_rss_mb
                .map(|m| format!(" | peak RSS {m:.0} MiB vs {:.0} MiB", run.theirs_rss_mb))
                .unwrap_or_default()
        );
    }
    match report.oiiotool_fps {
        Some(theirs) => println!(
            "  many frames ({}):                   platefarm {:.2} frames/s | oiiotool ×{} processes {theirs:.2} frames/s | {:.1}×",
            report.frames,
            report.ours_fps,
            report.oiiotool_parallel,
            report.ours_fps / theirs
        ),
        None => println!(
            "  many frames ({}): platefarm {:.2} frames/s (no oiiotool given)",
            report.frames, report.ours_fps
        ),
    }
    let per_frame = Duration::from_secs_f64(1.0 / report.dng_fps.max(1e-9));
    match report.rawpy_linear {
        Some(raw) => println!(
            "  4.6K CinemaDNG → MHC → ACES → EXR PIZ: {:.0} ms one frame, {:.0} ms per frame in parallel | rawpy linear demosaic alone {:.0} ms | {:.1}× / {:.1}×",
            ms(report.dng_frame),
            ms(per_frame),
            ms(raw),
            raw.as_secs_f64() / report.dng_frame.as_secs_f64(),
            raw.as_secs_f64() / per_frame.as_secs_f64()
        ),
        None => println!(
            "  4.6K CinemaDNG → MHC → ACES → EXR PIZ: {:.0} ms one frame, {:.2} frames/s",
            ms(report.dng_frame),
            report.dng_fps
        ),
    }
    if let Some(diff) = report.max_rel_diff {
        println!("max difference to oiiotool's plate (interior, relative to the pixel's largest channel): {diff:.2e}");
    }
}
