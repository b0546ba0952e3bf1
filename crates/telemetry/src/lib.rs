//! Metrics registry, tracing set-up and the /metrics and /health endpoints
