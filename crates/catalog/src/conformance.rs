//! The conformance suite every `Catalog` must pass (SQLite and PostgreSQL). Ids are prefixed
//! with `run` so several runs can share a database.

use crate::*;
use platefarm_core::{plan_chunks, FrameRange, ShotFrames};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000 + secs, 0).expect("valid timestamp")
}

fn new_turnover(id: &str, secs: i64) -> NewTurnover {
    NewTurnover {
        turnover_id: id.to_string(),
        production: "conformance".into(),
        priority: 60,
        deadline: Some(at(86_400)),
        submitted_at: at(secs),
        request_json: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn chunks(id: &str) -> Vec<ChunkSpec> {
    let shots = [
        ShotFrames {
            shot_idx: 0,
            shot_name: "SH010".into(),
            frames: FrameRange {
                start: 1001,
                end: 1010,
            },
        },
        ShotFrames {
            shot_idx: 1,
            shot_name: "SH020".into(),
            frames: FrameRange { start: 1, end: 4 },
        },
    ];
    plan_chunks(id, &shots, 4).expect("plan")
}

fn result<'a>(chunk_id: &'a str, state: ChunkState, detail: Option<&'a str>) -> ChunkResult<'a> {
    ChunkResult {
        chunk_id,
        state,
        detail,
        worker_id: "w1",
        attempts: 1,
        at: at(60),
    }
}

pub async fn run_all(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-a");
    let planned = chunks(&id);
    cat.insert_turnover(&new_turnover(&id, 0), &planned)
        .await
        .expect("insert");
    assert!(
        matches!(
            cat.insert_turnover(&new_turnover(&id, 0), &planned).await,
            Err(CatalogError::Duplicate(_))
        ),
        "duplicate turnover ids are refused"
    );
    let s = cat.turnover(&id).await.unwrap().expect("stored");
    assert_eq!(s.state, TurnoverState::Running);
    assert_eq!(
        (s.chunks.queued, s.frames_total, s.frames_done),
        (4, 14, 0),
        "counts after insert"
    );
    assert_eq!(s.priority, 60);
    let stored = cat.request_json(&id).await.unwrap().expect("request kept");
    assert_eq!(
        stored,
        format!("{{\"id\":\"{id}\"}}"),
        "request JSON round trip"
    );
    assert_eq!(cat.request_json("nope").await.unwrap(), None);

    let rows = cat.chunks(&id).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter().map(|r| r.chunk_idx).collect::<Vec<_>>(),
        [0, 1, 2, 3],
        "ordered by chunk_idx"
    );
    assert_eq!(
        (
            rows[2].shot.as_str(),
            rows[2].frame_start,
            rows[2].frame_end
        ),
        ("SH010", 1009, 1010)
    );

    let applied = cat
        .record_result(&result(&planned[0].chunk_id, ChunkState::Done, None))
        .await
        .unwrap();
    assert!(applied.changed);
    assert_eq!(
        (applied.turnover_id.as_str(), applied.shot.as_str()),
        (id.as_str(), "SH010")
    );
    let dup = cat
        .record_result(&result(
            &planned[0].chunk_id,
            ChunkState::Failed,
            Some("late duplicate"),
        ))
        .await
        .unwrap();
    assert!(
        !dup.changed,
        "a terminal chunk is never flipped by a duplicate result"
    );
    cat.record_result(&result(
        &planned[3].chunk_id,
        ChunkState::Failed,
        Some("truncated DNG"),
    ))
    .await
    .unwrap();
    let rows = cat.chunks(&id).await.unwrap();
    assert_eq!(rows[0].state, ChunkState::Done);
    assert_eq!(
        rows[3].detail.as_deref(),
        Some("truncated DNG"),
        "failure reason kept"
    );
    assert!(matches!(
        cat.record_result(&result("no-such-chunk", ChunkState::Done, None))
            .await,
        Err(CatalogError::UnknownChunk(_))
    ));

    let sh = cat.shot_counts(&id, "SH010").await.unwrap();
    assert_eq!((sh.queued, sh.done, sh.failed), (2, 1, 0), "shot counts");
    let s = cat.turnover(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            s.chunks.queued,
            s.chunks.done,
            s.chunks.failed,
            s.frames_done
        ),
        (2, 1, 1, 4)
    );

    cat.set_turnover_state(&id, TurnoverState::CompletedWithFailures, at(120))
        .await
        .unwrap();
    let s = cat.turnover(&id).await.unwrap().unwrap();
    assert_eq!(s.state, TurnoverState::CompletedWithFailures);
    assert_eq!(s.finished_at, Some(at(120)));

    let later = format!("{run}-b");
    cat.insert_turnover(&new_turnover(&later, 10), &chunks(&later))
        .await
        .unwrap();
    let listed: Vec<String> = cat
        .list_turnovers(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.turnover_id)
        .filter(|t| t.starts_with(run))
        .collect();
    assert_eq!(listed, [later.clone(), id.clone()], "most recent first");
    assert!(cat
        .turnover(&format!("{run}-missing"))
        .await
        .unwrap()
        .is_none());
}
