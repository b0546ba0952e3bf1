//! Inspecting clips: every frame's headers read (in parallel, on the caller's rayon pool),
//! the first good frame's fields normalised into a [`ClipRecord`], bad frames listed with
//! their reasons, gaps listed as missing, timecode checked frame by frame.

use crate::discover::{discover, ClipSource, Entry};
use crate::mhl::{verify_histories, MhlSummary};
use crate::probe::{probe, FrameInfo, ProbeError};
use crate::record::*;
use crate::timecode::Timecode;
use crate::{ByteSource, IngestError};
use rayon::prelude::*;

/// How an ingest runs (serde, missing fields take the defaults).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// Recorded in every clip (`location`): the folder or store prefix the listing is of.
    pub location: String,
    /// Bytes read first from each file; the whole file is read only when its headers run
    /// past them. 64 KiB holds the headers of every camera file we know.
    pub head_bytes: usize,
    /// Verify ASC MHL histories in the listing before inspecting (default true).
    pub verify_mhl: bool,
    /// At most this many timecode warnings per clip (the rest are counted).
    pub max_warnings: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            location: String::new(),
            head_bytes: 64 * 1024,
            verify_mhl: true,
            max_warnings: 20,
        }
    }
}

/// What an ingest found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IngestReport {
    pub clips: Vec<ClipRecord>,
    /// Keys that are not media (sidecars, unknown extensions).
    pub ignored: Vec<String>,
    /// The MHL verification, if the listing holds a history.
    pub mhl: Option<MhlSummary>,
}

impl IngestReport {
    /// Every bad frame of every clip: (clip key, frame).
    pub fn bad_frames(&self) -> impl Iterator<Item = (&str, &BadFrame)> {
        self.clips
            .iter()
            .flat_map(|c| c.frames.bad.iter().map(move |b| (c.key.as_str(), b)))
    }
}

/// Discovers the clips of a listing, verifies its MHL histories (a mismatch or a missing file
/// fails the ingest, naming the files), then inspects every clip in parallel on the current
/// rayon pool. A corrupt frame never fails the ingest: it is listed in its clip's
/// `frames.bad`.
pub fn ingest(
    entries: &[Entry],
    source: &dyn ByteSource,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let found = discover(entries);
    let mhl = if opts.verify_mhl && !found.histories.is_empty() {
        Some(verify_histories(entries, &found.histories, source)?)
    } else {
        None
    };
    let clips = found
        .clips
        .par_iter()
        .map(|c| inspect_clip(c, source, opts))
        .collect();
    Ok(IngestReport {
        clips,
        ignored: found.ignored,
        mhl,
    })
}

/// Reads one file's headers: the first `head_bytes`, then the whole file if needed.
pub fn probe_entry(
    format: Format,
    entry: &Entry,
    source: &dyn ByteSource,
    head_bytes: usize,
) -> Result<FrameInfo, String> {
    let head = source
        .read_prefix(&entry.key, head_bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    let size = entry.size.max(head.len() as u64);
    match probe(format, &head, size) {
        Ok(info) => Ok(info),
        Err(ProbeError::Bad(reason)) => Err(reason),
        Err(ProbeError::NeedMore) => {
            let all = source
                .read(&entry.key)
                .map_err(|e| format!("cannot read: {e}"))?;
            let size = all.len() as u64;
            match probe(format, &all, size) {
                Ok(info) => Ok(info),
                Err(ProbeError::Bad(r)) => Err(r),
                Err(ProbeError::NeedMore) => Err("headers run past the end of the file".into()),
            }
        }
    }
}

/// Inspects one clip (its frames in parallel). Never fails: unreadable frames are listed
/// in `frames.bad`.
pub fn inspect_clip(
    clip: &ClipSource,
    source: &dyn ByteSource,
    opts: &IngestOptions,
) -> ClipRecord {
    let probed: Vec<(u32, &Entry, Result<FrameInfo, String>)> = clip
        .frames
        .par_iter()
        .map(|(n, e)| (*n, e, probe_entry(clip.format, e, source, opts.head_bytes)))
        .collect();
    let first = clip.frames.first().map(|f| f.0).unwrap_or(0);
    let last = clip.frames.last().map(|f| f.0).unwrap_or(0);
    let mut missing = Vec::new();
    let mut expect = first;
    for (n, _) in &clip.frames {
        missing.extend(expect..*n);
        expect = n + 1;
    }
    let bad: Vec<BadFrame> = probed
        .iter()
        .filter_map(|(n, e, r)| {
            r.as_ref().err().map(|reason| BadFrame {
                frame: *n,
                key: e.key.clone(),
                reason: reason.clone(),
            })
        })
        .collect();
    let good: Vec<(u32, &FrameInfo)> = probed
        .iter()
        .filter_map(|(n, _, r)| r.as_ref().ok().map(|i| (*n, i)))
        .collect();
    let mut warnings = Vec::new();
    let reference = good.first().copied();
    let info = reference.map(|(_, i)| i.clone()).unwrap_or_default();
    if reference.is_none() {
        warnings.push("no frame of this clip could be read".to_string());
    }
    let span = (last - first) as u64 + 1;
    let mut timecode = ClipTimecode {
        rate: info.rate,
        drop_frame: info.timecode.is_some_and(|t| t.drop_frame),
        duration_s: info.rate.map(|r| r.seconds(span)),
        ..ClipTimecode::default()
    };
    if let (Some((ref_frame, _)), Some(tc)) = (reference, info.timecode) {
        match info.rate {
            None => {
                if ref_frame == first {
                    timecode.start = Some(tc);
                }
                warnings.push(
                    "the headers give a timecode but no frame rate: end timecode unknown".into(),
                );
            }
            Some(rate) => match tc.to_frames(rate) {
                Err(e) => warnings.push(format!("frame {ref_frame}: {e}")),
                Ok(at) => {
                    let day = rate.frames_per_day(tc.drop_frame);
                    let start_frames = (at + day - (ref_frame - first) as u64 % day) % day;
                    let start = Timecode::from_frames(start_frames, rate, tc.drop_frame).ok();
                    timecode.start = start;
                    timecode.end =
                        Timecode::from_frames(start_frames + span - 1, rate, tc.drop_frame).ok();
                    timecode.duration = Timecode::from_frames(span, rate, tc.drop_frame).ok();
                    // Every frame's label should follow from the start and its number.
                    let mut breaks = 0usize;
                    for (n, fi) in &good {
                        let Some(got) = fi.timecode else { continue };
                        let want = Timecode::from_frames(
                            start_frames + (n - first) as u64,
                            rate,
                            tc.drop_frame,
                        )
                        .ok();
                        if Some(got) != want {
                            breaks += 1;
                            if breaks <= opts.max_warnings {
                                warnings.push(format!(
                                    "frame {n}: timecode {got}, expected {} from the clip's start",
                                    want.map(|w| w.to_string()).unwrap_or_default()
                                ));
                            }
                        }
                    }
                    if breaks > opts.max_warnings {
                        warnings.push(format!(
                            "… {} more timecode breaks",
                            breaks - opts.max_warnings
                        ));
                    }
                }
            },
        }
    }
    let mut sizes = 0usize;
    for (n, fi) in &good {
        if (fi.image.width, fi.image.height) != (info.image.width, info.image.height) {
            sizes += 1;
            if sizes <= opts.max_warnings {
                warnings.push(format!(
                    "frame {n} is {}×{}, the clip is {}×{}",
                    fi.image.width, fi.image.height, info.image.width, info.image.height
                ));
            }
        }
    }
    ClipRecord {
        name: clip.name.clone(),
        location: opts.location.clone(),
        key: clip.key.clone(),
        format: clip.format,
        reel: info.reel,
        camera: info.camera,
        lens: info.lens,
        exposure: info.exposure,
        white_balance: info.white_balance,
        timecode,
        image: info.image,
        frames: Frames {
            first,
            last,
            count: clip.frames.len() as u32,
            missing,
            bad,
        },
        colour: info.colour,
        vendor: info.vendor,
        warnings,
    }
}
