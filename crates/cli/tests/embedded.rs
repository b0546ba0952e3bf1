//! The embedded farm end to end with real frames: determinism across chunkings, a worker
//! killed mid-chunk, corrupt input and storage failures — nothing lost, reasons recorded.

use platefarm::embedded::{EmbeddedFarm, FarmOptions};
use platefarm::sample::{sample_clips, write_sample};
use platefarm_catalog::Catalog;
use platefarm_core::{ChunkState, TurnoverState};
use std::path::{Path, PathBuf};
use std::time::Duration;

const FRAMES: u32 = 6;

fn sample(dir: &Path) -> Vec<u8> {
    let turnover = write_sample(dir, FRAMES).expect("sample");
    std::fs::read(turnover).unwrap()
}

fn options(root: &Path, workers: usize, chunk_size: u32) -> FarmOptions {
    FarmOptions {
        workers,
        chunk_size,
        ..FarmOptions::new(root)
    }
}

/// Every plate under `<root>/plates`, sorted, with its bytes.
fn plates(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for clip in sample_clips(FRAMES) {
        let dir = root.join("plates").join(clip.shot);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "exr"))
            .collect();
        entries.sort();
        for p in entries {
            let bytes = std::fs::read(&p).unwrap();
            out.push((p.strip_prefix(root).unwrap().to_path_buf(), bytes));
        }
    }
    out
}

async fn render(
    root: &Path,
    body: &[u8],
    workers: usize,
    chunk_size: u32,
) -> platefarm_catalog::TurnoverSummary {
    let farm = EmbeddedFarm::start(options(root, workers, chunk_size))
        .await
        .unwrap();
    let receipt = farm.submit(body).await.unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(300), farm.wait(&receipt.turnover_id))
        .await
        .unwrap()
        .unwrap();
    farm.shutdown().await;
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_size_1_and_24_give_byte_identical_plates() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let body = sample(a.path());
    sample(b.path());
    let sa = render(a.path(), &body, 2, 1).await;
    let sb = render(b.path(), &body, 1, 24).await;
    assert_eq!(
        (sa.state, sb.state),
        (TurnoverState::Completed, TurnoverState::Completed)
    );
    assert_eq!(
        sa.chunks.done,
        2 * FRAMES as u64,
        "chunk size 1: one chunk per frame"
    );
    assert_eq!(sb.chunks.done, 2, "chunk size 24: one chunk per shot");
    let (pa, pb) = (plates(a.path()), plates(b.path()));
    assert_eq!(pa.len(), 2 * FRAMES as usize);
    assert_eq!(
        pa.iter().map(|p| &p.0).collect::<Vec<_>>(),
        pb.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in pa.iter().zip(&pb) {
        assert!(x == y, "{} differs between chunkings", name.display());
    }
    // Frames differ from each other (the moving element), so identity is not trivial.
    assert_ne!(pa[0].1, pa[1].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_chunk_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reference = tempfile::tempdir().unwrap();
    let body = sample(dir.path());
    sample(reference.path());
    render(reference.path(), &body, 1, 6).await;

    let mut farm = EmbeddedFarm::start(options(dir.path(), 1, 6))
        .await
        .unwrap();
    let receipt = farm.submit(&body).await.unwrap();
    // Kill the only worker as soon as it has written its first plate, mid-chunk.
    let first_shot = dir.path().join("plates").join(sample_clips(FRAMES)[0].shot);
    tokio::time::timeout(Duration::from_secs(120), async {
        while std::fs::read_dir(&first_shot)
            .map(|d| d.count())
            .unwrap_or(0)
            == 0
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the worker starts writing");
    farm.kill_worker(0).await;
    // A rename already handed to the blocking pool when the task was aborted still lands;
    // let it, so the count below is final.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written_before = std::fs::read_dir(&first_shot).unwrap().count();
    assert!(
        written_before < FRAMES as usize,
        "killed mid-chunk ({written_before} of {FRAMES} written)"
    );
    farm.spawn_worker().unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(300), farm.wait(&receipt.turnover_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.state, TurnoverState::Completed);
    assert_eq!(summary.frames_done, 2 * FRAMES as u64);
    let rows = farm
        .dispatcher
        .catalog()
        .chunks(&receipt.turnover_id)
        .await
        .unwrap();
    assert_eq!(rows[0].attempts, 2, "the killed chunk was redelivered once");
    assert_eq!(rows[0].worker_id.as_deref(), Some("embedded-1"));
    let metrics = prometheus::TextEncoder::new()
        .encode_to_string(&farm.registry.gather())
        .unwrap();
    farm.shutdown().await;
    // Every frame exactly once, identical to an uninterrupted render; no partial files left.
    let (got, want) = (plates(dir.path()), plates(reference.path()));
    assert_eq!(got.len(), want.len());
    for ((name, x), (_, y)) in got.iter().zip(&want) {
        assert!(
            x == y,
            "{} differs from the uninterrupted render",
            name.display()
        );
    }
    let resumed: f64 = metrics
        .lines()
        .find(|l| l.starts_with("platefarm_worker_frames_resumed_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap();
    // The resume record is written after each plate, so a kill between the two re-renders
    // that one frame (the same bytes); every recorded frame is skipped.
    let resumed = resumed as usize;
    assert!(
        resumed <= written_before && resumed + 1 >= written_before,
        "frames written before the kill were not rendered again ({resumed} resumed, {written_before} written)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_frame_fails_its_chunk_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let body = sample(dir.path());
    let clip = &sample_clips(FRAMES)[1];
    let victim = dir.path().join(clip.frame_key(clip.first_frame + 3));
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 3]).unwrap(); // truncated mid-image
    let summary = render(dir.path(), &body, 2, 2).await;
    assert_eq!(summary.state, TurnoverState::CompletedWithFailures);
    assert_eq!((summary.chunks.done, summary.chunks.failed), (5, 1));
    let farm_catalog =
        platefarm_catalog::SqlCatalog::sqlite_file(&dir.path().join(".platefarm/catalog.db"))
            .await
            .unwrap();
    let rows = farm_catalog.chunks(&summary.turnover_id).await.unwrap();
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == ChunkState::Failed)
        .collect();
    let detail = failed[0].detail.as_deref().unwrap();
    assert!(
        detail.contains(&format!("frame {}", clip.first_frame + 3)),
        "{detail}"
    );
    assert!(
        detail.contains(&clip.frame_key(clip.first_frame + 3)),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_retried_then_failed_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let body = sample(dir.path());
    // A file where the first shot's plate folder must go: every write there fails with an IO
    // error, which is retryable, so the chunk is retried until the delivery limit.
    std::fs::create_dir_all(dir.path().join("plates")).unwrap();
    std::fs::write(
        dir.path().join("plates").join(sample_clips(FRAMES)[0].shot),
        b"in the way",
    )
    .unwrap();
    let farm = EmbeddedFarm::start(FarmOptions {
        delivery_limit: 2,
        ..options(dir.path(), 1, 24)
    })
    .await
    .unwrap();
    let receipt = farm.submit(&body).await.unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(300), farm.wait(&receipt.turnover_id))
        .await
        .unwrap()
        .unwrap();
    let rows = farm
        .dispatcher
        .catalog()
        .chunks(&receipt.turnover_id)
        .await
        .unwrap();
    farm.shutdown().await;
    assert_eq!(summary.state, TurnoverState::CompletedWithFailures);
    let detail = rows[0].detail.as_deref().unwrap();
    // The last delivery the queue allows reports the outage as the chunk's failure.
    assert!(
        detail.starts_with("gave up after 2 deliveries") && detail.contains("plates/SH010/"),
        "{detail}"
    );
    assert_eq!(rows[1].state, ChunkState::Done);
}
