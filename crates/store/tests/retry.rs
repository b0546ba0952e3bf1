//! `Retrying` against a store of our own that fails on purpose: backoff timing (on tokio's
//! paused clock), the time budget, permanent errors passed straight through, and the counters.

use async_trait::async_trait;
use platefarm_store::{
    LocalStore, ObjectMeta, ObjectStore, RetryMetrics, RetryPolicy, Retrying, StoreError,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A local store whose first `failures` calls fail with `error()`; records when each call came.
struct Flaky {
    inner: LocalStore,
    failures: u32,
    calls: AtomicU32,
    error: fn() -> StoreError,
    call_times: Mutex<Vec<Instant>>,
}

impl Flaky {
    fn new(dir: &std::path::Path, failures: u32, error: fn() -> StoreError) -> Self {
        Flaky {
            inner: LocalStore::open(dir).unwrap(),
            failures,
            calls: AtomicU32::new(0),
            error,
            call_times: Mutex::new(Vec::new()),
        }
    }

    fn fail_now(&self) -> Result<(), StoreError> {
        self.call_times.lock().unwrap().push(Instant::now());
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
            Err((self.error)())
        } else {
            Ok(())
        }
    }

    /// Offsets of each call from the first, in milliseconds.
    fn call_offsets_ms(&self) -> Vec<u128> {
        let times = self.call_times.lock().unwrap();
        times.iter().map(|t| (*t - times[0]).as_millis()).collect()
    }
}

#[async_trait]
impl ObjectStore for Flaky {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        self.fail_now()?;
        self.inner.get(key, max_bytes).await
    }
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.fail_now()?;
        self.inner.put(key, bytes).await
    }
    async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.fail_now()?;
        self.inner.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.fail_now()?;
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.fail_now()?;
        self.inner.delete(key).await
    }
    fn describe(&self) -> String {
        "flaky".into()
    }
}

fn outage() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

fn denied() -> StoreError {
    StoreError::Denied {
        store: "s3://plates".into(),
        reason: "InvalidAccessKeyId".into(),
    }
}

fn policy(initial_ms: u64, max_ms: u64, budget_ms: u64) -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(initial_ms),
        max_backoff: Duration::from_millis(max_ms),
        total_budget: Duration::from_millis(budget_ms),
    }
}

fn wrap(flaky: Flaky, policy: RetryPolicy) -> (Retrying<Flaky>, RetryMetrics) {
    let metrics = RetryMetrics::register(&prometheus::Registry::new()).unwrap();
    (Retrying::new(flaky, policy, metrics.clone()), metrics)
}

#[tokio::test(start_paused = true)]
async fn an_outage_is_ridden_out_with_doubling_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (store, metrics) = wrap(
        Flaky::new(dir.path(), 3, outage),
        policy(100, 10_000, 60_000),
    );
    store
        .put("a/b", b"plate".to_vec())
        .await
        .expect("put after the outage");
    assert_eq!(store.inner().call_offsets_ms(), [0, 100, 300, 700]);
    assert_eq!(metrics.retries("put"), 3);
    assert_eq!(metrics.errors("put", "unavailable"), 3);
    assert_eq!(store.get("a/b", 100).await.unwrap(), b"plate");
}

#[tokio::test(start_paused = true)]
async fn backoff_is_capped_and_the_budget_ends_the_retries() {
    let dir = tempfile::tempdir().unwrap();
    let (store, metrics) = wrap(
        Flaky::new(dir.path(), u32::MAX, outage),
        policy(100, 300, 1_000),
    );
    let started = Instant::now();
    let err = store.get("a/b", 10).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    // 100, 200, 300 (capped), 300; a fifth wait would end at 1 200 ms > the 1 000 ms budget.
    assert_eq!(store.inner().call_offsets_ms(), [0, 100, 300, 600, 900]);
    assert_eq!(started.elapsed(), Duration::from_millis(900));
    assert_eq!(metrics.retries("get"), 4);
    assert_eq!(metrics.errors("get", "unavailable"), 5);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_returned_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, metrics) = wrap(
        Flaky::new(dir.path(), 1, denied),
        policy(100, 1_000, 60_000),
    );
    let err = store.head("a/b").await.unwrap_err();
    assert!(matches!(err, StoreError::Denied { .. }), "{err}");
    assert!(err.to_string().contains("s3://plates"), "{err}");
    assert_eq!(store.inner().call_offsets_ms(), [0]);
    assert_eq!(metrics.retries("head"), 0);
    assert_eq!(metrics.errors("head", "denied"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_missing_object_is_an_answer_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (store, metrics) = wrap(Flaky::new(dir.path(), 0, outage), RetryPolicy::default());
    assert!(matches!(
        store.get("nope", 10).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.inner().call_offsets_ms(), [0]);
    assert_eq!(metrics.errors("get", "not_found"), 0);
    assert_eq!(metrics.retries("get"), 0);
}

#[tokio::test]
async fn the_wrapper_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = wrap(Flaky::new(dir.path(), 0, outage), RetryPolicy::default());
    platefarm_store::conformance::run_all(&store).await;
}

#[test]
fn counters_register_once_per_registry() {
    let registry = prometheus::Registry::new();
    RetryMetrics::register(&registry).unwrap();
    assert!(RetryMetrics::register(&registry).is_err());
}
