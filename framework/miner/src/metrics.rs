//! Prometheus metrics, served as text at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    subnet: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubnetLabels {
    subnet: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    subnet: String,
    reason: String,
}

/// Handler latency buckets, in seconds: 5 ms to 60 s.
const LATENCY_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

/// The miner's metrics and their registry. Label values are subnet names, status codes and a
/// fixed set of reasons, never caller input, so the series are bounded.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<SubnetLabels, Histogram>,
    queue_depth: Family<SubnetLabels, Gauge>,
    auth_failures: Family<RefusalLabels, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("miner");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<SubnetLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let queue_depth = Family::<SubnetLabels, Gauge>::default();
        let auth_failures = Family::<RefusalLabels, Counter>::default();
        registry.register("requests", "Task requests by subnet and HTTP status", requests.clone());
        registry.register("handler_duration_seconds", "Time the miner took per task, by subnet", latency.clone());
        registry.register("queue_depth", "Tasks waiting for a free slot, by subnet", queue_depth.clone());
        registry.register(
            "auth_failures",
            "Requests refused by authentication or authorisation, by subnet and reason",
            auth_failures.clone(),
        );
        Metrics { registry, requests, latency, queue_depth, auth_failures }
    }

    pub(crate) fn request(&self, subnet: &str, status: u16) {
        self.requests.get_or_create(&RequestLabels { subnet: subnet.to_owned(), status: status.to_string() }).inc();
    }

    pub(crate) fn handler_seconds(&self, subnet: &str, seconds: f64) {
        self.latency.get_or_create(&SubnetLabels { subnet: subnet.to_owned() }).observe(seconds);
    }

    pub(crate) fn queue_depth(&self, subnet: &str) -> Gauge {
        self.queue_depth.get_or_create(&SubnetLabels { subnet: subnet.to_owned() }).clone()
    }

    pub(crate) fn auth_failure(&self, subnet: &str, reason: &str) {
        self.auth_failures.get_or_create(&RefusalLabels { subnet: subnet.to_owned(), reason: reason.to_owned() }).inc();
    }

    /// The OpenMetrics text of every metric.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}
