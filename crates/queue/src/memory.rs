//! In-process queue with the same semantics as the RabbitMQ adapter, for the embedded farm.
//! Durability is the process's lifetime: the embedded farm is one process.

use crate::{Consumer, Delivery, QueueDepth, QueueError, QueueSpec, Settle, WorkQueue};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct MemoryQueue {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    queues: HashMap<String, Queue>,
    next_tag: u64,
    next_consumer: u64,
}

struct Queue {
    spec: QueueSpec,
    ready: VecDeque<Message>,
    unacked: HashMap<u64, (u64, Message)>, // tag → (consumer id, message)
    /// Ids of consumers neither cancelled nor dropped.
    consumers: HashSet<u64>,
    notify: Arc<Notify>,
}

#[derive(Clone)]
struct Message {
    payload: Vec<u8>,
    delivery_count: u32,
    death_reason: Option<String>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }
}

impl State {
    fn queue(&mut self, name: &str) -> Result<&mut Queue, QueueError> {
        self.queues
            .get_mut(name)
            .ok_or_else(|| QueueError::NoSuchQueue(name.to_string()))
    }

    /// A message comes back unacked: redeliver it, or dead-letter it past the limit.
    fn give_back(&mut self, queue: &str, msg: Message, why: &str) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        if msg.delivery_count >= q.spec.delivery_limit {
            let reason = format!(
                "delivery limit {} reached (last attempt: {why})",
                q.spec.delivery_limit
            );
            self.dead_letter(queue, msg, reason);
        } else {
            q.ready.push_front(msg);
            q.notify.notify_waiters();
        }
    }

    fn dead_letter(&mut self, queue: &str, mut msg: Message, reason: String) {
        let Some(q) = self.queues.get(queue) else {
            return;
        };
        msg.death_reason = Some(reason);
        msg.delivery_count = 0;
        match q
            .spec
            .dead_letter_queue
            .clone()
            .and_then(|d| self.queues.get_mut(&d))
        {
            Some(dlq) => {
                dlq.ready.push_back(msg);
                dlq.notify.notify_waiters();
            }
            None => {
                // No dead-letter queue declared: never drop silently, say so loudly.
                tracing::error!(queue, reason = msg.death_reason.as_deref(), "dead letter with no dead-letter queue declared; kept in the queue's ready list");
                if let Some(q) = self.queues.get_mut(queue) {
                    q.ready.push_back(msg);
                }
            }
        }
    }
}

#[async_trait]
impl WorkQueue for MemoryQueue {
    async fn declare(&self, spec: &QueueSpec) -> Result<(), QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        match st.queues.get(&spec.name) {
            Some(q) if q.spec != *spec => Err(QueueError::Mismatch {
                queue: spec.name.clone(),
                detail: format!("existing {:?}, requested {:?}", q.spec, spec),
            }),
            Some(_) => Ok(()),
            None => {
                st.queues.insert(
                    spec.name.clone(),
                    Queue {
                        spec: spec.clone(),
                        ready: VecDeque::new(),
                        unacked: HashMap::new(),
                        consumers: HashSet::new(),
                        notify: Arc::new(Notify::new()),
                    },
                );
                Ok(())
            }
        }
    }

    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        let q = st.queue(queue)?;
        q.ready.push_back(Message {
            payload,
            delivery_count: 0,
            death_reason: None,
        });
        q.notify.notify_waiters();
        Ok(())
    }

    async fn publish_batch(&self, queue: &str, payloads: Vec<Vec<u8>>) -> Result<(), QueueError> {
        // One lock for the whole batch: it lands contiguously and in order, like a pipelined
        // confirm window on a single channel.
        let mut st = self.state.lock().expect("queue state lock");
        let q = st.queue(queue)?;
        q.ready.extend(payloads.into_iter().map(|payload| Message {
            payload,
            delivery_count: 0,
            death_reason: None,
        }));
        q.notify.notify_waiters();
        Ok(())
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        st.next_consumer += 1;
        let id = st.next_consumer;
        st.queue(queue)?.consumers.insert(id);
        Ok(Box::new(MemoryConsumer {
            state: self.state.clone(),
            queue: queue.to_string(),
            id,
            prefetch: prefetch.max(1) as usize,
            cancelled: false,
        }))
    }

    async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        let q = st.queue(queue)?;
        Ok(QueueDepth {
            ready: q.ready.len() as u64,
            unacked: q.unacked.len() as u64,
            consumers: q.consumers.len() as u64,
        })
    }

    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }
}

struct MemoryConsumer {
    state: Arc<Mutex<State>>,
    queue: String,
    id: u64,
    prefetch: usize,
    /// Set by `cancel`. Nothing is pushed ahead of `next` here, so there is nothing to drain.
    cancelled: bool,
}

#[async_trait]
impl Consumer for MemoryConsumer {
    async fn next(&mut self) -> Result<Delivery, QueueError> {
        loop {
            if self.cancelled {
                return Err(QueueError::Cancelled);
            }
            let notify = {
                let st = self.state.lock().expect("queue state lock");
                st.queues
                    .get(&self.queue)
                    .ok_or_else(|| QueueError::NoSuchQueue(self.queue.clone()))?
                    .notify
                    .clone()
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            // Register before checking, so a publish between the check and the await wakes us.
            notified.as_mut().enable();
            {
                let mut st = self.state.lock().expect("queue state lock");
                st.next_tag += 1;
                let tag = st.next_tag;
                let q = st.queue(&self.queue)?;
                let held = q.unacked.values().filter(|(c, _)| *c == self.id).count();
                if held < self.prefetch {
                    if let Some(mut msg) = q.ready.pop_front() {
                        msg.delivery_count += 1;
                        q.unacked.insert(tag, (self.id, msg.clone()));
                        return Ok(Delivery::new(
                            msg.payload,
                            msg.delivery_count,
                            msg.death_reason,
                            Box::new(MemorySettle {
                                state: self.state.clone(),
                                queue: self.queue.clone(),
                                tag,
                            }),
                        ));
                    }
                }
            }
            notified.await;
        }
    }

    async fn cancel(&mut self) -> Result<(), QueueError> {
        self.cancelled = true;
        // Deliveries already handed out stay unacked and settle normally.
        let mut st = self.state.lock().expect("queue state lock");
        if let Some(q) = st.queues.get_mut(&self.queue) {
            q.consumers.remove(&self.id);
        }
        Ok(())
    }
}

impl Drop for MemoryConsumer {
    /// A consumer that goes away (its worker crashed or was killed) returns what it held.
    fn drop(&mut self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let Some(q) = st.queues.get_mut(&self.queue) else {
            return;
        };
        q.consumers.remove(&self.id);
        let mut mine: Vec<(u64, Message)> = q
            .unacked
            .iter()
            .filter(|(_, (c, _))| *c == self.id)
            .map(|(t, (_, m))| (*t, m.clone()))
            .collect();
        mine.sort_by_key(|(t, _)| std::cmp::Reverse(*t)); // push_front in reverse keeps order
        for (tag, _) in &mine {
            q.unacked.remove(tag);
        }
        for (_, msg) in mine {
            st.give_back(&self.queue, msg, "consumer went away before acking");
        }
        if let Some(q) = st.queues.get(&self.queue) {
            q.notify.notify_waiters();
        }
    }
}

struct MemorySettle {
    state: Arc<Mutex<State>>,
    queue: String,
    tag: u64,
}

impl MemorySettle {
    fn take(&self, st: &mut State) -> Result<Message, QueueError> {
        let q = st.queue(&self.queue)?;
        let (_, msg) = q.unacked.remove(&self.tag).ok_or(QueueError::Closed)?;
        // Freed a prefetch slot: wake consumers waiting on it.
        q.notify.notify_waiters();
        Ok(msg)
    }
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(&self) -> Result<(), QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        self.take(&mut st).map(|_| ())
    }

    async fn requeue(&self) -> Result<(), QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        let msg = self.take(&mut st)?;
        st.give_back(&self.queue, msg, "requeued by the consumer");
        Ok(())
    }

    async fn reject(&self, reason: &str) -> Result<(), QueueError> {
        let mut st = self.state.lock().expect("queue state lock");
        let msg = self.take(&mut st)?;
        st.dead_letter(&self.queue, msg, reason.to_string());
        Ok(())
    }
}
