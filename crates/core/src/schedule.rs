//! Which chunks go to the broker next: a pure function of the backlog and the free places in
//! the broker's window. RabbitMQ 3.10 quorum queues have no message priorities, so the
//! dispatcher keeps only a bounded window of chunks in the broker and refills it with this
//! policy; a new high-priority turnover therefore waits behind at most one window of chunks.
//!
//! Required properties (each checked by a property test below):
//! 1. at most `free` chunks are picked, never more than a turnover has pending;
//! 2. strict priority: no chunk of a lower priority is picked while a higher-priority turnover
//!    still has unpicked chunks;
//! 3. fair share: among the top priority, the production with the fewest frames in flight gets
//!    the next chunk, so productions submitting at once get equal worker time (frames are the
//!    unit of work; a chunk's frames stand for its duration);
//! 4. within a production: earliest deadline first (none last), then oldest submission, then id;
//! 5. deterministic: the same backlog gives the same picks.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One running turnover as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnoverBacklog {
    pub turnover_id: String,
    pub production: String,
    /// 0 (lowest) ..= 100 (highest).
    pub priority: u8,
    pub deadline: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    /// Chunks planned but not yet in the broker.
    pub pending_chunks: u64,
    /// Frames of its next chunks (≥ 1), the weight of one pick in the fair share.
    pub frames_per_chunk: u64,
    /// Frames of its chunks in the broker or on workers now.
    pub in_flight_frames: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub turnover_id: String,
    pub n_chunks: u64,
}

/// Picks up to `free` chunks; the result lists turnovers in the order they were first picked.
pub fn pick_chunks(backlog: &[TurnoverBacklog], free: u64) -> Vec<Pick> {
    let mut pending: Vec<u64> = backlog.iter().map(|t| t.pending_chunks).collect();
    let mut by_production: BTreeMap<&str, u64> = BTreeMap::new();
    for t in backlog {
        *by_production.entry(&t.production).or_default() += t.in_flight_frames;
    }
    // Within a production, the order of its turnovers is fixed: sort once.
    let mut order: Vec<usize> = (0..backlog.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&backlog[a], &backlog[b]);
        y.priority
            .cmp(&x.priority)
            .then_with(|| match (x.deadline, y.deadline) {
                (Some(p), Some(q)) => p.cmp(&q),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| x.submitted_at.cmp(&y.submitted_at))
            .then_with(|| x.turnover_id.cmp(&y.turnover_id))
    });
    let mut picked: Vec<u64> = vec![0; backlog.len()];
    let mut first_pick: Vec<usize> = Vec::new();
    for _ in 0..free {
        let Some(top) = order
            .iter()
            .filter(|&&i| pending[i] > 0)
            .map(|&i| backlog[i].priority)
            .max()
        else {
            break;
        };
        // The production with the fewest frames in flight among those with work at `top`;
        // then that production's first turnover in `order`.
        let mut best: Option<(u64, &str, usize)> = None;
        for &i in &order {
            let t = &backlog[i];
            if pending[i] == 0 || t.priority != top {
                continue;
            }
            let load = by_production[t.production.as_str()];
            let better = match best {
                None => true,
                Some((l, p, _)) => (load, t.production.as_str()) < (l, p),
            };
            if better {
                best = Some((load, &t.production, i));
            }
        }
        let (_, production, i) = best.expect("a turnover with pending chunks exists");
        pending[i] -= 1;
        if picked[i] == 0 {
            first_pick.push(i);
        }
        picked[i] += 1;
        *by_production.get_mut(production).expect("known production") +=
            backlog[i].frames_per_chunk.max(1);
    }
    first_pick
        .into_iter()
        .map(|i| Pick {
            turnover_id: backlog[i].turnover_id.clone(),
            n_chunks: picked[i],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000 + secs, 0).expect("valid")
    }

    fn backlog_strategy() -> impl Strategy<Value = Vec<TurnoverBacklog>> {
        prop::collection::vec(
            (
                0u8..3,
                prop::sample::select(vec![0u8, 50, 90]),
                0u64..40,
                1u64..9,
                0u64..60,
                prop::option::of(0i64..100),
                0i64..100,
            ),
            1..8,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(
                    |(i, (prod, priority, pending, fpc, inflight, deadline, sub))| {
                        TurnoverBacklog {
                            turnover_id: format!("TO-{i}"),
                            production: format!("prod{prod}"),
                            priority,
                            deadline: deadline.map(at),
                            submitted_at: at(sub),
                            pending_chunks: pending,
                            frames_per_chunk: fpc,
                            in_flight_frames: inflight,
                        }
                    },
                )
                .collect()
        })
    }

    fn count(picks: &[Pick], id: &str) -> u64 {
        picks
            .iter()
            .filter(|p| p.turnover_id == id)
            .map(|p| p.n_chunks)
            .sum()
    }

    proptest! {
        #[test]
        fn bounded_by_free_and_pending(b in backlog_strategy(), free in 0u64..100) {
            let picks = pick_chunks(&b, free);
            let total: u64 = picks.iter().map(|p| p.n_chunks).sum();
            let pending: u64 = b.iter().map(|t| t.pending_chunks).sum();
            prop_assert_eq!(total, free.min(pending));
            for t in &b {
                prop_assert!(count(&picks, &t.turnover_id) <= t.pending_chunks);
            }
        }

        #[test]
        fn strict_priority(b in backlog_strategy(), free in 0u64..100) {
            let picks = pick_chunks(&b, free);
            for hi in &b {
                if count(&picks, &hi.turnover_id) < hi.pending_chunks {
                    for lo in b.iter().filter(|t| t.priority < hi.priority) {
                        prop_assert_eq!(count(&picks, &lo.turnover_id), 0,
                            "{} picked while {} has chunks left", lo.turnover_id, hi.turnover_id);
                    }
                }
            }
        }

        #[test]
        fn fair_share_between_productions(pending_a in 50u64..200, pending_b in 50u64..200,
                                          fa in 1u64..9, fb in 1u64..9, free in 1u64..40) {
            let b = vec![
                TurnoverBacklog { turnover_id: "A".into(), production: "alpha".into(), priority: 50,
                    deadline: None, submitted_at: at(0), pending_chunks: pending_a,
                    frames_per_chunk: fa, in_flight_frames: 0 },
                TurnoverBacklog { turnover_id: "B".into(), production: "beta".into(), priority: 50,
                    deadline: None, submitted_at: at(1), pending_chunks: pending_b,
                    frames_per_chunk: fb, in_flight_frames: 0 },
            ];
            let picks = pick_chunks(&b, free);
            let frames_a = count(&picks, "A") * fa;
            let frames_b = count(&picks, "B") * fb;
            prop_assert!(frames_a.abs_diff(frames_b) <= fa.max(fb),
                "alpha {frames_a} frames vs beta {frames_b}");
        }

        #[test]
        fn deterministic(b in backlog_strategy(), free in 0u64..100) {
            prop_assert_eq!(pick_chunks(&b, free), pick_chunks(&b, free));
        }
    }

    #[test]
    fn within_a_production_earliest_deadline_first() {
        let t = |id: &str, deadline: Option<i64>, sub| TurnoverBacklog {
            turnover_id: id.into(),
            production: "p".into(),
            priority: 50,
            deadline: deadline.map(at),
            submitted_at: at(sub),
            pending_chunks: 3,
            frames_per_chunk: 8,
            in_flight_frames: 0,
        };
        let b = [
            t("late", Some(90), 0),
            t("none", None, 0),
            t("soon", Some(10), 5),
        ];
        assert_eq!(
            pick_chunks(&b, 4),
            [
                Pick {
                    turnover_id: "soon".into(),
                    n_chunks: 3
                },
                Pick {
                    turnover_id: "late".into(),
                    n_chunks: 1
                }
            ]
        );
    }

    #[test]
    fn a_loaded_production_yields_to_an_idle_one() {
        let t = |id: &str, production: &str, in_flight| TurnoverBacklog {
            turnover_id: id.into(),
            production: production.into(),
            priority: 50,
            deadline: None,
            submitted_at: at(0),
            pending_chunks: 100,
            frames_per_chunk: 8,
            in_flight_frames: in_flight,
        };
        let picks = pick_chunks(&[t("big", "busy", 800), t("new", "idle", 0)], 10);
        assert_eq!(count(&picks, "new"), 10, "{picks:?}");
    }
}
