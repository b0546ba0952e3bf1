//! One SQL implementation for SQLite and PostgreSQL through sqlx's `Any` driver: portable
//! types (TEXT timestamps in RFC 3339, BIGINT counters), `$n` placeholders, `ON CONFLICT` and
//! `RETURNING`, which both backends accept.

use crate::*;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

pub struct SqlCatalog {
    pool: AnyPool,
}

/// Connection settings (`--catalog URL` plus pool limits).
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

const PENDING: &str = "('planned', 'published', 'running')";
const IN_FLIGHT: &str = "('published', 'running')";
/// Rows per multi-row statement: far below SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters at seven columns a row.
const ROWS_PER_STATEMENT: usize = 500;

/// `($first, …), (…)`: `rows` tuples of `cols` placeholders numbered from `first`.
fn value_rows(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", first + r * cols + c));
        }
        s.push(')');
    }
    s
}

/// Inserts or replaces one clip record (`upsert_clips`, `record_ingest_result`).
async fn upsert_clip(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &ClipRecord,
    at: DateTime<Utc>,
) -> Result<(), CatalogError> {
    let json = serde_json::to_string(c).map_err(|e| CatalogError::Corrupt {
        column: "clips.record_json",
        value: e.to_string(),
    })?;
    sqlx::query(
        "INSERT INTO clips (location, clip_key, name, reel, reel_lc, camera_text, format,
            tc_start_key, tc_end_key, frame_first, frame_last, search_text, record_json, ingested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (location, clip_key) DO UPDATE SET
            name = excluded.name, reel = excluded.reel, reel_lc = excluded.reel_lc,
            camera_text = excluded.camera_text, format = excluded.format,
            tc_start_key = excluded.tc_start_key, tc_end_key = excluded.tc_end_key,
            frame_first = excluded.frame_first, frame_last = excluded.frame_last,
            search_text = excluded.search_text, record_json = excluded.record_json,
            ingested_at = excluded.ingested_at",
    )
    .bind(&c.location)
    .bind(&c.key)
    .bind(&c.name)
    .bind(c.reel.clone())
    .bind(c.reel.as_ref().map(|r| r.to_lowercase()))
    .bind(camera_text(c))
    .bind(c.format.name())
    .bind(c.timecode.start.map(|t| t.label_key()))
    .bind(c.timecode.end.map(|t| t.label_key()))
    .bind(c.frames.first as i64)
    .bind(c.frames.last as i64)
    .bind(search_text(c))
    .bind(json)
    .bind(ts(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

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

fn parse<T: std::str::FromStr>(column: &'static str, s: String) -> Result<T, CatalogError> {
    s.parse()
        .map_err(|_| CatalogError::Corrupt { column, value: s })
}

/// A TEXT timestamp column of `turnovers`.
fn ts_col(row: &AnyRow, column: &'static str) -> Result<DateTime<Utc>, CatalogError> {
    let s: String = row.try_get(column)?;
    parse_ts(column, &s)
}

fn opt_ts_col(row: &AnyRow, column: &'static str) -> Result<Option<DateTime<Utc>>, CatalogError> {
    let s: Option<String> = row.try_get(column)?;
    s.as_deref().map(|s| parse_ts(column, s)).transpose()
}

fn priority_of(row: &AnyRow) -> Result<u8, CatalogError> {
    Ok(row.try_get::<i64, _>("priority")?.clamp(0, 100) as u8)
}

fn u64_of(row: &AnyRow, col: &str) -> Result<u64, CatalogError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0).max(0) as u64)
}

impl SqlCatalog {
    /// Connects (`sqlite:PATH`, `sqlite://path?mode=rwc`, `sqlite::memory:`, `postgres://…`) and
    /// runs the embedded migrations.
    pub async fn connect(url: &str) -> Result<Self, CatalogError> {
        Self::connect_with(url, &CatalogOptions::default()).await
    }

    pub async fn connect_with(url: &str, opts: &CatalogOptions) -> Result<Self, CatalogError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite");
        let url = normalise_sqlite_url(url);
        // SQLite allows one writer; a single connection serialises writes instead of failing
        // them with SQLITE_BUSY. In-memory SQLite must also stay on one connection.
        let max = if sqlite { 1 } else { opts.max_connections };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(opts.acquire_timeout)
            .connect(&url)
            .await?;
        migrations::run(&pool, !sqlite).await?;
        Ok(SqlCatalog { pool })
    }

    /// A SQLite file catalog at `path` (created if missing).
    pub async fn sqlite_file(path: &std::path::Path) -> Result<Self, CatalogError> {
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    fn summary(
        row: &AnyRow,
        counts: ChunkCounts,
        frames: (u64, u64),
    ) -> Result<TurnoverSummary, CatalogError> {
        Ok(TurnoverSummary {
            turnover_id: row.try_get("turnover_id")?,
            production: row.try_get("production")?,
            priority: priority_of(row)?,
            deadline: opt_ts_col(row, "deadline")?,
            state: parse("turnovers.state", row.try_get("state")?)?,
            submitted_at: ts_col(row, "submitted_at")?,
            finished_at: opt_ts_col(row, "finished_at")?,
            chunks: counts,
            frames_done: frames.0,
            frames_total: frames.1,
        })
    }

    /// Chunk counts and (done, total) frames per shot of one turnover.
    async fn counts_by_shot(
        &self,
        turnover_id: &str,
    ) -> Result<Vec<(String, ChunkCounts, u64, u64)>, CatalogError> {
        let rows = sqlx::query(
            "SELECT shot, state, COUNT(*) AS n, CAST(SUM(frame_end - frame_start + 1) AS BIGINT) AS frames
             FROM chunks WHERE turnover_id = $1 GROUP BY shot, state ORDER BY shot",
        )
        .bind(turnover_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, ChunkCounts, u64, u64)> = Vec::new();
        for row in rows {
            let shot: String = row.try_get("shot")?;
            let state: ChunkState = parse("chunks.state", row.try_get("state")?)?;
            let (n, frames) = (u64_of(&row, "n")?, u64_of(&row, "frames")?);
            if out.last().map(|l| &l.0) != Some(&shot) {
                out.push((shot, ChunkCounts::default(), 0, 0));
            }
            let last = out.last_mut().expect("pushed");
            last.1.add(state, n);
            last.3 += frames;
            if state == ChunkState::Done {
                last.2 += frames;
            }
        }
        Ok(out)
    }

    async fn totals(&self, turnover_id: &str) -> Result<(ChunkCounts, (u64, u64)), CatalogError> {
        let mut c = ChunkCounts::default();
        let (mut done, mut total) = (0, 0);
        for (_, sc, d, t) in self.counts_by_shot(turnover_id).await? {
            for s in ChunkState::ALL {
                c.add(s, count_of(&sc, s));
            }
            done += d;
            total += t;
        }
        Ok((c, (done, total)))
    }
}

fn count_of(c: &ChunkCounts, s: ChunkState) -> u64 {
    match s {
        ChunkState::Planned => c.planned,
        ChunkState::Published => c.published,
        ChunkState::Running => c.running,
        ChunkState::Done => c.done,
        ChunkState::Failed => c.failed,
        ChunkState::Cancelled => c.cancelled,
    }
}

/// `sqlite:PATH` (the documented form) → sqlx's `sqlite://PATH?mode=rwc` (create if missing).
fn normalise_sqlite_url(url: &str) -> String {
    match url.strip_prefix("sqlite:") {
        Some(rest) if !rest.starts_with("//") && rest != ":memory:" => {
            format!("sqlite://{rest}?mode=rwc")
        }
        _ => url.to_string(),
    }
}

/// Rows per multi-row INSERT (9 columns: well under both backends' parameter limits).
const INSERT_BATCH: usize = 200;

#[async_trait]
impl Catalog for SqlCatalog {
    async fn insert_turnover(
        &self,
        t: &NewTurnover,
        chunks: &[ChunkSpec],
    ) -> Result<Inserted, CatalogError> {
        let mut tx = self.pool.begin().await?;
        // The unique key decides a race between two submissions of one id (PostgreSQL runs
        // them concurrently); the loser sees zero rows inserted.
        let inserted = sqlx::query(
            "INSERT INTO turnovers (turnover_id, production, priority, deadline, state, submitted_at, request_json, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6) ON CONFLICT (turnover_id) DO NOTHING",
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
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            let existing = self.request_json(&t.turnover_id).await?.unwrap_or_default();
            return Ok(Inserted::Existing {
                request_json: existing,
            });
        }
        for (i, shot) in t.shots.iter().enumerate() {
            sqlx::query(
                "INSERT INTO shots (turnover_id, shot_idx, name, input_pattern, delivery, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&t.turnover_id)
            .bind(i as i64)
            .bind(&shot.name)
            .bind(&shot.input_pattern)
            .bind(DeliveryState::Pending.as_str())
            .bind(ts(t.submitted_at))
            .execute(&mut *tx)
            .await?;
        }
        for batch in chunks.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT INTO chunks (chunk_id, turnover_id, shot, chunk_idx, frame_start, frame_end, state, attempts, updated_at, generation) VALUES ",
            );
            for i in 0..batch.len() {
                let b = i * 9;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 0)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                ));
            }
            let mut q = sqlx::query(&sql);
            for c in batch {
                q = q
                    .bind(&c.chunk_id)
                    .bind(&t.turnover_id)
                    .bind(&c.shot_name)
                    .bind(c.chunk_idx as i64)
                    .bind(c.frames.start() as i64)
                    .bind(c.frames.end() as i64)
                    .bind(ChunkState::Planned.as_str())
                    .bind(0i64)
                    .bind(ts(t.submitted_at));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Inserted::New)
    }

    async fn turnover(&self, turnover_id: &str) -> Result<Option<TurnoverSummary>, CatalogError> {
        let Some(row) = sqlx::query("SELECT * FROM turnovers WHERE turnover_id = $1")
            .bind(turnover_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let (counts, frames) = self.totals(turnover_id).await?;
        Ok(Some(Self::summary(&row, counts, frames)?))
    }

    async fn shots(&self, turnover_id: &str) -> Result<Vec<ShotSummary>, CatalogError> {
        let rows = sqlx::query(
            "SELECT name, input_pattern, delivery, delivery_detail FROM shots WHERE turnover_id = $1 ORDER BY shot_idx, name",
        )
        .bind(turnover_id)
        .fetch_all(&self.pool)
        .await?;
        let counts = self.counts_by_shot(turnover_id).await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("name")?;
                let (chunks, done, total) = counts
                    .iter()
                    .find(|c| c.0 == name)
                    .map(|c| (c.1, c.2, c.3))
                    .unwrap_or_default();
                Ok(ShotSummary {
                    shot: name,
                    input_pattern: row.try_get("input_pattern")?,
                    chunks,
                    frames_done: done,
                    frames_total: total,
                    delivery: parse("shots.delivery", row.try_get("delivery")?)?,
                    delivery_detail: row.try_get("delivery_detail")?,
                })
            })
            .collect()
    }

    async fn chunks(&self, turnover_id: &str) -> Result<Vec<ChunkRow>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM chunks WHERE turnover_id = $1 ORDER BY chunk_idx")
            .bind(turnover_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ChunkRow {
                    chunk_id: row.try_get("chunk_id")?,
                    turnover_id: row.try_get("turnover_id")?,
                    shot: row.try_get("shot")?,
                    chunk_idx: row.try_get::<i64, _>("chunk_idx")? as u32,
                    frame_start: row.try_get::<i64, _>("frame_start")? as u32,
                    frame_end: row.try_get::<i64, _>("frame_end")? as u32,
                    state: parse("chunks.state", row.try_get("state")?)?,
                    generation: row.try_get::<i64, _>("generation")? as u32,
                    attempts: row.try_get::<i64, _>("attempts")? as u32,
                    worker_id: row.try_get("worker_id")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }

    async fn outputs(
        &self,
        turnover_id: &str,
        shot: Option<&str>,
    ) -> Result<Vec<OutputFile>, CatalogError> {
        let rows = sqlx::query(
            "SELECT object_key, size, xxh64 FROM outputs WHERE turnover_id = $1 AND ($2 = '' OR shot = $2) ORDER BY object_key",
        )
        .bind(turnover_id)
        .bind(shot.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutputFile {
                    key: row.try_get("object_key")?,
                    size: u64_of(row, "size")?,
                    xxh64: row.try_get("xxh64")?,
                })
            })
            .collect()
    }

    async fn output_keys_by_shot(
        &self,
        turnover_id: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, CatalogError> {
        let rows = sqlx::query(
            "SELECT shot, object_key FROM outputs WHERE turnover_id = $1 ORDER BY shot, object_key",
        )
        .bind(turnover_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &rows {
            out.entry(row.try_get("shot")?)
                .or_default()
                .push(row.try_get("object_key")?);
        }
        Ok(out)
    }

    async fn list_turnovers(
        &self,
        filter: &TurnoverFilter,
    ) -> Result<Vec<TurnoverSummary>, CatalogError> {
        let rows = sqlx::query(
            "SELECT * FROM turnovers WHERE ($1 = '' OR production = $1) AND ($2 = '' OR state = $2)
             ORDER BY submitted_at DESC, turnover_id LIMIT $3",
        )
        .bind(filter.production.as_deref().unwrap_or(""))
        .bind(filter.state.map(|s| s.as_str()).unwrap_or(""))
        .bind(filter.limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("turnover_id")?;
            let (counts, frames) = self.totals(&id).await?;
            out.push(Self::summary(row, counts, frames)?);
        }
        Ok(out)
    }

    async fn request_json(&self, turnover_id: &str) -> Result<Option<String>, CatalogError> {
        let row = sqlx::query("SELECT request_json FROM turnovers WHERE turnover_id = $1")
            .bind(turnover_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("request_json")).transpose()?)
    }

    async fn backlog(&self) -> Result<Vec<BacklogRow>, CatalogError> {
        let rows = sqlx::query(&format!(
            "SELECT t.turnover_id, t.production, t.priority, t.deadline, t.submitted_at,
               CAST(SUM(CASE WHEN c.state = 'planned' THEN 1 ELSE 0 END) AS BIGINT) AS planned_chunks,
               CAST(SUM(CASE WHEN c.state = 'planned' THEN c.frame_end - c.frame_start + 1 ELSE 0 END) AS BIGINT) AS planned_frames,
               CAST(SUM(CASE WHEN c.state IN {IN_FLIGHT} THEN 1 ELSE 0 END) AS BIGINT) AS in_flight_chunks,
               CAST(SUM(CASE WHEN c.state IN {IN_FLIGHT} THEN c.frame_end - c.frame_start + 1 ELSE 0 END) AS BIGINT) AS in_flight_frames
             FROM turnovers t JOIN chunks c ON c.turnover_id = t.turnover_id
             WHERE t.state = 'running' AND c.state IN {PENDING}
             GROUP BY t.turnover_id, t.production, t.priority, t.deadline, t.submitted_at
             ORDER BY t.submitted_at, t.turnover_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BacklogRow {
                    turnover_id: row.try_get("turnover_id")?,
                    production: row.try_get("production")?,
                    priority: priority_of(row)?,
                    deadline: opt_ts_col(row, "deadline")?,
                    submitted_at: ts_col(row, "submitted_at")?,
                    planned_chunks: u64_of(row, "planned_chunks")?,
                    planned_frames: u64_of(row, "planned_frames")?,
                    in_flight_chunks: u64_of(row, "in_flight_chunks")?,
                    in_flight_frames: u64_of(row, "in_flight_frames")?,
                })
            })
            .collect()
    }

    async fn next_planned(
        &self,
        turnover_id: &str,
        limit: u32,
    ) -> Result<Vec<PlannedChunk>, CatalogError> {
        let rows = sqlx::query(
            "SELECT chunk_id, shot, chunk_idx, frame_start, frame_end, generation FROM chunks
             WHERE turnover_id = $1 AND state = 'planned' ORDER BY chunk_idx LIMIT $2",
        )
        .bind(turnover_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let (start, end) = (
                    row.try_get::<i64, _>("frame_start")?,
                    row.try_get::<i64, _>("frame_end")?,
                );
                let frames = u32::try_from(start)
                    .ok()
                    .zip(u32::try_from(end).ok())
                    .and_then(|(s, e)| FrameRange::new(s, e).ok())
                    .ok_or_else(|| CatalogError::Corrupt {
                        column: "chunks.frame_start/frame_end",
                        value: format!("{start}-{end}"),
                    })?;
                Ok(PlannedChunk {
                    chunk_id: row.try_get("chunk_id")?,
                    shot: row.try_get("shot")?,
                    chunk_idx: row.try_get::<i64, _>("chunk_idx")? as u32,
                    frames,
                    next_generation: row.try_get::<i64, _>("generation")? as u32 + 1,
                })
            })
            .collect()
    }

    async fn mark_published(
        &self,
        chunks: &[(String, u32)],
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        for part in chunks.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "WITH v(chunk_id, generation) AS (VALUES {})
                 UPDATE chunks SET state = 'published', generation = v.generation, updated_at = $1
                 FROM v WHERE chunks.chunk_id = v.chunk_id AND chunks.state = 'planned'",
                value_rows(part.len(), 2, 2)
            );
            let mut q = sqlx::query(&sql).bind(ts(at));
            for (chunk_id, generation) in part {
                q = q.bind(chunk_id).bind(*generation as i64);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies the batch as if one update after the other, in a few statements: the k-th
    /// update of each chunk goes in round k (one `UPDATE … FROM (VALUES …)` per round, as a
    /// chunk's rows are independent of other chunks'), then every output in one upsert.
    async fn apply(&self, updates: &[ChunkUpdate]) -> Result<Vec<Applied>, CatalogError> {
        let mut out: Vec<Applied> = updates
            .iter()
            .map(|u| Applied {
                changed: false,
                state: u.change.state(),
                turnover_id: None,
                shot: None,
                n_frames: 0,
            })
            .collect();
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, u) in updates.iter().enumerate() {
            let k = seen.entry(u.chunk_id.as_str()).or_default();
            if rounds.len() <= *k {
                rounds.push(Vec::new());
            }
            rounds[*k].push(i);
            *k += 1;
        }
        // (turnover, key) → (shot, chunk, file): the last write of a key wins, as it would one
        // statement at a time, and one upsert never touches a row twice.
        let mut outputs: BTreeMap<(String, &str), (String, &str, &OutputFile)> = BTreeMap::new();
        let mut tx = self.pool.begin().await?;
        for round in &rounds {
            for part in round.chunks(ROWS_PER_STATEMENT) {
                // A worker can report before the feeder recorded the publish (publish first,
                // record second): a `planned` chunk whose next generation is the event's is
                // taken as published.
                let sql = format!(
                    "WITH v(chunk_id, state, worker_id, attempts, updated_at, detail, generation) AS (VALUES {})
                     UPDATE chunks SET state = v.state, worker_id = v.worker_id, attempts = v.attempts,
                       updated_at = v.updated_at, detail = v.detail, generation = v.generation
                     FROM v
                     WHERE chunks.chunk_id = v.chunk_id
                       AND ((chunks.generation = v.generation AND chunks.state IN {IN_FLIGHT})
                            OR (chunks.generation + 1 = v.generation AND chunks.state = 'planned'))
                     RETURNING chunks.chunk_id, chunks.turnover_id, chunks.shot, chunks.frame_start, chunks.frame_end",
                    value_rows(part.len(), 7, 1)
                );
                let mut q = sqlx::query(&sql);
                for &i in part {
                    let u = &updates[i];
                    let detail = match &u.change {
                        ChunkChange::Failed { reason } => Some(reason.clone()),
                        _ => None,
                    };
                    q = q
                        .bind(u.chunk_id.clone())
                        .bind(u.change.state().as_str())
                        .bind(u.worker_id.clone())
                        .bind(u.attempts as i64)
                        .bind(ts(u.at))
                        .bind(detail)
                        .bind(u.generation as i64);
                }
                let mut changed: HashMap<String, (String, String, u64)> = HashMap::new();
                for row in q.fetch_all(&mut *tx).await? {
                    let n_frames = (row.try_get::<i64, _>("frame_end")?
                        - row.try_get::<i64, _>("frame_start")?
                        + 1)
                    .max(0) as u64;
                    changed.insert(
                        row.try_get("chunk_id")?,
                        (row.try_get("turnover_id")?, row.try_get("shot")?, n_frames),
                    );
                }
                for &i in part {
                    let u = &updates[i];
                    let Some((turnover_id, shot, n_frames)) = changed.remove(&u.chunk_id) else {
                        continue;
                    };
                    if let ChunkChange::Done { outputs: files } = &u.change {
                        for o in files {
                            outputs.insert(
                                (turnover_id.clone(), o.key.as_str()),
                                (shot.clone(), u.chunk_id.as_str(), o),
                            );
                        }
                    }
                    out[i] = Applied {
                        changed: true,
                        state: u.change.state(),
                        turnover_id: Some(turnover_id),
                        shot: Some(shot),
                        n_frames,
                    };
                }
            }
        }
        let outputs: Vec<_> = outputs.into_iter().collect();
        for part in outputs.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO outputs (turnover_id, shot, chunk_id, object_key, size, xxh64)
                 VALUES {}
                 ON CONFLICT (turnover_id, object_key)
                 DO UPDATE SET size = excluded.size, xxh64 = excluded.xxh64, chunk_id = excluded.chunk_id",
                value_rows(part.len(), 6, 1)
            );
            let mut q = sqlx::query(&sql);
            for ((turnover_id, key), (shot, chunk_id, o)) in part {
                q = q
                    .bind(turnover_id.clone())
                    .bind(shot.clone())
                    .bind(chunk_id.to_string())
                    .bind(key.to_string())
                    .bind(o.size as i64)
                    .bind(o.xxh64.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn state_counts(&self, turnover_id: &str) -> Result<StateCounts, CatalogError> {
        let (c, _) = self.totals(turnover_id).await?;
        let rows = sqlx::query(
            "SELECT delivery, COUNT(*) AS n FROM shots WHERE turnover_id = $1 GROUP BY delivery",
        )
        .bind(turnover_id)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = StateCounts {
            pending: c.pending(),
            done: c.done,
            failed: c.failed,
            cancelled: c.cancelled,
            ..StateCounts::default()
        };
        for row in rows {
            let n = u64_of(&row, "n")?;
            match parse("shots.delivery", row.try_get("delivery")?)? {
                DeliveryState::Pending => counts.deliveries_pending += n,
                DeliveryState::Failed => counts.deliveries_failed += n,
                DeliveryState::Delivered => {}
            }
        }
        Ok(counts)
    }

    async fn set_turnover_state(
        &self,
        turnover_id: &str,
        state: TurnoverState,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        let finished = state.is_terminal().then(|| ts(at));
        sqlx::query(
            "UPDATE turnovers SET state = $1, finished_at = $2, updated_at = $3 WHERE turnover_id = $4 AND state <> 'cancelled'",
        )
        .bind(state.as_str())
        .bind(finished)
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn has_pending_chunks(&self, turnover_id: &str) -> Result<bool, CatalogError> {
        // `state` first: probes `chunks_by_state` once per pending state, however many of the
        // turnover's chunks are final already.
        let row = sqlx::query(&format!(
            "SELECT chunk_id FROM chunks WHERE state IN {PENDING} AND turnover_id = $1 LIMIT 1"
        ))
        .bind(turnover_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn deliveries_due(
        &self,
        turnover_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, CatalogError> {
        let rows = sqlx::query(&format!(
            "SELECT s.turnover_id, s.name FROM shots s JOIN turnovers t ON t.turnover_id = s.turnover_id
             WHERE t.state = 'running' AND s.delivery = 'pending' AND ($1 = '' OR s.turnover_id = $1)
               AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.turnover_id = s.turnover_id
                               AND c.shot = s.name AND c.state IN {PENDING})
             ORDER BY s.turnover_id, s.shot_idx"
        ))
        .bind(turnover_id.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("turnover_id")?, r.try_get("name")?)))
            .collect()
    }

    async fn set_delivery(
        &self,
        turnover_id: &str,
        shot: &str,
        state: DeliveryState,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE shots SET delivery = $1, delivery_detail = $2, updated_at = $3 WHERE turnover_id = $4 AND name = $5",
        )
        .bind(state.as_str())
        .bind(detail)
        .bind(ts(at))
        .bind(turnover_id)
        .bind(shot)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn running_turnovers(&self) -> Result<Vec<String>, CatalogError> {
        let rows = sqlx::query(
            "SELECT turnover_id FROM turnovers WHERE state = 'running' ORDER BY submitted_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("turnover_id")?)).collect()
    }

    async fn cancel(
        &self,
        turnover_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(
            "UPDATE turnovers SET state = 'cancelled', finished_at = COALESCE(finished_at, $1), updated_at = $1
             WHERE turnover_id = $2",
        )
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&mut *tx)
        .await?;
        if found.rows_affected() == 0 {
            return Ok(None);
        }
        let n = sqlx::query(&format!(
            "UPDATE chunks SET state = 'cancelled', detail = 'cancelled by the user', updated_at = $1
             WHERE turnover_id = $2 AND state IN {PENDING}"
        ))
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(n.rows_affected()))
    }

    async fn retry_failed(
        &self,
        turnover_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT state FROM turnovers WHERE turnover_id = $1")
            .bind(turnover_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
        sqlx::query(
            "UPDATE shots SET delivery = 'pending', delivery_detail = NULL, updated_at = $1
             WHERE turnover_id = $2 AND (delivery = 'failed' OR name IN
               (SELECT shot FROM chunks WHERE turnover_id = $2 AND state = 'failed'))",
        )
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE chunks SET state = 'planned', detail = NULL, worker_id = NULL, updated_at = $1
             WHERE turnover_id = $2 AND state = 'failed'",
        )
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE turnovers SET state = 'running', finished_at = NULL, updated_at = $1
             WHERE turnover_id = $2 AND state <> 'cancelled'
               AND EXISTS (SELECT 1 FROM shots WHERE turnover_id = $2 AND delivery = 'pending')",
        )
        .bind(ts(at))
        .bind(turnover_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(n.rows_affected()))
    }

    async fn ping(&self) -> Result<(), CatalogError> {
        sqlx::query("SELECT 1 AS one").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn upsert_clips(
        &self,
        clips: &[ClipRecord],
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        for c in clips {
            upsert_clip(&mut tx, c, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_ingest(
        &self,
        ingest: &NewIngest,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        let ignored = serde_json::to_string(&ingest.ignored).expect("keys serialise");
        let mhl = ingest.mhl.as_ref().map(|m| m.to_string());
        sqlx::query(
            "INSERT INTO ingests (ingest_id, location, state, clips_total, ignored_json, mhl_json, created_at, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&ingest.ingest_id)
        .bind(&ingest.location)
        .bind(
            if ingest.clip_keys.is_empty() {
                IngestState::Completed
            } else {
                IngestState::Running
            }
            .as_str(),
        )
        .bind(ingest.clip_keys.len() as i64)
        .bind(ignored)
        .bind(mhl)
        .bind(ts(at))
        .bind(ingest.clip_keys.is_empty().then(|| ts(at)))
        .execute(&mut *tx)
        .await?;
        for key in &ingest.clip_keys {
            sqlx::query(
                "INSERT INTO ingest_clips (ingest_id, clip_key, state, updated_at) VALUES ($1, $2, 'pending', $3)",
            )
            .bind(&ingest.ingest_id)
            .bind(key)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_ingest_result(
        &self,
        result: &IngestResult,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let (state, detail, frames, bad) = match &result.outcome {
            IngestOutcome::Done {
                record,
                thumbnail_error,
            } => {
                let bad: Vec<IngestBadFrame> = record
                    .frames
                    .bad
                    .iter()
                    .map(|b| IngestBadFrame {
                        clip: record.name.clone(),
                        frame: b.frame,
                        key: b.key.clone(),
                        reason: b.reason.clone(),
                    })
                    .collect();
                (
                    "done",
                    thumbnail_error.clone(),
                    Some(record.frames.count as i64),
                    Some(serde_json::to_string(&bad).expect("bad frames serialise")),
                )
            }
            IngestOutcome::Failed { reason } => ("failed", Some(reason.clone()), None, None),
        };
        let changed = sqlx::query(
            "UPDATE ingest_clips SET state = $1, detail = $2, frames = $3, bad_json = $4,
                worker_id = $5, updated_at = $6
             WHERE ingest_id = $7 AND clip_key = $8 AND state = 'pending'",
        )
        .bind(state)
        .bind(detail)
        .bind(frames)
        .bind(bad)
        .bind(&result.worker_id)
        .bind(ts(at))
        .bind(&result.ingest_id)
        .bind(&result.clip_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !changed {
            return Ok(false);
        }
        if let IngestOutcome::Done { record, .. } = &result.outcome {
            upsert_clip(&mut tx, record, at).await?;
        }
        let row = sqlx::query(
            "SELECT CAST(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending,
                    CAST(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed
             FROM ingest_clips WHERE ingest_id = $1",
        )
        .bind(&result.ingest_id)
        .fetch_one(&mut *tx)
        .await?;
        let pending: i64 = row.try_get::<Option<i64>, _>("pending")?.unwrap_or(0);
        let failed: i64 = row.try_get::<Option<i64>, _>("failed")?.unwrap_or(0);
        if pending == 0 {
            let end = if failed > 0 {
                IngestState::CompletedWithFailures
            } else {
                IngestState::Completed
            };
            sqlx::query("UPDATE ingests SET state = $1, finished_at = $2 WHERE ingest_id = $3")
                .bind(end.as_str())
                .bind(ts(at))
                .bind(&result.ingest_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn ingest(&self, ingest_id: &str) -> Result<Option<IngestStatus>, CatalogError> {
        let Some(row) = sqlx::query(
            "SELECT ingest_id, location, state, clips_total, ignored_json, mhl_json, created_at, finished_at
             FROM ingests WHERE ingest_id = $1",
        )
        .bind(ingest_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let state: String = row.try_get("state")?;
        let state = IngestState::parse(&state).ok_or(CatalogError::Corrupt {
            column: "ingests.state",
            value: state,
        })?;
        let ignored: String = row.try_get("ignored_json")?;
        let ignored: Vec<String> =
            serde_json::from_str(&ignored).map_err(|e| CatalogError::Corrupt {
                column: "ingests.ignored_json",
                value: e.to_string(),
            })?;
        let mhl: Option<String> = row.try_get("mhl_json")?;
        let mhl = mhl
            .map(|m| serde_json::from_str(&m))
            .transpose()
            .map_err(|e| CatalogError::Corrupt {
                column: "ingests.mhl_json",
                value: e.to_string(),
            })?;
        let created_at: String = row.try_get("created_at")?;
        let finished_at: Option<String> = row.try_get("finished_at")?;
        let mut status = IngestStatus {
            ingest_id: row.try_get("ingest_id")?,
            location: row.try_get("location")?,
            state,
            created_at: parse_ts("ingests.created_at", &created_at)?,
            finished_at: finished_at
                .map(|f| parse_ts("ingests.finished_at", &f))
                .transpose()?,
            clips_total: row.try_get::<i64, _>("clips_total")? as u64,
            clips_done: 0,
            clips_failed: 0,
            frames: 0,
            bad_frames: Vec::new(),
            failures: Vec::new(),
            thumbnail_errors: Vec::new(),
            ignored: ignored.len() as u64,
            mhl,
        };
        let clips = sqlx::query(
            "SELECT clip_key, state, detail, frames, bad_json FROM ingest_clips
             WHERE ingest_id = $1 AND state <> 'pending' ORDER BY clip_key",
        )
        .bind(ingest_id)
        .fetch_all(&self.pool)
        .await?;
        for c in clips {
            let key: String = c.try_get("clip_key")?;
            let state: String = c.try_get("state")?;
            let detail: Option<String> = c.try_get("detail")?;
            if state == "failed" {
                status.clips_failed += 1;
                status.failures.push(IngestClipProblem {
                    clip: key,
                    reason: detail.unwrap_or_default(),
                });
                continue;
            }
            status.clips_done += 1;
            status.frames += c.try_get::<Option<i64>, _>("frames")?.unwrap_or(0) as u64;
            if let Some(bad) = c.try_get::<Option<String>, _>("bad_json")? {
                let bad: Vec<IngestBadFrame> =
                    serde_json::from_str(&bad).map_err(|e| CatalogError::Corrupt {
                        column: "ingest_clips.bad_json",
                        value: e.to_string(),
                    })?;
                status.bad_frames.extend(bad);
            }
            if let Some(reason) = detail {
                status
                    .thumbnail_errors
                    .push(IngestClipProblem { clip: key, reason });
            }
        }
        Ok(Some(status))
    }

    async fn clip(&self, location: &str, key: &str) -> Result<Option<ClipRecord>, CatalogError> {
        let row =
            sqlx::query("SELECT record_json FROM clips WHERE location = $1 AND clip_key = $2")
                .bind(location)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| clip_of(&r)).transpose()
    }

    async fn search_clips(&self, q: &ClipQuery) -> Result<Vec<ClipHit>, CatalogError> {
        let mut sql = String::from("SELECT record_json FROM clips WHERE 1 = 1");
        let mut binds: Vec<Bind> = Vec::new();
        let param = |binds: &mut Vec<Bind>, b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        if let Some(l) = &q.location {
            let p = param(&mut binds, Bind::Text(l.clone()));
            sql.push_str(&format!(" AND location = {p}"));
        }
        if let Some(r) = &q.reel {
            let p = param(&mut binds, Bind::Text(r.to_lowercase()));
            sql.push_str(&format!(" AND reel_lc = {p}"));
        }
        if let Some(c) = &q.camera {
            let p = param(&mut binds, Bind::Text(like(c)));
            sql.push_str(&format!(" AND camera_text LIKE {p} ESCAPE '\\'"));
        }
        for word in q.text.as_deref().unwrap_or("").split_whitespace() {
            let p = param(&mut binds, Bind::Text(like(word)));
            sql.push_str(&format!(" AND search_text LIKE {p} ESCAPE '\\'"));
        }
        if let Some(tc) = &q.timecode {
            let p = param(&mut binds, Bind::Int(tc.label_key()));
            sql.push_str(&format!(
                " AND tc_start_key IS NOT NULL AND tc_end_key IS NOT NULL AND (
                    (tc_start_key <= {p} AND tc_end_key >= {p})
                    OR (tc_end_key < tc_start_key AND (tc_start_key <= {p} OR tc_end_key >= {p})))"
            ));
        }
        let limit = if q.limit == 0 { 100 } else { q.limit };
        sql.push_str(&format!(
            " ORDER BY CASE WHEN reel_lc IS NULL THEN 1 ELSE 0 END, reel_lc,
               CASE WHEN tc_start_key IS NULL THEN 1 ELSE 0 END, tc_start_key, location, clip_key
             LIMIT {limit}"
        ));
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = match b {
                Bind::Text(s) => query.bind(s),
                Bind::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut hits = Vec::with_capacity(rows.len());
        for r in &rows {
            let clip = clip_of(r)?;
            let at = match &q.timecode {
                // The label-key range is coarse; the clip's own rate decides.
                Some(tc) => match clip.frame_at(tc) {
                    Some(at) => Some(at),
                    None => continue,
                },
                None => None,
            };
            hits.push(ClipHit { clip, at });
        }
        Ok(hits)
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

/// `%word%` with LIKE's wildcards escaped, lower-cased (the columns are lower-case).
fn like(word: &str) -> String {
    let mut s = String::from("%");
    for c in word.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

fn camera_text(c: &ClipRecord) -> String {
    [&c.camera.make, &c.camera.model, &c.camera.serial]
        .iter()
        .filter_map(|v| v.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn search_text(c: &ClipRecord) -> String {
    let mut parts: Vec<&str> = vec![&c.name, &c.key, &c.location, c.format.name()];
    for v in [
        &c.reel,
        &c.camera.make,
        &c.camera.model,
        &c.camera.serial,
        &c.lens.model,
        &c.colour.guess,
    ] {
        parts.extend(v.as_deref());
    }
    parts.extend(c.vendor.values().filter_map(|v| v.as_str()));
    parts.join(" ").to_lowercase()
}

fn clip_of(row: &AnyRow) -> Result<ClipRecord, CatalogError> {
    let json: String = row.try_get("record_json")?;
    serde_json::from_str(&json).map_err(|e| CatalogError::Corrupt {
        column: "clips.record_json",
        value: format!("{e}: {}", json.chars().take(80).collect::<String>()),
    })
}
