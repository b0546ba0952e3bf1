//! Dispatcher metrics (`platefarm_dispatcher_*`), registered into the service's registry.

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct DispatcherMetrics {
    pub turnovers_submitted: IntCounter,
    pub turnovers_rejected: IntCounter,
    pub chunks_published: IntCounter,
    /// label `state`: done | failed
    pub chunks_finished: IntCounterVec,
    pub frames_done: IntCounter,
    pub duplicate_results: IntCounter,
    pub dead_letters: IntCounter,
}

impl DispatcherMetrics {
    pub fn new(registry: &Registry) -> Self {
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("dispatcher metrics are registered once");
            c
        };
        let chunks_finished = IntCounterVec::new(
            Opts::new(
                "platefarm_dispatcher_chunks_finished_total",
                "Chunks that reached a final state",
            ),
            &["state"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(chunks_finished.clone()))
            .expect("dispatcher metrics are registered once");
        DispatcherMetrics {
            turnovers_submitted: counter(
                "platefarm_dispatcher_turnovers_submitted_total",
                "Turnovers accepted",
            ),
            turnovers_rejected: counter(
                "platefarm_dispatcher_turnovers_rejected_total",
                "Turnovers rejected by validation",
            ),
            chunks_published: counter(
                "platefarm_dispatcher_chunks_published_total",
                "Chunks published to the work queue",
            ),
            chunks_finished,
            frames_done: counter("platefarm_dispatcher_frames_done_total", "Frames delivered"),
            duplicate_results: counter(
                "platefarm_dispatcher_duplicate_results_total",
                "Results for chunks already final (redelivered work finishing twice)",
            ),
            dead_letters: counter(
                "platefarm_dispatcher_dead_letters_total",
                "Chunks received from the dead-letter queue",
            ),
        }
    }
}
