//! The conformance suite every `ObjectStore` must pass (local today, S3 next). Call
//! `run_all(&store)` from each implementation's tests with an empty store.

use crate::{ObjectStore, StoreError};

/// Runs every check; panics with the failing property's name.
pub async fn run_all(store: &dyn ObjectStore) {
    put_get_round_trip(store).await;
    overwrite_replaces(store).await;
    missing_is_not_found(store).await;
    list_is_sorted_and_prefix_filtered(store).await;
    keys_cannot_escape(store).await;
    size_limit_is_enforced(store).await;
    delete_is_idempotent(store).await;
    concurrent_puts_leave_a_whole_object(store).await;
    every_operation_checks_its_key(store).await;
    size_limit_is_inclusive(store).await;
    list_of_everything_shows_only_real_keys(store).await;
    binary_and_unicode_keys_round_trip(store).await;
}

async fn put_get_round_trip(store: &dyn ObjectStore) {
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    store.put("rt/a/b.bin", bytes.clone()).await.expect("put");
    assert_eq!(
        store.get("rt/a/b.bin", u64::MAX).await.expect("get"),
        bytes,
        "round trip"
    );
    assert_eq!(
        store.head("rt/a/b.bin").await.unwrap(),
        Some(100_000),
        "head size"
    );
    store.put("rt/empty", Vec::new()).await.expect("put empty");
    assert_eq!(
        store.get("rt/empty", 10).await.unwrap(),
        Vec::<u8>::new(),
        "empty object"
    );
}

async fn overwrite_replaces(store: &dyn ObjectStore) {
    store.put("ow/x", b"first version".to_vec()).await.unwrap();
    store.put("ow/x", b"second".to_vec()).await.unwrap();
    assert_eq!(
        store.get("ow/x", 100).await.unwrap(),
        b"second",
        "overwrite"
    );
}

async fn missing_is_not_found(store: &dyn ObjectStore) {
    assert!(
        matches!(
            store.get("nope/x", 10).await,
            Err(StoreError::NotFound { .. })
        ),
        "get missing"
    );
    assert_eq!(store.head("nope/x").await.unwrap(), None, "head missing");
}

async fn list_is_sorted_and_prefix_filtered(store: &dyn ObjectStore) {
    for k in ["ls/b/2", "ls/a/1", "ls/a/10", "ls/ab", "lsx/other"] {
        store.put(k, k.as_bytes().to_vec()).await.unwrap();
    }
    let keys: Vec<String> = store
        .list("ls/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["ls/a/1", "ls/a/10", "ls/ab", "ls/b/2"], "list ls/");
    let keys: Vec<String> = store
        .list("ls/a")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["ls/a/1", "ls/a/10", "ls/ab"], "list partial prefix");
    let metas = store.list("ls/b/").await.unwrap();
    assert_eq!(metas[0].size, 6, "list sizes");
    assert!(
        store.list("nothing-here/").await.unwrap().is_empty(),
        "empty list"
    );
}

async fn keys_cannot_escape(store: &dyn ObjectStore) {
    for key in [
        "../escape",
        "a/../../b",
        "/etc/passwd",
        "a\\b",
        "",
        "a//b",
        "./a",
    ] {
        assert!(
            matches!(
                store.put(key, b"x".to_vec()).await,
                Err(StoreError::InvalidKey { .. })
            ),
            "put {key:?} must be refused"
        );
        assert!(
            matches!(store.get(key, 10).await, Err(StoreError::InvalidKey { .. })),
            "get {key:?}"
        );
    }
    assert!(
        matches!(store.list("../").await, Err(StoreError::InvalidKey { .. })),
        "list ../"
    );
}

async fn size_limit_is_enforced(store: &dyn ObjectStore) {
    store.put("big/x", vec![0u8; 1000]).await.unwrap();
    assert!(
        matches!(
            store.get("big/x", 999).await,
            Err(StoreError::TooLarge {
                size: 1000,
                limit: 999,
                ..
            })
        ),
        "size limit"
    );
}

async fn delete_is_idempotent(store: &dyn ObjectStore) {
    store.put("del/x", b"x".to_vec()).await.unwrap();
    store.delete("del/x").await.unwrap();
    assert_eq!(store.head("del/x").await.unwrap(), None, "deleted");
    store.delete("del/x").await.expect("second delete is fine");
}

async fn concurrent_puts_leave_a_whole_object(store: &dyn ObjectStore) {
    let a = vec![b'a'; 300_000];
    let b = vec![b'b'; 200_000];
    let (ra, rb) = tokio::join!(
        store.put("race/x", a.clone()),
        store.put("race/x", b.clone())
    );
    ra.unwrap();
    rb.unwrap();
    let got = store.get("race/x", u64::MAX).await.unwrap();
    assert!(got == a || got == b, "a racing put left a mixed object");
    let keys: Vec<String> = store
        .list("race/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["race/x"], "no temporary objects visible");
}

async fn every_operation_checks_its_key(store: &dyn ObjectStore) {
    // The trait promises a key that could leave the root is refused before any IO: by every
    // operation, not only put and get.
    for key in ["../escape", "/abs", "a//b", "a\\b"] {
        assert!(
            matches!(store.head(key).await, Err(StoreError::InvalidKey { .. })),
            "head {key:?} must be refused"
        );
        assert!(
            matches!(store.delete(key).await, Err(StoreError::InvalidKey { .. })),
            "delete {key:?} must be refused"
        );
    }
}

async fn size_limit_is_inclusive(store: &dyn ObjectStore) {
    store.put("lim/x", vec![7u8; 1000]).await.unwrap();
    assert_eq!(
        store
            .get("lim/x", 1000)
            .await
            .expect("an object of exactly the limit"),
        vec![7u8; 1000],
        "limit is inclusive"
    );
    assert!(
        matches!(
            store.get("lim/x", 0).await,
            Err(StoreError::TooLarge {
                size: 1000,
                limit: 0,
                ..
            })
        ),
        "zero limit"
    );
}

async fn list_of_everything_shows_only_real_keys(store: &dyn ObjectStore) {
    store.put("all/one", b"1".to_vec()).await.unwrap();
    let metas = store.list("").await.expect("list everything");
    assert!(
        metas.iter().any(|m| m.key == "all/one" && m.size == 1),
        "list(\"\") includes every object"
    );
    for m in &metas {
        assert!(
            crate::check_key(&m.key).is_ok(),
            "listed key {:?} is not a clean relative key (an internal or prefixed name leaked)",
            m.key
        );
        assert_eq!(
            store.head(&m.key).await.unwrap(),
            Some(m.size),
            "listed size of {:?} matches head",
            m.key
        );
    }
    let mut sorted = metas.clone();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(metas, sorted, "list(\"\") is sorted");
}

async fn binary_and_unicode_keys_round_trip(store: &dyn ObjectStore) {
    // Plate names carry spaces, `+` and non-ASCII letters; every byte value must survive.
    let bytes: Vec<u8> = (0..=255u8).collect();
    for key in ["uni/Szene 1+2/Übergang.exr", "uni/a=b&c%20d.dpx"] {
        store.put(key, bytes.clone()).await.expect("put");
        assert_eq!(store.get(key, 256).await.expect("get"), bytes, "{key}");
        assert_eq!(store.head(key).await.unwrap(), Some(256), "head {key}");
    }
    let keys: Vec<String> = store
        .list("uni/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(
        keys,
        ["uni/Szene 1+2/Übergang.exr", "uni/a=b&c%20d.dpx"],
        "keys listed as written"
    );
}
