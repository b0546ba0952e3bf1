//! Wire messages between dispatcher and workers. Each carries `version`; unknown fields are
//! tolerated (no `deny_unknown_fields`) so old and new workers can share a queue during a
//! rolling update. A message from a *newer major* version is refused by `decode_*`.

use crate::turnover::{FdlSelection, FrameRange, OutputOptions, ProxyOptions};
use serde::{Deserialize, Serialize};

pub const WIRE_VERSION: u32 = 1;

/// One unit of work: render `frames` of a shot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkMessage {
    pub version: u32,
    pub turnover_id: String,
    pub chunk_id: String,
    /// Bumped each time the dispatcher (re)publishes the chunk; events echo it, so an event of an
    /// earlier attempt never changes a re-published chunk.
    #[serde(default)]
    pub generation: u32,
    pub shot: String,
    /// Sequence pattern of the input frames as store keys (`…%07d.dng`).
    pub input_pattern: String,
    pub frames: FrameRange,
    pub output_location: String,
    #[serde(default)]
    pub amf_path: Option<String>,
    #[serde(default)]
    pub fdl_path: Option<String>,
    #[serde(default)]
    pub fdl: FdlSelection,
    #[serde(default)]
    pub output: OutputOptions,
    /// The shot's `input_colorspace` (the worker settles it with the AMF's input transform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_colorspace: Option<String>,
    /// The shot's review proxy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyOptions>,
}

/// One file a chunk wrote, as the delivery's checksums need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    pub key: String,
    pub size: u64,
    /// xxHash64 of the bytes, 16 lowercase hex digits (ASC MHL's `xxh64`).
    pub xxh64: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChunkOutcome {
    /// A worker took the chunk (sent before rendering; lets status show who holds it).
    Started,
    /// Every frame written; `outputs` in frame order (plates, then any proxies per frame).
    Done { outputs: Vec<OutputFile> },
    /// Permanently failed (bad input, or retries exhausted): the reason says which.
    Failed { reason: String },
}

/// What a worker reports about a chunk: `started` when it takes it, then `done` or `failed`,
/// published before the chunk is acked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultEvent {
    pub version: u32,
    pub turnover_id: String,
    pub chunk_id: String,
    #[serde(default)]
    pub generation: u32,
    #[serde(default)]
    pub worker_id: String,
    /// How many times the chunk had been delivered when this attempt ran (1 = first).
    #[serde(default)]
    pub delivery_count: u32,
    pub outcome: ChunkOutcome,
    #[serde(default)]
    pub render_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed {what} message: {source}")]
    Malformed {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} message version {got} is newer than this build understands ({WIRE_VERSION})")]
    TooNew { what: &'static str, got: u32 },
}

fn decode<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    what: &'static str,
    version: impl Fn(&T) -> u32,
) -> Result<T, DecodeError> {
    let msg: T =
        serde_json::from_slice(bytes).map_err(|source| DecodeError::Malformed { what, source })?;
    let got = version(&msg);
    if got > WIRE_VERSION {
        return Err(DecodeError::TooNew { what, got });
    }
    Ok(msg)
}

impl ChunkMessage {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("chunk messages serialise")
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes, "chunk", |m: &Self| m.version)
    }
}

impl ResultEvent {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("result events serialise")
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes, "result", |m: &Self| m.version)
    }
}

/// Several result events in one broker message: a worker with many render slots packs the
/// events its slots produce while the previous message awaits its confirm, so the broker
/// stores one message for many events. `{"version":1,"events":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultBatch {
    pub version: u32,
    pub events: Vec<ResultEvent>,
}

impl ResultBatch {
    pub fn encode(events: &[ResultEvent]) -> Vec<u8> {
        #[derive(Serialize)]
        struct Out<'a> {
            version: u32,
            events: &'a [ResultEvent],
        }
        serde_json::to_vec(&Out {
            version: WIRE_VERSION,
            events,
        })
        .expect("result batches serialise")
    }
}

/// The events of one message on the events queue: a `ResultBatch`, or a single `ResultEvent`
/// (what workers of earlier builds publish; both share the queue during a rolling update).
pub fn decode_results(bytes: &[u8]) -> Result<Vec<ResultEvent>, DecodeError> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        version: u32,
        #[serde(default)]
        events: Option<Vec<ResultEvent>>,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|source| DecodeError::Malformed {
        what: "result",
        source,
    })?;
    match probe.events {
        Some(events) => {
            let newest = events.iter().map(|e| e.version).chain([probe.version]);
            if let Some(got) = newest.filter(|v| *v > WIRE_VERSION).max() {
                return Err(DecodeError::TooNew {
                    what: "result batch",
                    got,
                });
            }
            Ok(events)
        }
        None => ResultEvent::decode(bytes).map(|e| vec![e]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_unknown_fields_and_refuses_newer_versions() {
        let json = br#"{"version":1,"turnover_id":"T","chunk_id":"T:a:1-2","shot":"a",
            "input_pattern":"a.%04d.dng","frames":{"start":1,"end":2},"output_location":"out",
            "added_in_v1_5":{"x":1}}"#;
        let m = ChunkMessage::decode(json).unwrap();
        assert_eq!(m.frames, FrameRange::new(1, 2).unwrap());
        // Messages from before input colour spaces and proxies decode with neither.
        assert_eq!(
            (m.input_colorspace.as_deref(), m.proxy.as_ref()),
            (None, None)
        );
        let newer = String::from_utf8_lossy(json).replace("\"version\":1", "\"version\":2");
        assert!(matches!(
            ChunkMessage::decode(newer.as_bytes()),
            Err(DecodeError::TooNew { got: 2, .. })
        ));
        assert!(matches!(
            ChunkMessage::decode(b"{"),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn result_round_trip() {
        let e = ResultEvent {
            version: WIRE_VERSION,
            turnover_id: "T".into(),
            chunk_id: "c".into(),
            generation: 3,
            worker_id: "w1".into(),
            delivery_count: 2,
            outcome: ChunkOutcome::Failed {
                reason: "truncated DNG".into(),
            },
            render_seconds: 0.5,
        };
        assert_eq!(ResultEvent::decode(&e.encode()).unwrap(), e);
        // A single event and a batch both decode as the events queue carries them.
        assert_eq!(decode_results(&e.encode()).unwrap(), vec![e.clone()]);
        let mut started = e.clone();
        started.outcome = ChunkOutcome::Started;
        let batch = ResultBatch::encode(&[started.clone(), e.clone()]);
        assert_eq!(decode_results(&batch).unwrap(), vec![started, e.clone()]);
        let newer = String::from_utf8_lossy(&ResultBatch::encode(&[e])).replacen(
            "\"version\":1",
            "\"version\":2",
            1,
        );
        assert!(matches!(
            decode_results(newer.as_bytes()),
            Err(DecodeError::TooNew { got: 2, .. })
        ));
        assert!(matches!(
            decode_results(br#"{"version":1,"events":[{"chunk_id":3}]}"#),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(decode_results(br#"{"version":1,"events":[]}"#)
            .unwrap()
            .is_empty());
    }
}
