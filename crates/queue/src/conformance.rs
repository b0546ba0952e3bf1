//! The conformance suite every `WorkQueue` must pass (in-process today, RabbitMQ next).
//! `run_all(queue, prefix)` declares its own queues under `prefix` so runs never collide.

use crate::{QueueDepth, QueueError, QueueSpec, WorkQueue};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
/// How long `depth` may lag: RabbitMQ's management statistics refresh every ~5 s.
const DEPTH_LAG: Duration = Duration::from_secs(15);

async fn next(c: &mut Box<dyn crate::Consumer>) -> crate::Delivery {
    tokio::time::timeout(WAIT, c.next())
        .await
        .expect("a delivery within 10 s")
        .expect("delivery")
}

async fn nothing_within(c: &mut Box<dyn crate::Consumer>, ms: u64) -> bool {
    tokio::time::timeout(Duration::from_millis(ms), c.next())
        .await
        .is_err()
}

/// Polls `depth` until it equals `want` (implementations may report stale figures for a while).
async fn depth_becomes(q: &dyn WorkQueue, name: &str, want: QueueDepth) {
    let deadline = tokio::time::Instant::now() + DEPTH_LAG;
    loop {
        let got = q.depth(name).await.expect("depth");
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "depth of {name}: want {want:?}, still {got:?} after {DEPTH_LAG:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn run_all(q: &dyn WorkQueue, prefix: &str) {
    q.ping().await.expect("ping a healthy queue");
    fifo_and_ack(q, prefix).await;
    publish_batch_arrives_in_order(q, prefix).await;
    cancel_drains_what_was_pushed(q, prefix).await;
    depth_counts_ready_unacked_consumers(q, prefix).await;
    unacked_is_redelivered_when_consumer_goes(q, prefix).await;
    prefetch_bounds_unacked(q, prefix).await;
    delivery_limit_dead_letters_with_reason(q, prefix).await;
    reject_dead_letters_at_once(q, prefix).await;
    undeclared_queue_is_an_error(q, prefix).await;
}

async fn fifo_and_ack(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.fifo");
    q.declare(&QueueSpec::new(&name)).await.unwrap();
    q.declare(&QueueSpec::new(&name))
        .await
        .expect("declare is idempotent");
    for i in 0..5u8 {
        q.publish(&name, vec![i]).await.unwrap();
    }
    let mut c = q.consume(&name, 10).await.unwrap();
    for i in 0..5u8 {
        let d = next(&mut c).await;
        assert_eq!(d.payload, vec![i], "FIFO order");
        assert_eq!(d.delivery_count, 1, "first delivery counts 1");
        d.ack().await.unwrap();
    }
    assert!(nothing_within(&mut c, 200).await, "acked messages are gone");
    drop(c);
    let depth = q.depth(&name).await.unwrap();
    assert_eq!(depth.ready, 0, "ready after acks");
}

async fn publish_batch_arrives_in_order(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.batch");
    q.declare(&QueueSpec::new(&name)).await.unwrap();
    let n = 1000u32;
    q.publish_batch(&name, (0..n).map(|i| i.to_be_bytes().to_vec()).collect())
        .await
        .expect("batch confirmed");
    q.publish_batch(&name, Vec::new())
        .await
        .expect("an empty batch is fine");
    let mut c = q.consume(&name, 100).await.unwrap();
    for i in 0..n {
        let d = next(&mut c).await;
        assert_eq!(
            d.payload,
            i.to_be_bytes().to_vec(),
            "batch message {i} in order"
        );
        d.ack().await.unwrap();
    }
    assert!(nothing_within(&mut c, 200).await, "exactly {n} messages");
}

/// After `cancel`, what was already pushed is still handed out (first attempts, none burnt),
/// then `Cancelled`; what was not pushed goes to the next consumer, also as a first attempt.
async fn cancel_drains_what_was_pushed(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.cancel");
    q.declare(&QueueSpec::new(&name)).await.unwrap();
    q.publish_batch(&name, (0..3u8).map(|i| vec![i]).collect())
        .await
        .unwrap();
    let mut c = q.consume(&name, 3).await.unwrap();
    let mut seen = Vec::new();
    let held = next(&mut c).await;
    c.cancel().await.expect("cancel");
    loop {
        match tokio::time::timeout(WAIT, c.next()).await {
            Ok(Ok(d)) => {
                assert_eq!(d.delivery_count, 1, "a drained delivery is a first attempt");
                seen.push(d.payload[0]);
                d.ack().await.expect("ack a drained delivery");
            }
            Ok(Err(QueueError::Cancelled)) => break,
            Ok(Err(e)) => panic!("after cancel, next gave {e} instead of Cancelled"),
            Err(_) => panic!("next neither drained nor returned Cancelled within {WAIT:?}"),
        }
    }
    assert!(
        matches!(c.next().await, Err(QueueError::Cancelled)),
        "Cancelled stays Cancelled"
    );
    assert_eq!(held.delivery_count, 1);
    seen.push(held.payload[0]);
    held.ack()
        .await
        .expect("a delivery held across cancel still acks");
    drop(c);
    let mut after = q.consume(&name, 3).await.unwrap();
    while seen.len() < 3 {
        let d = next(&mut after).await;
        assert_eq!(
            d.delivery_count, 1,
            "not pushed before cancel → first attempt"
        );
        seen.push(d.payload[0]);
        d.ack().await.unwrap();
    }
    assert!(nothing_within(&mut after, 200).await, "no duplicates");
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2], "every message exactly once");
}

async fn depth_counts_ready_unacked_consumers(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.depth");
    q.declare(&QueueSpec::new(&name)).await.unwrap();
    depth_becomes(q, &name, QueueDepth::default()).await;
    q.publish_batch(&name, vec![vec![1], vec![2], vec![3]])
        .await
        .unwrap();
    let mut c = q.consume(&name, 1).await.unwrap();
    let d = next(&mut c).await;
    let want = QueueDepth {
        ready: 2,
        unacked: 1,
        consumers: 1,
    };
    depth_becomes(q, &name, want).await;
    d.ack().await.unwrap();
    c.cancel().await.unwrap();
    while let Ok(d) = c.next().await {
        d.requeue().await.unwrap();
    }
    drop(c);
    let want = QueueDepth {
        ready: 2,
        unacked: 0,
        consumers: 0,
    };
    depth_becomes(q, &name, want).await;
}

async fn unacked_is_redelivered_when_consumer_goes(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.redeliver");
    q.declare(&QueueSpec::new(&name).delivery_limit(5))
        .await
        .unwrap();
    q.publish(&name, b"chunk".to_vec()).await.unwrap();
    let mut crashed = q.consume(&name, 1).await.unwrap();
    let d = next(&mut crashed).await;
    assert_eq!(d.delivery_count, 1);
    drop(d);
    drop(crashed); // the worker dies holding the chunk
    let mut survivor = q.consume(&name, 1).await.unwrap();
    let d = next(&mut survivor).await;
    assert_eq!(d.payload, b"chunk", "redelivered payload");
    assert_eq!(d.delivery_count, 2, "redelivery counts");
    d.ack().await.unwrap();
}

async fn prefetch_bounds_unacked(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.prefetch");
    q.declare(&QueueSpec::new(&name)).await.unwrap();
    for i in 0..3u8 {
        q.publish(&name, vec![i]).await.unwrap();
    }
    let mut a = q.consume(&name, 1).await.unwrap();
    let first = next(&mut a).await;
    assert!(
        nothing_within(&mut a, 300).await,
        "prefetch 1 holds one delivery"
    );
    let mut b = q.consume(&name, 1).await.unwrap();
    let second = next(&mut b).await;
    assert_ne!(
        first.payload, second.payload,
        "another consumer gets the next message"
    );
    first.ack().await.unwrap();
    let third = next(&mut a).await;
    assert_eq!(third.payload, vec![2], "an ack frees the slot");
    second.ack().await.unwrap();
    third.ack().await.unwrap();
}

async fn delivery_limit_dead_letters_with_reason(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.limited");
    let dlq = format!("{prefix}.limited.dead");
    q.declare(&QueueSpec::new(&dlq)).await.unwrap();
    q.declare(&QueueSpec::new(&name).delivery_limit(2).dead_letter_to(&dlq))
        .await
        .unwrap();
    q.publish(&name, b"poison".to_vec()).await.unwrap();
    let mut c = q.consume(&name, 1).await.unwrap();
    let d = next(&mut c).await;
    d.requeue().await.unwrap();
    let d = next(&mut c).await;
    assert_eq!(d.delivery_count, 2);
    d.requeue().await.unwrap();
    assert!(
        nothing_within(&mut c, 300).await,
        "past the limit it is not redelivered"
    );
    let mut dead = q.consume(&dlq, 1).await.unwrap();
    let d = next(&mut dead).await;
    assert_eq!(d.payload, b"poison", "dead letter keeps the payload");
    let reason = d.death_reason.clone().expect("dead letters carry a reason");
    assert!(reason.contains("delivery limit"), "reason: {reason}");
    d.ack().await.unwrap();
}

async fn reject_dead_letters_at_once(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.reject");
    let dlq = format!("{prefix}.reject.dead");
    q.declare(&QueueSpec::new(&dlq)).await.unwrap();
    q.declare(&QueueSpec::new(&name).dead_letter_to(&dlq))
        .await
        .unwrap();
    q.publish(&name, b"bad".to_vec()).await.unwrap();
    let mut c = q.consume(&name, 1).await.unwrap();
    next(&mut c)
        .await
        .reject("truncated DNG at byte 1234")
        .await
        .unwrap();
    let reason = "truncated DNG at byte 1234 — «A001_C002» \"quoted\"";
    q.publish(&name, b"worse".to_vec()).await.unwrap();
    next(&mut c).await.reject(reason).await.unwrap();
    let mut dead = q.consume(&dlq, 1).await.unwrap();
    let d = next(&mut dead).await;
    assert_eq!(d.payload, b"bad");
    assert_eq!(
        d.death_reason.as_deref(),
        Some("truncated DNG at byte 1234")
    );
    d.ack().await.unwrap();
    let d = next(&mut dead).await;
    assert_eq!(d.payload, b"worse");
    assert_eq!(d.death_reason.as_deref(), Some(reason), "reason round trip");
    d.ack().await.unwrap();
    assert!(
        nothing_within(&mut c, 200).await,
        "rejected messages are gone"
    );
}

async fn undeclared_queue_is_an_error(q: &dyn WorkQueue, prefix: &str) {
    let name = format!("{prefix}.never-declared");
    assert!(
        matches!(
            q.publish(&name, vec![1]).await,
            Err(QueueError::NoSuchQueue(_)) | Err(QueueError::Unavailable(_))
        ),
        "publishing to an undeclared queue must fail, not drop the message"
    );
}
