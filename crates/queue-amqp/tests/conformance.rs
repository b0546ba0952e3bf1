//! The RabbitMQ adapter against the real broker: the shared conformance suite, topology,
//! mismatch, depth without the management API, and configuration errors. Each test runs in
//! a vhost of its own.

use platefarm_queue::{conformance, QueueError, QueueSpec, WorkQueue};
use platefarm_queue_amqp::{AmqpConfig, AmqpQueue};
use platefarm_testkit::rabbit::{rabbitmqctl, Vhost};
use std::time::Duration;

async fn connect(vhost: &Vhost, management: bool) -> AmqpQueue {
    AmqpQueue::connect(AmqpConfig {
        url: vhost.url(),
        management_url: management.then(|| vhost.management_url()),
        ..AmqpConfig::default()
    })
    .await
    .expect("connect to the test vhost")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_queue_conforms() {
    let vhost = Vhost::new();
    let q = connect(&vhost, true).await;
    assert_eq!(q.vhost(), vhost.name());
    conformance::run_all(&q, "conf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_topology_is_quorum_with_at_least_once_dead_lettering() {
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.declare(&QueueSpec::new("jobs.dead")).await.unwrap();
    q.declare(
        &QueueSpec::new("jobs")
            .delivery_limit(5)
            .dead_letter_to("jobs.dead"),
    )
    .await
    .unwrap();
    let listing = rabbitmqctl(&[
        "list_queues",
        "-p",
        vhost.name(),
        "--no-table-headers",
        "--silent",
        "name",
        "type",
        "durable",
        "arguments",
    ]);
    let jobs = listing
        .lines()
        .find(|l| l.starts_with("jobs\t"))
        .unwrap_or_else(|| panic!("jobs not listed in {listing}"));
    for want in [
        "quorum",
        "true",
        // rabbitmqctl prints the empty exchange name (the default exchange) as [].
        r#"{"x-dead-letter-exchange",[]}"#,
        r#"{"x-dead-letter-routing-key","jobs.dead"}"#,
        r#"{"x-dead-letter-strategy","at-least-once"}"#,
        r#"{"x-delivery-limit",4}"#,
        r#"{"x-overflow","reject-publish"}"#,
    ] {
        assert!(jobs.contains(want), "{want} missing from {jobs}");
    }
    let dead = listing
        .lines()
        .find(|l| l.starts_with("jobs.dead\t"))
        .unwrap_or_else(|| panic!("jobs.dead not listed in {listing}"));
    assert!(dead.contains("quorum"), "{dead}");
    assert!(
        !dead.contains("x-delivery-limit"),
        "no limit where nothing can be dead-lettered to: {dead}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeclaring_with_other_settings_is_a_mismatch_naming_the_queue() {
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.declare(&QueueSpec::new("a.dead")).await.unwrap();
    q.declare(&QueueSpec::new("b.dead")).await.unwrap();
    q.declare(&QueueSpec::new("work").dead_letter_to("a.dead"))
        .await
        .unwrap();
    let err = q
        .declare(&QueueSpec::new("work").dead_letter_to("b.dead"))
        .await
        .expect_err("different dead-letter queue");
    match &err {
        QueueError::Mismatch { queue, detail } => {
            assert_eq!(queue, "work");
            assert!(detail.contains("x-dead-letter-routing-key"), "{detail}");
        }
        other => panic!("expected Mismatch, got {other}"),
    }
    assert!(!err.is_retryable());
    // The failed declare cost a channel, not the connection.
    q.declare(&QueueSpec::new("work").dead_letter_to("a.dead"))
        .await
        .expect("the original spec still declares");
    q.publish("work", b"still works".to_vec()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_1000_arrives_complete() {
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.declare(&QueueSpec::new("batch")).await.unwrap();
    let payloads: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| format!("chunk-{i}").into_bytes())
        .collect();
    q.publish_batch("batch", payloads.clone()).await.unwrap();
    let depth = q.depth("batch").await.unwrap();
    assert_eq!(
        depth.ready, 1000,
        "all confirmed before publish_batch returned"
    );
    let mut c = q.consume("batch", 200).await.unwrap();
    for want in &payloads {
        let d = tokio::time::timeout(Duration::from_secs(10), c.next())
            .await
            .expect("delivery within 10 s")
            .unwrap();
        assert_eq!(&d.payload, want);
        d.ack().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_without_management_reports_ready_and_consumers() {
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.declare(&QueueSpec::new("d")).await.unwrap();
    q.publish_batch("d", vec![vec![1], vec![2]]).await.unwrap();
    let mut c = q.consume("d", 1).await.unwrap();
    let d = c.next().await.unwrap();
    let depth = q.depth("d").await.unwrap();
    assert_eq!((depth.ready, depth.unacked, depth.consumers), (1, 0, 1));
    d.ack().await.unwrap();
    assert!(matches!(
        q.depth("nope").await,
        Err(QueueError::NoSuchQueue(name)) if name == "nope"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_dead_lettered_message_names_the_limit() {
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.declare(&QueueSpec::new("l.dead")).await.unwrap();
    q.declare(
        &QueueSpec::new("l")
            .delivery_limit(1)
            .dead_letter_to("l.dead"),
    )
    .await
    .unwrap();
    q.publish("l", b"once".to_vec()).await.unwrap();
    let mut c = q.consume("l", 1).await.unwrap();
    c.next().await.unwrap().requeue().await.unwrap();
    let mut dead = q.consume("l.dead", 1).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(10), dead.next())
        .await
        .expect("dead-lettered after one delivery")
        .unwrap();
    assert_eq!(
        d.death_reason.as_deref(),
        Some("delivery limit 1 reached in \"l\"")
    );
    assert_eq!(
        d.delivery_count, 1,
        "first delivery from the dead-letter queue"
    );
    d.ack().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_and_reachability_errors() {
    let bad_url = AmqpQueue::connect(AmqpConfig {
        url: "http://nope".into(),
        ..AmqpConfig::default()
    })
    .await;
    assert!(matches!(
        bad_url,
        Err(QueueError::Config { field: "url", .. })
    ));
    let bad_mgmt = AmqpQueue::connect(AmqpConfig {
        management_url: Some("https://127.0.0.1:15672".into()),
        ..AmqpConfig::default()
    })
    .await;
    assert!(matches!(
        bad_mgmt,
        Err(QueueError::Config {
            field: "management_url",
            ..
        })
    ));
    // A port nobody listens on: refused at once, retryable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = AmqpQueue::connect(AmqpConfig {
        url: format!("amqp://guest:guest@127.0.0.1:{closed}/%2f"),
        op_timeout: Duration::from_secs(2),
        ..AmqpConfig::default()
    })
    .await;
    assert!(
        matches!(&down, Err(e) if e.is_retryable()),
        "{:?}",
        down.err()
    );
    // `new` does not connect: a service can start before the broker, and calls fail
    // retryably until it is there.
    let lazy = AmqpQueue::new(AmqpConfig {
        url: format!("amqp://guest:guest@127.0.0.1:{closed}/%2f"),
        op_timeout: Duration::from_secs(2),
        ..AmqpConfig::default()
    })
    .expect("a valid configuration");
    assert!(matches!(lazy.ping().await, Err(e) if e.is_retryable()));
    let vhost = Vhost::new();
    let q = connect(&vhost, false).await;
    q.ping().await.expect("ping");
}
