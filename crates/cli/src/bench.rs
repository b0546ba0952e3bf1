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
    pub frames: usize,
    pub ours_fps: f64,
    pub oiiotool_fps: Option<f64>,
    pub max_rel_diff: Option<f64>,
    pub peak_rss_mb: Option<f64>,
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

    // Stage times: one frame at a time, warm.
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
    // Throughput: frames in parallel, reading the file each time as a worker would.
    let start = Instant::now();
    let outputs: Vec<Vec<u8>> = (0..frames)
        .into_par_iter()
        .map(|_| -> anyhow::Result<Vec<u8>> {
            let bytes = std::fs::read(&input)?;
            Ok(run_frame(&bytes, &dec)?.0)
        })
        .collect::<anyhow::Result<_>>()?;
    let ours_fps = frames as f64 / start.elapsed().as_secs_f64();
    let ours_path = dir.join("ours.exr");
    std::fs::write(&ours_path, &outputs[0])?;
    let peak_rss_mb = peak_rss_mb();

    let (mut oiiotool_fps, mut max_rel_diff) = (None, None);
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
        let start = Instant::now();
        for _ in 0..frames {
            run_once(&theirs)?;
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
        stages,
        frames,
        ours_fps,
        oiiotool_fps,
        max_rel_diff,
        peak_rss_mb: self::peak_rss_mb().or(peak_rss_mb),
    })
}

pub fn print(report: &BenchReport) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let s = &report.stages;
    println!("stage times per frame (all cores on one frame):");
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
        "throughput ({} frames, frames in parallel): {:.2} frames/s",
        report.frames, report.ours_fps
    );
    println!(
        "4.6K CinemaDNG (4608×2592, lossless JPEG 12-bit) → ACES EXR half PIZ: {:.0} ms per frame, {:.2} frames/s",
        ms(report.dng_frame),
        report.dng_fps
    );
    if let Some(mb) = report.peak_rss_mb {
        println!("peak resident memory: {mb:.0} MiB");
    }
    if let (Some(theirs), Some(diff)) = (report.oiiotool_fps, report.max_rel_diff) {
        println!(
            "oiiotool: {theirs:.2} frames/s → platefarm is {:.2}× oiiotool",
            report.ours_fps / theirs
        );
        println!("max difference to oiiotool's plate (interior, relative to the pixel's largest channel): {diff:.2e}");
    }
}
