//! An AMQP consumer on its own channel, and how its deliveries are settled.

use crate::topology::{self, DEATH_REASON_HEADER, SOURCE_QUEUE_HEADER};
use crate::{persistent, Shared};
use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicNackOptions};
use lapin::types::FieldTable;
use lapin::{Acker, Channel};
use platefarm_queue::{Consumer, Delivery, QueueError, Settle};
use std::sync::Arc;

pub(crate) struct AmqpConsumer {
    shared: Arc<Shared>,
    /// Owned by this consumer alone: dropping the consumer closes it, and the broker requeues
    /// whatever it still held (counted as a delivery attempt by a 3.x quorum queue).
    channel: Channel,
    stream: lapin::Consumer,
    queue: String,
    cancelled: bool,
    /// The stream has ended after a cancel: `next` keeps answering `Cancelled`.
    drained: bool,
}

impl AmqpConsumer {
    pub(crate) fn new(
        shared: Arc<Shared>,
        channel: Channel,
        stream: lapin::Consumer,
        queue: &str,
    ) -> Self {
        AmqpConsumer {
            shared,
            channel,
            stream,
            queue: queue.to_string(),
            cancelled: false,
            drained: false,
        }
    }

    fn delivery(&self, d: lapin::message::Delivery) -> Delivery {
        let headers = d.properties.headers().as_ref();
        let delivery_count = topology::delivery_count(headers);
        let death_reason = topology::death_reason(headers, |source| {
            self.shared.spec(source).map(|s| s.delivery_limit)
        });
        // Where `reject` sends the message: the spec's dead-letter queue, or (like the
        // in-process queue) back to the queue itself with the reason, never nowhere.
        let reject_to = self
            .shared
            .spec(&self.queue)
            .map(|s| s.dead_letter_queue.unwrap_or(s.name));
        let settle = AmqpSettle {
            shared: self.shared.clone(),
            acker: d.acker,
            queue: self.queue.clone(),
            reject_to,
            payload: d.data.clone(),
        };
        Delivery::new(d.data, delivery_count, death_reason, Box::new(settle))
    }
}

#[async_trait]
impl Consumer for AmqpConsumer {
    async fn next(&mut self) -> Result<Delivery, QueueError> {
        if self.drained {
            return Err(QueueError::Cancelled);
        }
        match self.stream.next().await {
            Some(Ok(d)) => Ok(self.delivery(d)),
            // The channel died while draining: the broker requeues what it had pushed.
            Some(Err(_)) | None if self.cancelled => {
                self.drained = true;
                Err(QueueError::Cancelled)
            }
            Some(Err(e)) => Err(topology::map_error(&self.queue, &e)),
            None => Err(QueueError::Unavailable(format!(
                "the broker ended the consumer on {:?} (connection lost, node down or queue deleted)",
                self.queue
            ))),
        }
    }

    async fn cancel(&mut self) -> Result<(), QueueError> {
        if self.cancelled {
            return Ok(());
        }
        self.cancelled = true;
        // Deliveries pushed before the broker's cancel-ok stay buffered in the stream ahead of
        // its end, so `next` hands them out before answering `Cancelled`.
        let cancelled = self
            .shared
            .timed(
                "basic.cancel",
                &self.queue,
                self.channel
                    .basic_cancel(self.stream.tag(), BasicCancelOptions::default()),
            )
            .await;
        match cancelled {
            // A dead channel delivers nothing more: cancelling is moot, not a failure.
            Err(_) if !self.channel.status().connected() => Ok(()),
            other => other,
        }
    }
}

struct AmqpSettle {
    shared: Arc<Shared>,
    acker: Acker,
    queue: String,
    /// `None` when the queue was not declared through this `AmqpQueue` (spec unknown).
    reject_to: Option<String>,
    /// A copy for `reject`'s republish (the `Delivery` owns the original). Chunk and event
    /// messages are a few hundred bytes, so the copy is cheaper than sharing.
    payload: Vec<u8>,
}

impl AmqpSettle {
    fn settled(&self, what: &str, sent: Result<bool, QueueError>) -> Result<(), QueueError> {
        match sent {
            Ok(true) => Ok(()),
            // lapin answers false for a delivery whose channel is gone: the broker has
            // already requeued it, so this settle is lost and the message comes back.
            Ok(false) => Err(QueueError::Unavailable(format!(
                "{what} on {:?}: the delivery's channel is closed; the broker requeues it",
                self.queue
            ))),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(&self) -> Result<(), QueueError> {
        let sent = self
            .shared
            .timed(
                "basic.ack",
                &self.queue,
                self.acker.ack(BasicAckOptions::default()),
            )
            .await;
        self.settled("ack", sent)
    }

    async fn requeue(&self) -> Result<(), QueueError> {
        let options = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        let sent = self
            .shared
            .timed("basic.nack", &self.queue, self.acker.nack(options))
            .await;
        self.settled("requeue", sent)
    }

    /// AMQP's nack carries no text, so the reason travels in a header on a copy published
    /// (confirmed) to the dead-letter queue, and only then is the original acked. At-least-once:
    /// if the ack is lost the original is redelivered as well, and the consumer of dead letters
    /// sees the chunk's failure twice — it is idempotent.
    async fn reject(&self, reason: &str) -> Result<(), QueueError> {
        let Some(target) = &self.reject_to else {
            tracing::warn!(queue = %self.queue, reason, "reject on a queue not declared through this AmqpQueue: nacked without requeue, so the broker dead-letters it (its reason text is lost)");
            let sent = self
                .shared
                .timed(
                    "basic.nack",
                    &self.queue,
                    self.acker.nack(BasicNackOptions::default()),
                )
                .await;
            return self.settled("reject", sent);
        };
        let mut headers = FieldTable::default();
        headers.insert(DEATH_REASON_HEADER.into(), topology::long_string(reason));
        headers.insert(
            SOURCE_QUEUE_HEADER.into(),
            topology::long_string(&self.queue),
        );
        self.shared
            .publish_all(target, [(self.payload.clone(), persistent(Some(headers)))])
            .await?;
        self.ack().await
    }
}
