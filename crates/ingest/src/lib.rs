//! Ingest of camera footage: discover clips in a listing (image sequences and single files),
//! verify an ASC MHL history if there is one, read every frame's headers (DNG/CinemaDNG, DPX,
//! OpenEXR, TIFF — no pixels), and normalise what they say into a [`ClipRecord`]
//! (docs/ingest.md). Also: SMPTE timecode with drop-frame ([`Timecode`], [`Rate`]), the
//! editorial question "which frame holds timecode T" ([`ClipRecord::frame_at`]), a per-clip
//! thumbnail through the ACES 2.0 SDR view, a synthetic footage folder and a benchmark.
//!
//! Invariants: no IO of its own — bytes come through the caller's [`ByteSource`]; clips and
//! frames are inspected with rayon iterators on the *caller's* pool; a corrupt or truncated
//! frame is reported in its clip (`frames.bad`, with the reason), never a failure of the
//! ingest; an MHL mismatch fails the ingest naming the files.

pub mod bench;
pub mod colour;
pub mod discover;
pub mod inspect;
pub mod job;
pub mod mhl;
pub mod probe;
pub mod record;
pub mod synth;
pub mod thumbnail;
pub mod timecode;

pub use bench::{bench_ingest, BenchReport};
pub use discover::{discover, frame_key, ClipSource, Discovery, Entry};
pub use inspect::{ingest, inspect_clip, IngestOptions, IngestReport};
pub use mhl::MhlSummary;
pub use probe::FrameInfo;
pub use record::*;
pub use thumbnail::{thumbnail_jpeg, thumbnail_key, ThumbnailOptions};
pub use timecode::{Rate, Timecode, TimecodeError};

use std::collections::BTreeMap;

/// What fails an ingest (a bad frame does not: it is listed in its clip).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error("ASC MHL verification failed: {} file(s) differ from the history{}{}", mismatched.len(), list(" — mismatched: ", mismatched), list(" — missing: ", missing))]
    MhlMismatch {
        mismatched: Vec<String>,
        missing: Vec<String>,
    },
    #[error("ASC MHL history {history}: {what}")]
    Mhl { history: String, what: String },
    #[error("cannot read {key}: {what}")]
    Read { key: String, what: String },
    #[error("{key}: {what}")]
    Decode { key: String, what: String },
    #[error("clip {clip}: {what}")]
    Clip { clip: String, what: String },
}

fn list(prefix: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("{prefix}{}", items.join(", "))
    }
}

/// Where bytes come from: a local folder, an object store, memory. Keys are the listing's.
/// Implementations must be callable from several threads at once.
pub trait ByteSource: Sync {
    /// The whole object.
    fn read(&self, key: &str) -> Result<Vec<u8>, String>;

    /// At least the first `len` bytes of the object (all of it if shorter). The default reads
    /// the whole object; sources that can read a range (a file, an S3 ranged GET) should.
    fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        let mut all = self.read(key)?;
        all.truncate(len);
        Ok(all)
    }
}

/// A closure `key → bytes` is a source.
impl<F> ByteSource for F
where
    F: Fn(&str) -> Result<Vec<u8>, String> + Sync,
{
    fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        self(key)
    }
}

/// Objects in memory, for tests, benchmarks and uploads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySource {
    pub objects: BTreeMap<String, Vec<u8>>,
}

impl MemorySource {
    pub fn new(objects: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        MemorySource {
            objects: objects.into_iter().collect(),
        }
    }

    /// The listing: every key with its size.
    pub fn entries(&self) -> Vec<Entry> {
        self.objects
            .iter()
            .map(|(k, v)| Entry::new(k.clone(), v.len() as u64))
            .collect()
    }
}

impl ByteSource for MemorySource {
    fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        self.objects
            .get(key)
            .cloned()
            .ok_or_else(|| format!("no object {key:?}"))
    }
    fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        self.objects
            .get(key)
            .map(|v| v[..v.len().min(len)].to_vec())
            .ok_or_else(|| format!("no object {key:?}"))
    }
}

impl ClipRecord {
    /// The key of frame `frame` of this clip.
    pub fn frame_key(&self, frame: u32) -> String {
        frame_key(&self.key, frame)
    }

    /// The editorial question: which frame of this clip holds timecode `tc`? `None` if the
    /// clip has no start timecode or rate, `tc` is not a label at the clip's rate (a frame
    /// field too high, a dropped drop-frame label) or lies outside the clip. `tc` is read in
    /// the clip's counting (a `:` label on a drop-frame clip is taken as drop-frame).
    pub fn frame_at(&self, tc: &Timecode) -> Option<FrameAt> {
        let (start, rate) = (self.timecode.start?, self.timecode.rate?);
        let tc = Timecode {
            drop_frame: start.drop_frame,
            ..*tc
        };
        let day = rate.frames_per_day(start.drop_frame);
        let offset = (tc.to_frames(rate).ok()? + day - start.to_frames(rate).ok()?) % day;
        let span = (self.frames.last - self.frames.first) as u64;
        if offset > span {
            return None;
        }
        let frame = self.frames.first + offset as u32;
        let status = if self.frames.missing.binary_search(&frame).is_ok() {
            FrameStatus::Missing
        } else if let Some(b) = self.frames.bad.iter().find(|b| b.frame == frame) {
            FrameStatus::Bad {
                reason: b.reason.clone(),
            }
        } else {
            FrameStatus::Present
        };
        Some(FrameAt {
            frame,
            key: self.frame_key(frame),
            timecode: tc,
            status,
        })
    }
}

/// Where a timecode falls in a clip.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameAt {
    /// The frame number (as in the file names).
    pub frame: u32,
    /// The file of that frame.
    pub key: String,
    /// The label, in the clip's counting.
    pub timecode: Timecode,
    pub status: FrameStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum FrameStatus {
    Present,
    /// In the clip's range but no file (a gap).
    Missing,
    /// The file is there but unreadable.
    Bad {
        reason: String,
    },
}
