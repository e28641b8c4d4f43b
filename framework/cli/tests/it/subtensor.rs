//! `subnetkit miner run` and `subnetkit validator run` with `--chain ws://…` against the real
//! subtensor runtime (spec 218) under chopsticks: the same commands as on the local chain, with
//! the miner's axon and the validator's weights landing on chain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chain::{Chain as _, Keypair, Subtensor, keypair_from_uri};
use serde_json::json;
use test_chopsticks::Chopsticks;

use crate::miner::{account, serves_as_published, start_on_chain};
use crate::validator::{Validator, serve_miner, validator_key, write_config};

const NETUID: u16 = 1;
const TAO: u64 = 1_000_000_000;

/// A fresh chain: //Alice funded and sudo; the validator registered first (uid 1) and staked;
/// then `hotkeys` registered by //Alice; every uid holds a validator permit.
async fn chain_with(chopsticks: &Chopsticks, hotkeys: &[&Keypair]) -> (Arc<Subtensor>, Keypair) {
    let alice = keypair_from_uri("//Alice").expect("//Alice");
    let validator = validator_key();
    let mut funded = vec![alice.account().to_ss58(), validator.account().to_ss58()];
    funded.extend(hotkeys.iter().map(|key| key.account().to_ss58()));
    chopsticks.fund(&funded.iter().map(String::as_str).collect::<Vec<_>>(), 1_000_000 * u128::from(TAO));
    chopsticks.set_sudo(&funded[0]);
    let chain = Arc::new(Subtensor::connect(&chopsticks.url()).await.expect("connect"));
    assert_eq!(chain.register(&alice, NETUID, &validator.account()).await.expect("register the validator"), 1);
    for hotkey in hotkeys {
        chain.register(&alice, NETUID, &hotkey.account()).await.expect("register a miner");
    }
    let uids = 2 + hotkeys.len();
    // Genesis leaves the subnet's pool almost empty: fill it so stake buys alpha. Weights may be
    // set a block after the last ones (`dev_setStorage` ignores a 0), without commit-reveal.
    chopsticks.set_storage(json!({ "SubtensorModule": {
        "SubnetAlphaIn": [[[NETUID], 1_000 * TAO]],
        "WeightsSetRateLimit": [[[NETUID], 1]],
        "CommitRevealWeightsEnabled": [[[NETUID], false]],
        "ValidatorPermit": [[[NETUID], vec![true; uids]]],
    }}));
    chain.add_stake(&alice, &validator.account(), NETUID, 50 * TAO).await.expect("stake on the validator");
    (chain, alice)
}

#[test]
fn miner_run_publishes_its_axon_on_subtensor_and_authorises_from_it() {
    let chopsticks = Chopsticks::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let miner_key = account("miner");
    let (chain, _) = runtime.block_on(chain_with(&chopsticks, &[&miner_key]));
    let miner = start_on_chain(&chopsticks.url());
    runtime.block_on(async {
        let graph = chain.metagraph(NETUID).await.expect("metagraph");
        // The validator holds a permit on chain; a key the chain does not know is refused.
        let stranger = keypair_from_uri("//subnetkit//stranger").expect("key");
        serves_as_published(&miner, &graph, &miner_key, &[(&validator_key(), 200), (&stranger, 403)]).await;
    });
}

#[test]
fn a_validator_round_on_subtensor_lands_its_weights_on_chain() {
    let chopsticks = Chopsticks::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let miners = [
        keypair_from_uri("//subnetkit//miner-a").expect("key"),
        keypair_from_uri("//subnetkit//miner-b").expect("key"),
    ];
    let (chain, _) = runtime.block_on(chain_with(&chopsticks, &[&miners[0], &miners[1]]));
    let _refresh = runtime.block_on(async {
        let mut tasks = Vec::new();
        for (salt, hotkey) in miners.iter().enumerate() {
            tasks.push(serve_miner(&chain, hotkey.clone(), salt as u64).await);
        }
        tasks
    });
    let registered = runtime.block_on(chain.metagraph(NETUID)).expect("metagraph");
    let validator = registered.neuron(&validator_key().account()).expect("validator registered").clone();

    let scratch = tempfile::tempdir().expect("temp dir");
    let (config, database) = write_config(
        scratch.path(),
        &chopsticks.url(),
        "timeout_ms = 5000\nround_interval_ms = 200\nweights_interval_blocks = 1\n",
    );
    let log = scratch.path().join("validator.log");
    let store = runtime.block_on(validator::Store::connect(&database)).expect("store");
    let process = Validator::start(&config, scratch.path());

    // Weights on both miners land: the validator records them as accepted and its `LastUpdate`
    // on chain moves to their block.
    let miner_uids: Vec<u16> =
        miners.iter().map(|key| registered.neuron(&key.account()).expect("miner registered").uid).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    let (sent, updated) = loop {
        let sent = runtime.block_on(store.last_weights(NETUID)).expect("weights history");
        if let Some(sent) =
            sent.filter(|sent| sent.outcome == "ok" && miner_uids.iter().all(|uid| sent.uids.contains(uid)))
        {
            let graph = runtime.block_on(chain.metagraph(NETUID)).expect("metagraph");
            break (sent, graph.neuron(&validator.hotkey).expect("validator").last_update);
        }
        assert!(
            Instant::now() < deadline,
            "no weights on the miners after 120 s; validator log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    drop(process);
    assert!(sent.weights.iter().all(|&weight| weight > 0), "{sent:?}");
    assert!(updated > validator.last_update && updated >= sent.block, "{sent:?}, LastUpdate {updated}");
}
