//! Worker metrics (`platefarm_worker_*`). Every `outcome` starts at 0 so a ratio over one that
//! has not happened yet is 0, not an absent series.

use prometheus::{
    Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry,
};

#[derive(Clone)]
pub struct WorkerMetrics {
    pub frames_rendered: IntCounter,
    pub frames_resumed: IntCounter,
    /// label `outcome`: done | failed | requeued | rejected
    pub chunks: IntCounterVec,
    pub frame_seconds: Histogram,
    /// label `stage`: fetch | render | write — one frame's time in each stage.
    pub stage_seconds: HistogramVec,
    /// label `direction`: read | written — bytes of frames read and outputs written.
    pub bytes: IntCounterVec,
    pub busy: IntGauge,
    pub slots: IntGauge,
    /// Acks, requeues and rejects the broker did not take (the chunk is redelivered).
    pub settle_errors: IntCounter,
    /// Unix time this worker started: its changes count restarts (a crash loop).
    pub start_time: Gauge,
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
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new(
                "platefarm_worker_stage_seconds",
                "One frame's time in a stage: fetch (input from the store), render (decode, colour, reframe, encode, hash), write (outputs and resume record)",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["stage"],
        )
        .expect("metric");
        let bytes = IntCounterVec::new(
            Opts::new(
                "platefarm_worker_bytes_total",
                "Bytes of input frames read and outputs written",
            ),
            &["direction"],
        )
        .expect("metric");
        for stage in ["fetch", "render", "write"] {
            stage_seconds.with_label_values(&[stage]);
        }
        for direction in ["read", "written"] {
            bytes.with_label_values(&[direction]);
        }
        let busy = IntGauge::new("platefarm_worker_busy_slots", "Chunks being rendered now")
            .expect("metric");
        let slots = IntGauge::new("platefarm_worker_slots", "Chunks this worker holds at most")
            .expect("metric");
        let settle_errors = IntCounter::new(
            "platefarm_worker_settle_errors_total",
            "Acks, requeues and rejects the broker did not take (the chunk is redelivered)",
        )
        .expect("metric");
        let start_time = Gauge::new(
            "platefarm_worker_start_time_seconds",
            "Unix time the worker started (its changes count restarts)",
        )
        .expect("metric");
        start_time.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        );
        for outcome in ["done", "failed", "requeued", "rejected"] {
            chunks.with_label_values(&[outcome]);
        }
        for m in [
            Box::new(start_time.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(slots.clone()),
            Box::new(settle_errors.clone()),
            Box::new(frames_rendered.clone()),
            Box::new(frames_resumed.clone()),
            Box::new(chunks.clone()),
            Box::new(frame_seconds.clone()),
            Box::new(stage_seconds.clone()),
            Box::new(bytes.clone()),
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
            stage_seconds,
            bytes,
            busy,
            slots,
            settle_errors,
            start_time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_start_at_zero_and_the_start_time_is_set() {
        let registry = Registry::new();
        let m = WorkerMetrics::new(&registry);
        for outcome in ["done", "failed", "requeued", "rejected"] {
            assert_eq!(m.chunks.with_label_values(&[outcome]).get(), 0);
        }
        let families = registry.gather();
        let outcomes = families
            .iter()
            .find(|f| f.name() == "platefarm_worker_chunks_total")
            .map(|f| f.get_metric().len());
        assert_eq!(
            outcomes,
            Some(4),
            "every outcome is exposed before it happens"
        );
        assert!(
            m.start_time.get() > 1.6e9,
            "a Unix time: {}",
            m.start_time.get()
        );
    }
}
