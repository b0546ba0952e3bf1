//! `Retrying<S>`: retries an inner store's retryable errors (outages, throttling, timeouts)
//! with capped exponential backoff inside a total time budget, and counts retries and errors.
//!
//! Retries live here rather than in each engine so that one policy, one set of metrics and one
//! test cover every store; engines (S3) keep their own SDK retries off.

use crate::{ObjectMeta, ObjectStore, StoreError};
use async_trait::async_trait;
use prometheus::{IntCounterVec, Opts, Registry};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long and how often to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// The wait doubles after each retry up to this cap.
    pub max_backoff: Duration,
    /// No retry starts once its wait would end later than this after the first attempt; the
    /// last error is returned instead.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    /// Rides out a broker restart or a short S3 brown-out (about a minute) without holding a
    /// worker forever: 100 ms, 200 ms, … capped at 5 s, for at most 60 s.
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            total_budget: Duration::from_secs(60),
        }
    }
}

/// The wrapper's counters, registered once per registry and shared by every wrapped store.
#[derive(Clone, Debug)]
pub struct RetryMetrics {
    /// `platefarm_store_retries_total{op}`: retries started (not first attempts).
    retries: IntCounterVec,
    /// `platefarm_store_errors_total{op,kind}`: failed attempts, by `StoreError::kind`.
    errors: IntCounterVec,
}

impl RetryMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let retries = IntCounterVec::new(
            Opts::new(
                "platefarm_store_retries_total",
                "Object-store operations retried after a retryable error",
            ),
            &["op"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "platefarm_store_errors_total",
                "Failed object-store attempts, by operation and error kind",
            ),
            &["op", "kind"],
        )?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        Ok(RetryMetrics { retries, errors })
    }

    pub fn retries(&self, op: &str) -> u64 {
        self.retries.with_label_values(&[op]).get()
    }

    pub fn errors(&self, op: &str, kind: &str) -> u64 {
        self.errors.with_label_values(&[op, kind]).get()
    }
}

/// An `ObjectStore` that retries `inner`'s retryable errors.
pub struct Retrying<S> {
    inner: S,
    policy: RetryPolicy,
    metrics: RetryMetrics,
}

impl<S: ObjectStore> Retrying<S> {
    pub fn new(inner: S, policy: RetryPolicy, metrics: RetryMetrics) -> Self {
        Retrying {
            inner,
            policy,
            metrics,
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn run<T, F, Fut>(&self, op: &'static str, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let started = Instant::now();
        let mut backoff = self.policy.initial_backoff;
        loop {
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            // A missing object is an answer, not a failure of the store.
            if !matches!(err, StoreError::NotFound { .. }) {
                self.metrics
                    .errors
                    .with_label_values(&[op, err.kind()])
                    .inc();
            }
            if !err.is_retryable() || started.elapsed() + backoff > self.policy.total_budget {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
            self.metrics.retries.with_label_values(&[op]).inc();
            backoff = (backoff * 2).min(self.policy.max_backoff);
        }
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Retrying<S> {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        self.run("get", || self.inner.get(key, max_bytes)).await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        // The inner store consumes its buffer, so each attempt gets a copy; a memcpy is cheap
        // next to an upload.
        self.run("put", || self.inner.put(key, bytes.clone())).await
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.run("head", || self.inner.head(key)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.run("list", || self.inner.list(prefix)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run("delete", || self.inner.delete(key)).await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
