//! The SQL catalog passes the conformance suite on SQLite (file and memory) and on the real
//! PostgreSQL server (127.0.0.1:5432, database `test`, or `PLATEFARM_TEST_POSTGRES`).

use platefarm_catalog::{conformance, SqlCatalog};

fn run_id() -> String {
    format!(
        "conf-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn sqlite_file_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let cat = SqlCatalog::sqlite_file(&dir.path().join("catalog.db"))
        .await
        .unwrap();
    conformance::run_all(&cat, &run_id()).await;
}

#[tokio::test]
async fn sqlite_memory_conforms() {
    let cat = SqlCatalog::connect("sqlite::memory:").await.unwrap();
    conformance::run_all(&cat, &run_id()).await;
}

#[tokio::test]
async fn postgres_conforms() {
    let db = platefarm_testkit::postgres::Database::create().await;
    let cat = SqlCatalog::connect(db.url()).await.unwrap();
    conformance::run_all(&cat, &run_id()).await;
    // A second dispatcher starting on the same database finds it migrated.
    SqlCatalog::connect(db.url()).await.unwrap();
    drop(cat);
    db.drop_now().await;
}

/// A catalog written by the first release (no `schema_migrations`, `queued` chunks) is migrated
/// in place at start, keeping its rows.
#[tokio::test]
async fn migrates_a_first_release_catalog() {
    use platefarm_catalog::Catalog;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    for stmt in [
        "CREATE TABLE turnovers (turnover_id TEXT PRIMARY KEY, production TEXT NOT NULL, priority BIGINT NOT NULL, deadline TEXT, state TEXT NOT NULL, submitted_at TEXT NOT NULL, finished_at TEXT, request_json TEXT NOT NULL)",
        "CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, turnover_id TEXT NOT NULL REFERENCES turnovers(turnover_id), shot TEXT NOT NULL, chunk_idx BIGINT NOT NULL, frame_start BIGINT NOT NULL, frame_end BIGINT NOT NULL, state TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, worker_id TEXT, detail TEXT, updated_at TEXT)",
        "INSERT INTO turnovers VALUES ('TO-old', 'p', 50, NULL, 'running', '2026-01-01T00:00:00Z', NULL, '{}')",
        "INSERT INTO chunks VALUES ('TO-old:A:1-8', 'TO-old', 'A', 0, 1, 8, 'queued', 1, NULL, NULL, NULL)",
    ] {
        sqlx::query(stmt).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let cat = SqlCatalog::connect(&format!("sqlite:{}", path.display()))
        .await
        .expect("migrates");
    let rows = cat.chunks("TO-old").await.unwrap();
    assert_eq!(rows[0].state, platefarm_core::ChunkState::Published);
    assert_eq!(cat.shots("TO-old").await.unwrap().len(), 1);
    drop(cat);
    SqlCatalog::connect(&format!("sqlite:{}", path.display()))
        .await
        .expect("migrations are idempotent");
}
