//! Ingest as farm work (docs/ingest.md): the dispatcher verifies a location's ASC MHL history
//! and discovers its clips, then publishes one [`IngestJob`] per clip on the same chunk queue
//! as renders; a worker inspects the clip (and writes its thumbnail) and publishes an
//! [`IngestResult`] on the events queue before it acks; the dispatcher records it. The
//! messages carry `kind` so a worker and the dispatcher tell them from render chunks and
//! render results, and `version` as every wire message does.

use crate::{ClipRecord, ClipSource};
use serde::{Deserialize, Serialize};

/// The version of these messages; a message from a newer version is refused.
pub const JOB_VERSION: u32 = 1;

fn kind_job() -> String {
    "ingest".into()
}

fn kind_result() -> String {
    "ingest_result".into()
}

/// One clip to inspect: keys in `clip` are relative to `prefix` (a prefix of the farm's
/// store, `""` or ending in `/`); the record names `location`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestJob {
    /// Always `"ingest"`.
    #[serde(default = "kind_job")]
    pub kind: String,
    pub version: u32,
    pub ingest_id: String,
    pub prefix: String,
    pub location: String,
    pub thumbnails: bool,
    pub clip: ClipSource,
}

/// What became of one clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Inspected (its unreadable frames are in the record's `frames.bad`); the thumbnail was
    /// written unless `thumbnail_error` says why not.
    Done {
        record: Box<ClipRecord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thumbnail_error: Option<String>,
    },
    /// Could not be inspected (the store kept failing, the job was dead-lettered).
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestResult {
    /// Always `"ingest_result"`.
    #[serde(default = "kind_result")]
    pub kind: String,
    pub version: u32,
    pub ingest_id: String,
    /// The clip's key (`ClipSource::key`).
    pub clip_key: String,
    #[serde(default)]
    pub worker_id: String,
    pub outcome: IngestOutcome,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("not an ingest message")]
    NotIngest,
    #[error("malformed ingest message: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("ingest message version {0} is newer than this build understands ({JOB_VERSION})")]
    TooNew(u32),
}

/// Whether a queue message is one of ours: a JSON object whose first field is `kind` with
/// this value, as `encode` writes it. Only the start of the payload is looked at: every render
/// chunk and result batch (the dispatcher's hot path) passes through here.
fn has_kind(bytes: &[u8], kind: &str) -> bool {
    let head = format!("{{\"kind\":\"{kind}\"");
    bytes.starts_with(head.as_bytes())
}

fn decode<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    kind: &str,
    version: impl Fn(&T) -> u32,
) -> Result<T, JobError> {
    if !has_kind(bytes, kind) {
        return Err(JobError::NotIngest);
    }
    let msg: T = serde_json::from_slice(bytes).map_err(JobError::Malformed)?;
    match version(&msg) {
        v if v > JOB_VERSION => Err(JobError::TooNew(v)),
        _ => Ok(msg),
    }
}

impl IngestJob {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("ingest jobs serialise")
    }
    /// `Err(NotIngest)` for any other message (a render chunk).
    pub fn decode(bytes: &[u8]) -> Result<Self, JobError> {
        decode(bytes, "ingest", |m: &Self| m.version)
    }
}

impl IngestResult {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("ingest results serialise")
    }
    /// `Err(NotIngest)` for any other message (a render result).
    pub fn decode(bytes: &[u8]) -> Result<Self, JobError> {
        decode(bytes, "ingest_result", |m: &Self| m.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> IngestJob {
        let found = crate::discover(&[crate::Entry::new("day1/A001.000001.dng", 10)]);
        IngestJob {
            kind: "ingest".into(),
            version: JOB_VERSION,
            ingest_id: "IN-1".into(),
            prefix: "cards/".into(),
            location: "cards".into(),
            thumbnails: true,
            clip: found.clips[0].clone(),
        }
    }

    #[test]
    fn jobs_round_trip_and_other_messages_are_not_jobs() {
        let j = job();
        assert_eq!(IngestJob::decode(&j.encode()).unwrap(), j);
        assert!(matches!(
            IngestJob::decode(br#"{"version":1,"turnover_id":"T","chunk_id":"c"}"#),
            Err(JobError::NotIngest)
        ));
        assert!(matches!(
            IngestJob::decode(b"not json"),
            Err(JobError::NotIngest)
        ));
        // `kind` comes first, as `encode` writes it (render messages have none).
        assert!(j.encode().starts_with(br#"{"kind":"ingest","#));
        let mut newer = j.clone();
        newer.version = JOB_VERSION + 1;
        assert!(matches!(
            IngestJob::decode(&newer.encode()),
            Err(JobError::TooNew(_))
        ));
        assert!(matches!(
            IngestJob::decode(br#"{"kind":"ingest","version":1}"#),
            Err(JobError::Malformed(_))
        ));
    }

    #[test]
    fn results_round_trip() {
        let r = IngestResult {
            kind: "ingest_result".into(),
            version: JOB_VERSION,
            ingest_id: "IN-1".into(),
            clip_key: "day1/A001.%06d.dng".into(),
            worker_id: "w".into(),
            outcome: IngestOutcome::Failed {
                reason: "store down".into(),
            },
        };
        assert_eq!(IngestResult::decode(&r.encode()).unwrap(), r);
        assert!(matches!(
            IngestResult::decode(&job().encode()),
            Err(JobError::NotIngest)
        ));
    }
}
