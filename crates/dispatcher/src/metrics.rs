//! Dispatcher metrics (`platefarm_dispatcher_*`), registered into the service's registry.
//! Documented in docs/metrics.md. Every label value a metric can take is created at 0 when the
//! metrics are registered, so a rate or ratio over a value that has not happened yet (a failed
//! chunk, a 5xx answer) is 0, not an absent series.

use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// The API's (method, route template) pairs; `route` labels take these values or `unmatched`.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/turnovers"),
    ("GET", "/v1/turnovers"),
    ("GET", "/v1/turnovers/{id}"),
    ("GET", "/v1/turnovers/{id}/chunks"),
    ("POST", "/v1/turnovers/{id}/cancel"),
    ("POST", "/v1/turnovers/{id}/retry-failed"),
    ("GET", "/v1/turnovers/{id}/events"),
    ("GET", "/v1/openapi.json"),
];

/// The `route` label of a request that matched no route (a 404).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The `status` label values: the class of the HTTP status code.
pub const STATUS_CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx"];

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
    /// Planned chunks not yet in the broker (they wait for the feeder's window).
    pub backlog_chunks: IntGauge,
    /// Frames of planned and in-flight chunks: the work left.
    pub backlog_frames: IntGauge,
    /// Unix time of the earliest deadline of a turnover with work left (0 without one).
    pub deadline: Gauge,
    /// Frames left of the turnovers due at that deadline.
    pub deadline_frames: IntGauge,
    /// labels `route` (template), `method`, `status` (class)
    pub http_requests: IntCounterVec,
    /// labels `route` (template), `method`
    pub http_seconds: HistogramVec,
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
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            register(Box::new(g.clone()));
            g
        };
        let deadline = Gauge::new(
            "platefarm_dispatcher_deadline_timestamp_seconds",
            "Unix time of the earliest deadline of a turnover with work left (0 without one)",
        )
        .expect("valid metric");
        register(Box::new(deadline.clone()));
        let http_requests = IntCounterVec::new(
            Opts::new(
                "platefarm_dispatcher_http_requests_total",
                "API requests answered, by route template, method and status class",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        register(Box::new(http_requests.clone()));
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "platefarm_dispatcher_http_request_duration_seconds",
                "Time to answer an API request (to the response head; an event stream's lifetime is not counted)",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )
        .expect("valid metric");
        register(Box::new(http_seconds.clone()));
        for (method, route) in API_ROUTES {
            http_seconds.with_label_values(&[route, method]);
            for status in STATUS_CLASSES {
                http_requests.with_label_values(&[route, method, status]);
            }
        }
        let metrics = DispatcherMetrics {
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
            backlog_chunks: gauge(
                "platefarm_dispatcher_backlog_chunks",
                "Planned chunks not yet in the broker (waiting for the feeder's window)",
            ),
            backlog_frames: gauge(
                "platefarm_dispatcher_backlog_frames",
                "Frames of planned and in-flight chunks (the work left)",
            ),
            deadline,
            deadline_frames: gauge(
                "platefarm_dispatcher_deadline_remaining_frames",
                "Frames left of the turnovers due at the earliest deadline",
            ),
            http_requests,
            http_seconds,
        };
        for state in ["completed", "completed_with_failures", "failed"] {
            metrics.turnovers_finished.with_label_values(&[state]);
        }
        for state in ["done", "failed"] {
            metrics.chunks_finished.with_label_values(&[state]);
        }
        for state in ["delivered", "failed"] {
            metrics.deliveries.with_label_values(&[state]);
        }
        metrics
    }

    /// Counts one answered API request; `route` is the matched template (or
    /// [`UNMATCHED_ROUTE`]), never the raw path, so label values stay bounded.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = match method {
            "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" | "OPTIONS" => method,
            _ => "other",
        };
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.http_requests
            .with_label_values(&[route, method, class])
            .inc();
        self.http_seconds
            .with_label_values(&[route, method])
            .observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(registry: &Registry) -> String {
        let mut buf = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut buf,
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn every_label_value_starts_at_zero() {
        let registry = Registry::new();
        let _m = DispatcherMetrics::new(&registry);
        let text = exposed(&registry);
        for line in [
            "platefarm_dispatcher_chunks_finished_total{state=\"failed\"} 0",
            "platefarm_dispatcher_turnovers_finished_total{state=\"completed_with_failures\"} 0",
            "platefarm_dispatcher_deliveries_total{state=\"failed\"} 0",
            "platefarm_dispatcher_http_requests_total{method=\"GET\",route=\"/v1/turnovers/{id}\",status=\"5xx\"} 0",
            "platefarm_dispatcher_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/turnovers\"} 0",
            "platefarm_dispatcher_deadline_timestamp_seconds 0",
            "platefarm_dispatcher_backlog_frames 0",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn requests_are_counted_by_template_method_and_status_class() {
        let registry = Registry::new();
        let m = DispatcherMetrics::new(&registry);
        m.observe_request("/v1/turnovers/{id}", "GET", 404, 0.002);
        m.observe_request("/v1/turnovers/{id}", "GET", 503, 0.5);
        m.observe_request(UNMATCHED_ROUTE, "BREW", 404, 0.001);
        let count = |route: &str, method: &str, status: &str| {
            m.http_requests
                .with_label_values(&[route, method, status])
                .get()
        };
        assert_eq!(count("/v1/turnovers/{id}", "GET", "4xx"), 1);
        assert_eq!(count("/v1/turnovers/{id}", "GET", "5xx"), 1);
        assert_eq!(count(UNMATCHED_ROUTE, "other", "4xx"), 1);
        let h = m
            .http_seconds
            .with_label_values(&["/v1/turnovers/{id}", "GET"]);
        assert_eq!(h.get_sample_count(), 2);
        assert!((h.get_sample_sum() - 0.502).abs() < 1e-9);
    }
}
