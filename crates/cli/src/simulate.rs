//! `platefarm simulate`: a farm over one working day, in simulated time, under several scaling
//! policies — ours (`platefarm_core::scaling::decide`, the code the autoscaler runs), fixed
//! fleets, and KEDA's queue-length rule. Reports makespan, deadline misses, worker-hours and
//! chunk waits, and draws workers and backlog over the day as an SVG.
//!
//! The day: dailies every 20 minutes from 08:00 to 18:00 (3–12 chunks, due an hour later) and
//! at 13:00 a VFX turnover of `--vfx-chunks` chunks due at 17:00. Chunks of 8 frames; a frame
//! costs a worker `--seconds-per-frame` on average, drawn per chunk from a log-normal spread
//! (σ = 0.25, as the render benchmarks vary). New workers render after `--startup` seconds; a
//! stopped worker finishes its chunk first (SIGTERM). One step is one second.

use platefarm_core::scaling::{decide, Decision, Demand, Observations, ScalingConfig};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Chunks (8 frames each) of the afternoon's VFX turnover.
    #[arg(long, default_value_t = 3000)]
    pub vfx_chunks: u32,
    /// Mean render seconds per frame of one worker.
    #[arg(long, default_value_t = 0.8)]
    pub seconds_per_frame: f64,
    /// Seconds from starting a worker to its first chunk.
    #[arg(long, default_value_t = 45.0)]
    pub startup: f64,
    /// Most workers any policy may run.
    #[arg(long, default_value_t = 64)]
    pub max_workers: u32,
    /// Price of one worker-hour (for the cost column).
    #[arg(long, default_value_t = 0.40)]
    pub price: f64,
    /// Where to write the plot (SVG).
    #[arg(long, default_value = "scaling.svg")]
    pub svg: std::path::PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

const FRAMES_PER_CHUNK: u64 = 8;
const DAY: u64 = 24 * 3600;

#[derive(Debug, Clone)]
struct Chunk {
    turnover: usize,
    work: f64,
    queued_at: u64,
}

#[derive(Debug, Clone)]
struct TurnoverSpec {
    submit: u64,
    deadline: u64,
    chunks: u32,
}

/// A small deterministic PRNG (xorshift64*), so runs are reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn the_day(vfx_chunks: u32, rng: &mut Rng) -> Vec<TurnoverSpec> {
    let mut day = Vec::new();
    let mut t = 8 * 3600;
    while t <= 18 * 3600 {
        day.push(TurnoverSpec {
            submit: t,
            deadline: t + 3600,
            chunks: 3 + (rng.next() * 10.0) as u32,
        });
        t += 20 * 60;
    }
    day.push(TurnoverSpec {
        submit: 13 * 3600,
        deadline: 17 * 3600,
        chunks: vfx_chunks,
    });
    day.sort_by_key(|t| t.submit);
    day
}

/// How a policy decides the fleet each step.
#[derive(Debug, Clone)]
pub enum Policy {
    Ours(ScalingConfig),
    Fixed(u32),
    /// KEDA `rabbitmq` trigger, QueueLength: ceil(ready+unacked / target), polled every 30 s,
    /// to zero after `cooldown` s without messages.
    QueueLength {
        target: u32,
        max: u32,
        cooldown: u64,
    },
}

impl Policy {
    fn name(&self) -> String {
        match self {
            Policy::Ours(_) => "platefarm policy".into(),
            Policy::Fixed(n) => format!("fixed {n}"),
            Policy::QueueLength { target, .. } => format!("KEDA queue length ({target}/worker)"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub name: String,
    pub makespan_h: f64,
    pub deadline_misses: u32,
    pub turnovers: u32,
    pub worker_hours: f64,
    pub mean_wait_s: f64,
    pub p95_wait_s: f64,
    /// (second, workers running or starting, chunks pending) every minute.
    pub series: Vec<(u64, u32, u64)>,
}

struct Worker {
    ready_at: u64,
    chunk: Option<(Chunk, f64)>,
    stopping: bool,
}

pub fn simulate(policy: &Policy, args: &SimulateArgs) -> Outcome {
    let mut rng = Rng(args.seed.max(1));
    let day = the_day(args.vfx_chunks, &mut rng);
    let mut pending: VecDeque<Chunk> = VecDeque::new();
    let mut left: Vec<u64> = day.iter().map(|t| t.chunks as u64).collect();
    let mut frames_left: Vec<u64> = day
        .iter()
        .map(|t| t.chunks as u64 * FRAMES_PER_CHUNK)
        .collect();
    let mut finished: Vec<Option<u64>> = vec![None; day.len()];
    let mut workers: Vec<Worker> = Vec::new();
    let (mut waits, mut worker_seconds) = (Vec::new(), 0f64);
    let mut decision = Decision::default();
    let mut keda_desired = 0u32;
    let mut last_message = 0u64;
    let mut series = Vec::new();
    let mut next = 0;
    let startup = args.startup.max(0.0) as u64;
    let t0 = day.first().map(|t| t.submit).unwrap_or(0);
    for now in 0..DAY {
        let arrived = next < day.len() && day[next].submit == now;
        while next < day.len() && day[next].submit == now {
            for _ in 0..day[next].chunks {
                let cost = args.seconds_per_frame * (0.25 * rng.normal()).exp();
                pending.push_back(Chunk {
                    turnover: next,
                    work: cost * FRAMES_PER_CHUNK as f64,
                    queued_at: now,
                });
            }
            next += 1;
        }
        // Earliest deadline first, as the dispatcher's priority + deadline order would.
        if arrived {
            pending
                .make_contiguous()
                .sort_by_key(|c| (day[c.turnover].deadline, c.queued_at));
        }
        let in_hand = workers.iter().filter(|w| w.chunk.is_some()).count() as u64;
        let queued = pending.len() as u64 + in_hand;
        let desired = match policy {
            Policy::Fixed(n) => *n,
            Policy::Ours(cfg) => {
                if now % 5 == 0 {
                    let obs = Observations {
                        chunks_pending: queued,
                        demands: (0..next)
                            .filter(|&i| finished[i].is_none())
                            .map(|i| Demand {
                                frames_remaining: frames_left[i],
                                deadline: Some(at(day[i].deadline)),
                            })
                            .collect(),
                        seconds_per_frame: Some(args.seconds_per_frame),
                    };
                    decision = decide(&obs, &decision, cfg, at(now));
                }
                decision.desired
            }
            Policy::QueueLength {
                target,
                max,
                cooldown,
            } => {
                if queued > 0 {
                    last_message = now;
                }
                if now % 30 == 0 {
                    let want = queued.div_ceil(u64::from(*target)).min(u64::from(*max)) as u32;
                    keda_desired = if want > 0 {
                        want.max(keda_desired.min(want.max(1)))
                    } else if now.saturating_sub(last_message) >= *cooldown {
                        0
                    } else {
                        keda_desired.max(1)
                    };
                }
                keda_desired
            }
        };
        // Actuate: start new workers, stop idle ones first, then busy ones gracefully.
        let active = workers.iter().filter(|w| !w.stopping).count() as u32;
        for _ in active..desired {
            workers.push(Worker {
                ready_at: now + startup,
                chunk: None,
                stopping: false,
            });
        }
        let mut excess = active.saturating_sub(desired);
        for w in workers
            .iter_mut()
            .filter(|w| !w.stopping && w.chunk.is_none())
        {
            if excess == 0 {
                break;
            }
            w.stopping = true;
            excess -= 1;
        }
        for w in workers.iter_mut().filter(|w| !w.stopping) {
            if excess == 0 {
                break;
            }
            w.stopping = true;
            excess -= 1;
        }
        // One second of work.
        for w in workers.iter_mut() {
            worker_seconds += 1.0;
            if now < w.ready_at {
                continue;
            }
            if w.chunk.is_none() && !w.stopping {
                if let Some(c) = pending.pop_front() {
                    waits.push((now - c.queued_at) as f64);
                    let work = c.work;
                    w.chunk = Some((c, work));
                }
            }
            if let Some((c, remaining)) = &mut w.chunk {
                *remaining -= 1.0;
                if *remaining <= 0.0 {
                    let i = c.turnover;
                    left[i] -= 1;
                    frames_left[i] = frames_left[i].saturating_sub(FRAMES_PER_CHUNK);
                    if left[i] == 0 {
                        finished[i] = Some(now + 1);
                    }
                    w.chunk = None;
                }
            }
        }
        workers.retain(|w| !(w.stopping && w.chunk.is_none()));
        if now % 60 == 0 {
            series.push((now, workers.len() as u32, queued));
        }
    }
    waits.sort_by(|a, b| a.total_cmp(b));
    let done = finished.iter().flatten().max().copied().unwrap_or(DAY);
    let unfinished = finished.iter().filter(|f| f.is_none()).count() as u32;
    Outcome {
        name: policy.name(),
        makespan_h: (done - t0) as f64 / 3600.0,
        deadline_misses: unfinished
            + finished
                .iter()
                .zip(&day)
                .filter(|(f, t)| f.is_some_and(|f| f > t.deadline))
                .count() as u32,
        turnovers: day.len() as u32,
        worker_hours: worker_seconds / 3600.0,
        mean_wait_s: waits.iter().sum::<f64>() / waits.len().max(1) as f64,
        p95_wait_s: waits
            .get(((waits.len() as f64 * 0.95) as usize).min(waits.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0),
        series,
    }
}

fn at(secs: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs as i64, 0).expect("in range")
}

/// The policies compared: ours, KEDA's queue-length rule, and the fixed fleets from 1 up to
/// `max` (the table shows the smallest that misses no deadline and a small and a large one).
pub fn policies(args: &SimulateArgs) -> Vec<Policy> {
    vec![
        Policy::Ours(ScalingConfig {
            min_workers: 0,
            max_workers: args.max_workers,
            // The autoscaler's defaults.
            drain_target: Duration::from_secs(1800),
            stabilisation: Duration::from_secs(120),
            idle_after: Duration::from_secs(300),
            startup: Duration::from_secs_f64(args.startup.max(0.0)),
            slots_per_worker: 1,
        }),
        Policy::QueueLength {
            target: 20,
            max: args.max_workers,
            cooldown: 300,
        },
    ]
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<Vec<Outcome>> {
    anyhow::ensure!(
        args.seconds_per_frame.is_finite() && args.seconds_per_frame > 0.0,
        "--seconds-per-frame must be a positive number"
    );
    anyhow::ensure!(args.max_workers >= 1, "--max-workers must be at least 1");
    let mut outcomes: Vec<Outcome> = policies(args).iter().map(|p| simulate(p, args)).collect();
    // Fixed fleets: the smallest without a miss, and a small and a large one for scale.
    let mut smallest = None;
    for n in 1..=args.max_workers {
        let o = simulate(&Policy::Fixed(n), args);
        if o.deadline_misses == 0 {
            smallest = Some(o);
            break;
        }
    }
    if smallest
        .as_ref()
        .is_none_or(|o| o.name != Policy::Fixed(2).name())
    {
        outcomes.push(simulate(&Policy::Fixed(2), args));
    }
    if let Some(mut o) = smallest {
        o.name = format!("{} (smallest without a miss)", o.name);
        outcomes.push(o);
    }
    outcomes.push(simulate(&Policy::Fixed(args.max_workers), args));
    std::fs::write(&args.svg, svg(&outcomes))
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", args.svg.display()))?;
    Ok(outcomes)
}

pub fn table(outcomes: &[Outcome], price: f64) -> String {
    let mut s = String::from(
        "| policy | makespan (h) | deadline misses | worker-hours | cost | mean wait (s) | p95 wait (s) |\n|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {} of {} | {:.1} | {:.2} | {:.0} | {:.0} |",
            o.name,
            o.makespan_h,
            o.deadline_misses,
            o.turnovers,
            o.worker_hours,
            o.worker_hours * price,
            o.mean_wait_s,
            o.p95_wait_s
        );
    }
    s
}

/// Workers over the day per policy (lines), and the backlog (grey area, right axis).
fn svg(outcomes: &[Outcome]) -> String {
    let (w, h, pad) = (900.0, 420.0, 50.0);
    let max_workers = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| p.1))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let max_backlog = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| p.2))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |t: u64| pad + (t as f64 / DAY as f64) * (w - 2.0 * pad);
    let y = |v: f64, max: f64| h - pad - v / max * (h - 2.0 * pad);
    let colours = [
        "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{pad}" y="20">Workers over the day per policy (lines); backlog of the platefarm policy's run in grey (right axis, max {max_backlog:.0} chunks)</text>
"#
    );
    if let Some(o) = outcomes.first() {
        let mut d = format!("M{:.1},{:.1}", x(0), y(0.0, max_backlog));
        for &(t, _, b) in &o.series {
            let _ = write!(d, " L{:.1},{:.1}", x(t), y(b as f64, max_backlog));
        }
        let _ = write!(d, " L{:.1},{:.1} Z", x(DAY), y(0.0, max_backlog));
        let _ = writeln!(s, r##"<path d="{d}" fill="#ddd" stroke="none"/>"##);
    }
    for (i, o) in outcomes.iter().enumerate() {
        let mut d = String::new();
        for (j, &(t, n, _)) in o.series.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if j == 0 { "M" } else { " L" },
                x(t),
                y(n as f64, max_workers)
            );
        }
        let c = colours[i % colours.len()];
        let _ = writeln!(
            s,
            r#"<path d="{d}" fill="none" stroke="{c}" stroke-width="1.5"/>
<text x="{:.1}" y="{:.1}" fill="{c}">{}</text>"#,
            w - pad - 260.0,
            40.0 + 16.0 * i as f64,
            xml(&o.name)
        );
    }
    for hour in (0..=24).step_by(3) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{hour:02}:00</text>"#,
            x(hour * 3600),
            h - pad + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<line x1="{pad}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{0}" stroke="black"/>
<text x="{2}" y="{3}" text-anchor="end">{max_workers:.0} workers</text>
<text x="{2}" y="{0}" text-anchor="end">0</text>
</svg>"#,
        h - pad,
        w - pad,
        pad - 4.0,
        pad + 4.0
    );
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> SimulateArgs {
        SimulateArgs {
            vfx_chunks: 3000,
            seconds_per_frame: 0.8,
            startup: 45.0,
            max_workers: 32,
            price: 0.4,
            svg: std::env::temp_dir().join("platefarm-sim-test.svg"),
            seed: 3,
        }
    }

    #[test]
    fn every_chunk_is_rendered_and_the_day_is_reproducible() {
        let a = args();
        let p = &policies(&a)[0];
        let first = simulate(p, &a);
        let again = simulate(p, &a);
        assert_eq!(
            first.worker_hours, again.worker_hours,
            "same seed, same day"
        );
        assert!(
            first.makespan_h > 4.0 && first.makespan_h < 24.0,
            "{first:?}"
        );
        // A fixed fleet of 1 cannot meet the VFX deadline; ours can.
        assert!(simulate(&Policy::Fixed(1), &a).deadline_misses > 0);
        assert_eq!(
            first.deadline_misses,
            0,
            "{}",
            table(std::slice::from_ref(&first), 0.4)
        );
        // At night nothing runs under our policy.
        assert!(first
            .series
            .iter()
            .filter(|p| p.0 < 7 * 3600)
            .all(|p| p.1 == 0));
    }

    #[test]
    fn our_policy_costs_less_than_the_smallest_fleet_that_meets_every_deadline() {
        let a = args();
        let outcomes = run(&a).unwrap();
        let ours = &outcomes[0];
        let fleet = outcomes
            .iter()
            .find(|o| o.name.contains("smallest without a miss"))
            .expect("some fixed fleet meets the deadlines");
        assert_eq!(ours.deadline_misses, 0);
        assert!(
            ours.worker_hours <= 0.7 * fleet.worker_hours,
            "{}",
            table(&outcomes, a.price)
        );
        let svg = std::fs::read_to_string(&a.svg).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("platefarm policy"));
    }
}
