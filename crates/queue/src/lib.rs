//! Work queue: one trait with the semantics platefarm relies on, the in-process queue for the
//! embedded farm, and the conformance suite the RabbitMQ adapter must also pass.
//!
//! Semantics (those of a RabbitMQ quorum queue with publisher confirms):
//! - `publish` returns only once the message is stored (confirmed);
//! - a consumer holds at most `prefetch` unacked deliveries;
//! - a delivery is removed only by `ack`; if its consumer goes away (crash, drop) it is
//!   redelivered with `delivery_count` + 1;
//! - a message returned (requeued or orphaned) after `delivery_limit` deliveries is moved to the
//!   queue's dead-letter queue with the reason; `reject` dead-letters at once with a reason.

pub mod conformance;
mod memory;
pub mod retry;

pub use memory::MemoryQueue;
pub use retry::{RetryPolicy, Retrying};

/// Queue names and limits shared by dispatcher and workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmQueues {
    /// Set by [`FarmQueues::with_prefix`]: the names are `<prefix>.chunks`, … so farms or tests
    /// sharing a vhost never see each other's messages. `None` for the default names.
    pub prefix: Option<String>,
    pub chunks: String,
    pub chunks_dead: String,
    pub events: String,
    pub events_dead: String,
    /// Deliveries of a chunk before it is dead-lettered (a worker crash counts as one).
    pub delivery_limit: u32,
    /// Deliveries of a result event before it is dead-lettered. High: an event is only
    /// returned when the dispatcher restarts or loses the broker, never because it is bad.
    pub events_delivery_limit: u32,
}

impl Default for FarmQueues {
    fn default() -> Self {
        FarmQueues {
            prefix: None,
            chunks: "platefarm.chunks".into(),
            chunks_dead: "platefarm.chunks.dead".into(),
            events: "platefarm.events".into(),
            events_dead: "platefarm.events.dead".into(),
            delivery_limit: 5,
            events_delivery_limit: 1000,
        }
    }
}

impl FarmQueues {
    /// The farm's queues named `<prefix>.chunks`, `<prefix>.events`, … (the default prefix is
    /// `platefarm`), so several farms or tests can share a vhost.
    pub fn with_prefix(prefix: &str, delivery_limit: u32) -> Self {
        FarmQueues {
            prefix: Some(prefix.to_string()),
            chunks: format!("{prefix}.chunks"),
            chunks_dead: format!("{prefix}.chunks.dead"),
            events: format!("{prefix}.events"),
            events_dead: format!("{prefix}.events.dead"),
            delivery_limit,
            ..FarmQueues::default()
        }
    }

    pub fn specs(&self) -> Vec<QueueSpec> {
        vec![
            QueueSpec::new(&self.chunks_dead),
            QueueSpec::new(&self.events_dead),
            QueueSpec::new(&self.chunks)
                .delivery_limit(self.delivery_limit)
                .dead_letter_to(&self.chunks_dead),
            QueueSpec::new(&self.events)
                .delivery_limit(self.events_delivery_limit)
                .dead_letter_to(&self.events_dead),
        ]
    }

    /// Declares every queue (both sides call this; declaring is idempotent).
    pub async fn declare(&self, queue: &dyn WorkQueue) -> Result<(), QueueError> {
        for spec in self.specs() {
            queue.declare(&spec).await?;
        }
        Ok(())
    }
}

use async_trait::async_trait;

#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    #[error("queue {0:?} is not declared")]
    NoSuchQueue(String),
    #[error("queue {queue:?} was declared with different settings ({detail})")]
    Mismatch { queue: String, detail: String },
    /// A configuration value is unusable (names the field).
    #[error("queue configuration {field}: {problem}")]
    Config {
        field: &'static str,
        problem: String,
    },
    /// The broker refused the operation (permissions): fixing it needs an operator.
    #[error("the broker refused access to queue {queue:?} ({detail})")]
    Refused { queue: String, detail: String },
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("the queue is closed")]
    Closed,
    /// The consumer was cancelled and every delivery it had been sent was handed out.
    #[error("the consumer was cancelled")]
    Cancelled,
}

impl QueueError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, QueueError::Unavailable(_))
    }
}

/// How a queue is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    /// Deliveries after which a returned message is dead-lettered (≥ 1).
    pub delivery_limit: u32,
    /// Where dead letters go; `None` keeps them in the queue's own dead-letter list only.
    pub dead_letter_queue: Option<String>,
}

impl QueueSpec {
    pub fn new(name: impl Into<String>) -> Self {
        QueueSpec {
            name: name.into(),
            delivery_limit: 5,
            dead_letter_queue: None,
        }
    }
    pub fn delivery_limit(mut self, n: u32) -> Self {
        self.delivery_limit = n.max(1);
        self
    }
    pub fn dead_letter_to(mut self, queue: impl Into<String>) -> Self {
        self.dead_letter_queue = Some(queue.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Messages waiting for a consumer.
    pub ready: u64,
    /// Messages delivered and not yet settled.
    pub unacked: u64,
    /// Consumers attached to the queue.
    pub consumers: u64,
}

#[async_trait]
pub trait WorkQueue: Send + Sync + 'static {
    /// Declares a queue (idempotent with the same spec).
    async fn declare(&self, spec: &QueueSpec) -> Result<(), QueueError>;
    /// Stores a message durably; returns once it is confirmed.
    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError>;
    /// Many messages with pipelined confirms (not one round trip each); Ok once all are
    /// confirmed, in order. On Err some may be stored (at-least-once): callers are idempotent.
    async fn publish_batch(&self, queue: &str, payloads: Vec<Vec<u8>>) -> Result<(), QueueError>;
    /// Starts consuming with at most `prefetch` unacked deliveries.
    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError>;
    /// Ready / unacked / consumer counts. May lag behind by a few seconds on a broker whose
    /// figures come from a statistics database (RabbitMQ management).
    async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError>;
    /// Cheap reachability check for /health/readyz.
    async fn ping(&self) -> Result<(), QueueError>;
}

#[async_trait]
pub trait Consumer: Send {
    /// Waits for the next delivery.
    async fn next(&mut self) -> Result<Delivery, QueueError>;
    /// Stops new deliveries. Deliveries the broker had already pushed to us are still returned
    /// by `next` (the caller finishes them, so no delivery attempt of an innocent chunk is
    /// burnt); once they are drained `next` returns `Err(QueueError::Cancelled)`.
    async fn cancel(&mut self) -> Result<(), QueueError>;
}

/// Settles one delivery. Implemented by each queue backend.
#[async_trait]
pub trait Settle: Send + Sync {
    async fn ack(&self) -> Result<(), QueueError>;
    async fn requeue(&self) -> Result<(), QueueError>;
    async fn reject(&self, reason: &str) -> Result<(), QueueError>;
}

pub struct Delivery {
    pub payload: Vec<u8>,
    /// 1 on first delivery, +1 on each redelivery.
    pub delivery_count: u32,
    /// Set on messages in a dead-letter queue: why they were dead-lettered.
    pub death_reason: Option<String>,
    settle: Box<dyn Settle>,
}

impl Delivery {
    pub fn new(
        payload: Vec<u8>,
        delivery_count: u32,
        death_reason: Option<String>,
        settle: Box<dyn Settle>,
    ) -> Self {
        Delivery {
            payload,
            delivery_count,
            death_reason,
            settle,
        }
    }
    /// Done: remove the message for good.
    pub async fn ack(self) -> Result<(), QueueError> {
        self.settle.ack().await
    }
    /// Give it back for another attempt (counts toward the delivery limit).
    pub async fn requeue(self) -> Result<(), QueueError> {
        self.settle.requeue().await
    }
    /// Dead-letter it now, with the reason.
    pub async fn reject(self, reason: &str) -> Result<(), QueueError> {
        self.settle.reject(reason).await
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("bytes", &self.payload.len())
            .field("delivery_count", &self.delivery_count)
            .field("death_reason", &self.death_reason)
            .finish()
    }
}
