//! `Retrying<Q>`: retries any `WorkQueue`'s retryable errors with capped exponential backoff,
//! and re-creates consumers whose `next()` fails retryably, so a worker or dispatcher loop
//! survives a broker restart without knowing. Adapters stay free of retry loops.

use crate::{Consumer, Delivery, QueueDepth, QueueError, QueueSpec, WorkQueue};
use async_trait::async_trait;
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry; doubled after each failure.
    pub initial_backoff: Duration,
    /// Cap on a single wait.
    pub max_backoff: Duration,
    /// Give up (return the last error) once this much time has passed since the first failure.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    /// Long enough to ride out a broker restart (≈ 6 s for RabbitMQ 3.10) with room to spare.
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_total: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th failure (1-based): initial · 2^(attempt-1), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[derive(Clone)]
struct Metrics {
    retries: IntCounterVec,
    reconnects: IntCounter,
}

impl Metrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let retries = IntCounterVec::new(
            Opts::new(
                "platefarm_queue_retries_total",
                "Queue operations retried after a retryable error, by operation.",
            ),
            &["op"],
        )?;
        let reconnects = IntCounter::new(
            "platefarm_queue_reconnects_total",
            "Consumers re-created after their delivery stream failed retryably.",
        )?;
        // Every `op` starts at 0, so a rate over one that never retried is 0, not absent.
        for op in [
            "declare",
            "publish",
            "publish_batch",
            "consume",
            "depth",
            "ping",
        ] {
            retries.with_label_values(&[op]);
        }
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(reconnects.clone()))?;
        Ok(Metrics {
            retries,
            reconnects,
        })
    }
}

/// A `WorkQueue` that retries its inner queue's retryable errors.
pub struct Retrying<Q: WorkQueue> {
    inner: Arc<Q>,
    policy: RetryPolicy,
    metrics: Metrics,
}

impl<Q: WorkQueue> Retrying<Q> {
    /// Wraps `inner`; its counters are registered into `registry` (once per registry).
    pub fn new(
        inner: Q,
        policy: RetryPolicy,
        registry: &Registry,
    ) -> Result<Self, prometheus::Error> {
        Ok(Retrying {
            inner: Arc::new(inner),
            policy,
            metrics: Metrics::register(registry)?,
        })
    }

    pub fn inner(&self) -> &Q {
        &self.inner
    }
}

/// Runs `op` until it succeeds, fails permanently, or the policy's total time is spent.
async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    metrics: &Metrics,
    op_name: &str,
    mut op: F,
) -> Result<T, QueueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, QueueError>>,
{
    let mut first_failure: Option<Instant> = None;
    let mut attempt = 0u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() => {
                let since = *first_failure.get_or_insert_with(Instant::now);
                attempt += 1;
                let wait = policy.backoff(attempt);
                if since.elapsed() + wait > policy.max_total {
                    tracing::warn!(op = op_name, attempt, error = %e, "queue retries exhausted");
                    return Err(e);
                }
                tracing::debug!(op = op_name, attempt, ?wait, error = %e, "retrying queue operation");
                metrics.retries.with_label_values(&[op_name]).inc();
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[async_trait]
impl<Q: WorkQueue> WorkQueue for Retrying<Q> {
    async fn declare(&self, spec: &QueueSpec) -> Result<(), QueueError> {
        with_retries(&self.policy, &self.metrics, "declare", || {
            self.inner.declare(spec)
        })
        .await
    }

    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        with_retries(&self.policy, &self.metrics, "publish", || {
            self.inner.publish(queue, payload.clone())
        })
        .await
    }

    /// A retry republishes the whole batch: messages confirmed by the failed attempt are
    /// stored twice (at-least-once; consumers are idempotent).
    async fn publish_batch(&self, queue: &str, payloads: Vec<Vec<u8>>) -> Result<(), QueueError> {
        with_retries(&self.policy, &self.metrics, "publish_batch", || {
            self.inner.publish_batch(queue, payloads.clone())
        })
        .await
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        let inner = with_retries(&self.policy, &self.metrics, "consume", || {
            self.inner.consume(queue, prefetch)
        })
        .await?;
        Ok(Box::new(RetryingConsumer {
            queue: self.inner.clone(),
            name: queue.to_string(),
            prefetch,
            policy: self.policy,
            metrics: self.metrics.clone(),
            inner: Some(inner),
            cancelled: false,
        }))
    }

    async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        with_retries(&self.policy, &self.metrics, "depth", || {
            self.inner.depth(queue)
        })
        .await
    }

    async fn ping(&self) -> Result<(), QueueError> {
        with_retries(&self.policy, &self.metrics, "ping", || self.inner.ping()).await
    }
}

/// Re-consumes when the stream fails retryably. Deliveries handed out before the failure
/// belong to the dead stream: settling them returns `Unavailable` and the broker redelivers.
struct RetryingConsumer<Q: WorkQueue> {
    queue: Arc<Q>,
    name: String,
    prefetch: u16,
    policy: RetryPolicy,
    metrics: Metrics,
    /// `None` between a failed stream and its replacement.
    inner: Option<Box<dyn Consumer>>,
    cancelled: bool,
}

#[async_trait]
impl<Q: WorkQueue> Consumer for RetryingConsumer<Q> {
    async fn next(&mut self) -> Result<Delivery, QueueError> {
        loop {
            if let Some(inner) = self.inner.as_mut() {
                match inner.next().await {
                    // A dead stream after cancel: the broker requeues what it had pushed.
                    Err(e) if e.is_retryable() && self.cancelled => {
                        return Err(QueueError::Cancelled)
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(queue = %self.name, error = %e, "consumer stream failed, re-consuming");
                        self.inner = None;
                    }
                    other => return other,
                }
            }
            if self.cancelled {
                return Err(QueueError::Cancelled);
            }
            let (queue, name, prefetch) = (&self.queue, &self.name, self.prefetch);
            let fresh = with_retries(&self.policy, &self.metrics, "consume", || {
                queue.consume(name, prefetch)
            })
            .await?;
            self.metrics.reconnects.inc();
            self.inner = Some(fresh);
        }
    }

    async fn cancel(&mut self) -> Result<(), QueueError> {
        self.cancelled = true;
        match self.inner.as_mut() {
            Some(inner) => inner.cancel().await,
            // No live stream: nothing will be pushed, so cancelling is already done.
            None => Ok(()),
        }
    }
}
