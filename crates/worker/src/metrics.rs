//! Worker metrics (`platefarm_worker_*`).

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub struct WorkerMetrics {
    pub frames_rendered: IntCounter,
    pub frames_resumed: IntCounter,
    /// label `outcome`: done | failed | requeued | rejected
    pub chunks: IntCounterVec,
    pub frame_seconds: Histogram,
    pub busy: IntGauge,
    pub slots: IntGauge,
    /// Acks, requeues and rejects the broker did not take (the chunk is redelivered).
    pub settle_errors: IntCounter,
}

impl WorkerMetrics {
    pub fn new(registry: &Registry) -> Self {
        let frames_rendered = IntCounter::new(
            "platefarm_worker_frames_rendered_total",
            "Frames rendered and written",
        )
        .expect("metric");
        let frames_resumed = IntCounter::new(
            "platefarm_worker_frames_resumed_total",
            "Frames already written by an earlier attempt of a redelivered chunk",
        )
        .expect("metric");
        let chunks = IntCounterVec::new(
            Opts::new(
                "platefarm_worker_chunks_total",
                "Chunks handled, by outcome",
            ),
            &["outcome"],
        )
        .expect("metric");
        let frame_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "platefarm_worker_frame_render_seconds",
                "Time to fetch, render and write one frame",
            )
            .buckets(vec![
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
        )
        .expect("metric");
        let busy = IntGauge::new("platefarm_worker_busy_slots", "Chunks being rendered now")
            .expect("metric");
        let slots = IntGauge::new("platefarm_worker_slots", "Chunks this worker holds at most")
            .expect("metric");
        let settle_errors = IntCounter::new(
            "platefarm_worker_settle_errors_total",
            "Acks, requeues and rejects the broker did not take (the chunk is redelivered)",
        )
        .expect("metric");
        for m in [
            Box::new(slots.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(settle_errors.clone()),
            Box::new(frames_rendered.clone()),
            Box::new(frames_resumed.clone()),
            Box::new(chunks.clone()),
            Box::new(frame_seconds.clone()),
            Box::new(busy.clone()),
        ] {
            registry
                .register(m)
                .expect("worker metrics are registered once per registry");
        }
        WorkerMetrics {
            frames_rendered,
            frames_resumed,
            chunks,
            frame_seconds,
            busy,
            slots,
            settle_errors,
        }
    }
}
