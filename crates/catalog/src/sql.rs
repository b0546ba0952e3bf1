//! One SQL implementation for SQLite and PostgreSQL through sqlx's `Any` driver: portable
//! types (TEXT timestamps in RFC 3339, BIGINT counters) and `$n` placeholders, which both
//! backends accept.

use crate::*;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub struct SqlCatalog {
    pool: AnyPool,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS turnovers (
        turnover_id TEXT PRIMARY KEY,
        production TEXT NOT NULL,
        priority BIGINT NOT NULL,
        deadline TEXT,
        state TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        finished_at TEXT,
        request_json TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS chunks (
        chunk_id TEXT PRIMARY KEY,
        turnover_id TEXT NOT NULL REFERENCES turnovers(turnover_id),
        shot TEXT NOT NULL,
        chunk_idx BIGINT NOT NULL,
        frame_start BIGINT NOT NULL,
        frame_end BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        worker_id TEXT,
        detail TEXT,
        updated_at TEXT
    )",
    "CREATE INDEX IF NOT EXISTS chunks_by_turnover ON chunks (turnover_id, shot, state)",
];

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(column: &'static str, s: &str) -> Result<DateTime<Utc>, CatalogError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| CatalogError::Corrupt {
            column,
            value: s.to_string(),
        })
}

impl SqlCatalog {
    /// Connects (`sqlite://path?mode=rwc`, `sqlite::memory:`, `postgres://…`) and creates the schema.
    pub async fn connect(url: &str) -> Result<Self, CatalogError> {
        sqlx::any::install_default_drivers();
        // SQLite allows one writer; a single connection serialises writes instead of failing
        // them with SQLITE_BUSY. In-memory SQLite must also stay on one connection.
        let max = if url.starts_with("sqlite") { 1 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .connect(url)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&pool).await?;
        }
        Ok(SqlCatalog { pool })
    }

    /// A SQLite file catalog at `path` (created if missing).
    pub async fn sqlite_file(path: &std::path::Path) -> Result<Self, CatalogError> {
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    fn summary(
        row: &AnyRow,
        counts: ChunkCounts,
        frames_done: u64,
        frames_total: u64,
    ) -> Result<TurnoverSummary, CatalogError> {
        let state: String = row.try_get("state")?;
        let submitted: String = row.try_get("submitted_at")?;
        let finished: Option<String> = row.try_get("finished_at")?;
        Ok(TurnoverSummary {
            turnover_id: row.try_get("turnover_id")?,
            production: row.try_get("production")?,
            priority: row.try_get::<i64, _>("priority")?.clamp(0, 100) as u8,
            state: state.parse().map_err(|_| CatalogError::Corrupt {
                column: "turnovers.state",
                value: state.clone(),
            })?,
            submitted_at: parse_ts("turnovers.submitted_at", &submitted)?,
            finished_at: finished
                .as_deref()
                .map(|f| parse_ts("turnovers.finished_at", f))
                .transpose()?,
            chunks: counts,
            frames_done,
            frames_total,
        })
    }

    async fn counts(
        &self,
        turnover_id: &str,
        shot: Option<&str>,
    ) -> Result<(ChunkCounts, u64, u64), CatalogError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n, CAST(SUM(frame_end - frame_start + 1) AS BIGINT) AS frames FROM chunks
             WHERE turnover_id = $1 AND ($2 = '' OR shot = $2) GROUP BY state",
        )
        .bind(turnover_id)
        .bind(shot.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut c = ChunkCounts::default();
        let (mut done_frames, mut total_frames) = (0u64, 0u64);
        for row in rows {
            let state: String = row.try_get("state")?;
            let n = row.try_get::<i64, _>("n")? as u64;
            let frames = row.try_get::<i64, _>("frames")? as u64;
            total_frames += frames;
            match state.parse::<ChunkState>() {
                Ok(ChunkState::Queued) => c.queued += n,
                Ok(ChunkState::Done) => {
                    c.done += n;
                    done_frames += frames
                }
                Ok(ChunkState::Failed) => c.failed += n,
                Err(_) => {
                    return Err(CatalogError::Corrupt {
                        column: "chunks.state",
                        value: state,
                    })
                }
            }
        }
        Ok((c, done_frames, total_frames))
    }
}

#[async_trait]
impl Catalog for SqlCatalog {
    async fn insert_turnover(
        &self,
        t: &NewTurnover,
        chunks: &[ChunkSpec],
    ) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT 1 AS one FROM turnovers WHERE turnover_id = $1")
            .bind(&t.turnover_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(CatalogError::Duplicate(t.turnover_id.clone()));
        }
        sqlx::query(
            "INSERT INTO turnovers (turnover_id, production, priority, deadline, state, submitted_at, request_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.turnover_id)
        .bind(&t.production)
        .bind(t.priority as i64)
        .bind(t.deadline.map(ts))
        .bind(TurnoverState::Running.as_str())
        .bind(ts(t.submitted_at))
        .bind(&t.request_json)
        .execute(&mut *tx)
        .await?;
        for c in chunks {
            sqlx::query(
                "INSERT INTO chunks (chunk_id, turnover_id, shot, chunk_idx, frame_start, frame_end, state, attempts, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
            )
            .bind(&c.chunk_id)
            .bind(&t.turnover_id)
            .bind(&c.shot_name)
            .bind(c.chunk_idx as i64)
            .bind(c.frames.start as i64)
            .bind(c.frames.end as i64)
            .bind(ChunkState::Queued.as_str())
            .bind(ts(t.submitted_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_result(&self, r: &ChunkResult<'_>) -> Result<ResultApplied, CatalogError> {
        let row = sqlx::query("SELECT turnover_id, shot FROM chunks WHERE chunk_id = $1")
            .bind(r.chunk_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| CatalogError::UnknownChunk(r.chunk_id.to_string()))?;
        let done = sqlx::query(
            "UPDATE chunks SET state = $1, detail = $2, worker_id = $3, attempts = $4, updated_at = $5
             WHERE chunk_id = $6 AND state = $7",
        )
        .bind(r.state.as_str())
        .bind(r.detail)
        .bind(r.worker_id)
        .bind(r.attempts as i64)
        .bind(ts(r.at))
        .bind(r.chunk_id)
        .bind(ChunkState::Queued.as_str())
        .execute(&self.pool)
        .await?;
        Ok(ResultApplied {
            changed: done.rows_affected() == 1 && r.state != ChunkState::Queued,
            turnover_id: row.try_get("turnover_id")?,
            shot: row.try_get("shot")?,
        })
    }

    async fn set_turnover_state(
        &self,
        turnover_id: &str,
        state: TurnoverState,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        let finished = state.is_terminal().then(|| ts(at));
        sqlx::query("UPDATE turnovers SET state = $1, finished_at = $2 WHERE turnover_id = $3")
            .bind(state.as_str())
            .bind(finished)
            .bind(turnover_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn turnover(&self, turnover_id: &str) -> Result<Option<TurnoverSummary>, CatalogError> {
        let Some(row) = sqlx::query("SELECT * FROM turnovers WHERE turnover_id = $1")
            .bind(turnover_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let (counts, done, total) = self.counts(turnover_id, None).await?;
        Ok(Some(Self::summary(&row, counts, done, total)?))
    }

    async fn chunks(&self, turnover_id: &str) -> Result<Vec<ChunkRow>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM chunks WHERE turnover_id = $1 ORDER BY chunk_idx")
            .bind(turnover_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get("state")?;
                Ok(ChunkRow {
                    chunk_id: row.try_get("chunk_id")?,
                    turnover_id: row.try_get("turnover_id")?,
                    shot: row.try_get("shot")?,
                    chunk_idx: row.try_get::<i64, _>("chunk_idx")? as u32,
                    frame_start: row.try_get::<i64, _>("frame_start")? as u32,
                    frame_end: row.try_get::<i64, _>("frame_end")? as u32,
                    state: state.parse().map_err(|_| CatalogError::Corrupt {
                        column: "chunks.state",
                        value: state.clone(),
                    })?,
                    attempts: row.try_get::<i64, _>("attempts")? as u32,
                    worker_id: row.try_get("worker_id")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }

    async fn list_turnovers(&self, limit: u32) -> Result<Vec<TurnoverSummary>, CatalogError> {
        let rows =
            sqlx::query("SELECT * FROM turnovers ORDER BY submitted_at DESC, turnover_id LIMIT $1")
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("turnover_id")?;
            let (counts, done, total) = self.counts(&id, None).await?;
            out.push(Self::summary(row, counts, done, total)?);
        }
        Ok(out)
    }

    async fn shot_counts(
        &self,
        turnover_id: &str,
        shot: &str,
    ) -> Result<ChunkCounts, CatalogError> {
        Ok(self.counts(turnover_id, Some(shot)).await?.0)
    }

    async fn request_json(&self, turnover_id: &str) -> Result<Option<String>, CatalogError> {
        let row = sqlx::query("SELECT request_json FROM turnovers WHERE turnover_id = $1")
            .bind(turnover_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("request_json")).transpose()?)
    }
}
