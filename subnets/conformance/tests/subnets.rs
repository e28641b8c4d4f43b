//! Every reference subnet, native and as a plugin: what `subnetkit plugin check` runs passes, the
//! two builds agree byte for byte, and the plugin's outputs do not depend on the engine or on a
//! restart.

use conformance::{Subnet, host_context, host_responses, host_task};
use host::{FuelBudget, Host, HostConfig, Plugin};
use sdk_guest::{Mechanism, testing, wire};

/// Seeds whose tasks are compared.
const SEEDS: std::ops::Range<u64> = 0..8;

fn host_at(cache: &std::path::Path) -> Host {
    Host::new(HostConfig::new(cache)).expect("host")
}

fn load(host: &Host, subnet: Subnet) -> Plugin {
    host.load(subnet.wasm).unwrap_or_else(|e| panic!("{}: {e}", subnet.name))
}

/// `-0.0` as the host reports it (`0.0`); everything else unchanged.
fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| if *v == 0.0 { 0 } else { v.to_bits() }).collect()
}

/// Everything a plugin produces for the subnet's sample inputs, as bytes: tasks for [`SEEDS`] and
/// the sample batch's scores and diagnostics.
fn outputs(plugin: &Plugin, subnet: Subnet) -> Vec<u8> {
    let mut out = Vec::new();
    for seed in SEEDS {
        let task = plugin.make_task(&host_context(&subnet.context(seed))).unwrap().unwrap();
        out.extend_from_slice(&task.public);
        out.extend_from_slice(&task.private);
        out.extend_from_slice(format!("{:?}", task.settlement).as_bytes());
    }
    let batch = subnet.sample_batch();
    let scores = plugin
        .score(&host_task(&batch.wire_task()), &host_responses(&batch.wire_responses()), batch.wire_truth().as_deref())
        .unwrap()
        .unwrap();
    for value in bits(&scores.values) {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(scores.diagnostics.as_bytes());
    out.extend_from_slice(&scores.fuel_used.to_le_bytes());
    out
}

/// What `subnetkit plugin check` does: load under production limits, read the manifest (whose
/// schemas are JSON), make tasks, score the sample batch; all inside half the default fuel.
fn passes_plugin_check(subnet: Subnet) {
    let cache = tempfile::tempdir().unwrap();
    let host = host_at(cache.path());
    let plugin = load(&host, subnet);
    let manifest = plugin.manifest().unwrap();
    assert_eq!(manifest.name, subnet.name);
    for schema in [&manifest.task_schema, &manifest.private_schema, &manifest.response_schema] {
        serde_json::from_str::<serde_json::Value>(schema).unwrap();
    }
    let budget = FuelBudget::default();
    for seed in 0..3 {
        plugin.make_task(&host_context(&subnet.context(seed))).unwrap().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
    let batch = subnet.sample_batch();
    assert!(batch.responses.len() >= 8, "{}: the sample batch should show a spread of answers", subnet.name);
    let scores = plugin
        .score(&host_task(&batch.wire_task()), &host_responses(&batch.wire_responses()), batch.wire_truth().as_deref())
        .unwrap()
        .unwrap();
    assert_eq!(scores.values.len(), batch.responses.len());
    assert!(scores.fuel_used < budget.score / 2, "{}: {} fuel of {}", subnet.name, scores.fuel_used, budget.score);
    // A sample batch that scores everything alike shows nothing.
    let distinct: std::collections::BTreeSet<u64> = bits(&scores.values).into_iter().collect();
    assert!(distinct.len() >= 3, "{}: {:?}", subnet.name, scores.values);
}

/// The plugin's manifest, tasks and sample scores equal the native build's, bit for bit.
fn native_and_wasm_agree<M: Mechanism>(subnet: Subnet) {
    let cache = tempfile::tempdir().unwrap();
    let plugin = load(&host_at(cache.path()), subnet);

    let native = testing::manifest::<M>();
    let wasm = plugin.manifest().unwrap();
    assert_eq!(
        (&wasm.name, &wasm.version, &wasm.description, &wasm.feeds),
        (&native.name, &native.version, &native.description, &native.feeds)
    );
    assert_eq!(
        (&wasm.task_schema, &wasm.private_schema, &wasm.response_schema, &wasm.truth_schema),
        (&native.task_schema, &native.private_schema, &native.response_schema, &native.truth_schema)
    );

    for seed in SEEDS {
        let context = subnet.context(seed);
        let native = testing::make_task::<M>(&context).unwrap_or_else(|e| panic!("{}: seed {seed}: {e}", subnet.name));
        let wasm = plugin.make_task(&host_context(&context)).unwrap().unwrap();
        assert_eq!(wasm, host_task(&native), "{}: task for seed {seed}", subnet.name);
    }

    let batch = subnet.sample_batch();
    let native: wire::Scores = testing::score_batch::<M>(&batch).unwrap();
    let wasm = plugin
        .score(&host_task(&batch.wire_task()), &host_responses(&batch.wire_responses()), batch.wire_truth().as_deref())
        .unwrap()
        .unwrap();
    assert_eq!(bits(&wasm.values), bits(&native.values), "{}: {:?} vs {:?}", subnet.name, wasm.values, native.values);
    assert_eq!(wasm.diagnostics, native.diagnostics);
}

/// Two engines with separate caches, and a third host that loads the cached artifact after the
/// others are gone, produce the same bytes.
fn identical_across_engines_and_restart(subnet: Subnet) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = outputs(&load(&host_at(a.path()), subnet), subnet);
    assert_eq!(first, outputs(&load(&host_at(b.path()), subnet), subnet), "{}: second engine", subnet.name);
    // A restart: a new host on the first cache loads the precompiled artifact.
    assert_eq!(first, outputs(&load(&host_at(a.path()), subnet), subnet), "{}: after a restart", subnet.name);
}

macro_rules! subnet {
    ($module:ident, $subnet:expr, $mechanism:ty) => {
        mod $module {
            #[test]
            fn passes_plugin_check() {
                super::passes_plugin_check($subnet);
            }

            #[test]
            fn native_and_wasm_agree() {
                super::native_and_wasm_agree::<$mechanism>($subnet);
            }

            #[test]
            fn identical_across_engines_and_restart() {
                super::identical_across_engines_and_restart($subnet);
            }
        }
    };
}

subnet!(text_generation, conformance::TEXT_GENERATION, ::text_generation::TextGeneration);
subnet!(image_aesthetics, conformance::IMAGE_AESTHETICS, ::image_aesthetics::ImageAesthetics);
subnet!(price_prediction, conformance::PRICE_PREDICTION, ::price_prediction::PricePrediction);

/// Polls a future that is ready at once (the replay feeds do no I/O), without an async runtime.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("a replay feed answered later"),
    }
}

/// The host-side price feeds (`framework/feeds`) speak the price-prediction plugin's feed
/// contract: the default replay's values make tasks at many moments, the truth it gives once the
/// task's settlement delay has passed is scored, a value taken inside an outage of the series is
/// refused as stale, and a snapshot older than one replayed candle is refused.
#[test]
fn feeds_crate_values_make_price_prediction_tasks() {
    use std::sync::Arc;

    use ::price_prediction::PricePrediction;
    use feeds::{BTC_USDT_FEED, Feeds, FeedsConfig, ManualClock, ReplayConfig, ReplayStart, SourceConfig, Window};

    const START_MS: u64 = 1_800_000_000_000;
    let manifest = testing::manifest::<PricePrediction>();
    let context = |feeds: &Feeds, seed: u64, unix_ms: u64| {
        let values = ready(feeds.values(&manifest.feeds, unix_ms)).unwrap();
        let feeds = values.into_iter().map(|v| wire::FeedValue { name: v.name, value: v.value }).collect();
        wire::Context { seed, block: 0, unix_ms, feeds }
    };

    // The validator's default: the bundled series replayed at 1440×, from the start of 2018.
    let clock = Arc::new(ManualClock::new(START_MS));
    let feeds = Feeds::from_config(&FeedsConfig::default(), clock.clone()).unwrap();
    feeds.resolve(&manifest.feeds).unwrap();
    let (mut scored, mut ended) = (0, 0);
    // Every 7 minutes of wall time (42 replayed candles, a week of market time) for two days:
    // eight years of market time, so the replay also runs past the end of the series.
    for step in 0..420u64 {
        clock.set(START_MS + step * 420_000 + 1_234);
        let snapshot = match ready(feeds.snapshot(&manifest.feeds)) {
            Ok(snapshot) => snapshot,
            Err(err) => {
                assert!(err.to_string().contains("past the end of its series"), "step {step}: {err}");
                ended += 1;
                continue;
            }
        };
        let values = snapshot.values.into_iter().map(|v| wire::FeedValue { name: v.name, value: v.value });
        let ctx = wire::Context { seed: step, block: step, unix_ms: snapshot.unix_ms, feeds: values.collect() };
        let task = testing::make_task::<PricePrediction>(&ctx).unwrap_or_else(|e| panic!("step {step}: {e}"));
        let wire::Settlement::Delayed(delay_ms) = task.settlement else { panic!("step {step}: settles at once") };
        let public = testing::decode_task::<PricePrediction>(&task).unwrap().public;
        let window =
            Window { first_open_ms: public.first_open_ms, interval_ms: public.interval_ms, count: public.horizon };
        let truth = match ready(feeds.realised(BTC_USDT_FEED, window, snapshot.unix_ms + delay_ms)) {
            Ok(truth) => truth,
            // A horizon reaching past the series' end can never settle.
            Err(err) => {
                assert!(err.to_string().contains("past the end of its series"), "step {step}: {err}");
                ended += 1;
                continue;
            }
        };
        let last = public.candles[public.candles.len() - 1].close;
        let body = serde_json::json!({ "task_id": public.task_id, "closes": vec![last; public.horizon as usize] });
        let responses = [testing::ok_response(0, &body, 50)];
        let scores = testing::score::<PricePrediction>(&task, &responses, Some(&truth.to_json())).unwrap();
        assert_eq!(scores.values.len(), 1);
        assert!((0.0..=1.0).contains(&scores.values[0]), "step {step}: {}", scores.values[0]);
        scored += 1;
    }
    assert!(scored >= 400 && ended >= 1, "{scored} rounds scored, {ended} past the series' end");

    // Inside the 32-hour outage of 2018-02-08 the value is honest, so its newest candle is too
    // old: the plugin refuses it as stale and the round is skipped, as the contract says.
    let start = ReplayStart::Time("2018-02-08 12:00:00".into());
    let config = FeedsConfig(
        [(BTC_USDT_FEED.to_owned(), SourceConfig::Replay(ReplayConfig { start, ..ReplayConfig::default() }))].into(),
    );
    let gap = Feeds::from_config(&config, Arc::new(ManualClock::new(START_MS))).unwrap();
    let err = testing::make_task::<PricePrediction>(&context(&gap, 1, START_MS)).unwrap_err();
    assert!(err.contains("is stale"), "{err}");
    // Twenty replayed candles later, past the outage, the window spans it and is accepted.
    testing::make_task::<PricePrediction>(&context(&gap, 1, START_MS + 200_000)).unwrap();

    // A snapshot older than one replayed candle (10 s of wall time at 1440×) is refused.
    let mut stale = context(&feeds, 2, START_MS + 420_000);
    stale.unix_ms += 10_001;
    let err = testing::make_task::<PricePrediction>(&stale).unwrap_err();
    assert!(err.contains("captured"), "{err}");
}

/// The miner templates carry their own copies of the wire types (a template must not depend on
/// a subnet's crate); their JSON Schemas are exactly the plugins', so what a miner sends passes
/// the validator's schema check and the miner server checks tasks against what plugins make.
#[test]
fn miner_templates_speak_the_plugins_schemas() {
    let price = testing::manifest::<::price_prediction::PricePrediction>();
    assert_eq!(miner_price_prediction::task_schema(), price.task_schema);
    assert_eq!(miner_price_prediction::response_schema(), price.response_schema);
    let image = testing::manifest::<::image_aesthetics::ImageAesthetics>();
    assert_eq!(miner_image_aesthetics::task_schema(), image.task_schema);
    assert_eq!(miner_image_aesthetics::response_schema(), image.response_schema);
    let text = testing::manifest::<::text_generation::TextGeneration>();
    assert_eq!(miner_text_generation::task_schema(), text.task_schema);
    assert_eq!(miner_text_generation::response_schema(), text.response_schema);
}
