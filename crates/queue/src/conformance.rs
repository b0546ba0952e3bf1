//! The conformance suite every `WorkQueue` must pass (in-process today, RabbitMQ next).
//! `run_all(queue, prefix)` declares its own queues under `prefix` so runs never collide.

use crate::{QueueError, QueueSpec, WorkQueue};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

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

pub async fn run_all(q: &dyn WorkQueue, prefix: &str) {
    fifo_and_ack(q, prefix).await;
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
    assert_eq!((depth.ready, depth.unacked), (0, 0), "depth after acks");
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
    let mut dead = q.consume(&dlq, 1).await.unwrap();
    let d = next(&mut dead).await;
    assert_eq!(
        d.death_reason.as_deref(),
        Some("truncated DNG at byte 1234")
    );
    d.ack().await.unwrap();
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
