//! Schema migrations, embedded in the binary and run at start: each version is a list of
//! portable statements (SQLite and PostgreSQL), applied once in its own transaction and recorded
//! in `schema_migrations`. Version 1 is the schema of the first release (`IF NOT EXISTS`, so a
//! catalog made before migrations existed adopts it); later versions only add.

use crate::CatalogError;
use sqlx::AnyPool;
use sqlx::Row;

pub(crate) const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
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
        ],
    ),
    (
        2,
        &[
            // Chunks: a generation per publish; `queued` of v1 became `published`.
            "ALTER TABLE chunks ADD COLUMN generation BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE turnovers ADD COLUMN updated_at TEXT",
            "UPDATE chunks SET state = 'published' WHERE state = 'queued'",
            "CREATE INDEX chunks_by_state ON chunks (state, turnover_id, chunk_idx)",
            "CREATE INDEX turnovers_by_state ON turnovers (state, submitted_at)",
            "CREATE TABLE shots (
                turnover_id TEXT NOT NULL REFERENCES turnovers(turnover_id),
                shot_idx BIGINT NOT NULL,
                name TEXT NOT NULL,
                input_pattern TEXT NOT NULL,
                delivery TEXT NOT NULL,
                delivery_detail TEXT,
                updated_at TEXT,
                PRIMARY KEY (turnover_id, name)
            )",
            // Shots of v1 turnovers were delivered by the v1 dispatcher.
            "INSERT INTO shots (turnover_id, shot_idx, name, input_pattern, delivery)
             SELECT DISTINCT turnover_id, 0, shot, '', 'delivered' FROM chunks",
            "CREATE TABLE outputs (
                turnover_id TEXT NOT NULL REFERENCES turnovers(turnover_id),
                shot TEXT NOT NULL,
                chunk_id TEXT NOT NULL,
                object_key TEXT NOT NULL,
                size BIGINT NOT NULL,
                xxh64 TEXT NOT NULL,
                PRIMARY KEY (turnover_id, object_key)
            )",
        ],
    ),
    (
        3,
        &[
            // Ingested clips: the record as JSON plus the columns search filters on.
            // `tc_*_key` are timecode labels as HHMMSS*1000+FF (rate-independent order).
            "CREATE TABLE clips (
                location TEXT NOT NULL,
                clip_key TEXT NOT NULL,
                name TEXT NOT NULL,
                reel TEXT,
                reel_lc TEXT,
                camera_text TEXT NOT NULL,
                format TEXT NOT NULL,
                tc_start_key BIGINT,
                tc_end_key BIGINT,
                frame_first BIGINT NOT NULL,
                frame_last BIGINT NOT NULL,
                search_text TEXT NOT NULL,
                record_json TEXT NOT NULL,
                ingested_at TEXT NOT NULL,
                PRIMARY KEY (location, clip_key)
            )",
            "CREATE INDEX clips_by_reel ON clips (reel_lc, tc_start_key)",
            "CREATE INDEX clips_by_name ON clips (name)",
        ],
    ),
    (
        4,
        &[
            // Ingests run on the workers: one row per ingest, one per clip handed out.
            "CREATE TABLE ingests (
                ingest_id TEXT PRIMARY KEY,
                location TEXT NOT NULL,
                state TEXT NOT NULL,
                clips_total BIGINT NOT NULL,
                ignored_json TEXT NOT NULL,
                mhl_json TEXT,
                created_at TEXT NOT NULL,
                finished_at TEXT
            )",
            "CREATE TABLE ingest_clips (
                ingest_id TEXT NOT NULL REFERENCES ingests(ingest_id),
                clip_key TEXT NOT NULL,
                state TEXT NOT NULL,
                detail TEXT,
                frames BIGINT,
                bad_json TEXT,
                worker_id TEXT,
                updated_at TEXT,
                PRIMARY KEY (ingest_id, clip_key)
            )",
        ],
    ),
];

pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0)
}

/// Applies every migration newer than the catalog's version. On PostgreSQL an advisory lock
/// serialises dispatchers starting at once.
pub(crate) async fn run(pool: &AnyPool, postgres: bool) -> Result<(), CatalogError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    for (version, statements) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        if postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7270727)")
                .execute(&mut *tx)
                .await?;
        }
        let current: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM schema_migrations",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
        if current > latest() {
            return Err(CatalogError::SchemaTooNew {
                found: current,
                known: latest(),
            });
        }
        if current >= *version {
            continue;
        }
        for stmt in *statements {
            sqlx::query(stmt)
                .execute(&mut *tx)
                .await
                .map_err(|source| CatalogError::Migration {
                    version: *version,
                    source,
                })?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "catalog migrated");
    }
    Ok(())
}
