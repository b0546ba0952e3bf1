//! Chunk planning, a pure function: shots' frame ranges → chunks of at most `chunk_size`
//! frames. Required properties (each checked by a property test below):
//! 1. every frame of every shot is in exactly one chunk;
//! 2. chunks never span two shots and hold consecutive frames in order;
//! 3. ids are deterministic: the same input always gives the same ids, and an id names its
//!    turnover, shot and frames so it stays unique across turnovers.

use crate::turnover::FrameRange;

/// The frames one shot needs rendered (cut range plus handles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShotFrames {
    pub shot_idx: usize,
    pub shot_name: String,
    pub frames: FrameRange,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChunkSpec {
    pub chunk_id: String,
    pub chunk_idx: u32,
    pub shot_idx: usize,
    pub shot_name: String,
    pub frames: FrameRange,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("chunk size must be 1..={max}, got {got}")]
    ChunkSize { got: u32, max: u32 },
}

pub const MAX_CHUNK_SIZE: u32 = 10_000;

pub fn chunk_id(turnover_id: &str, shot_name: &str, frames: FrameRange) -> String {
    format!(
        "{turnover_id}:{shot_name}:{:07}-{:07}",
        frames.start(),
        frames.end()
    )
}

/// Splits every shot's frames into chunks of `chunk_size` frames (the last one shorter).
pub fn plan_chunks(
    turnover_id: &str,
    shots: &[ShotFrames],
    chunk_size: u32,
) -> Result<Vec<ChunkSpec>, PlanError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(PlanError::ChunkSize {
            got: chunk_size,
            max: MAX_CHUNK_SIZE,
        });
    }
    let mut out = Vec::new();
    for shot in shots {
        let mut start = shot.frames.start() as u64;
        let end = shot.frames.end() as u64;
        while start <= end {
            let last = (start + chunk_size as u64 - 1).min(end);
            let frames = FrameRange::new(start as u32, last as u32).expect("start <= last");
            out.push(ChunkSpec {
                chunk_id: chunk_id(turnover_id, &shot.shot_name, frames),
                chunk_idx: out.len() as u32,
                shot_idx: shot.shot_idx,
                shot_name: shot.shot_name.clone(),
                frames,
            });
            start = last + 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn shots_strategy() -> impl Strategy<Value = Vec<ShotFrames>> {
        prop::collection::vec((0u32..100_000, 0u32..300), 1..6).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (start, len))| ShotFrames {
                    shot_idx: i,
                    shot_name: format!("sh{i:03}"),
                    frames: FrameRange::new(start, start + len).unwrap(),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn every_frame_exactly_once(shots in shots_strategy(), size in 1u32..64) {
            let chunks = plan_chunks("TO", &shots, size).unwrap();
            for shot in &shots {
                let mut seen = Vec::new();
                for c in chunks.iter().filter(|c| c.shot_idx == shot.shot_idx) {
                    prop_assert!(c.frames.n_frames() <= size as u64);
                    prop_assert_eq!(&c.shot_name, &shot.shot_name);
                    seen.extend(c.frames.frames());
                }
                let expected: Vec<u32> = shot.frames.frames().collect();
                prop_assert_eq!(seen, expected);
            }
        }

        #[test]
        fn ids_are_deterministic_and_unique(shots in shots_strategy(), size in 1u32..64) {
            let a = plan_chunks("TO-1", &shots, size).unwrap();
            let b = plan_chunks("TO-1", &shots, size).unwrap();
            prop_assert_eq!(&a, &b);
            let ids: HashSet<_> = a.iter().map(|c| c.chunk_id.clone()).collect();
            prop_assert_eq!(ids.len(), a.len());
            let other = plan_chunks("TO-2", &shots, size).unwrap();
            prop_assert!(other.iter().all(|c| !ids.contains(&c.chunk_id)));
        }
    }

    #[test]
    fn frame_range_ending_at_u32_max_terminates() {
        let shots = [ShotFrames {
            shot_idx: 0,
            shot_name: "edge".into(),
            frames: FrameRange::new(u32::MAX - 2, u32::MAX).unwrap(),
        }];
        let chunks = plan_chunks("TO", &shots, 2).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            chunks[1].frames,
            FrameRange::new(u32::MAX, u32::MAX).unwrap()
        );
    }

    #[test]
    fn rejects_zero_chunk_size() {
        assert_eq!(
            plan_chunks("TO", &[], 0),
            Err(PlanError::ChunkSize {
                got: 0,
                max: MAX_CHUNK_SIZE
            })
        );
    }
}
