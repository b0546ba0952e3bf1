//! The ingest benchmark the CLI runs (`platefarm bench-ingest`): `n` small CinemaDNG frames
//! of one clip ([`crate::synth::small_frames`]) ingested from memory on the current rayon
//! pool, in frames per second. [`bench_listing`] times any listing (files on disk, a store)
//! the same way, for a side-by-side run with `exiftool -json` on the same files.

use crate::{ingest, ByteSource, Entry, IngestError, IngestOptions, MemorySource};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchReport {
    pub frames: u64,
    pub clips: usize,
    pub bytes: u64,
    pub seconds: f64,
    pub frames_per_second: f64,
}

/// Ingests `n_frames` synthetic small frames from memory; generation is not timed.
pub fn bench_ingest(n_frames: u32) -> Result<BenchReport, IngestError> {
    let source = MemorySource::new(crate::synth::small_frames(n_frames));
    bench_listing(&source.entries(), &source)
}

/// Times one ingest of a listing (MHL verification included when the listing has one).
pub fn bench_listing(
    entries: &[Entry],
    source: &dyn ByteSource,
) -> Result<BenchReport, IngestError> {
    let t = Instant::now();
    let report = ingest(entries, source, &IngestOptions::default())?;
    let seconds = t.elapsed().as_secs_f64();
    let frames: u64 = report.clips.iter().map(|c| c.frames.count as u64).sum();
    Ok(BenchReport {
        frames,
        clips: report.clips.len(),
        bytes: entries.iter().map(|e| e.size).sum(),
        seconds,
        frames_per_second: frames as f64 / seconds.max(1e-9),
    })
}
