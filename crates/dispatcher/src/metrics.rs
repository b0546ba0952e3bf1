//! Dispatcher metrics (`platefarm_dispatcher_*`), registered into the service's registry.
//! Documented in docs/metrics.md.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub struct DispatcherMetrics {
    pub turnovers_submitted: IntCounter,
    pub turnovers_rejected: IntCounter,
    /// label `state`: completed | completed_with_failures | failed
    pub turnovers_finished: IntCounterVec,
    pub chunks_planned: IntCounter,
    pub chunks_published: IntCounter,
    /// label `state`: done | failed
    pub chunks_finished: IntCounterVec,
    pub frames_done: IntCounter,
    pub duplicate_events: IntCounter,
    pub dead_letters: IntCounter,
    pub events_rejected: IntCounter,
    pub catalog_errors: IntCounter,
    pub ack_errors: IntCounter,
    pub feed_errors: IntCounter,
    /// label `state`: delivered | failed
    pub deliveries: IntCounterVec,
    /// Chunks in the broker or on workers.
    pub in_flight: IntGauge,
}

impl DispatcherMetrics {
    pub fn new(registry: &Registry) -> Self {
        let register = |c: Box<dyn prometheus::core::Collector>| {
            registry
                .register(c)
                .expect("dispatcher metrics are registered once per registry");
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            register(Box::new(c.clone()));
            c
        };
        let by = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            register(Box::new(c.clone()));
            c
        };
        let in_flight = IntGauge::new(
            "platefarm_dispatcher_chunks_in_flight",
            "Chunks in the broker or on workers (the feeder's window)",
        )
        .expect("valid metric");
        register(Box::new(in_flight.clone()));
        DispatcherMetrics {
            turnovers_submitted: counter(
                "platefarm_dispatcher_turnovers_submitted_total",
                "Turnovers accepted",
            ),
            turnovers_rejected: counter(
                "platefarm_dispatcher_turnovers_rejected_total",
                "Turnovers rejected by validation",
            ),
            turnovers_finished: by(
                "platefarm_dispatcher_turnovers_finished_total",
                "Turnovers that reached a final state",
                "state",
            ),
            chunks_planned: counter(
                "platefarm_dispatcher_chunks_planned_total",
                "Chunks planned from accepted turnovers",
            ),
            chunks_published: counter(
                "platefarm_dispatcher_chunks_published_total",
                "Chunks published to the work queue (broker-confirmed)",
            ),
            chunks_finished: by(
                "platefarm_dispatcher_chunks_finished_total",
                "Chunks that reached a final state",
                "state",
            ),
            frames_done: counter("platefarm_dispatcher_frames_done_total", "Frames delivered"),
            duplicate_events: counter(
                "platefarm_dispatcher_duplicate_events_total",
                "Worker events for chunks already final or re-published (redelivered work)",
            ),
            dead_letters: counter(
                "platefarm_dispatcher_dead_letters_total",
                "Chunks received from the dead-letter queue",
            ),
            events_rejected: counter(
                "platefarm_dispatcher_events_rejected_total",
                "Undecodable events moved to the events dead-letter queue",
            ),
            catalog_errors: counter(
                "platefarm_dispatcher_catalog_errors_total",
                "Catalog operations that failed and were retried",
            ),
            ack_errors: counter(
                "platefarm_dispatcher_ack_errors_total",
                "Event acknowledgements the broker did not take (the event is redelivered)",
            ),
            feed_errors: counter(
                "platefarm_dispatcher_feed_errors_total",
                "Window refills that failed (broker or catalog) and were retried",
            ),
            deliveries: by(
                "platefarm_dispatcher_deliveries_total",
                "Shot deliveries (delivery AMF, ASC MHL), by outcome",
                "state",
            ),
            in_flight,
        }
    }
}
