//! Confirmed-publish and consume+ack throughput against the machine's RabbitMQ, in a vhost of
//! its own: `cargo run -p platefarm-queue-amqp --example throughput [n_messages]`.
//! Figures go to stdout; they are measurements, not assertions.

use platefarm_queue::{QueueSpec, WorkQueue};
use platefarm_queue_amqp::{AmqpConfig, AmqpQueue};
use platefarm_testkit::rabbit::Vhost;
use std::sync::Arc;
use std::time::Instant;

const PAYLOAD_BYTES: usize = 200; // about a ChunkMessage

fn rate(n: usize, started: Instant) -> String {
    let s = started.elapsed().as_secs_f64();
    format!("{n} msgs in {s:.2} s = {:.0} msgs/s", n as f64 / s)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let vhost = Vhost::new();
    let q = Arc::new(
        AmqpQueue::connect(AmqpConfig {
            url: vhost.url(),
            ..AmqpConfig::default()
        })
        .await?,
    );
    let spec = QueueSpec::new("bench")
        .delivery_limit(5)
        .dead_letter_to("bench.dead");
    q.declare(&QueueSpec::new("bench.dead")).await?;
    q.declare(&spec).await?;
    let payload = vec![b'x'; PAYLOAD_BYTES];

    let started = Instant::now();
    q.publish_batch("bench", vec![payload.clone(); n]).await?;
    println!(
        "publish_batch (pipelined confirms), 1 batch:  {}",
        rate(n, started)
    );

    let started = Instant::now();
    for batch in 0..n / 100 {
        let _ = batch;
        q.publish_batch("bench", vec![payload.clone(); 100]).await?;
    }
    println!(
        "publish_batch, batches of 100:                {}",
        rate(n / 100 * 100, started)
    );

    let one_by_one = n / 5;
    let started = Instant::now();
    for _ in 0..one_by_one {
        q.publish("bench", payload.clone()).await?;
    }
    println!(
        "publish, one confirm each, 1 task:            {}",
        rate(one_by_one, started)
    );

    let tasks = 8;
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (q, payload) = (q.clone(), payload.clone());
        handles.push(tokio::spawn(async move {
            for _ in 0..one_by_one / tasks {
                q.publish("bench", payload.clone()).await?;
            }
            Ok::<_, platefarm_queue::QueueError>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    println!(
        "publish, one confirm each, {tasks} tasks:           {}",
        rate(one_by_one / tasks * tasks, started)
    );

    let total = q.depth("bench").await?.ready as usize;
    for prefetch in [100u16, 1] {
        let take = if prefetch == 1 {
            total.min(2_000)
        } else {
            total - total.min(2_000)
        };
        let mut c = q.consume("bench", prefetch).await?;
        let started = Instant::now();
        for _ in 0..take {
            c.next().await?.ack().await?;
        }
        println!(
            "consume + ack, prefetch {prefetch:>3}:                   {}",
            rate(take, started)
        );
        c.cancel().await?;
        while let Ok(d) = c.next().await {
            d.requeue().await?;
        }
    }
    Ok(())
}
