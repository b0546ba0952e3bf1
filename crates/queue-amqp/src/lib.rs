//! RabbitMQ implementation of the platefarm `WorkQueue`: durable quorum queues, persistent
//! messages, publisher confirms, at-least-once dead-lettering, lazy reconnects.
//!
//! One AMQP connection per `AmqpQueue`, opened on first use and re-opened by the next call
//! after it dies (with a timeout), so a caller wrapped in `platefarm_queue::Retrying` survives
//! a broker restart. Publishing uses a small pool of confirm channels; each consumer owns its
//! channel (so `basic.qos` is its prefetch and closing it returns what it held). Every network
//! call is bounded by `AmqpConfig::op_timeout`. See `docs/queue.md` for the topology and the
//! header and delivery-count semantics.

mod consumer;
mod management;
pub mod topology;

use async_trait::async_trait;
use lapin::options::{
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use platefarm_queue::{Consumer, QueueDepth, QueueError, QueueSpec, WorkQueue};
use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use topology::{DEATH_REASON_HEADER, SOURCE_QUEUE_HEADER};

/// Idle confirm channels kept for reuse; more concurrent publishers open extra ones.
const MAX_IDLE_PUBLISHERS: usize = 8;

/// How to reach the broker.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (vhost URL-encoded: `%2f` is `/`). Query
    /// parameters such as `?heartbeat=10` are passed to the client.
    pub url: String,
    /// `http://host:15672` of the management plugin. With it `depth` reports ready, unacked
    /// and consumers from the statistics database (lagging ~5 s); without it `depth` uses a
    /// passive declare: ready and consumers are current, unacked is always 0.
    pub management_url: Option<String>,
    /// Bound on every network call: connect, channel open, declare, publish confirm, ack, cancel.
    pub op_timeout: Duration,
    /// Shown in the management UI's connection list.
    pub connection_name: String,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        AmqpConfig {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            management_url: None,
            op_timeout: Duration::from_secs(10),
            connection_name: "platefarm".into(),
        }
    }
}

/// A `WorkQueue` on RabbitMQ. Cheap to share behind an `Arc`.
pub struct AmqpQueue {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    config: AmqpConfig,
    vhost: String,
    management: Option<management::Management>,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    idle_publishers: Mutex<Vec<Channel>>,
    /// Specs declared through this instance: consumers need the dead-letter queue for
    /// `reject`, dead-letter readers need the source queue's limit for the reason text.
    specs: Mutex<HashMap<String, QueueSpec>>,
}

impl AmqpQueue {
    /// Checks the configuration and opens the connection (so a wrong URL or an unreachable
    /// broker fails here, not on the first publish).
    pub async fn connect(config: AmqpConfig) -> Result<Self, QueueError> {
        let queue = Self::new(config)?;
        queue.shared.connection().await?;
        Ok(queue)
    }

    /// Checks the configuration only; the first call connects. For a service that must start
    /// while the broker is still down: wrap it in `Retrying` and the first calls wait for it.
    pub fn new(config: AmqpConfig) -> Result<Self, QueueError> {
        let uri = lapin::uri::AMQPUri::from_str(&config.url).map_err(|e| QueueError::Config {
            field: "url",
            // The URL carries the password: name the problem, not the value.
            problem: format!("not a usable amqp:// URL: {e}"),
        })?;
        let management = match &config.management_url {
            Some(url) => Some(management::Management::new(
                url,
                &uri.authority.userinfo.username,
                &uri.authority.userinfo.password,
            )?),
            None => None,
        };
        if config.op_timeout.is_zero() {
            return Err(QueueError::Config {
                field: "op_timeout",
                problem: "must be > 0".into(),
            });
        }
        Ok(AmqpQueue {
            shared: Arc::new(Shared {
                vhost: uri.vhost.clone(),
                config,
                management,
                connection: tokio::sync::Mutex::new(None),
                idle_publishers: Mutex::new(Vec::new()),
                specs: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The virtual host from the URL.
    pub fn vhost(&self) -> &str {
        &self.shared.vhost
    }
}

impl Shared {
    /// Runs one network call under the operation timeout, mapping lapin's errors.
    pub(crate) async fn timed<T>(
        &self,
        what: &str,
        queue: &str,
        call: impl Future<Output = lapin::Result<T>>,
    ) -> Result<T, QueueError> {
        match tokio::time::timeout(self.config.op_timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(topology::map_error(queue, &e)),
            Err(_) => Err(QueueError::Unavailable(format!(
                "{what} on {queue:?} timed out after {:?}",
                self.config.op_timeout
            ))),
        }
    }

    /// The live connection, re-opened if the last one died.
    async fn connection(&self) -> Result<Arc<Connection>, QueueError> {
        let mut current = self.connection.lock().await;
        if let Some(conn) = current.as_ref() {
            if conn.status().connected() {
                return Ok(conn.clone());
            }
            tracing::warn!(vhost = %self.vhost, "AMQP connection lost, reconnecting");
        }
        *current = None;
        self.lock_publishers().clear();
        let props = ConnectionProperties::default()
            .with_connection_name(self.config.connection_name.as_str().into());
        let conn = match tokio::time::timeout(
            self.config.op_timeout,
            Connection::connect(&self.config.url, props),
        )
        .await
        {
            Ok(Ok(conn)) => Arc::new(conn),
            Ok(Err(e)) => {
                return Err(QueueError::Unavailable(format!(
                    "connecting to vhost {:?}: {e}",
                    self.vhost
                )))
            }
            Err(_) => {
                return Err(QueueError::Unavailable(format!(
                    "connecting to vhost {:?} timed out after {:?}",
                    self.vhost, self.config.op_timeout
                )))
            }
        };
        *current = Some(conn.clone());
        Ok(conn)
    }

    pub(crate) async fn channel(&self, queue: &str) -> Result<Channel, QueueError> {
        let conn = self.connection().await?;
        self.timed("channel.open", queue, conn.create_channel())
            .await
    }

    fn lock_publishers(&self) -> std::sync::MutexGuard<'_, Vec<Channel>> {
        // The list holds no invariant a panic elsewhere could break.
        self.idle_publishers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn publisher(&self, queue: &str) -> Result<Channel, QueueError> {
        loop {
            let idle = self.lock_publishers().pop();
            match idle {
                Some(ch) if ch.status().connected() => return Ok(ch),
                Some(_) => continue,
                None => break,
            }
        }
        let ch = self.channel(queue).await?;
        self.timed(
            "confirm.select",
            queue,
            ch.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        Ok(ch)
    }

    pub(crate) fn spec(&self, queue: &str) -> Option<QueueSpec> {
        self.specs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(queue)
            .cloned()
    }

    /// Publishes every message on one confirm channel, then awaits all confirms (pipelined:
    /// one round trip for the batch, not one per message). Mandatory, so a message to a queue
    /// that does not exist comes back instead of vanishing.
    pub(crate) async fn publish_all(
        &self,
        queue: &str,
        messages: impl IntoIterator<Item = (Vec<u8>, BasicProperties)>,
    ) -> Result<(), QueueError> {
        let ch = self.publisher(queue).await?;
        let result = self.publish_on(&ch, queue, messages).await;
        // A channel the broker closed (e.g. unroutable is fine, but an error closes it) is
        // not reused; a healthy one goes back to the pool.
        if ch.status().connected() && !matches!(result, Err(QueueError::Unavailable(_))) {
            let mut idle = self.lock_publishers();
            if idle.len() < MAX_IDLE_PUBLISHERS {
                idle.push(ch);
            }
        }
        result
    }

    async fn publish_on(
        &self,
        ch: &Channel,
        queue: &str,
        messages: impl IntoIterator<Item = (Vec<u8>, BasicProperties)>,
    ) -> Result<(), QueueError> {
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let mut confirms = Vec::new();
        for (payload, props) in messages {
            let confirm = self
                .timed(
                    "basic.publish",
                    queue,
                    ch.basic_publish("".into(), queue.into(), options, &payload, props),
                )
                .await?;
            confirms.push(confirm);
        }
        let mut first_error = None;
        for confirm in confirms {
            let outcome = match self.timed("publisher confirm", queue, confirm).await? {
                Confirmation::Ack(None) => Ok(()),
                Confirmation::Ack(Some(_returned)) => Err(QueueError::NoSuchQueue(queue.into())),
                Confirmation::Nack(_) => Err(QueueError::Unavailable(format!(
                    "the broker did not store a message for {queue:?} (nack)"
                ))),
                Confirmation::NotRequested => Err(QueueError::Unavailable(format!(
                    "publisher confirms are off on the channel for {queue:?}"
                ))),
            };
            // Keep awaiting the rest so the channel's confirm window is drained for reuse.
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Persistent (delivery mode 2): the message survives a broker restart.
pub(crate) fn persistent(headers: Option<FieldTable>) -> BasicProperties {
    let props = BasicProperties::default().with_delivery_mode(2);
    match headers {
        Some(h) => props.with_headers(h),
        None => props,
    }
}

#[async_trait]
impl WorkQueue for AmqpQueue {
    async fn declare(&self, spec: &QueueSpec) -> Result<(), QueueError> {
        let s = &self.shared;
        let ch = s.channel(&spec.name).await?;
        let declared = s
            .timed(
                "queue.declare",
                &spec.name,
                ch.queue_declare(
                    spec.name.as_str().into(),
                    QueueDeclareOptions::durable(),
                    topology::declare_arguments(spec),
                ),
            )
            .await;
        // On PRECONDITION_FAILED the broker has already closed the channel.
        if ch.status().connected() {
            let _ = s
                .timed(
                    "channel.close",
                    &spec.name,
                    ch.close(200, "declared".into()),
                )
                .await;
        }
        declared?;
        s.specs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(spec.name.clone(), spec.clone());
        Ok(())
    }

    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        self.shared
            .publish_all(queue, [(payload, persistent(None))])
            .await
    }

    async fn publish_batch(&self, queue: &str, payloads: Vec<Vec<u8>>) -> Result<(), QueueError> {
        if payloads.is_empty() {
            return Ok(());
        }
        self.shared
            .publish_all(queue, payloads.into_iter().map(|p| (p, persistent(None))))
            .await
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        let s = &self.shared;
        let ch = s.channel(queue).await?;
        s.timed(
            "basic.qos",
            queue,
            ch.basic_qos(prefetch.max(1), BasicQosOptions::default()),
        )
        .await?;
        let stream = s
            .timed(
                "basic.consume",
                queue,
                ch.basic_consume(
                    queue.into(),
                    "".into(),
                    lapin::options::BasicConsumeOptions::default(),
                    FieldTable::default(),
                ),
            )
            .await?;
        Ok(Box::new(consumer::AmqpConsumer::new(
            s.clone(),
            ch,
            stream,
            queue,
        )))
    }

    async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        let s = &self.shared;
        if let Some(mgmt) = &s.management {
            return mgmt.depth(&s.vhost, queue, s.config.op_timeout).await;
        }
        let ch = s.channel(queue).await?;
        let q = s
            .timed(
                "queue.declare (passive)",
                queue,
                ch.queue_declare(
                    queue.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                ),
            )
            .await;
        if ch.status().connected() {
            let _ = s
                .timed("channel.close", queue, ch.close(200, "depth".into()))
                .await;
        }
        let q = q?;
        Ok(QueueDepth {
            ready: u64::from(q.message_count()),
            // Not reported by AMQP; see AmqpConfig::management_url.
            unacked: 0,
            consumers: u64::from(q.consumer_count()),
        })
    }

    async fn ping(&self) -> Result<(), QueueError> {
        // Opening a channel is one round trip through the broker: proves more than a TCP
        // connection that has not yet noticed the broker is gone.
        let ch = self.shared.channel("(ping)").await?;
        self.shared
            .timed("channel.close", "(ping)", ch.close(200, "ping".into()))
            .await
    }
}
