//! The conformance suite every `Catalog` must pass (SQLite and PostgreSQL). Ids are prefixed
//! with `run` so several runs can share a database.

use crate::*;
use platefarm_core::{plan_chunks, FrameRange, ShotFrames};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000 + secs, 0).expect("valid timestamp")
}

fn new_turnover(id: &str, production: &str, secs: i64) -> NewTurnover {
    NewTurnover {
        turnover_id: id.to_string(),
        production: production.into(),
        priority: 60,
        deadline: Some(at(86_400)),
        submitted_at: at(secs),
        request_json: format!("{{\"id\":\"{id}\"}}"),
        shots: ["SH010", "SH020"]
            .iter()
            .map(|s| NewShot {
                name: s.to_string(),
                input_pattern: format!("clips/{s}/{s}.%07d.dng"),
            })
            .collect(),
    }
}

fn chunks(id: &str) -> Vec<ChunkSpec> {
    let shots = [
        ShotFrames {
            shot_idx: 0,
            shot_name: "SH010".into(),
            frames: FrameRange::new(1001, 1010).unwrap(),
        },
        ShotFrames {
            shot_idx: 1,
            shot_name: "SH020".into(),
            frames: FrameRange::new(1, 4).unwrap(),
        },
    ];
    plan_chunks(id, &shots, 4).expect("plan")
}

fn update(chunk_id: &str, generation: u32, change: ChunkChange) -> ChunkUpdate {
    ChunkUpdate {
        chunk_id: chunk_id.to_string(),
        generation,
        worker_id: "w1".into(),
        attempts: 1,
        at: at(60),
        change,
    }
}

fn output(key: &str) -> OutputFile {
    OutputFile {
        key: key.into(),
        size: 42,
        xxh64: "0123456789abcdef".into(),
    }
}

pub async fn run_all(cat: &dyn Catalog, run: &str) {
    lifecycle(cat, run).await;
    concurrent_duplicate_submissions(cat, run).await;
    result_before_the_publish_is_recorded(cat, run).await;
    cancel_and_retry(cat, run).await;
    large_batches_apply_in_order(cat, run).await;
    clips(cat, run).await;
    ingests(cat, run).await;
    cat.ping().await.expect("ping");
}

/// An ingest handed to workers: results apply once, the clips become searchable, the ingest
/// finishes when no clip is pending, failures and bad frames are reported.
async fn ingests(cat: &dyn Catalog, run: &str) {
    let mut clips = ingested_clips(run);
    let loc = format!("{run}-ing");
    for c in &mut clips {
        c.location = loc.clone();
    }
    let id = format!("{run}-IN");
    let keys: Vec<String> = clips.iter().map(|c| c.key.clone()).collect();
    cat.create_ingest(
        &NewIngest {
            ingest_id: id.clone(),
            location: loc.clone(),
            clip_keys: keys.clone(),
            ignored: vec!["notes.txt".into()],
            mhl: Some(serde_json::json!({"histories": 1})),
        },
        at(0),
    )
    .await
    .expect("create ingest");
    let s = cat.ingest(&id).await.unwrap().expect("recorded");
    assert_eq!(
        (s.state, s.clips_total, s.clips_done, s.ignored),
        (IngestState::Running, keys.len() as u64, 0, 1)
    );
    assert_eq!(s.mhl, Some(serde_json::json!({"histories": 1})));
    assert!(cat.ingest("no-such-ingest").await.unwrap().is_none());
    let result = |key: &str, outcome: IngestOutcome| IngestResult {
        kind: "ingest_result".into(),
        version: platefarm_ingest::job::JOB_VERSION,
        ingest_id: id.clone(),
        clip_key: key.to_string(),
        worker_id: "w1".into(),
        outcome,
    };
    let (failing, done) = clips.split_last().unwrap();
    for (i, c) in done.iter().enumerate() {
        let r = result(
            &c.key,
            IngestOutcome::Done {
                record: Box::new(c.clone()),
                thumbnail_error: (i == 0).then(|| "no thumbnail: no readable frame".into()),
            },
        );
        assert!(cat.record_ingest_result(&r, at(1)).await.unwrap());
        assert!(
            !cat.record_ingest_result(&r, at(2)).await.unwrap(),
            "a duplicate result is ignored"
        );
        assert_eq!(cat.clip(&loc, &c.key).await.unwrap().as_ref(), Some(c));
    }
    assert_eq!(
        cat.ingest(&id).await.unwrap().unwrap().state,
        IngestState::Running,
        "one clip still pending"
    );
    let unknown = IngestResult {
        ingest_id: "no-such-ingest".into(),
        ..result(&failing.key, IngestOutcome::Failed { reason: "x".into() })
    };
    assert!(!cat.record_ingest_result(&unknown, at(3)).await.unwrap());
    let r = result(
        &failing.key,
        IngestOutcome::Failed {
            reason: "dead-lettered after 5 deliveries".into(),
        },
    );
    assert!(cat.record_ingest_result(&r, at(4)).await.unwrap());
    let s = cat.ingest(&id).await.unwrap().unwrap();
    assert_eq!(s.state, IngestState::CompletedWithFailures);
    assert_eq!(s.finished_at, Some(at(4)));
    assert_eq!((s.clips_done, s.clips_failed), (done.len() as u64, 1));
    assert_eq!(
        s.frames,
        done.iter().map(|c| c.frames.count as u64).sum::<u64>()
    );
    let bad: usize = done.iter().map(|c| c.frames.bad.len()).sum();
    assert!(bad > 0, "the generated folder has corrupt frames");
    assert_eq!(s.bad_frames.len(), bad);
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures[0].clip, failing.key);
    assert_eq!(s.failures[0].reason, "dead-lettered after 5 deliveries");
    assert_eq!(s.thumbnail_errors.len(), 1);
    // An ingest of nothing is complete at once.
    let empty = format!("{run}-IN-empty");
    cat.create_ingest(
        &NewIngest {
            ingest_id: empty.clone(),
            location: loc,
            clip_keys: vec![],
            ignored: vec![],
            mhl: None,
        },
        at(0),
    )
    .await
    .unwrap();
    assert_eq!(
        cat.ingest(&empty).await.unwrap().unwrap().state,
        IngestState::Completed
    );
}

/// The synthetic mixed folder's clips, ingested under location `{run}-loc`, reels prefixed
/// with the run (so runs sharing a database do not see each other's reels).
fn ingested_clips(run: &str) -> Vec<ClipRecord> {
    use platefarm_ingest::{ingest, synth, IngestOptions, MemorySource};
    let source = MemorySource::new(synth::mixed_folder().objects);
    let opts = IngestOptions {
        location: format!("{run}-loc"),
        ..IngestOptions::default()
    };
    let mut clips = ingest(&source.entries(), &source, &opts)
        .expect("ingest")
        .clips;
    for c in &mut clips {
        c.reel = c.reel.as_ref().map(|r| format!("{run}-{r}"));
    }
    clips
}

async fn clips(cat: &dyn Catalog, run: &str) {
    let loc = format!("{run}-loc");
    let mut clips = ingested_clips(run);
    cat.upsert_clips(&clips, at(0)).await.expect("upsert");
    for c in &clips {
        assert_eq!(
            cat.clip(&loc, &c.key).await.unwrap().as_ref(),
            Some(c),
            "{} round-trips",
            c.key
        );
    }
    assert_eq!(cat.clip(&loc, "nope").await.unwrap(), None);
    // Re-ingest replaces.
    clips[0].warnings.push("re-ingested".into());
    cat.upsert_clips(&clips[..1], at(10)).await.unwrap();
    let all = ClipQuery {
        location: Some(loc.clone()),
        ..ClipQuery::default()
    };
    let hits = cat.search_clips(&all).await.unwrap();
    assert_eq!(hits.len(), 4, "a re-ingested clip is replaced, not added");
    assert_eq!(
        cat.clip(&loc, &clips[0].key)
            .await
            .unwrap()
            .unwrap()
            .warnings,
        ["re-ingested"]
    );
    let keys = |hits: &[ClipHit]| {
        hits.iter()
            .map(|h| h.clip.key.rsplit('/').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // By reel (case-insensitive, exact).
    let reel_a = format!("{run}-A001").to_lowercase();
    let q = |f: &dyn Fn(&mut ClipQuery)| {
        let mut q = all.clone();
        f(&mut q);
        q
    };
    let hits = cat
        .search_clips(&q(&|q| q.reel = Some(reel_a.clone())))
        .await
        .unwrap();
    assert_eq!(keys(&hits), ["A001C003_230101_R1AB.%06d.dng"]);
    // By camera: make, model or serial substring.
    let hits = cat
        .search_clips(&q(&|q| q.camera = Some("SYNTHETIC".into())))
        .await
        .unwrap();
    assert_eq!(
        keys(&hits),
        ["A001C003_230101_R1AB.%06d.dng", "C003_plate.%04d.exr"]
    );
    let hits = cat
        .search_clips(&q(&|q| q.camera = Some("scn-0007".into())))
        .await
        .unwrap();
    assert_eq!(keys(&hits), ["B002C001_230102_DF.%07d.dpx"]);
    // Free text: every word, anywhere (a vendor field counts), wildcards are literal.
    let hits = cat
        .search_clips(&q(&|q| q.text = Some("logc3 SCAN".into())))
        .await
        .unwrap();
    assert_eq!(keys(&hits), ["B002C001_230102_DF.%07d.dpx"]);
    let hits = cat
        .search_clips(&q(&|q| q.text = Some("%".into())))
        .await
        .unwrap();
    assert_eq!(
        keys(&hits),
        [
            "A001C003_230101_R1AB.%06d.dng",
            "C003_plate.%04d.exr",
            "B002C001_230102_DF.%07d.dpx"
        ],
        "'%' matches the patterns' literal %"
    );
    let hits = cat
        .search_clips(&q(&|q| q.text = Some("s-log3 still".into())))
        .await
        .unwrap();
    assert_eq!(keys(&hits), ["D004_ref.tif"]);
    // By timecode: the drop-frame clip, at the frame after the dropped labels.
    let tc = |s: &str| Timecode::parse(s).unwrap();
    let hits = cat
        .search_clips(&q(&|q| q.timecode = Some(tc("10:01:00;02"))))
        .await
        .unwrap();
    assert_eq!(keys(&hits), ["B002C001_230102_DF.%07d.dpx"]);
    assert_eq!(hits[0].at.as_ref().unwrap().frame, 86403);
    // The editorial question, with a gap: the frame is named and marked missing.
    let hits = cat
        .locate_timecode(&format!("{run}-A001"), &tc("13:45:10:10"))
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    let found = hits[0].at.clone().unwrap();
    assert_eq!(
        (found.frame, found.status),
        (105, platefarm_ingest::FrameStatus::Missing)
    );
    assert_eq!(hits[0].clip.name, "A001C003_230101_R1AB");
    assert!(
        cat.locate_timecode(&format!("{run}-A001"), &tc("13:45:10:04"))
            .await
            .unwrap()
            .is_empty(),
        "one frame before the start"
    );
    // A label that does not exist at the clip's rate (25 fps has no frame 27).
    assert!(cat
        .locate_timecode(&format!("{run}-C003"), &tc("01:00:00:27"))
        .await
        .unwrap()
        .is_empty());
    // A clip across midnight.
    let mut night = clips[2].clone();
    night.key = "night/N001.%04d.exr".into();
    night.reel = Some(format!("{run}-N001"));
    night.timecode.start = Some(tc("23:59:59:20"));
    night.timecode.end = Some(tc("00:00:00:14"));
    night.frames = platefarm_ingest::Frames {
        first: 1,
        last: 20,
        count: 20,
        ..Default::default()
    };
    cat.upsert_clips(&[night], at(20)).await.unwrap();
    for (label, frame) in [("00:00:00:05", 11), ("23:59:59:24", 5)] {
        let hits = cat
            .locate_timecode(&format!("{run}-n001"), &tc(label))
            .await
            .unwrap();
        assert_eq!(
            hits.iter()
                .map(|h| h.at.as_ref().unwrap().frame)
                .collect::<Vec<_>>(),
            [frame],
            "{label}"
        );
    }
    assert!(cat
        .locate_timecode(&format!("{run}-N001"), &tc("00:00:00:15"))
        .await
        .unwrap()
        .is_empty());
    // Limit.
    let hits = cat.search_clips(&q(&|q| q.limit = 2)).await.unwrap();
    assert_eq!(hits.len(), 2);
}

async fn lifecycle(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-a");
    let prod = format!("{run}-prod");
    let planned = chunks(&id);
    assert_eq!(
        cat.insert_turnover(&new_turnover(&id, &prod, 0), &planned)
            .await
            .expect("insert"),
        Inserted::New
    );
    assert_eq!(
        cat.insert_turnover(&new_turnover(&id, &prod, 0), &planned)
            .await
            .unwrap(),
        Inserted::Existing {
            request_json: format!("{{\"id\":\"{id}\"}}")
        },
        "a second insert of an id reports the existing turnover"
    );
    let s = cat.turnover(&id).await.unwrap().expect("stored");
    assert_eq!(s.state, TurnoverState::Running);
    assert_eq!(
        (s.chunks.planned, s.frames_total, s.frames_done),
        (4, 14, 0),
        "counts after insert"
    );
    assert_eq!((s.priority, s.deadline), (60, Some(at(86_400))));
    assert_eq!(cat.request_json("nope").await.unwrap(), None);

    // Scheduling: the backlog shows it; publishing moves chunks in flight with a generation.
    let backlog = cat.backlog().await.unwrap();
    let row = backlog
        .iter()
        .find(|b| b.turnover_id == id)
        .expect("in backlog");
    assert_eq!(
        (row.planned_chunks, row.planned_frames, row.in_flight_chunks),
        (4, 14, 0)
    );
    let next = cat.next_planned(&id, 3).await.unwrap();
    assert_eq!(
        next.iter().map(|c| c.chunk_idx).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(next[2].frames, FrameRange::new(1009, 1010).unwrap());
    assert!(next.iter().all(|c| c.next_generation == 1));
    let published: Vec<(String, u32)> = next
        .iter()
        .map(|c| (c.chunk_id.clone(), c.next_generation))
        .collect();
    cat.mark_published(&published, at(1)).await.unwrap();
    let row = cat
        .backlog()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.turnover_id == id)
        .unwrap();
    assert_eq!(
        (
            row.planned_chunks,
            row.in_flight_chunks,
            row.in_flight_frames
        ),
        (1, 3, 10)
    );
    assert_eq!(
        cat.next_planned(&id, 10).await.unwrap().len(),
        1,
        "published chunks are not planned any more"
    );

    let c0 = &planned[0].chunk_id;
    // An event of a wrong generation changes nothing; the right one does.
    let applied = cat
        .apply(&[
            update(c0, 7, ChunkChange::Started),
            update(c0, 1, ChunkChange::Started),
        ])
        .await
        .unwrap();
    assert!(!applied[0].changed, "stale generation ignored");
    assert!(applied[1].changed);
    assert_eq!(applied[1].state, ChunkState::Running);
    let applied = cat
        .apply(&[update(
            c0,
            1,
            ChunkChange::Done {
                outputs: vec![output("plates/SH010/SH010.0001001.exr")],
            },
        )])
        .await
        .unwrap();
    assert_eq!(
        applied[0],
        Applied {
            changed: true,
            state: ChunkState::Done,
            turnover_id: Some(id.clone()),
            shot: Some("SH010".into()),
            n_frames: 4
        }
    );
    let dup = cat
        .apply(&[
            update(
                c0,
                1,
                ChunkChange::Failed {
                    reason: "late duplicate".into(),
                },
            ),
            update(c0, 1, ChunkChange::Started),
            update("no-such-chunk", 1, ChunkChange::Started),
        ])
        .await
        .unwrap();
    assert!(
        dup.iter().all(|a| !a.changed),
        "a final chunk is never flipped by a duplicate; unknown chunks change nothing"
    );
    cat.apply(&[update(
        &planned[1].chunk_id,
        1,
        ChunkChange::Failed {
            reason: "truncated DNG".into(),
        },
    )])
    .await
    .unwrap();
    let rows = cat.chunks(&id).await.unwrap();
    assert_eq!(rows[0].state, ChunkState::Done);
    assert_eq!(rows[0].worker_id.as_deref(), Some("w1"));
    assert_eq!(rows[1].detail.as_deref(), Some("truncated DNG"));
    assert_eq!(rows[2].state, ChunkState::Published);
    assert_eq!(rows[3].state, ChunkState::Planned);
    assert_eq!(
        cat.outputs(&id, Some("SH010")).await.unwrap(),
        [output("plates/SH010/SH010.0001001.exr")]
    );
    assert!(cat.outputs(&id, Some("SH020")).await.unwrap().is_empty());
    assert_eq!(
        cat.output_keys_by_shot(&id).await.unwrap(),
        BTreeMap::from([(
            "SH010".to_string(),
            vec!["plates/SH010/SH010.0001001.exr".to_string()]
        )])
    );

    // Shot SH010 still has chunk 2 in flight: nothing to deliver yet.
    assert!(cat.deliveries_due(Some(&id)).await.unwrap().is_empty());
    cat.apply(&[update(
        &planned[2].chunk_id,
        1,
        ChunkChange::Done { outputs: vec![] },
    )])
    .await
    .unwrap();
    assert_eq!(
        cat.deliveries_due(Some(&id)).await.unwrap(),
        [(id.clone(), "SH010".to_string())]
    );
    let counts = cat.state_counts(&id).await.unwrap();
    assert_eq!(
        (
            counts.pending,
            counts.done,
            counts.failed,
            counts.deliveries_pending
        ),
        (1, 2, 1, 2)
    );
    cat.set_delivery(&id, "SH010", DeliveryState::Delivered, None, at(70))
        .await
        .unwrap();
    assert!(cat.deliveries_due(Some(&id)).await.unwrap().is_empty());
    let shots = cat.shots(&id).await.unwrap();
    assert_eq!(shots.len(), 2);
    assert_eq!(shots[0].shot, "SH010");
    assert_eq!(shots[0].delivery, DeliveryState::Delivered);
    assert_eq!(
        (
            shots[0].chunks.done,
            shots[0].chunks.failed,
            shots[0].frames_done
        ),
        (2, 1, 6)
    );
    assert_eq!(shots[1].input_pattern, "clips/SH020/SH020.%07d.dng");

    cat.set_turnover_state(&id, TurnoverState::CompletedWithFailures, at(120))
        .await
        .unwrap();
    let s = cat.turnover(&id).await.unwrap().unwrap();
    assert_eq!(s.state, TurnoverState::CompletedWithFailures);
    assert_eq!(s.finished_at, Some(at(120)));
    assert!(!cat.running_turnovers().await.unwrap().contains(&id));

    let later = format!("{run}-b");
    cat.insert_turnover(&new_turnover(&later, &prod, 10), &chunks(&later))
        .await
        .unwrap();
    let listed: Vec<String> = cat
        .list_turnovers(&TurnoverFilter {
            production: Some(prod.clone()),
            state: None,
            limit: 100,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.turnover_id)
        .collect();
    assert_eq!(listed, [later.clone(), id.clone()], "most recent first");
    let running: Vec<String> = cat
        .list_turnovers(&TurnoverFilter {
            production: Some(prod.clone()),
            state: Some(TurnoverState::Running),
            limit: 100,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.turnover_id)
        .collect();
    assert_eq!(running, std::slice::from_ref(&later), "filtered by state");
    assert!(cat.running_turnovers().await.unwrap().contains(&later));
    assert!(cat
        .turnover(&format!("{run}-missing"))
        .await
        .unwrap()
        .is_none());
}

/// Publish first, record second: a worker's result may arrive while the chunk is still
/// `planned`; it is applied, and the late `mark_published` changes nothing.
async fn result_before_the_publish_is_recorded(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-early");
    let planned = chunks(&id);
    cat.insert_turnover(&new_turnover(&id, "early", 0), &planned)
        .await
        .unwrap();
    let c0 = &planned[0].chunk_id;
    let stale = cat
        .apply(&[update(c0, 2, ChunkChange::Started)])
        .await
        .unwrap();
    assert!(!stale[0].changed, "only the next generation is taken");
    let applied = cat
        .apply(&[update(c0, 1, ChunkChange::Done { outputs: vec![] })])
        .await
        .unwrap();
    assert!(applied[0].changed, "an early result is recorded");
    cat.mark_published(&[(c0.clone(), 1)], at(2)).await.unwrap();
    let rows = cat.chunks(&id).await.unwrap();
    assert_eq!((rows[0].state, rows[0].generation), (ChunkState::Done, 1));
}

async fn concurrent_duplicate_submissions(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-race");
    let t = new_turnover(&id, "race", 0);
    let planned = chunks(&id);
    let (a, b) = tokio::join!(
        cat.insert_turnover(&t, &planned),
        cat.insert_turnover(&t, &planned)
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert!(
        matches!(
            (&a, &b),
            (Inserted::New, Inserted::Existing { .. }) | (Inserted::Existing { .. }, Inserted::New)
        ),
        "exactly one of two racing submissions inserts: {a:?} {b:?}"
    );
    assert_eq!(
        cat.chunks(&id).await.unwrap().len(),
        4,
        "chunks inserted once"
    );
}

async fn cancel_and_retry(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-retry");
    let planned = chunks(&id);
    cat.insert_turnover(&new_turnover(&id, "retry", 0), &planned)
        .await
        .unwrap();
    let all: Vec<(String, u32)> = planned.iter().map(|c| (c.chunk_id.clone(), 1)).collect();
    cat.mark_published(&all, at(1)).await.unwrap();
    cat.apply(&[
        update(
            &planned[0].chunk_id,
            1,
            ChunkChange::Done { outputs: vec![] },
        ),
        update(
            &planned[1].chunk_id,
            1,
            ChunkChange::Failed {
                reason: "corrupt".into(),
            },
        ),
        update(
            &planned[2].chunk_id,
            1,
            ChunkChange::Done { outputs: vec![] },
        ),
        update(
            &planned[3].chunk_id,
            1,
            ChunkChange::Done { outputs: vec![] },
        ),
    ])
    .await
    .unwrap();
    for (t, s) in cat.deliveries_due(Some(&id)).await.unwrap() {
        cat.set_delivery(&t, &s, DeliveryState::Delivered, None, at(2))
            .await
            .unwrap();
    }
    cat.set_turnover_state(&id, TurnoverState::CompletedWithFailures, at(3))
        .await
        .unwrap();
    assert_eq!(cat.retry_failed(&id, at(4)).await.unwrap(), Some(1));
    let s = cat.turnover(&id).await.unwrap().unwrap();
    assert_eq!(s.state, TurnoverState::Running, "running again");
    assert_eq!(s.finished_at, None);
    let next = cat.next_planned(&id, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        next[0].next_generation, 2,
        "a re-published chunk gets a new generation"
    );
    // The old attempt's late result cannot touch the retried chunk.
    cat.mark_published(&[(next[0].chunk_id.clone(), 2)], at(5))
        .await
        .unwrap();
    let stale = cat
        .apply(&[update(
            &next[0].chunk_id,
            1,
            ChunkChange::Failed {
                reason: "old".into(),
            },
        )])
        .await
        .unwrap();
    assert!(!stale[0].changed);
    let shots = cat.shots(&id).await.unwrap();
    assert_eq!(
        shots
            .iter()
            .map(|s| (s.shot.as_str(), s.delivery))
            .collect::<Vec<_>>(),
        [
            ("SH010", DeliveryState::Pending),
            ("SH020", DeliveryState::Delivered)
        ],
        "the retried shot is delivered again"
    );
    assert_eq!(cat.cancel(&id, at(6)).await.unwrap(), Some(1));
    let s = cat.turnover(&id).await.unwrap().unwrap();
    assert_eq!(s.state, TurnoverState::Cancelled);
    assert_eq!(s.chunks.cancelled, 1);
    cat.set_turnover_state(&id, TurnoverState::Completed, at(7))
        .await
        .unwrap();
    assert_eq!(
        cat.turnover(&id).await.unwrap().unwrap().state,
        TurnoverState::Cancelled,
        "a cancelled turnover stays cancelled"
    );
    assert_eq!(cat.cancel("no-such", at(8)).await.unwrap(), None);
    assert_eq!(cat.retry_failed("no-such", at(8)).await.unwrap(), None);
}

/// A batch holds each chunk's events in the order they came (started, then done — or a
/// redelivered duplicate after the done) and spans more rows than one statement carries.
async fn large_batches_apply_in_order(cat: &dyn Catalog, run: &str) {
    let id = format!("{run}-big");
    let shots = [ShotFrames {
        shot_idx: 0,
        shot_name: "SH010".into(),
        frames: FrameRange::new(1, 1200).unwrap(),
    }];
    let planned = plan_chunks(&id, &shots, 1).expect("plan");
    cat.insert_turnover(&new_turnover(&id, &format!("{run}-prod"), 5), &planned)
        .await
        .unwrap();
    let next = cat.next_planned(&id, 2000).await.unwrap();
    assert_eq!(next.len(), 1200);
    let published: Vec<(String, u32)> = next
        .iter()
        .map(|c| (c.chunk_id.clone(), c.next_generation))
        .collect();
    cat.mark_published(&published, at(30)).await.unwrap();
    assert_eq!(cat.state_counts(&id).await.unwrap().pending, 1200);
    assert!(cat.has_pending_chunks(&id).await.unwrap());
    let key = |i: usize| format!("plates/SH010/SH010.{:07}.exr", i + 1);
    let mut batch = Vec::new();
    for (i, c) in next.iter().enumerate() {
        batch.push(update(&c.chunk_id, 1, ChunkChange::Started));
        batch.push(update(
            &c.chunk_id,
            1,
            ChunkChange::Done {
                outputs: vec![output(&key(i))],
            },
        ));
        if i % 3 == 0 {
            // A redelivered started event after the done changes nothing.
            batch.push(update(&c.chunk_id, 1, ChunkChange::Started));
        }
    }
    let applied = cat.apply(&batch).await.unwrap();
    assert_eq!(applied.len(), batch.len());
    let mut changed = 0;
    for (u, a) in batch.iter().zip(&applied) {
        if a.changed {
            changed += 1;
            assert_eq!(a.state, u.change.state());
            assert_eq!(a.turnover_id.as_deref(), Some(id.as_str()));
            assert_eq!(a.n_frames, 1);
        }
    }
    assert_eq!(
        changed, 2400,
        "every started and done applies, no duplicate"
    );
    let rows = cat.chunks(&id).await.unwrap();
    assert!(rows.iter().all(|r| r.state == ChunkState::Done));
    assert!(
        !cat.has_pending_chunks(&id).await.unwrap(),
        "every chunk is final"
    );
    let outputs = cat.outputs(&id, None).await.unwrap();
    assert_eq!(outputs.len(), 1200);
    assert_eq!(outputs[0].key, key(0));
    assert_eq!(cat.turnover(&id).await.unwrap().unwrap().frames_done, 1200);
}
