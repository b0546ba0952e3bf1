//! The autoscaling policy: a pure function `(observations, previous decision, now) → desired
//! workers`. The autoscaler service and `platefarm simulate` run this same code.
//!
//! What it promises (each checked by a property test below):
//! - **bounded**: the decision is always within `[min_workers, max_workers]`;
//! - **deadlines first**: with work left, it scales up at once to the fleet that, running
//!   turnovers earliest deadline first, finishes every one before its deadline (after the
//!   start-up time of new workers) and drains the rest within `drain_target`;
//! - **monotone**: more remaining work never asks for fewer workers;
//! - **stable**: it scales down only to the largest need seen over the last `stabilisation`,
//!   so a dip in demand shorter than that window does not stop workers it will need again;
//! - **idle to zero**: with nothing to do for `idle_after`, it goes to `min_workers` (zero by
//!   default), never sooner;
//! - **no waste**: never more workers than there are chunks to hold.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Settings of the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingConfig {
    pub min_workers: u32,
    pub max_workers: u32,
    /// Work without a deadline should be done within this long.
    pub drain_target: Duration,
    /// Scale-down uses the largest need seen over this window.
    pub stabilisation: Duration,
    /// Nothing to do for this long: go to `min_workers`.
    pub idle_after: Duration,
    /// From a scale-up decision to a new worker rendering.
    pub startup: Duration,
    /// Chunks one worker holds at once.
    pub slots_per_worker: u32,
}

impl Default for ScalingConfig {
    fn default() -> Self {
        ScalingConfig {
            min_workers: 0,
            max_workers: 8,
            drain_target: Duration::from_secs(30 * 60),
            stabilisation: Duration::from_secs(120),
            idle_after: Duration::from_secs(300),
            startup: Duration::from_secs(10),
            slots_per_worker: 1,
        }
    }
}

/// What one running turnover still needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub frames_remaining: u64,
    pub deadline: Option<DateTime<Utc>>,
}

/// What the autoscaler sees at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observations {
    /// Chunks in the broker (ready + unacknowledged) plus those the dispatcher has not
    /// published yet.
    pub chunks_pending: u64,
    /// Per running turnover: frames not done yet, and its deadline.
    pub demands: Vec<Demand>,
    /// Measured render seconds per frame of one worker (None before anything was measured).
    pub seconds_per_frame: Option<f64>,
}

impl Observations {
    fn frames(&self) -> u64 {
        self.demands.iter().map(|d| d.frames_remaining).sum()
    }

    fn idle(&self) -> bool {
        self.chunks_pending == 0 && self.frames() == 0
    }
}

/// The previous decision, carried from one evaluation to the next.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    pub desired: u32,
    /// The raw need at each evaluation within the stabilisation window, oldest first.
    pub history: Vec<(DateTime<Utc>, u32)>,
    /// Since when there has been nothing to do.
    pub idle_since: Option<DateTime<Utc>>,
    /// Why: the largest of the needs, in words (for `/v1/scaling` and logs).
    pub reason: String,
}

/// A render speed to plan with before one is measured (seconds per frame of one worker).
pub const ASSUMED_SECONDS_PER_FRAME: f64 = 2.0;

/// The workers that finish every deadline and drain the rest, before clamping and
/// stabilisation, with the reason.
pub fn need(obs: &Observations, cfg: &ScalingConfig, now: DateTime<Utc>) -> (u32, String) {
    if obs.idle() {
        return (0, "nothing to do".into());
    }
    let spf = obs
        .seconds_per_frame
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(ASSUMED_SECONDS_PER_FRAME);
    let cap = cfg.max_workers.max(1);
    let workers_for = |frames: u64, seconds: f64| -> u32 {
        if frames == 0 {
            return 0;
        }
        if seconds <= 0.0 {
            return u32::MAX;
        }
        let w = (frames as f64 * spf / seconds).ceil();
        if w >= u32::MAX as f64 {
            u32::MAX
        } else {
            w as u32
        }
    };
    // Earliest deadline first: every prefix of the deadlines must be met by the fleet.
    let mut dated: Vec<&Demand> = obs
        .demands
        .iter()
        .filter(|d| d.deadline.is_some())
        .collect();
    dated.sort_by_key(|d| d.deadline);
    let startup = cfg.startup.as_secs_f64();
    let (mut frames, mut by_deadline, mut due) = (0u64, 0u32, None);
    for d in dated {
        frames += d.frames_remaining;
        let deadline = d.deadline.expect("filtered");
        let left = (deadline - now).num_milliseconds() as f64 / 1000.0 - startup;
        let w = workers_for(frames, left);
        if w > by_deadline {
            (by_deadline, due) = (w, Some(deadline));
        }
    }
    let drain = workers_for(obs.frames(), cfg.drain_target.as_secs_f64());
    // At least one worker while anything is pending (a chunk with no frame count yet).
    let mut need = drain.max(by_deadline).max(1);
    let holdable = obs
        .chunks_pending
        .div_ceil(u64::from(cfg.slots_per_worker.max(1)))
        .max(1);
    let mut reason = if by_deadline >= drain {
        format!(
            "{by_deadline} to meet the deadline {}",
            due.map(|d| d.to_rfc3339()).unwrap_or_default()
        )
    } else {
        format!(
            "{drain} to drain {} frames in {:?}",
            obs.frames(),
            cfg.drain_target
        )
    };
    if u64::from(need) > holdable {
        need = holdable as u32;
        reason = format!(
            "{need}: one per {} pending chunks",
            cfg.slots_per_worker.max(1)
        );
    }
    if need > cap {
        reason = format!("{cap} (the maximum; {reason})");
        need = cap;
    }
    (need, reason)
}

/// The policy: desired workers now, given what is observed and the previous decision.
pub fn decide(
    obs: &Observations,
    prev: &Decision,
    cfg: &ScalingConfig,
    now: DateTime<Utc>,
) -> Decision {
    let (raw, mut reason) = need(obs, cfg, now);
    let window = chrono::Duration::from_std(cfg.stabilisation).unwrap_or(chrono::Duration::MAX);
    let mut history: Vec<(DateTime<Utc>, u32)> = prev
        .history
        .iter()
        .filter(|(t, _)| *t <= now && now - *t < window)
        .cloned()
        .collect();
    history.push((now, raw));
    let idle_since = if obs.idle() {
        Some(prev.idle_since.unwrap_or(now))
    } else {
        None
    };
    let idle_for = idle_since.map(|t| (now - t).to_std().unwrap_or_default());
    let mut desired = if raw >= prev.desired {
        // Up (or steady) at once.
        raw
    } else if let Some(idle) = idle_for {
        if idle >= cfg.idle_after {
            reason = format!("idle for {idle:?}");
            0
        } else {
            reason = format!(
                "idle for {idle:?}, keeping the fleet until {:?}",
                cfg.idle_after
            );
            prev.desired
        }
    } else {
        // Down only to the largest need of the window.
        let held = history.iter().map(|(_, n)| *n).max().unwrap_or(raw);
        if held > raw {
            reason = format!(
                "{held}: the largest need of the last {:?} ({reason})",
                cfg.stabilisation
            );
        }
        held.min(prev.desired)
    };
    let lo = cfg.min_workers.min(cfg.max_workers);
    desired = desired.clamp(lo, cfg.max_workers);
    Decision {
        desired,
        history,
        idle_since,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn obs(frames: u64, deadline_in: Option<i64>) -> Observations {
        Observations {
            chunks_pending: frames.div_ceil(8),
            demands: vec![Demand {
                frames_remaining: frames,
                deadline: deadline_in.map(t),
            }],
            seconds_per_frame: Some(2.0),
        }
    }

    fn cfg() -> ScalingConfig {
        ScalingConfig {
            max_workers: 50,
            ..ScalingConfig::default()
        }
    }

    #[test]
    fn a_deadline_sets_the_fleet() {
        // 3,600 frames × 2 s = 7,200 worker-seconds due in 1,000 s (990 after start-up): 8.
        let d = decide(&obs(3600, Some(1000)), &Decision::default(), &cfg(), t(0));
        assert_eq!(d.desired, 8, "{}", d.reason);
        assert!(d.reason.contains("deadline"), "{}", d.reason);
        // Without a deadline it drains in 30 minutes: 4.
        let d = decide(&obs(3600, None), &Decision::default(), &cfg(), t(0));
        assert_eq!(d.desired, 4, "{}", d.reason);
        // A deadline already past: as many as allowed.
        let d = decide(&obs(3600, Some(-5)), &Decision::default(), &cfg(), t(0));
        assert_eq!(d.desired, 50, "{}", d.reason);
    }

    #[test]
    fn earlier_deadlines_count_with_the_work_due_before_them() {
        let o = Observations {
            chunks_pending: 1000,
            demands: vec![
                Demand {
                    frames_remaining: 100,
                    deadline: Some(t(10_000)),
                },
                Demand {
                    frames_remaining: 500,
                    deadline: Some(t(110)),
                },
            ],
            seconds_per_frame: Some(1.0),
        };
        // 500 frames in 100 s: 5; both in 9,990 s: 1. EDF needs 5.
        assert_eq!(need(&o, &cfg(), t(0)).0, 5);
    }

    #[test]
    fn idle_goes_to_zero_only_after_the_idle_period() {
        let c = cfg();
        let mut d = decide(&obs(800, None), &Decision::default(), &c, t(0));
        assert!(d.desired > 0);
        let busy = d.desired;
        for s in [10, 100, 299] {
            d = decide(&Observations::default(), &d, &c, t(s));
            assert_eq!(d.desired, busy, "still within the idle period at {s} s");
        }
        d = decide(&Observations::default(), &d, &c, t(310));
        assert_eq!(d.desired, 0, "{}", d.reason);
    }

    #[test]
    fn never_more_workers_than_chunks() {
        let o = Observations {
            chunks_pending: 3,
            demands: vec![Demand {
                frames_remaining: 24,
                deadline: Some(t(20)),
            }],
            seconds_per_frame: Some(10.0),
        };
        assert_eq!(decide(&o, &Decision::default(), &cfg(), t(0)).desired, 3);
    }

    fn arb_obs() -> impl Strategy<Value = Observations> {
        (
            0u64..5_000,
            proptest::collection::vec((0u64..20_000, proptest::option::of(-600i64..20_000)), 0..6),
            proptest::option::of(0.01f64..30.0),
        )
            .prop_map(|(chunks, demands, spf)| Observations {
                chunks_pending: chunks,
                demands: demands
                    .into_iter()
                    .map(|(f, d)| Demand {
                        frames_remaining: f,
                        deadline: d.map(t),
                    })
                    .collect(),
                seconds_per_frame: spf,
            })
    }

    fn arb_cfg() -> impl Strategy<Value = ScalingConfig> {
        (
            0u32..4,
            1u32..64,
            1u64..4_000,
            0u64..600,
            0u64..900,
            0u64..60,
            1u32..4,
        )
            .prop_map(
                |(min, max, drain, stab, idle, startup, slots)| ScalingConfig {
                    min_workers: min,
                    max_workers: max,
                    drain_target: Duration::from_secs(drain),
                    stabilisation: Duration::from_secs(stab),
                    idle_after: Duration::from_secs(idle),
                    startup: Duration::from_secs(startup),
                    slots_per_worker: slots,
                },
            )
    }

    proptest! {
        #[test]
        fn always_within_bounds(c in arb_cfg(), steps in proptest::collection::vec((arb_obs(), 1i64..120), 1..30)) {
            let (mut d, mut now) = (Decision::default(), 0);
            for (o, dt) in &steps {
                now += dt;
                d = decide(o, &d, &c, t(now));
                prop_assert!(d.desired >= c.min_workers.min(c.max_workers) && d.desired <= c.max_workers,
                    "{} outside [{}, {}]", d.desired, c.min_workers, c.max_workers);
            }
        }

        #[test]
        fn scales_up_at_once_to_the_need(c in arb_cfg(), o in arb_obs(), prev in 0u32..64) {
            let p = Decision { desired: prev.min(c.max_workers), ..Decision::default() };
            let d = decide(&o, &p, &c, t(0));
            let (raw, _) = need(&o, &c, t(0));
            prop_assert!(d.desired >= raw.clamp(c.min_workers.min(c.max_workers), c.max_workers));
        }

        #[test]
        fn monotone_in_backlog(c in arb_cfg(), o in arb_obs(), extra_frames in 0u64..10_000, extra_chunks in 0u64..1_000, idx in 0usize..6) {
            let mut more = o.clone();
            more.chunks_pending += extra_chunks;
            if more.demands.is_empty() {
                more.demands.push(Demand { frames_remaining: extra_frames, deadline: None });
            } else {
                let i = idx % more.demands.len();
                more.demands[i].frames_remaining += extra_frames;
            }
            let base = decide(&o, &Decision::default(), &c, t(0)).desired;
            let bigger = decide(&more, &Decision::default(), &c, t(0)).desired;
            prop_assert!(bigger >= base, "{bigger} < {base}");
        }

        #[test]
        fn no_scale_down_within_the_stabilisation_window(c in arb_cfg(), high in arb_obs(), low in arb_obs(), dt in 0i64..600) {
            let first = decide(&high, &Decision::default(), &c, t(0));
            let later = decide(&low, &first, &c, t(dt));
            let window = c.stabilisation.as_secs() as i64;
            if dt < window && !low.idle() {
                prop_assert!(later.desired >= first.desired,
                    "dropped from {} to {} after {dt} s of a {window} s window", first.desired, later.desired);
            }
        }

        #[test]
        fn no_flapping(c in arb_cfg(), o in arb_obs(), n in 2usize..20) {
            // Unchanged observations (time passing brings deadlines closer): the decision
            // only ever moves one way.
            let mut d = Decision::default();
            let (mut ups, mut downs) = (false, false);
            let mut last: Option<u32> = None;
            for i in 0..n {
                d = decide(&o, &d, &c, t(i as i64 * 15));
                if let Some(l) = last {
                    ups |= d.desired > l;
                    downs |= d.desired < l;
                }
                last = Some(d.desired);
            }
            prop_assert!(!(ups && downs), "went both up and down for the same observations");
        }

        #[test]
        fn idle_reaches_min_after_the_idle_period_and_not_before(c in arb_cfg(), o in arb_obs()) {
            let busy = decide(&o, &Decision::default(), &c, t(0));
            let idle = Observations::default();
            let before = decide(&idle, &busy, &c, t(1));
            let lo = c.min_workers.min(c.max_workers);
            if c.idle_after.as_secs() > 0 {
                prop_assert_eq!(before.desired, busy.desired.max(lo));
            }
            let after = decide(&idle, &before, &c, t(2 + c.idle_after.as_secs() as i64));
            prop_assert_eq!(after.desired, lo);
        }
    }
}
