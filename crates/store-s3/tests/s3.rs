//! `S3Store` against a real S3 server (s3s-fs on loopback): the shared conformance suite, with
//! and without a prefix, multipart uploads, list pagination, the size limit, key checks,
//! an outage ridden out by `Retrying`, and wrong credentials or bucket as permanent errors.

use platefarm_store::{conformance, ObjectStore, RetryMetrics, RetryPolicy, Retrying, StoreError};
use platefarm_store_s3::{S3Config, S3Credentials, S3Store, MIN_PART_SIZE};
use platefarm_testkit::s3::S3Server;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config_for(server: &S3Server, bucket: &str, prefix: &str) -> S3Config {
    let mut config = S3Config::new(bucket);
    config.prefix = prefix.to_string();
    config.endpoint = Some(server.endpoint());
    config.region = Some(server.region().to_string());
    config.force_path_style = true;
    config.credentials = S3Credentials::Static {
        access_key_id: server.access_key().to_string(),
        secret_access_key: server.secret_key().to_string(),
        session_token: None,
    };
    config
}

async fn store_for(server: &S3Server, prefix: &str) -> S3Store {
    S3Store::new(config_for(server, server.bucket(), prefix))
        .await
        .expect("S3 store")
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_store_conforms() {
    let server = S3Server::start();
    let store = store_for(&server, "").await;
    store.check().await.expect("bucket is there");
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prefixed_store_conforms_and_stays_in_its_prefix() {
    let server = S3Server::start();
    let store = store_for(&server, "show/a").await;
    assert_eq!(store.describe(), "s3://platefarm-test/show/a");
    conformance::run_all(&store).await;
    // The objects are really under the prefix in the bucket…
    assert!(server
        .data_dir()
        .join("platefarm-test/show/a/rt/a/b.bin")
        .is_file());
    // …and a store on a sibling prefix that shares the first letters sees none of them.
    let sibling = store_for(&server, "show/ab").await;
    assert!(
        sibling.list("").await.unwrap().is_empty(),
        "prefix isolation"
    );
    assert_eq!(sibling.head("rt/a/b.bin").await.unwrap(), None);
    sibling.put("mine", b"x".to_vec()).await.unwrap();
    assert!(
        store
            .list("")
            .await
            .unwrap()
            .iter()
            .all(|m| m.key != "mine"),
        "the sibling's object is not ours"
    );
    // The whole bucket seen without a prefix holds both, under their full names.
    let root = store_for(&server, "").await;
    let keys: Vec<String> = root
        .list("show/ab/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["show/ab/mine"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_above_the_threshold_go_up_in_parts_and_round_trip() {
    let server = S3Server::start();
    let mut config = config_for(&server, server.bucket(), "mp");
    config.multipart_threshold = MIN_PART_SIZE;
    config.part_size = MIN_PART_SIZE;
    let store = S3Store::new(config).await.unwrap();
    // Two full parts and a short last one; a pattern that differs between parts, so a
    // misordered part would show.
    let len = 2 * MIN_PART_SIZE as usize + 123_457;
    let bytes: Vec<u8> = (0..len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    store.put("plates/big.exr", bytes.clone()).await.unwrap();
    assert_eq!(
        store.head("plates/big.exr").await.unwrap(),
        Some(len as u64)
    );
    assert!(store.get("plates/big.exr", len as u64).await.unwrap() == bytes);
    let on_disk = std::fs::read(server.data_dir().join("platefarm-test/mp/plates/big.exr"))
        .expect("the server stored the assembled object");
    assert!(on_disk == bytes, "server holds the parts in order");
    // Overwriting with a small object replaces the multipart one.
    store
        .put("plates/big.exr", b"small".to_vec())
        .await
        .unwrap();
    assert_eq!(store.get("plates/big.exr", 100).await.unwrap(), b"small");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_follows_continuation_tokens() {
    let server = S3Server::start();
    let mut config = config_for(&server, server.bucket(), "");
    config.list_page_size = 7;
    let store = Arc::new(S3Store::new(config).await.unwrap());
    let mut want: Vec<String> = (0..50).map(|i| format!("frames/f{i:04}.exr")).collect();
    let mut puts = tokio::task::JoinSet::new();
    for key in want.clone() {
        let store = store.clone();
        puts.spawn(async move { store.put(&key, key.as_bytes().to_vec()).await });
    }
    while let Some(done) = puts.join_next().await {
        done.unwrap().unwrap();
    }
    store.put("other/x", b"x".to_vec()).await.unwrap();
    want.sort();
    let metas = store.list("frames/").await.unwrap();
    let keys: Vec<String> = metas.iter().map(|m| m.key.clone()).collect();
    assert_eq!(keys, want, "8 pages of 7, in order, nothing twice");
    assert!(metas.iter().all(|m| m.size == m.key.len() as u64));
    assert_eq!(store.list("").await.unwrap().len(), 51);
}

/// Requests seen by a [`proxy`]: bytes sent back to the client, and the first bytes of every
/// read from the client (where request heads are), as they pass — connections stay open in
/// the client's pool.
#[derive(Default)]
struct Seen {
    down_bytes: AtomicU64,
    heads: std::sync::Mutex<Vec<String>>,
}

/// A TCP proxy in front of the S3 server that records what passes ([`Seen`]).
async fn proxy(upstream: std::net::SocketAddr) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_rd, mut client_wr) = client.into_split();
                let (mut server_rd, mut server_wr) = server.into_split();
                let up_record = record.clone();
                let up = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_rd.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        up_record
                            .heads
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n.min(2048)]).to_string());
                        if server_wr.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match server_rd.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if client_wr.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    record.down_bytes.fetch_add(n as u64, Ordering::SeqCst);
                }
                up.abort();
            });
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_over_the_limit_is_refused_without_downloading_it() {
    let server = S3Server::start();
    let store = store_for(&server, "").await;
    let size = 32 * 1024 * 1024u64;
    store
        .put("big/plate", vec![9u8; size as usize])
        .await
        .unwrap();

    let (proxy, seen) = proxy(server.addr()).await;
    let mut config = config_for(&server, server.bucket(), "");
    config.endpoint = Some(proxy);
    let through_proxy = S3Store::new(config).await.unwrap();
    let err = through_proxy
        .get("big/plate", 1024 * 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge { size: s, limit: 1_048_576, .. } if s == size),
        "{err}"
    );
    // What crossed is the headers plus what socket buffers held when we hung up: far less
    // than the object (a full download, below, counts all of it).
    let refused = seen.down_bytes.load(Ordering::SeqCst);
    assert!(
        refused < size / 4,
        "{refused} bytes crossed for a refused get"
    );
    let got = through_proxy.get("big/plate", size).await.unwrap();
    assert_eq!(got.len() as u64, size);
    assert!(seen.down_bytes.load(Ordering::SeqCst) - refused >= size);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_outside_the_store_are_refused_before_any_request() {
    // Nothing listens on this endpoint: any request would come back Unavailable.
    let server = S3Server::start();
    let mut config = config_for(&server, server.bucket(), "p");
    config.endpoint = Some("http://127.0.0.1:9".into());
    let store = S3Store::new(config).await.unwrap();
    for key in ["../p2/x", "/abs", "a//b", "a/./b", "", "a\\b"] {
        let invalid = |r: Result<(), StoreError>| matches!(r, Err(StoreError::InvalidKey { .. }));
        assert!(invalid(store.put(key, b"x".to_vec()).await), "put {key:?}");
        assert!(invalid(store.get(key, 10).await.map(drop)), "get {key:?}");
        assert!(invalid(store.head(key).await.map(drop)), "head {key:?}");
        assert!(invalid(store.delete(key).await), "delete {key:?}");
    }
    assert!(matches!(
        store.list("../").await,
        Err(StoreError::InvalidKey { .. })
    ));
    // The same store does make requests for a clean key (and finds nobody home).
    assert!(matches!(
        store.head("ok").await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_is_ridden_out_by_the_retry_wrapper() {
    let mut server = S3Server::start();
    let registry = prometheus::Registry::new();
    let metrics = RetryMetrics::register(&registry).unwrap();
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        total_budget: Duration::from_secs(60),
    };
    let store = Arc::new(Retrying::new(
        store_for(&server, "").await,
        policy,
        metrics.clone(),
    ));
    store
        .put("before", b"written before".to_vec())
        .await
        .unwrap();

    server.stop();
    let (put_store, get_store) = (store.clone(), store.clone());
    let put = tokio::spawn(async move { put_store.put("during", vec![5u8; 100_000]).await });
    let get = tokio::spawn(async move { get_store.get("before", 100).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!put.is_finished() && !get.is_finished(), "still retrying");
    server.start_again();

    put.await
        .unwrap()
        .expect("the put completes once S3 is back");
    assert_eq!(get.await.unwrap().unwrap(), b"written before");
    assert_eq!(
        store.get("during", 100_000).await.unwrap(),
        vec![5u8; 100_000]
    );
    assert!(metrics.retries("put") >= 1 && metrics.retries("get") >= 1);
    assert!(metrics.errors("put", "unavailable") >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_are_a_permanent_error_naming_the_bucket() {
    let server = S3Server::start();
    let mut config = config_for(&server, server.bucket(), "");
    config.credentials = S3Credentials::Static {
        access_key_id: server.access_key().to_string(),
        secret_access_key: "not-the-secret".into(),
        session_token: None,
    };
    let metrics = RetryMetrics::register(&prometheus::Registry::new()).unwrap();
    let store = Retrying::new(
        S3Store::new(config).await.unwrap(),
        RetryPolicy::default(),
        metrics.clone(),
    );
    for result in [
        store.put("x", b"x".to_vec()).await,
        store.get("x", 10).await.map(drop),
        store.head("x").await.map(drop),
        store.list("").await.map(drop),
        store.inner().check().await,
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::Denied { .. }), "{err}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("\"platefarm-test\""), "{err}");
    }
    assert_eq!(
        metrics.retries("put") + metrics.retries("get"),
        0,
        "no retry loop"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_bucket_is_a_configuration_error_naming_it() {
    let server = S3Server::start();
    let store = S3Store::new(config_for(&server, "no-such-bucket", ""))
        .await
        .unwrap();
    // (Not a put: s3s-fs creates missing bucket folders on write, which AWS and MinIO do not.)
    for result in [store.check().await, store.list("").await.map(drop)] {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::Config { .. }), "{err}");
        assert!(err.to_string().contains("\"no-such-bucket\""), "{err}");
    }
    // A fresh bucket made on the server is usable straight away.
    server.create_bucket("fresh-bucket");
    let fresh = S3Store::new(config_for(&server, "fresh-bucket", ""))
        .await
        .unwrap();
    fresh.check().await.unwrap();
}

/// `PLATEFARM_S3_SIGN_PAYLOAD=false`: bodies go up as `UNSIGNED-PAYLOAD` (no SHA-256 of every
/// byte on either side), single and multipart, and the real server takes them.
#[tokio::test(flavor = "multi_thread")]
async fn unsigned_payloads_round_trip_single_and_multipart() {
    let server = S3Server::start();
    let (endpoint, seen) = proxy(server.addr()).await;
    let mut config = config_for(&server, server.bucket(), "unsigned");
    config.endpoint = Some(endpoint);
    config.multipart_threshold = MIN_PART_SIZE;
    config.part_size = MIN_PART_SIZE;
    config.sign_payload = false;
    let store = S3Store::new(config).await.unwrap();
    store.put("a.txt", b"small".to_vec()).await.unwrap();
    let big: Vec<u8> = (0..MIN_PART_SIZE as usize + 777)
        .map(|i| (i % 251) as u8)
        .collect();
    store.put("big.exr", big.clone()).await.unwrap();
    assert_eq!(store.get("a.txt", 100).await.unwrap(), b"small");
    assert!(store.get("big.exr", u64::MAX).await.unwrap() == big);
    let heads = seen.heads.lock().unwrap().join("\n").to_ascii_lowercase();
    assert!(
        heads.contains("x-amz-content-sha256: unsigned-payload"),
        "{heads}"
    );
    // And the environment switch parses (a bad value names the variable).
    let env =
        |v: &'static str| move |k: &str| (k == "PLATEFARM_S3_SIGN_PAYLOAD").then(|| v.to_string());
    assert!(
        !S3Config::from_lookup("s3://bucket", env("false"))
            .unwrap()
            .sign_payload
    );
    assert!(
        S3Config::from_lookup("s3://bucket", |_| None)
            .unwrap()
            .sign_payload
    );
    let err = S3Config::from_lookup("s3://bucket", env("maybe")).unwrap_err();
    assert!(
        err.to_string().contains("PLATEFARM_S3_SIGN_PAYLOAD"),
        "{err}"
    );
}
