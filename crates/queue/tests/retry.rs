//! `Retrying`'s backoff, give-up and re-consume logic, in paused time, against `MemoryQueue`
//! behind a fake of our own trait that fails on command (not a broker mock).

use async_trait::async_trait;
use platefarm_queue::{
    conformance, Consumer, Delivery, MemoryQueue, QueueDepth, QueueError, QueueSpec, RetryPolicy,
    Retrying, WorkQueue,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// MemoryQueue whose next `fail_ops` operations (and whose consumers' next `fail_nexts`
/// `next()` calls) fail with the given error; records when each operation was attempted.
#[derive(Clone)]
struct Flaky {
    inner: MemoryQueue,
    fail_ops: Arc<AtomicU32>,
    fail_nexts: Arc<AtomicU32>,
    error: fn() -> QueueError,
    attempts: Arc<Mutex<Vec<Instant>>>,
    consumes: Arc<AtomicU32>,
}

fn unavailable() -> QueueError {
    QueueError::Unavailable("connection reset".into())
}

impl Flaky {
    fn new(fail_ops: u32, error: fn() -> QueueError) -> Self {
        Flaky {
            inner: MemoryQueue::new(),
            fail_ops: Arc::new(AtomicU32::new(fail_ops)),
            fail_nexts: Arc::new(AtomicU32::new(0)),
            error,
            attempts: Arc::new(Mutex::new(Vec::new())),
            consumes: Arc::new(AtomicU32::new(0)),
        }
    }

    fn gate(&self) -> Result<(), QueueError> {
        self.attempts.lock().unwrap().push(Instant::now());
        let failing = self
            .fail_ops
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            Err((self.error)())
        } else {
            Ok(())
        }
    }

    fn gaps(&self) -> Vec<Duration> {
        let at = self.attempts.lock().unwrap();
        at.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

#[async_trait]
impl WorkQueue for Flaky {
    async fn declare(&self, spec: &QueueSpec) -> Result<(), QueueError> {
        self.gate()?;
        self.inner.declare(spec).await
    }
    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        self.gate()?;
        self.inner.publish(queue, payload).await
    }
    async fn publish_batch(&self, queue: &str, payloads: Vec<Vec<u8>>) -> Result<(), QueueError> {
        self.gate()?;
        self.inner.publish_batch(queue, payloads).await
    }
    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        self.gate()?;
        self.consumes.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(FlakyConsumer {
            inner: self.inner.consume(queue, prefetch).await?,
            fail_nexts: self.fail_nexts.clone(),
        }))
    }
    async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        self.gate()?;
        self.inner.depth(queue).await
    }
    async fn ping(&self) -> Result<(), QueueError> {
        self.gate()
    }
}

struct FlakyConsumer {
    inner: Box<dyn Consumer>,
    fail_nexts: Arc<AtomicU32>,
}

#[async_trait]
impl Consumer for FlakyConsumer {
    async fn next(&mut self) -> Result<Delivery, QueueError> {
        let failing = self
            .fail_nexts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(unavailable());
        }
        self.inner.next().await
    }
    async fn cancel(&mut self) -> Result<(), QueueError> {
        self.inner.cancel().await
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(800),
        max_total: Duration::from_secs(5),
    }
}

fn counter(registry: &prometheus::Registry, name: &str, op: Option<&str>) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| op.is_none_or(|op| m.get_label().iter().any(|l| l.value() == op)))
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[test]
fn backoff_doubles_and_is_capped() {
    let p = policy();
    let got: Vec<u64> = (1..=6).map(|a| p.backoff(a).as_millis() as u64).collect();
    assert_eq!(got, vec![100, 200, 400, 800, 800, 800]);
    assert_eq!(p.backoff(u32::MAX), p.max_backoff, "no overflow");
}

#[tokio::test(start_paused = true)]
async fn retryable_errors_are_retried_with_backoff() {
    let flaky = Flaky::new(5, unavailable);
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    q.declare(&QueueSpec::new("jobs"))
        .await
        .expect("succeeds on the 6th attempt");
    let gaps: Vec<u64> = flaky.gaps().iter().map(|d| d.as_millis() as u64).collect();
    assert_eq!(gaps, vec![100, 200, 400, 800, 800]);
    assert_eq!(
        counter(&registry, "platefarm_queue_retries_total", Some("declare")),
        5
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_the_total_time_with_the_last_error() {
    let flaky = Flaky::new(u32::MAX, unavailable);
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    let started = Instant::now();
    let err = q.ping().await.expect_err("never recovers");
    assert!(matches!(err, QueueError::Unavailable(_)), "{err}");
    let spent = started.elapsed();
    assert!(spent <= policy().max_total, "gave up after {spent:?}");
    // 100+200+400+800·5 = 4.7 s; one more 800 ms wait would pass 5 s.
    assert_eq!(spent, Duration::from_millis(4700));
    assert_eq!(
        counter(&registry, "platefarm_queue_retries_total", Some("ping")),
        8
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried() {
    let flaky = Flaky::new(1, || QueueError::NoSuchQueue("jobs".into()));
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    let err = q.publish("jobs", vec![1]).await.expect_err("permanent");
    assert!(matches!(err, QueueError::NoSuchQueue(_)), "{err}");
    assert_eq!(flaky.attempts.lock().unwrap().len(), 1, "one attempt only");
    assert_eq!(counter(&registry, "platefarm_queue_retries_total", None), 0);
}

#[tokio::test(start_paused = true)]
async fn publish_retries_resend_the_payload() {
    let flaky = Flaky::new(0, unavailable);
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    q.declare(&QueueSpec::new("jobs")).await.unwrap();
    flaky.fail_ops.store(2, Ordering::SeqCst);
    q.publish("jobs", b"one".to_vec()).await.unwrap();
    flaky.fail_ops.store(1, Ordering::SeqCst);
    q.publish_batch("jobs", vec![b"two".to_vec(), b"three".to_vec()])
        .await
        .unwrap();
    let mut c = q.consume("jobs", 10).await.unwrap();
    for want in [&b"one"[..], b"two", b"three"] {
        let d = c.next().await.unwrap();
        assert_eq!(d.payload, want);
        d.ack().await.unwrap();
    }
    assert_eq!(
        counter(&registry, "platefarm_queue_retries_total", Some("publish")),
        2
    );
    assert_eq!(
        counter(
            &registry,
            "platefarm_queue_retries_total",
            Some("publish_batch")
        ),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn consumer_reconsumes_after_a_retryable_stream_failure() {
    let flaky = Flaky::new(0, unavailable);
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    q.declare(&QueueSpec::new("jobs")).await.unwrap();
    q.publish("jobs", b"chunk".to_vec()).await.unwrap();
    let mut c = q.consume("jobs", 1).await.unwrap();
    // The stream breaks, and the broker is still down for the first two re-consumes.
    flaky.fail_nexts.store(1, Ordering::SeqCst);
    flaky.fail_ops.store(2, Ordering::SeqCst);
    let d = c.next().await.expect("the loop survives the outage");
    assert_eq!(d.payload, b"chunk");
    d.ack().await.unwrap();
    assert_eq!(
        flaky.consumes.load(Ordering::SeqCst),
        2,
        "consumed once, re-consumed once"
    );
    assert_eq!(
        counter(&registry, "platefarm_queue_reconnects_total", None),
        1
    );
    assert_eq!(
        counter(&registry, "platefarm_queue_retries_total", Some("consume")),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_stops_reconsuming() {
    let flaky = Flaky::new(0, unavailable);
    let registry = prometheus::Registry::new();
    let q = Retrying::new(flaky.clone(), policy(), &registry).unwrap();
    q.declare(&QueueSpec::new("jobs")).await.unwrap();
    let mut c = q.consume("jobs", 1).await.unwrap();
    c.cancel().await.unwrap();
    flaky.fail_nexts.store(1, Ordering::SeqCst);
    assert!(matches!(c.next().await, Err(QueueError::Cancelled)));
    assert_eq!(
        flaky.consumes.load(Ordering::SeqCst),
        1,
        "no re-consume after cancel"
    );
}

#[test]
fn registering_twice_in_one_registry_is_an_error_not_a_panic() {
    let registry = prometheus::Registry::new();
    let _a = Retrying::new(MemoryQueue::new(), policy(), &registry).unwrap();
    assert!(Retrying::new(MemoryQueue::new(), policy(), &registry).is_err());
}

#[tokio::test]
async fn retrying_memory_queue_conforms() {
    let registry = prometheus::Registry::new();
    let q = Retrying::new(MemoryQueue::new(), RetryPolicy::default(), &registry).unwrap();
    conformance::run_all(&q, "retrying").await;
}
