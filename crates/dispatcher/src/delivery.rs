//! Delivery of a complete shot through the object store: the shot's delivery AMF (its input
//! transform marked applied) beside the plates, then an ASC MHL generation of the shot's folder.
//! Before hashing, every plate the workers reported is checked against the size and xxh64 they
//! recorded, so a delivery never certifies bytes other than those rendered.
//!
//! On a local store the MHL is written in place; on S3 the shot's folder (plates and any earlier
//! `ascmhl/` history) is mirrored into a scratch directory (several objects at once, each plate
//! checked as it arrives), hashed there, and the new `ascmhl/` files are uploaded.

use crate::DeliveryHook;
use async_trait::async_trait;
use futures_util::StreamExt;
use platefarm_core::{OutputFile, Shot, Turnover};
use platefarm_mhl::HashFormat;
use platefarm_store::ObjectStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest object a delivery reads (plates, AMFs, manifests).
const MAX_OBJECT: u64 = 4 << 30;

/// Objects a delivery downloads at once from a remote store.
const DOWNLOADS_AT_ONCE: usize = 8;

pub struct StoreDelivery {
    store: Arc<dyn ObjectStore>,
    /// The store's root folder when it is a local store (MHL written in place).
    local_root: Option<PathBuf>,
}

impl StoreDelivery {
    pub fn new(store: Arc<dyn ObjectStore>, local_root: Option<PathBuf>) -> Self {
        StoreDelivery { store, local_root }
    }
}

fn shot_folder(shot: &Shot) -> String {
    let base = shot
        .output_location
        .trim_start_matches("./")
        .trim_end_matches('/');
    if base.is_empty() {
        shot.name.clone()
    } else {
        format!("{base}/{}", shot.name)
    }
}

#[async_trait]
impl DeliveryHook for StoreDelivery {
    async fn shot_complete(
        &self,
        turnover: &Turnover,
        shot: usize,
        outputs: &[OutputFile],
        failed_chunks: u64,
    ) -> Result<(), String> {
        let shot = turnover
            .shots
            .get(shot)
            .ok_or("shot index out of range")?
            .clone();
        let folder = shot_folder(&shot);
        let now = chrono::Utc::now();
        if let Some(amf_path) = &shot.amf_path {
            let bytes = self
                .store
                .get(amf_path.trim_start_matches("./"), 16 << 20)
                .await
                .map_err(|e| format!("reading {amf_path}: {e}"))?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{amf_path} is not UTF-8"))?;
            let source = platefarm_standards::amf::Amf::parse(&text)
                .map_err(|e| format!("{amf_path}: {e}"))?;
            let amf = platefarm_standards::amf::write_delivery_amf(
                &source,
                &uuid::Uuid::new_v4().to_string(),
                &shot.name,
                &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
            self.store
                .put(&format!("{folder}/{}.amf", shot.name), amf.into_bytes())
                .await
                .map_err(|e| format!("writing the delivery AMF: {e}"))?;
        }
        let comment = format!(
            "turnover {}, shot {}{}",
            turnover.turnover_id,
            shot.name,
            if failed_chunks > 0 {
                format!(", {failed_chunks} chunk(s) not delivered")
            } else {
                String::new()
            }
        );
        match &self.local_root {
            Some(root) => {
                let dir = root.join(&folder);
                let outputs = outputs.to_vec();
                let root = root.clone();
                tokio::task::spawn_blocking(move || {
                    check_outputs(&root, &outputs)?;
                    hash_folder(&dir, comment, now)
                })
                .await
                .map_err(|e| format!("delivery task failed: {e}"))?
            }
            None => self.deliver_remote(&folder, outputs, comment, now).await,
        }
    }
}

impl StoreDelivery {
    async fn deliver_remote(
        &self,
        folder: &str,
        outputs: &[OutputFile],
        comment: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        let scratch = tempfile::tempdir().map_err(|e| format!("scratch folder: {e}"))?;
        let root = scratch.path().to_path_buf();
        let listing = self
            .store
            .list(&format!("{folder}/"))
            .await
            .map_err(|e| format!("listing {folder}/: {e}"))?;
        // Objects come down several at once: a store's latency per request (tens of ms on S3)
        // would otherwise add up over a shot's plates. Each is checked against what its worker
        // reported while its bytes are in hand.
        let reported: std::collections::HashMap<&str, &OutputFile> =
            outputs.iter().map(|o| (o.key.as_str(), o)).collect();
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<String> = listing.iter().map(|o| o.key.clone()).collect();
        let mut downloads = futures_util::stream::iter(keys)
            .map(|key| {
                let store = self.store.clone();
                async move {
                    match store.get(&key, MAX_OBJECT).await {
                        Ok(bytes) => Ok((key, bytes)),
                        Err(e) => Err(format!("reading {key}: {e}")),
                    }
                }
            })
            .buffer_unordered(DOWNLOADS_AT_ONCE);
        while let Some(next) = downloads.next().await {
            let (key, bytes) = next?;
            if let Some(o) = reported.get(key.as_str()) {
                let got = platefarm_mhl::hash_data(HashFormat::Xxh64, &bytes);
                check_output(o, bytes.len() as u64, &got)?;
                seen.insert(o.key.as_str());
            }
            let path = root.join(&key);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if let Some(missing) = outputs.iter().find(|o| !seen.contains(o.key.as_str())) {
            return Err(format!("plate {} is missing from the store", missing.key));
        }
        let dir = root.join(folder);
        let before: std::collections::BTreeSet<String> =
            listing.iter().map(|o| o.key.clone()).collect();
        let d = dir.clone();
        tokio::task::spawn_blocking(move || hash_folder(&d, comment, now))
            .await
            .map_err(|e| format!("delivery task failed: {e}"))??;
        // Upload the history files the generation added (manifests, chain).
        let mhl_dir = dir.join("ascmhl");
        for entry in
            std::fs::read_dir(&mhl_dir).map_err(|e| format!("{}: {e}", mhl_dir.display()))?
        {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name().to_string_lossy().to_string();
            let key = format!("{folder}/ascmhl/{name}");
            let bytes = std::fs::read(entry.path()).map_err(|e| format!("{name}: {e}"))?;
            if before.contains(&key) && name != "ascmhl_chain.xml" {
                continue;
            }
            self.store
                .put(&key, bytes)
                .await
                .map_err(|e| format!("writing {key}: {e}"))?;
        }
        Ok(())
    }
}

/// Every reported output is there with the size and hash its worker recorded.
fn check_outputs(root: &Path, outputs: &[OutputFile]) -> Result<(), String> {
    for o in outputs {
        let path = root.join(&o.key);
        let got = platefarm_mhl::hash_file(&path, &[HashFormat::Xxh64])
            .map_err(|e| format!("plate {} is missing or unreadable: {e}", o.key))?;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        check_output(o, size, got.first().map(String::as_str).unwrap_or("?"))?;
    }
    Ok(())
}

/// A plate found with `size` bytes hashing to `xxh64` is the one its worker reported.
fn check_output(o: &OutputFile, size: u64, xxh64: &str) -> Result<(), String> {
    if size != o.size || xxh64 != o.xxh64 {
        return Err(format!(
            "plate {} is not what its worker wrote ({} bytes, xxh64 {} recorded; {size} bytes, xxh64 {xxh64} found)",
            o.key, o.size, o.xxh64
        ));
    }
    Ok(())
}

fn hash_folder(
    dir: &Path,
    comment: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("{} holds no plates", dir.display()));
    }
    let mut opts = platefarm_mhl::CreateOptions::new(now);
    opts.creator.comment = Some(comment);
    let g = platefarm_mhl::create_generation(dir, &opts).map_err(|e| e.to_string())?;
    tracing::info!(folder = %dir.display(), generation = g.generation, files = g.files, "delivery hashed (ASC MHL)");
    Ok(())
}
