//! The validator's Prometheus metrics. Labels are netuids and fixed outcome names.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubnetLabels {
    netuid: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    netuid: u16,
    outcome: &'static str,
}

/// Counters of rounds, answers, plugin faults, loop panics and weight sets, per subnet.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    rounds: Family<SubnetLabels, Counter>,
    responses: Family<OutcomeLabels, Counter>,
    plugin_faults: Family<SubnetLabels, Counter>,
    plugin_loads: Family<OutcomeLabels, Counter>,
    round_errors: Family<SubnetLabels, Counter>,
    panics: Family<SubnetLabels, Counter>,
    weights: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("validator");
        let rounds = Family::<SubnetLabels, Counter>::default();
        let responses = Family::<OutcomeLabels, Counter>::default();
        let plugin_faults = Family::<SubnetLabels, Counter>::default();
        let plugin_loads = Family::<OutcomeLabels, Counter>::default();
        let round_errors = Family::<SubnetLabels, Counter>::default();
        let panics = Family::<SubnetLabels, Counter>::default();
        let weights = Family::<OutcomeLabels, Counter>::default();
        registry.register("rounds", "Rounds queried and stored", rounds.clone());
        registry.register("responses", "Miner answers by outcome", responses.clone());
        registry.register("plugin_faults", "Plugin calls that trapped or broke the contract", plugin_faults.clone());
        registry.register("plugin_loads", "Plugin (re)loads by outcome", plugin_loads.clone());
        registry.register("round_errors", "Rounds that failed and were skipped", round_errors.clone());
        registry.register("panics", "Subnet loops restarted after a panic", panics.clone());
        registry.register("weights", "Weight sets, commits and reveals by outcome", weights.clone());
        Metrics { registry, rounds, responses, plugin_faults, plugin_loads, round_errors, panics, weights }
    }
}

impl Metrics {
    pub(crate) fn round(&self, netuid: u16) {
        self.rounds.get_or_create(&SubnetLabels { netuid }).inc();
    }

    pub(crate) fn response(&self, netuid: u16, outcome: &'static str) {
        self.responses.get_or_create(&OutcomeLabels { netuid, outcome }).inc();
    }

    pub(crate) fn plugin_fault(&self, netuid: u16) {
        self.plugin_faults.get_or_create(&SubnetLabels { netuid }).inc();
    }

    pub(crate) fn plugin_load(&self, netuid: u16, outcome: &'static str) {
        self.plugin_loads.get_or_create(&OutcomeLabels { netuid, outcome }).inc();
    }

    pub(crate) fn round_error(&self, netuid: u16) {
        self.round_errors.get_or_create(&SubnetLabels { netuid }).inc();
    }

    pub(crate) fn panic(&self, netuid: u16) {
        self.panics.get_or_create(&SubnetLabels { netuid }).inc();
    }

    pub(crate) fn weights(&self, netuid: u16, outcome: &'static str) {
        self.weights.get_or_create(&OutcomeLabels { netuid, outcome }).inc();
    }

    /// Panics counted for `netuid`.
    pub fn panics(&self, netuid: u16) -> u64 {
        self.panics.get_or_create(&SubnetLabels { netuid }).get()
    }

    /// Rounds stored for `netuid`.
    pub fn rounds(&self, netuid: u16) -> u64 {
        self.rounds.get_or_create(&SubnetLabels { netuid }).get()
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
