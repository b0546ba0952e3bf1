//! Catalog of turnovers and chunks: the trait, one SQL implementation for SQLite (embedded)
//! and PostgreSQL (at scale) through sqlx's `Any` driver, and the conformance suite.
//!
//! The catalog stores states; `platefarm_core::state` decides them. Results are applied with a
//! conditional update (`… WHERE state = 'queued'`), so a duplicate result of a redelivered
//! chunk can never flip a chunk that is already done or failed.

pub mod conformance;
mod sql;

pub use sql::SqlCatalog;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platefarm_core::{ChunkSpec, ChunkState, TurnoverState};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("turnover {0:?} already exists")]
    Duplicate(String),
    #[error("no chunk {0:?} in the catalog")]
    UnknownChunk(String),
    #[error("catalog database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("catalog holds an invalid value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

/// A turnover as the dispatcher records it at submission.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTurnover {
    pub turnover_id: String,
    pub production: String,
    pub priority: u8,
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    /// The validated request, as JSON, for audit and re-dispatch.
    pub request_json: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ChunkCounts {
    pub queued: u64,
    pub done: u64,
    pub failed: u64,
}

impl ChunkCounts {
    pub fn total(&self) -> u64 {
        self.queued + self.done + self.failed
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TurnoverSummary {
    pub turnover_id: String,
    pub production: String,
    pub priority: u8,
    pub state: TurnoverState,
    pub submitted_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub chunks: ChunkCounts,
    pub frames_done: u64,
    pub frames_total: u64,
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
    pub attempts: u32,
    pub worker_id: Option<String>,
    pub detail: Option<String>,
}

/// What applying a chunk result did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultApplied {
    /// False when the chunk was already terminal (a duplicate result).
    pub changed: bool,
    pub turnover_id: String,
    pub shot: String,
}

/// A chunk result to record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkResult<'a> {
    pub chunk_id: &'a str,
    pub state: ChunkState,
    pub detail: Option<&'a str>,
    pub worker_id: &'a str,
    pub attempts: u32,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Records a turnover and all its chunks (state `queued`) in one transaction.
    async fn insert_turnover(
        &self,
        t: &NewTurnover,
        chunks: &[ChunkSpec],
    ) -> Result<(), CatalogError>;
    /// Applies a chunk result if the chunk is still queued.
    async fn record_result(&self, r: &ChunkResult<'_>) -> Result<ResultApplied, CatalogError>;
    async fn set_turnover_state(
        &self,
        turnover_id: &str,
        state: TurnoverState,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;
    async fn turnover(&self, turnover_id: &str) -> Result<Option<TurnoverSummary>, CatalogError>;
    async fn chunks(&self, turnover_id: &str) -> Result<Vec<ChunkRow>, CatalogError>;
    /// Most recent first.
    async fn list_turnovers(&self, limit: u32) -> Result<Vec<TurnoverSummary>, CatalogError>;
    /// Counts of one shot's chunks (to know when a shot is complete).
    async fn shot_counts(&self, turnover_id: &str, shot: &str)
        -> Result<ChunkCounts, CatalogError>;
    /// The validated request as recorded at submission.
    async fn request_json(&self, turnover_id: &str) -> Result<Option<String>, CatalogError>;
}
