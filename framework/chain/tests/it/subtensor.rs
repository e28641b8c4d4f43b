//! `chain::Subtensor` against the real subtensor runtime (spec 218) under chopsticks: every test
//! starts its own chain from genesis (subnet 1: tempo 100, one neuron, burn 1 TAO), seeds it
//! with `dev_setStorage`, and drives time with `dev_newBlock`.

use std::net::{IpAddr, Ipv4Addr, TcpListener};

use chain::{Axon, Chain, ChainError, Keypair, Reveal, Subtensor, Weights, YumaVariant, commit_hash, keypair_from_uri};
use serde_json::json;
use subxt::{OnlineClient, SubstrateConfig};
use test_chopsticks::Chopsticks;

const NETUID: u16 = 1;
const TAO: u128 = 1_000_000_000;

/// A fresh chain with //Alice as sudo and the coldkey, and two funded hotkeys.
struct Net {
    chopsticks: Chopsticks,
    chain: Subtensor,
    alice: Keypair,
    hotkeys: [Keypair; 2],
}

async fn start() -> Net {
    let chopsticks = Chopsticks::start();
    let alice = keypair_from_uri("//Alice").unwrap();
    let hotkeys =
        [keypair_from_uri("//subnetkit//hotkey-a").unwrap(), keypair_from_uri("//subnetkit//hotkey-b").unwrap()];
    let addresses: Vec<String> = [&alice, &hotkeys[0], &hotkeys[1]].iter().map(|key| key.account().to_ss58()).collect();
    let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
    chopsticks.fund(&addresses, 1_000_000 * TAO);
    chopsticks.set_sudo(addresses[0]);
    let chain = Subtensor::connect(&chopsticks.url()).await.unwrap();
    Net { chopsticks, chain, alice, hotkeys }
}

impl Net {
    /// Registers both hotkeys under //Alice; returns their uids.
    async fn register_both(&self) -> [u16; 2] {
        let a = self.chain.register(&self.alice, NETUID, &self.hotkeys[0].account()).await.unwrap();
        let b = self.chain.register(&self.alice, NETUID, &self.hotkeys[1].account()).await.unwrap();
        [a, b]
    }

    /// Subnet 1's `SubtensorModule` items set to `items` (`{"Tempo": 10, …}`).
    fn set_subnet(&self, items: serde_json::Value) {
        let mut module = serde_json::Map::new();
        for (item, value) in items.as_object().unwrap() {
            module.insert(item.clone(), json!([[[NETUID], value]]));
        }
        self.chopsticks.set_storage(json!({ "SubtensorModule": module }));
    }

    /// `SubtensorModule::Weights(netuid, uid)` as stored, read straight through subxt.
    async fn stored_weights(&self, uid: u16) -> Vec<(u16, u16)> {
        let client = OnlineClient::<SubstrateConfig>::from_insecure_url(self.chopsticks.url()).await.unwrap();
        let at = client.at_current_block().await.unwrap();
        let address = subxt::dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights");
        at.storage().fetch(address, (NETUID, uid)).await.unwrap().decode().unwrap()
    }
}

#[tokio::test]
async fn an_unreachable_node_is_a_transport_error_naming_the_url() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let error = Subtensor::connect(&url).await.unwrap_err();
    assert!(matches!(error, ChainError::Transport { .. }), "{error:?}");
    assert!(error.to_string().contains(&url), "{error}");
    assert!(error.is_retryable());
    assert!(started.elapsed().as_secs() < 15, "connecting took {:?}", started.elapsed());
    // The TLS path (wss://) fails the same way.
    let url = format!("wss://127.0.0.1:{port}");
    let error = Subtensor::connect(&url).await.unwrap_err();
    assert!(matches!(&error, ChainError::Transport { message } if message.contains(&url)), "{error:?}");

    for url in ["http://127.0.0.1:9944", "ws://example.com:9944", "not a url"] {
        let error = Subtensor::connect(url).await.unwrap_err();
        assert!(matches!(&error, ChainError::Invalid { field, .. } if field == "url"), "{url}: {error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_serves_stakes_and_reads_the_metagraph() {
    let net = start().await;
    let chain = &net.chain;
    let alice = net.alice.account();

    let before = chain.metagraph(NETUID).await.unwrap();
    assert_eq!(before.neurons.len(), 1, "genesis has one neuron on subnet 1");
    let burn = chain.hyperparams(NETUID).await.unwrap().burn;
    assert!(burn > 0);
    let balance = chain.balance(&alice).await.unwrap();
    assert_eq!(balance, 1_000_000 * 1_000_000_000);

    let [a, b] = net.register_both().await;
    assert_eq!([a, b], [1, 2]);
    assert!(balance - chain.balance(&alice).await.unwrap() >= 2 * burn, "each registration burns {burn} rao");
    let again = chain.register(&net.alice, NETUID, &net.hotkeys[0].account()).await.unwrap_err();
    assert_eq!(again, ChainError::HotKeyAlreadyRegisteredInSubNet { netuid: NETUID, uid: a });

    // The chain refuses exactly 127.0.0.1; 127.0.0.2 keeps the test on loopback.
    let refused = Axon::http(IpAddr::V4(Ipv4Addr::LOCALHOST), 8091);
    let error = chain.serve_axon(&net.hotkeys[0], NETUID, &refused).await.unwrap_err();
    assert_eq!(error, ChainError::InvalidIpAddress { ip: "127.0.0.1".into() });
    let axon = Axon { ip: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port: 8091, version: 7, protocol: 0 };
    chain.serve_axon(&net.hotkeys[0], NETUID, &axon).await.unwrap();
    let served_at = chain.block().await.unwrap();
    let error = chain.serve_axon(&net.hotkeys[0], NETUID, &axon).await.unwrap_err();
    let limit = chain.hyperparams(NETUID).await.unwrap().serving_rate_limit;
    assert_eq!(error, ChainError::ServingRateLimitExceeded { next_block: served_at + limit });
    assert!(error.is_retryable());

    // Genesis leaves subnet 1's pool with 1 alpha: give it as much alpha as TAO, so staking
    // 5 TAO buys a visible amount of alpha.
    net.set_subnet(json!({ "SubnetAlphaIn": 19_000_000_000u64 }));
    chain.add_stake(&net.alice, &net.hotkeys[1].account(), NETUID, 5_000_000_000).await.unwrap();

    let metagraph = chain.metagraph(NETUID).await.unwrap();
    assert_eq!(metagraph.netuid, NETUID);
    assert_eq!(metagraph.block, chain.block().await.unwrap());
    assert_eq!(metagraph.neurons.iter().map(|n| n.uid).collect::<Vec<_>>(), [0, 1, 2]);
    let neuron_a = metagraph.neuron(&net.hotkeys[0].account()).unwrap();
    let neuron_b = metagraph.neuron(&net.hotkeys[1].account()).unwrap();
    assert_eq!((neuron_a.uid, neuron_b.uid), (a, b));
    assert_eq!((neuron_a.coldkey, neuron_b.coldkey), (alice, alice));
    assert_eq!(neuron_a.axon, Some(axon));
    assert_eq!(neuron_b.axon, None);
    assert!(neuron_a.registered_at > 0 && neuron_a.registered_at < neuron_b.registered_at);
    // Registration writes the registration block into LastUpdate.
    assert_eq!(neuron_a.last_update, neuron_a.registered_at);
    assert_eq!(neuron_a.stake, 0);
    // At a pool price near 1 TAO per alpha, 5 TAO buy a little under 5 alpha (slippage).
    assert!((1_000_000_000..5_000_000_000).contains(&neuron_b.stake), "stake {}", neuron_b.stake);

    let error = chain.metagraph(77).await.unwrap_err();
    assert_eq!(error, ChainError::SubnetNotExists { netuid: 77 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_weights_obeys_the_rate_limit_and_version_key() {
    let net = start().await;
    let chain = &net.chain;
    let [a, b] = net.register_both().await;
    net.set_subnet(json!({
        "CommitRevealWeightsEnabled": false,
        "WeightsVersionKey": 5,
        "MinAllowedWeights": 1,
        "MaxWeightsLimit": 65535,
        "ValidatorPermit": [true, true, true],
    }));
    let hyperparams = chain.hyperparams(NETUID).await.unwrap();
    assert_eq!(hyperparams.weights_version_key, 5);
    assert!(!hyperparams.commit_reveal_enabled);
    assert_eq!(hyperparams.min_allowed_weights, 1);
    assert_eq!(hyperparams.tempo, 100);
    assert_eq!(hyperparams.weights_rate_limit, 100);
    assert_eq!(hyperparams.max_allowed_uids, 256);
    assert_eq!(hyperparams.yuma, YumaVariant::Classic, "spec 218 predates Yuma3");

    let weights = Weights::from_pairs([(a, 1), (b, 2)]);
    let registered_at = chain.metagraph(NETUID).await.unwrap().neuron(&net.hotkeys[0].account()).unwrap().last_update;
    let error = chain.set_weights(&net.hotkeys[0], NETUID, &weights, 5).await.unwrap_err();
    assert_eq!(
        error,
        ChainError::SettingWeightsTooFast { last_update: registered_at, next_block: registered_at + 100 }
    );
    assert!(error.is_retryable());

    net.chopsticks.jump_to(registered_at + 101);
    let error = chain.set_weights(&net.hotkeys[0], NETUID, &weights, 4).await.unwrap_err();
    assert_eq!(error, ChainError::IncorrectWeightVersionKey { submitted: 4, required: 5 });

    chain.set_weights(&net.hotkeys[0], NETUID, &weights, 5).await.unwrap();
    let set_at = chain.block().await.unwrap();
    // The chain max-upscales (rounding): the largest weight becomes 65535.
    assert_eq!(net.stored_weights(a).await, [(a, 32768), (b, 65535)]);
    let neuron = chain.metagraph(NETUID).await.unwrap().neuron(&net.hotkeys[0].account()).unwrap().clone();
    assert_eq!(neuron.last_update, set_at);

    let error = chain.set_weights(&net.hotkeys[0], NETUID, &weights, 5).await.unwrap_err();
    assert_eq!(error, ChainError::SettingWeightsTooFast { last_update: set_at, next_block: set_at + 100 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_reveal_in_the_reveal_epoch() {
    let net = start().await;
    let chain = &net.chain;
    let [a, b] = net.register_both().await;
    net.set_subnet(json!({
        "CommitRevealWeightsEnabled": true,
        "RevealPeriodEpochs": 1,
        "Tempo": 10,
        // dev_setStorage drops a value of 0, so the smallest limit is 1.
        "WeightsSetRateLimit": 1,
        "MinAllowedWeights": 1,
        "MaxWeightsLimit": 65535,
        "ValidatorPermit": [true, true, true],
    }));
    let hyperparams = chain.hyperparams(NETUID).await.unwrap();
    assert!(hyperparams.commit_reveal_enabled);
    assert_eq!((hyperparams.tempo, hyperparams.commit_reveal_period, hyperparams.weights_rate_limit), (10, 1, 1));

    let hotkey = &net.hotkeys[1];
    let weights = Weights::from_pairs([(a, 3), (b, 1)]);
    let error = chain.set_weights(hotkey, NETUID, &weights, 0).await.unwrap_err();
    assert_eq!(error, ChainError::CommitRevealEnabled { netuid: NETUID });

    let reveal =
        Reveal { uids: weights.uids.clone(), values: weights.values.clone(), salt: vec![9, 8, 7], version_key: 0 };
    chain.commit_weights(hotkey, NETUID, commit_hash(&hotkey.account(), NETUID, &reveal)).await.unwrap();
    let committed_at = chain.block().await.unwrap();

    // Epochs of subnet 1 are 11 blocks long and start where (block + 2) % 11 == 0; the reveal
    // window is the whole epoch after the commit's.
    let from_block = ((committed_at + 2) / 11 + 1) * 11 - 2;
    let error = chain.reveal_weights(hotkey, NETUID, &reveal).await.unwrap_err();
    assert_eq!(error, ChainError::RevealTooEarly { from_block });
    assert!(error.is_retryable());

    net.chopsticks.jump_to(from_block);
    let wrong = Reveal { salt: vec![1], ..reveal.clone() };
    let error = chain.reveal_weights(hotkey, NETUID, &wrong).await.unwrap_err();
    assert_eq!(error, ChainError::InvalidRevealCommitHashNotMatch);
    chain.reveal_weights(hotkey, NETUID, &reveal).await.unwrap();
    assert_eq!(net.stored_weights(b).await, [(a, 65535), (b, 21845)]);

    let error = chain.reveal_weights(hotkey, NETUID, &reveal).await.unwrap_err();
    assert_eq!(error, ChainError::NoWeightsCommitFound { netuid: NETUID });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_node_comes_back() {
    let mut chopsticks = Chopsticks::start();
    let chain = Subtensor::connect(&chopsticks.url()).await.unwrap();
    let genesis_height = chain.block().await.unwrap();
    chopsticks.new_blocks(2);
    assert_eq!(chain.block().await.unwrap(), genesis_height + 2);

    // A fresh chain on the same port: the client reconnects by itself and sees the new chain.
    chopsticks.restart();
    let restarted = std::time::Instant::now();
    loop {
        match chain.block().await {
            Ok(block) => {
                // chopsticks starts at block 0 or 1: anything below the old height is the new chain.
                assert!(block <= 1 && block < genesis_height + 2, "block {block}: not a fresh chain");
                break;
            }
            Err(error) => {
                assert!(error.is_retryable(), "{error:?}");
                // Reconnection attempts back off to one every 10 s.
                assert!(restarted.elapsed().as_secs() < 60, "no reconnection after {:?}: {error}", restarted.elapsed());
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
    let alice = keypair_from_uri("//Alice").unwrap();
    assert_eq!(chain.balance(&alice.account()).await.unwrap(), 0, "genesis funds no dev account");
}
