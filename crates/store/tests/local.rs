//! The local store passes the shared conformance suite and never writes outside its root.

use platefarm_store::{conformance, LocalStore, ObjectStore};

#[tokio::test]
async fn local_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("root")).unwrap();
    conformance::run_all(&store).await;
    assert!(!dir.path().join("escape").exists());
    assert!(!dir.path().join("b").exists());
}

#[tokio::test]
async fn key_of_maps_paths_under_the_root_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let inside = store.root().join("clips/a.dng");
    assert_eq!(store.key_of(&inside).as_deref(), Some("clips/a.dng"));
    assert_eq!(store.key_of(std::path::Path::new("/etc/passwd")), None);
    store.put("clips/a.dng", b"x".to_vec()).await.unwrap();
    assert_eq!(std::fs::read(&inside).unwrap(), b"x");
}
