//! Job-state rules, pure: how a chunk's state may change and what a turnover's state is given
//! its chunks and its shots' deliveries. The catalog stores states; these functions decide them.
//!
//! A chunk is `planned` in the catalog, `published` once the broker confirmed its message,
//! `running` once a worker said it started, and ends `done`, `failed` (with a reason) or
//! `cancelled`. `retry-failed` moves `failed` back to `planned`. Every chunk message carries the
//! chunk's *generation* (bumped on each publish), so a late event of an earlier attempt can never
//! flip the state of a re-published chunk.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkState {
    Planned,
    Published,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl ChunkState {
    pub const ALL: [ChunkState; 6] = [
        ChunkState::Planned,
        ChunkState::Published,
        ChunkState::Running,
        ChunkState::Done,
        ChunkState::Failed,
        ChunkState::Cancelled,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ChunkState::Done | ChunkState::Failed | ChunkState::Cancelled
        )
    }

    /// In the broker or on a worker.
    pub fn is_in_flight(self) -> bool {
        matches!(self, ChunkState::Published | ChunkState::Running)
    }

    /// Whether a chunk may move from `self` to `next`. Worker events (`running`, `done`,
    /// `failed`) apply only to in-flight chunks, so a duplicate result of a redelivered chunk
    /// never flips a final state; `running → running` is another worker taking a redelivery.
    pub fn can_become(self, next: ChunkState) -> bool {
        use ChunkState::*;
        match (self, next) {
            (Planned, Published | Failed | Cancelled) => true,
            (Published | Running, Running | Done | Failed | Cancelled) => true,
            (Failed, Planned) => true, // retry-failed
            _ => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChunkState::Planned => "planned",
            ChunkState::Published => "published",
            ChunkState::Running => "running",
            ChunkState::Done => "done",
            ChunkState::Failed => "failed",
            ChunkState::Cancelled => "cancelled",
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
    Cancelled,
}

/// Chunk and delivery counts that decide a turnover's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StateCounts {
    /// Chunks planned, published or running.
    pub pending: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Shots whose chunks are all final but whose delivery (MHL, AMF) has not run yet.
    pub deliveries_pending: u64,
    pub deliveries_failed: u64,
}

impl TurnoverState {
    /// A turnover's state: running while any chunk or delivery is pending; then `completed` if
    /// everything was delivered, `failed` if no chunk was, else `completed_with_failures`.
    /// `cancelled` is decided by the user, never derived.
    pub fn from_counts(c: &StateCounts) -> TurnoverState {
        if c.pending > 0 || c.deliveries_pending > 0 {
            TurnoverState::Running
        } else if c.done == 0 && c.failed + c.cancelled > 0 {
            TurnoverState::Failed
        } else if c.failed == 0 && c.cancelled == 0 && c.deliveries_failed == 0 {
            TurnoverState::Completed
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
            TurnoverState::Cancelled => "cancelled",
        }
    }
}

/// Delivery of one shot (delivery AMF, ASC MHL generation) once its chunks are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
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
    ChunkState::Planned,
    ChunkState::Published,
    ChunkState::Running,
    ChunkState::Done,
    ChunkState::Failed,
    ChunkState::Cancelled
);
str_conv!(
    TurnoverState,
    TurnoverState::Running,
    TurnoverState::Completed,
    TurnoverState::CompletedWithFailures,
    TurnoverState::Failed,
    TurnoverState::Cancelled
);
str_conv!(
    DeliveryState,
    DeliveryState::Pending,
    DeliveryState::Delivered,
    DeliveryState::Failed
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turnover_state_table() {
        let check = |pending, done, failed, deliveries_pending, deliveries_failed, expected| {
            let c = StateCounts {
                pending,
                done,
                failed,
                cancelled: 0,
                deliveries_pending,
                deliveries_failed,
            };
            assert_eq!(TurnoverState::from_counts(&c), expected, "{c:?}")
        };
        check(1, 5, 5, 0, 0, TurnoverState::Running);
        check(0, 5, 0, 1, 0, TurnoverState::Running);
        check(0, 5, 0, 0, 0, TurnoverState::Completed);
        check(0, 0, 3, 0, 0, TurnoverState::Failed);
        check(0, 2, 1, 0, 0, TurnoverState::CompletedWithFailures);
        check(0, 2, 0, 0, 1, TurnoverState::CompletedWithFailures);
    }

    #[test]
    fn terminal_chunk_states_are_final() {
        for s in ChunkState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for next in [ChunkState::Running, ChunkState::Done] {
                assert!(!s.can_become(next), "{s} → {next}");
            }
        }
        assert!(ChunkState::Published.can_become(ChunkState::Done));
        assert!(ChunkState::Running.can_become(ChunkState::Running));
        assert!(ChunkState::Failed.can_become(ChunkState::Planned));
        assert!(!ChunkState::Done.can_become(ChunkState::Planned));
        for s in ChunkState::ALL {
            assert_eq!(s.as_str().parse(), Ok(s));
        }
        assert_eq!(
            "completed_with_failures".parse(),
            Ok(TurnoverState::CompletedWithFailures)
        );
    }
}
