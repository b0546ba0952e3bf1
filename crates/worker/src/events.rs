//! Result events out of a worker: every slot hands its event to one publisher task, which packs
//! whatever has queued up while the previous message awaited its confirm into one broker
//! message (`ResultBatch`). A worker with one slot publishes single events (as earlier builds
//! did); a worker with many slots stores one message for many events, which is what lets the
//! broker carry thousands of chunks a second. Each caller learns whether *its* event was
//! confirmed: a chunk is acked only after the message holding its result was stored.

use platefarm_core::{ResultBatch, ResultEvent};
use platefarm_queue::{QueueError, WorkQueue};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Pending = (ResultEvent, oneshot::Sender<Result<(), QueueError>>);

/// Handle to the publisher task; cheap to clone. The task ends when every handle is dropped.
#[derive(Clone)]
pub struct EventPublisher {
    tx: mpsc::UnboundedSender<Pending>,
}

impl EventPublisher {
    /// Starts the task on the current tokio runtime. `max_batch`: most events in one message.
    pub fn start(queue: Arc<dyn WorkQueue>, events_queue: String, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(queue, events_queue, max_batch.max(1), rx));
        EventPublisher { tx }
    }

    /// Returns once the message holding `event` is confirmed by the broker.
    pub async fn publish(&self, event: ResultEvent) -> Result<(), QueueError> {
        let (done, confirmed) = oneshot::channel();
        self.tx
            .send((event, done))
            .map_err(|_| QueueError::Closed)?;
        confirmed.await.map_err(|_| QueueError::Closed)?
    }
}

async fn run(
    queue: Arc<dyn WorkQueue>,
    events_queue: String,
    max_batch: usize,
    mut rx: mpsc::UnboundedReceiver<Pending>,
) {
    let mut batch: Vec<Pending> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let payload = match batch.as_slice() {
            [(one, _)] => one.encode(),
            many => {
                let events: Vec<ResultEvent> = many.iter().map(|(e, _)| e.clone()).collect();
                ResultBatch::encode(&events)
            }
        };
        let result = queue.publish(&events_queue, payload).await;
        for (_, done) in batch.drain(..) {
            // A caller that gave up (its task was aborted) no longer listens.
            let _ = done.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platefarm_core::{decode_results, ChunkOutcome, WIRE_VERSION};
    use platefarm_queue::{MemoryQueue, QueueSpec};
    use std::time::Duration;

    fn event(i: usize) -> ResultEvent {
        ResultEvent {
            version: WIRE_VERSION,
            turnover_id: "T".into(),
            chunk_id: format!("T:a:{i}"),
            generation: 1,
            worker_id: "w".into(),
            delivery_count: 1,
            outcome: ChunkOutcome::Started,
            render_seconds: 0.0,
        }
    }

    async fn drain(q: &MemoryQueue, name: &str, n_events: usize) -> (usize, Vec<ResultEvent>) {
        let mut c = q.consume(name, 1000).await.unwrap();
        let (mut messages, mut events) = (0, Vec::new());
        while events.len() < n_events {
            let d = tokio::time::timeout(Duration::from_secs(5), c.next())
                .await
                .expect("every event arrives")
                .unwrap();
            messages += 1;
            events.extend(decode_results(&d.payload).unwrap());
            d.ack().await.unwrap();
        }
        (messages, events)
    }

    #[tokio::test]
    async fn concurrent_events_share_messages_and_each_caller_is_confirmed() {
        let q = Arc::new(MemoryQueue::new());
        q.declare(&QueueSpec::new("ev")).await.unwrap();
        let p = EventPublisher::start(q.clone(), "ev".into(), 64);
        let sends: Vec<_> = (0..200)
            .map(|i| {
                let p = p.clone();
                tokio::spawn(async move { p.publish(event(i)).await })
            })
            .collect();
        for s in sends {
            s.await.unwrap().unwrap();
        }
        let (messages, events) = drain(&q, "ev", 200).await;
        let mut ids: Vec<_> = events.iter().map(|e| e.chunk_id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200, "every event once");
        assert!(
            messages < 200,
            "{messages} messages for 200 concurrent events"
        );
        // A lone event goes out as a plain event, as one-slot workers always sent it.
        p.publish(event(999)).await.unwrap();
        let mut c = q.consume("ev", 10).await.unwrap();
        let d = c.next().await.unwrap();
        assert_eq!(ResultEvent::decode(&d.payload).unwrap(), event(999));
    }

    #[tokio::test]
    async fn a_failed_publish_reaches_every_caller_of_the_message() {
        let q = Arc::new(MemoryQueue::new());
        // No such queue: the publish fails, and so does every event in it.
        let p = EventPublisher::start(q.clone(), "missing".into(), 64);
        let sends: Vec<_> = (0..20)
            .map(|i| {
                let p = p.clone();
                tokio::spawn(async move { p.publish(event(i)).await })
            })
            .collect();
        for s in sends {
            assert!(matches!(
                s.await.unwrap(),
                Err(QueueError::NoSuchQueue(q)) if q == "missing"
            ));
        }
    }
}
