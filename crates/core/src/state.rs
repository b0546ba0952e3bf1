//! Job-state rules, pure: how a chunk's state may change and what a turnover's state is given
//! its chunks. The catalog stores states; these functions decide them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkState {
    Queued,
    Done,
    Failed,
}

impl ChunkState {
    pub fn is_terminal(self) -> bool {
        matches!(self, ChunkState::Done | ChunkState::Failed)
    }

    /// Whether a result may move a chunk from `self` to `next`. Terminal states are final:
    /// a late duplicate event (a redelivered chunk finishing twice) must not flip a result.
    pub fn can_become(self, next: ChunkState) -> bool {
        matches!(
            (self, next),
            (ChunkState::Queued, ChunkState::Done | ChunkState::Failed)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChunkState::Queued => "queued",
            ChunkState::Done => "done",
            ChunkState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnoverState {
    Running,
    Completed,
    CompletedWithFailures,
    Failed,
}

impl TurnoverState {
    /// A turnover's state from its chunks' counts: running while any chunk is queued; then
    /// `completed` if all were delivered, `failed` if none were, else `completed_with_failures`.
    pub fn from_counts(queued: u64, done: u64, failed: u64) -> TurnoverState {
        if queued > 0 {
            TurnoverState::Running
        } else if failed == 0 {
            TurnoverState::Completed
        } else if done == 0 {
            TurnoverState::Failed
        } else {
            TurnoverState::CompletedWithFailures
        }
    }

    pub fn is_terminal(self) -> bool {
        self != TurnoverState::Running
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TurnoverState::Running => "running",
            TurnoverState::Completed => "completed",
            TurnoverState::CompletedWithFailures => "completed_with_failures",
            TurnoverState::Failed => "failed",
        }
    }
}

macro_rules! str_conv {
    ($t:ty, $($v:expr),+) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                [$($v),+].into_iter().find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} {s:?}", stringify!($t)))
            }
        }
    };
}
str_conv!(
    ChunkState,
    ChunkState::Queued,
    ChunkState::Done,
    ChunkState::Failed
);
str_conv!(
    TurnoverState,
    TurnoverState::Running,
    TurnoverState::Completed,
    TurnoverState::CompletedWithFailures,
    TurnoverState::Failed
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turnover_state_table() {
        let check = |q, d, f, expected| {
            assert_eq!(TurnoverState::from_counts(q, d, f), expected, "{q}/{d}/{f}")
        };
        check(1, 5, 5, TurnoverState::Running);
        check(0, 5, 0, TurnoverState::Completed);
        check(0, 0, 3, TurnoverState::Failed);
        check(0, 2, 1, TurnoverState::CompletedWithFailures);
    }

    #[test]
    fn terminal_chunk_states_are_final() {
        assert!(ChunkState::Queued.can_become(ChunkState::Done));
        assert!(!ChunkState::Done.can_become(ChunkState::Failed));
        assert!(!ChunkState::Failed.can_become(ChunkState::Done));
        assert_eq!(
            "completed_with_failures".parse(),
            Ok(TurnoverState::CompletedWithFailures)
        );
    }
}
