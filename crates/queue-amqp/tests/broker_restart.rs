//! A consumer loop and a publisher behind `Retrying<AmqpQueue>` ride out a restart of a broker
//! node of the test's own: every message is consumed and acked at least once, and only the
//! deliveries the consumer held when the node stopped can come round a second time (an AMQP
//! ack is not confirmed, so one written just before the stop may never have reached it).

use platefarm_queue::{QueueError, QueueSpec, RetryPolicy, Retrying, WorkQueue};
use platefarm_queue_amqp::{AmqpConfig, AmqpQueue};
use platefarm_testkit::rabbit::BrokerNode;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BEFORE: u32 = 150;
const DURING: u32 = 50;
const TOTAL: u32 = BEFORE + DURING;
const PREFETCH: u16 = 10;

#[derive(Default)]
struct Tally {
    received: BTreeMap<u32, u32>,
    acked: BTreeMap<u32, u32>,
    lost_acks: u32,
}

fn id_of(payload: &[u8]) -> u32 {
    std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.strip_prefix("msg-"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected payload {payload:?}"))
}

fn counter(registry: &prometheus::Registry, name: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().iter())
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_and_publish_survive_a_broker_restart() {
    let mut node = tokio::task::spawn_blocking(BrokerNode::start)
        .await
        .unwrap();
    let registry = prometheus::Registry::new();
    let amqp = AmqpQueue::connect(AmqpConfig {
        url: node.url(),
        op_timeout: Duration::from_secs(3),
        ..AmqpConfig::default()
    })
    .await
    .expect("connect to the test node");
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        max_total: Duration::from_secs(90),
    };
    let q = Arc::new(Retrying::new(amqp, policy, &registry).unwrap());
    q.declare(&QueueSpec::new("work.dead")).await.unwrap();
    // Every restart returns what consumers held, and 3.10 counts that as a delivery.
    q.declare(
        &QueueSpec::new("work")
            .delivery_limit(50)
            .dead_letter_to("work.dead"),
    )
    .await
    .unwrap();
    q.publish_batch(
        "work",
        (0..BEFORE)
            .map(|i| format!("msg-{i}").into_bytes())
            .collect(),
    )
    .await
    .unwrap();

    let tally = Arc::new(Mutex::new(Tally::default()));
    let consumer = {
        let (q, tally) = (q.clone(), tally.clone());
        tokio::spawn(async move {
            let mut c = q.consume("work", PREFETCH).await?;
            loop {
                if tally.lock().unwrap().acked.len() as u32 == TOTAL {
                    return Ok::<_, QueueError>(());
                }
                let d = c.next().await?;
                let id = id_of(&d.payload);
                *tally.lock().unwrap().received.entry(id).or_default() += 1;
                // Work takes a moment, so the restart lands mid-stream.
                tokio::time::sleep(Duration::from_millis(20)).await;
                match d.ack().await {
                    Ok(()) => *tally.lock().unwrap().acked.entry(id).or_default() += 1,
                    // The broker went away holding it: it is redelivered after the restart.
                    Err(e) if e.is_retryable() => tally.lock().unwrap().lost_acks += 1,
                    Err(e) => return Err(e),
                }
            }
        })
    };

    while tally.lock().unwrap().acked.len() < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node = tokio::task::spawn_blocking(move || {
        node.stop();
        node
    })
    .await
    .unwrap();
    // Published while the node is down: Retrying waits for it to come back.
    let publisher = {
        let q = q.clone();
        tokio::spawn(async move {
            for i in BEFORE..TOTAL {
                q.publish("work", format!("msg-{i}").into_bytes()).await?;
            }
            Ok::<_, QueueError>(())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let acked_while_down = tally.lock().unwrap().acked.len();
    let node = tokio::task::spawn_blocking(move || {
        node.start_again();
        node
    })
    .await
    .unwrap();

    tokio::time::timeout(Duration::from_secs(120), publisher)
        .await
        .expect("publisher finished")
        .unwrap()
        .expect("every publish confirmed after the restart");
    tokio::time::timeout(Duration::from_secs(120), consumer)
        .await
        .expect("consumer loop finished")
        .unwrap()
        .expect("consumer loop survived the restart without an error");

    let t = std::mem::take(&mut *tally.lock().unwrap());
    assert!(
        acked_while_down < BEFORE as usize,
        "the restart happened mid-stream ({acked_while_down} acked by then)"
    );
    for id in 0..TOTAL {
        assert!(
            t.received.get(&id).copied().unwrap_or(0) >= 1,
            "msg-{id} never consumed"
        );
        assert!(
            t.acked.get(&id).copied().unwrap_or(0) >= 1,
            "msg-{id} never acked"
        );
    }
    assert_eq!(t.acked.len() as u32, TOTAL);
    let acked_twice = t.acked.values().filter(|&&n| n > 1).count();
    assert!(
        acked_twice <= PREFETCH as usize,
        "{acked_twice} messages acked twice: more than the {PREFETCH} held at the restart"
    );
    assert!(
        counter(&registry, "platefarm_queue_reconnects_total") >= 1,
        "the consumer was re-created"
    );
    let left = q.depth("work").await.unwrap();
    assert_eq!(left.ready, 0, "nothing left over: {left:?}");
    let dead = q.depth("work.dead").await.unwrap();
    assert_eq!(dead.ready, 0, "nothing dead-lettered: {dead:?}");
    eprintln!(
        "restart: {acked_while_down} acked before it, {} deliveries for {TOTAL} messages, {} acks lost to the restart, {acked_twice} acked twice, {} retries",
        t.received.values().sum::<u32>(),
        t.lost_acks,
        counter(&registry, "platefarm_queue_retries_total")
    );
    drop(node);
}
