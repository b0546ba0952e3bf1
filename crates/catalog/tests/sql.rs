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
    let url = std::env::var("PLATEFARM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let cat = SqlCatalog::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is needed (scripts/test.sh starts it): {e}")
    });
    conformance::run_all(&cat, &run_id()).await;
}
