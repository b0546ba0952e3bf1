//! Catalog of turnovers, shots and chunks: the trait, one SQL implementation for SQLite
//! (embedded) and PostgreSQL (at scale) through sqlx's `Any` driver with migrations embedded in
//! the binary, and the conformance suite.
//!
//! The catalog stores states; `platefarm_core::state` decides them. Every worker event is
//! applied with a conditional update (`… WHERE generation = $g AND state IN (published,
//! running)`), so a duplicate or stale event can never flip a chunk that is already final or
//! was re-published since.

pub mod conformance;
mod migrations;
mod sql;

pub use platefarm_ingest::job::{IngestOutcome, IngestResult};
pub use platefarm_ingest::{ClipRecord, FrameAt, Timecode};
pub use sql::{CatalogOptions, SqlCatalog};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platefarm_core::{
    ChunkSpec, ChunkState, DeliveryState, FrameRange, OutputFile, StateCounts, TurnoverState,
};
use std::collections::BTreeMap;

/// An ingest handed to the workers (`Catalog::create_ingest`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIngest {
    pub ingest_id: String,
    pub location: String,
    /// `ClipSource::key` of every clip handed out.
    pub clip_keys: Vec<String>,
    /// Keys of the location that are not footage.
    pub ignored: Vec<String>,
    /// The ASC MHL check's summary, if the location holds a history.
    pub mhl: Option<serde_json::Value>,
}

/// `running` until every clip has a result; then `completed`, or `completed_with_failures`
/// when a clip could not be inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestState {
    Running,
    Completed,
    CompletedWithFailures,
}

impl IngestState {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestState::Running => "running",
            IngestState::Completed => "completed",
            IngestState::CompletedWithFailures => "completed_with_failures",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            IngestState::Running,
            IngestState::Completed,
            IngestState::CompletedWithFailures,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
    pub fn is_final(self) -> bool {
        self != IngestState::Running
    }
}

/// A frame an ingest could not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngestBadFrame {
    pub clip: String,
    pub frame: u32,
    pub key: String,
    pub reason: String,
}

/// What `GET /v1/ingests/{id}` shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IngestStatus {
    pub ingest_id: String,
    pub location: String,
    pub state: IngestState,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub clips_total: u64,
    pub clips_done: u64,
    pub clips_failed: u64,
    /// Frames of the clips done.
    pub frames: u64,
    pub bad_frames: Vec<IngestBadFrame>,
    /// `(clip key, reason)` of every clip that failed.
    pub failures: Vec<IngestClipProblem>,
    /// Clips done without a thumbnail, with the reason.
    pub thumbnail_errors: Vec<IngestClipProblem>,
    pub ignored: u64,
    pub mhl: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IngestClipProblem {
    pub clip: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no chunk {0:?} in the catalog")]
    UnknownChunk(String),
    #[error("catalog database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("catalog migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("the catalog's schema is version {found}, newer than this build understands ({known}); upgrade platefarm")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("catalog holds an invalid value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

impl CatalogError {
    /// A database outage (retry later) rather than a wrong request or a corrupt row.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CatalogError::Db(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::WorkerCrashed
            )
        ) || matches!(self, CatalogError::Db(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c.starts_with("57") || c.starts_with("08") || c == "40001" || c == "40P01"))
    }
}

/// A turnover as the dispatcher records it at submission.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTurnover {
    pub turnover_id: String,
    pub production: String,
    pub priority: u8,
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    /// The validated request, as JSON, for audit, status and re-dispatch.
    pub request_json: String,
    /// Its shots in request order, with the resolved input pattern of each.
    pub shots: Vec<NewShot>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShot {
    pub name: String,
    pub input_pattern: String,
}

/// What `insert_turnover` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// A turnover with this id exists already (the race-free duplicate check): its request.
    Existing {
        request_json: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ChunkCounts {
    pub planned: u64,
    pub published: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl ChunkCounts {
    pub fn total(&self) -> u64 {
        self.pending() + self.done + self.failed + self.cancelled
    }
    /// Not final yet: planned, published or running.
    pub fn pending(&self) -> u64 {
        self.planned + self.published + self.running
    }
    pub fn add(&mut self, state: ChunkState, n: u64) {
        match state {
            ChunkState::Planned => self.planned += n,
            ChunkState::Published => self.published += n,
            ChunkState::Running => self.running += n,
            ChunkState::Done => self.done += n,
            ChunkState::Failed => self.failed += n,
            ChunkState::Cancelled => self.cancelled += n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TurnoverSummary {
    pub turnover_id: String,
    pub production: String,
    pub priority: u8,
    pub deadline: Option<DateTime<Utc>>,
    pub state: TurnoverState,
    pub submitted_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub chunks: ChunkCounts,
    pub frames_done: u64,
    pub frames_total: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShotSummary {
    pub shot: String,
    pub input_pattern: String,
    pub chunks: ChunkCounts,
    pub frames_done: u64,
    pub frames_total: u64,
    pub delivery: DeliveryState,
    pub delivery_detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChunkRow {
    pub chunk_id: String,
    pub turnover_id: String,
    pub shot: String,
    pub chunk_idx: u32,
    pub frame_start: u32,
    pub frame_end: u32,
    pub state: ChunkState,
    pub generation: u32,
    pub attempts: u32,
    pub worker_id: Option<String>,
    pub detail: Option<String>,
}

/// A planned chunk about to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChunk {
    pub chunk_id: String,
    pub shot: String,
    pub chunk_idx: u32,
    pub frames: FrameRange,
    /// The generation its message carries (one more than the last publish).
    pub next_generation: u32,
}

/// A running turnover as the scheduler needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogRow {
    pub turnover_id: String,
    pub production: String,
    pub priority: u8,
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    pub planned_chunks: u64,
    pub planned_frames: u64,
    pub in_flight_chunks: u64,
    pub in_flight_frames: u64,
}

/// One worker event (or a dead letter) to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkUpdate {
    pub chunk_id: String,
    pub generation: u32,
    pub worker_id: String,
    pub attempts: u32,
    pub at: DateTime<Utc>,
    pub change: ChunkChange,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChunkChange {
    Started,
    Done { outputs: Vec<OutputFile> },
    Failed { reason: String },
}

impl ChunkChange {
    /// The state the chunk is in once this change is applied.
    pub fn state(&self) -> ChunkState {
        match self {
            ChunkChange::Started => ChunkState::Running,
            ChunkChange::Done { .. } => ChunkState::Done,
            ChunkChange::Failed { .. } => ChunkState::Failed,
        }
    }
}

/// What applying one update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// False for a duplicate, stale (older generation) or unknown-chunk event.
    pub changed: bool,
    pub state: ChunkState,
    pub turnover_id: Option<String>,
    pub shot: Option<String>,
    pub n_frames: u64,
}

/// A search over ingested clips; every filter given must hold. See docs/ingest.md.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClipQuery {
    /// Only clips of this location (exact).
    pub location: Option<String>,
    /// Reel name, exact but case-insensitive (`a001` finds `A001`).
    pub reel: Option<String>,
    /// Case-insensitive substring of the camera's make, model or serial.
    pub camera: Option<String>,
    /// Clips whose timecode range (start to end, inclusive, across midnight too) holds this
    /// label, read at each clip's own rate and counting; each hit says which frame.
    pub timecode: Option<Timecode>,
    /// Free text: every whitespace-separated word must occur, case-insensitively, in the
    /// clip's name, key, location, reel, camera, lens, format, colour guess or a vendor
    /// text field.
    pub text: Option<String>,
    /// At most this many hits (0: 100), ordered by reel, start timecode (clips without either last), location, key.
    pub limit: u32,
}

/// One clip found, and where the query's timecode falls in it (if the query had one).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipHit {
    pub clip: ClipRecord,
    pub at: Option<FrameAt>,
}

/// Filters of `GET /v1/turnovers`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnoverFilter {
    pub production: Option<String>,
    pub state: Option<TurnoverState>,
    pub limit: u32,
}

#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Records a turnover, its shots and all its chunks (state `planned`) in one transaction,
    /// or reports the existing one with that id (race-free: a unique insert decides).
    async fn insert_turnover(
        &self,
        t: &NewTurnover,
        chunks: &[ChunkSpec],
    ) -> Result<Inserted, CatalogError>;
    async fn turnover(&self, turnover_id: &str) -> Result<Option<TurnoverSummary>, CatalogError>;
    async fn shots(&self, turnover_id: &str) -> Result<Vec<ShotSummary>, CatalogError>;
    async fn chunks(&self, turnover_id: &str) -> Result<Vec<ChunkRow>, CatalogError>;
    /// Output files of a shot (or the whole turnover), sorted by key.
    async fn outputs(
        &self,
        turnover_id: &str,
        shot: Option<&str>,
    ) -> Result<Vec<OutputFile>, CatalogError>;
    /// The output keys of every shot of a turnover in one query, each shot's sorted.
    async fn output_keys_by_shot(
        &self,
        turnover_id: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, CatalogError>;
    /// Most recent first.
    async fn list_turnovers(
        &self,
        filter: &TurnoverFilter,
    ) -> Result<Vec<TurnoverSummary>, CatalogError>;
    /// The validated request as recorded at submission.
    async fn request_json(&self, turnover_id: &str) -> Result<Option<String>, CatalogError>;

    /// Running turnovers with planned or in-flight chunks, for the scheduler.
    async fn backlog(&self) -> Result<Vec<BacklogRow>, CatalogError>;
    /// The next `limit` planned chunks of a turnover, in chunk order.
    async fn next_planned(
        &self,
        turnover_id: &str,
        limit: u32,
    ) -> Result<Vec<PlannedChunk>, CatalogError>;
    /// `planned → published` with the generation their messages carried (after the broker
    /// confirmed them).
    async fn mark_published(
        &self,
        chunks: &[(String, u32)],
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    /// Applies worker events and dead letters in one transaction.
    async fn apply(&self, updates: &[ChunkUpdate]) -> Result<Vec<Applied>, CatalogError>;

    /// Counts deciding a turnover's state.
    async fn state_counts(&self, turnover_id: &str) -> Result<StateCounts, CatalogError>;
    async fn set_turnover_state(
        &self,
        turnover_id: &str,
        state: TurnoverState,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    /// Shots whose chunks are all final and whose delivery has not run, of running turnovers
    /// (or of one).
    async fn deliveries_due(
        &self,
        turnover_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, CatalogError>;
    async fn set_delivery(
        &self,
        turnover_id: &str,
        shot: &str,
        state: DeliveryState,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    /// Turnovers in state `running` (to reconcile after a restart).
    async fn running_turnovers(&self) -> Result<Vec<String>, CatalogError>;
    /// Cancels every chunk not final yet; `None` if there is no such turnover.
    async fn cancel(
        &self,
        turnover_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, CatalogError>;
    /// `failed → planned` for every failed chunk, shots' deliveries back to pending, turnover
    /// running again; `None` if there is no such turnover.
    async fn retry_failed(
        &self,
        turnover_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, CatalogError>;
    /// Whether some chunk of the turnover is not final yet (planned, published, running): the
    /// settler's cheap test before it counts everything.
    async fn has_pending_chunks(&self, turnover_id: &str) -> Result<bool, CatalogError>;
    /// Reachability check for `/health/readyz`.
    async fn ping(&self) -> Result<(), CatalogError>;

    /// Records ingested clips in one transaction; a clip already recorded (same location
    /// and key) is replaced — re-ingesting a folder updates it.
    async fn upsert_clips(
        &self,
        clips: &[ClipRecord],
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    /// One clip by location and key.
    async fn clip(&self, location: &str, key: &str) -> Result<Option<ClipRecord>, CatalogError>;
    /// Clips matching every filter of the query.
    async fn search_clips(&self, query: &ClipQuery) -> Result<Vec<ClipHit>, CatalogError>;
    /// Records an ingest handed to the workers: its clips (by key) pending.
    async fn create_ingest(
        &self,
        ingest: &NewIngest,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    /// Applies a worker's result for one clip of an ingest, in one transaction: the clip's
    /// record is upserted (as `upsert_clips`), the clip marked done or failed, and the ingest
    /// finished when no clip is pending. Only the first result for a clip counts: `false` for
    /// a duplicate or a clip no ingest is waiting for.
    async fn record_ingest_result(
        &self,
        result: &IngestResult,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError>;
    /// An ingest's state, counts, bad frames and failures.
    async fn ingest(&self, ingest_id: &str) -> Result<Option<IngestStatus>, CatalogError>;
    /// The editorial question: which clip and frame hold timecode `tc` on reel `reel`? Every
    /// clip of the reel whose range holds it, each with the frame number and its state
    /// (present, missing, bad).
    async fn locate_timecode(
        &self,
        reel: &str,
        tc: &Timecode,
    ) -> Result<Vec<ClipHit>, CatalogError> {
        self.search_clips(&ClipQuery {
            reel: Some(reel.to_string()),
            timecode: Some(*tc),
            ..ClipQuery::default()
        })
        .await
    }
}
