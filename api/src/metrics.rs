//! Prometheus metrics: request latency by route and actions by workflow, action and outcome.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: HistogramVec,
    pub actions: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = HistogramVec::new(
            HistogramOpts::new(
                "pilotflow_http_request_duration_seconds",
                "HTTP request latency by method, route pattern and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route", "status"],
        )?;
        let actions = IntCounterVec::new(
            Opts::new(
                "pilotflow_actions_total",
                "Workflow actions attempted, by workflow, action and outcome (the error code or ok)",
            ),
            &["workflow", "action", "outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(actions.clone()))?;
        Ok(Self {
            registry,
            requests,
            actions,
        })
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
