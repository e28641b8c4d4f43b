//! Each chain rule, with the error the chain gives when it is broken.

use std::net::{IpAddr, Ipv4Addr};

use chain::{Axon, Chain, ChainError, Hyperparams, Reveal, Weights, commit_hash};

use crate::{Net, TAO, genesis, key, owner, quick, sudo};

fn loopback(last: u8, port: u16) -> Axon {
    Axon::http(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port)
}

#[tokio::test]
async fn registration_burns_checks_ownership_and_prunes_when_full() {
    let net = Net::start(&genesis(Hyperparams { max_allowed_uids: 3, burn: 10 * TAO, ..quick() })).await;
    let client = &net.client;
    let (coldkey, other) = (key(1), key(2));

    assert_eq!(client.register(&coldkey, 7, &key(101).account()).await, Err(ChainError::SubnetNotExists { netuid: 7 }));
    let broke = key(250);
    assert_eq!(
        client.register(&broke, 1, &key(101).account()).await,
        Err(ChainError::NotEnoughBalanceToStake { needed: 10 * TAO, available: 0 })
    );

    let block = net.advance(2).await;
    assert_eq!(net.register(&coldkey, &key(101)).await, 1, "uid 0 is the owner's");
    assert_eq!(client.balance(&coldkey.account()).await.unwrap(), 990 * TAO);
    let metagraph = client.metagraph(1).await.unwrap();
    let neuron = &metagraph.neurons[1];
    assert_eq!((neuron.hotkey, neuron.coldkey), (key(101).account(), coldkey.account()));
    assert_eq!((neuron.registered_at, neuron.last_update), (block, block));

    assert_eq!(
        client.register(&coldkey, 1, &key(101).account()).await,
        Err(ChainError::HotKeyAlreadyRegisteredInSubNet { netuid: 1, uid: 1 })
    );

    // Full at 3: the next registration replaces the lowest-emission non-owner uid. Give uid 1 a
    // self-weight so it earns at the epoch and uid 2 (no weights, no stake) is pruned instead.
    assert_eq!(net.register(&other, &key(102)).await, 2);
    client.set_weights(&key(101), 1, &Weights::from_pairs([(1, 1)]), 0).await.unwrap();
    client.add_stake(&coldkey, &key(101).account(), 1, 100 * TAO).await.unwrap();
    net.advance(20).await; // two epochs: the first gives uid 1 a permit, the second counts its weight
    let before = client.metagraph(1).await.unwrap();
    assert!(before.neurons[1].emission > before.neurons[2].emission, "{:?}", before.neurons);
    assert_eq!(net.register(&other, &key(103)).await, 2);
    let after = client.metagraph(1).await.unwrap();
    assert_eq!(after.neurons.len(), 3);
    assert_eq!(after.neurons[2].hotkey, key(103).account());
    assert_eq!(after.neurons[2].emission, 0);
    // The pruned hotkey keeps its ownership: only its coldkey may register it again.
    assert_eq!(client.register(&coldkey, 1, &key(102).account()).await, Err(ChainError::NonAssociatedColdKey));
}

#[tokio::test]
async fn a_full_subnet_of_only_the_owner_has_no_uid_to_give() {
    let net = Net::start(&genesis(Hyperparams { max_allowed_uids: 1, ..quick() })).await;
    assert_eq!(
        net.client.register(&key(1), 1, &key(101).account()).await,
        Err(ChainError::NoNeuronIdAvailable { netuid: 1 })
    );
    assert_eq!(net.client.balance(&key(1).account()).await.unwrap(), 1000 * TAO, "nothing was burned");
}

#[tokio::test]
async fn axons_refuse_bad_addresses_and_updates_inside_the_rate_limit() {
    let net = Net::start(&genesis(Hyperparams { serving_rate_limit: 5, ..quick() })).await;
    let client = &net.client;
    let hotkey = key(101);
    assert_eq!(
        client.serve_axon(&hotkey, 1, &loopback(2, 8091)).await,
        Err(ChainError::HotKeyNotRegisteredInSubNet { netuid: 1 })
    );
    net.register(&key(1), &hotkey).await;
    assert_eq!(
        client.serve_axon(&hotkey, 1, &loopback(1, 8091)).await,
        Err(ChainError::InvalidIpAddress { ip: "127.0.0.1".to_owned() })
    );
    assert_eq!(client.serve_axon(&hotkey, 1, &loopback(2, 0)).await, Err(ChainError::InvalidPort));
    client.serve_axon(&hotkey, 1, &loopback(2, 8091)).await.unwrap();
    let block = client.block().await.unwrap();
    assert_eq!(
        client.serve_axon(&hotkey, 1, &loopback(2, 8092)).await,
        Err(ChainError::ServingRateLimitExceeded { next_block: block + 5 })
    );
    net.advance(5).await;
    client.serve_axon(&hotkey, 1, &loopback(2, 8092)).await.unwrap();
    let metagraph = client.metagraph(1).await.unwrap();
    assert_eq!(metagraph.neurons[1].axon, Some(loopback(2, 8092)));
}

#[tokio::test]
async fn stake_moves_balance_onto_a_known_hotkey() {
    let net = Net::start(&genesis(quick())).await;
    let client = &net.client;
    let (coldkey, hotkey) = (key(1), key(101));
    assert_eq!(client.add_stake(&coldkey, &hotkey.account(), 1, TAO).await, Err(ChainError::HotKeyAccountNotExists));
    net.register(&coldkey, &hotkey).await;
    assert_eq!(client.add_stake(&coldkey, &hotkey.account(), 1, 0).await, Err(ChainError::AmountTooLow));
    assert_eq!(
        client.add_stake(&coldkey, &hotkey.account(), 1, 5000 * TAO).await,
        Err(ChainError::NotEnoughBalanceToStake { needed: 5000 * TAO, available: 999 * TAO })
    );
    // Anyone may stake to a registered hotkey (delegation).
    client.add_stake(&key(2), &hotkey.account(), 1, 40 * TAO).await.unwrap();
    client.add_stake(&coldkey, &hotkey.account(), 1, 60 * TAO).await.unwrap();
    assert_eq!(client.metagraph(1).await.unwrap().neurons[1].stake, 100 * TAO);
    assert_eq!(client.balance(&key(2).account()).await.unwrap(), 960 * TAO);
}

/// Subnet 1 with a validator (uid 1, permit after the first epoch) and two miners.
async fn weights_net(params: Hyperparams) -> Net {
    let net = Net::start(&genesis(params)).await;
    net.register(&key(1), &key(101)).await;
    net.register(&key(2), &key(102)).await;
    net.register(&key(3), &key(103)).await;
    net.client.add_stake(&key(1), &key(101).account(), 1, 500 * TAO).await.unwrap();
    net.advance(10).await; // an epoch hands out permits by stake
    assert!(net.client.metagraph(1).await.unwrap().neurons[1].validator_permit);
    net
}

#[tokio::test]
async fn set_weights_applies_every_check_in_the_chains_order() {
    let params = Hyperparams {
        weights_rate_limit: 3,
        weights_version_key: 5,
        min_allowed_weights: 2,
        max_weight_limit: 45_000,
        stake_threshold: 100 * TAO,
        max_allowed_validators: 1,
        ..quick()
    };
    let net = weights_net(params.clone()).await;
    let client = &net.client;
    let validator_key = key(101);
    let validator = &validator_key;
    let set = |uids: Vec<u16>, values: Vec<u16>, version| {
        let weights = Weights { uids, values };
        async move { client.set_weights(validator, 1, &weights, version).await }
    };

    assert_eq!(set(vec![2, 3], vec![1], 5).await, Err(ChainError::WeightVecNotEqualSize { uids: 2, values: 1 }));
    assert_eq!(
        set(vec![0, 1, 2, 3, 0], vec![1; 5], 5).await,
        Err(ChainError::UidsLengthExceedUidsInSubNet { got: 5, n: 4 })
    );
    assert_eq!(
        client.set_weights(&key(150), 1, &Weights::from_pairs([(2, 1)]), 5).await,
        Err(ChainError::HotKeyNotRegisteredInSubNet { netuid: 1 })
    );
    assert_eq!(
        client.set_weights(&key(102), 1, &Weights::from_pairs([(2, 1), (3, 1)]), 5).await,
        Err(ChainError::NotEnoughStakeToSetWeights { stake: 0, threshold: 100 * TAO })
    );
    assert_eq!(
        set(vec![2, 3], vec![1, 1], 4).await,
        Err(ChainError::IncorrectWeightVersionKey { submitted: 4, required: 5 })
    );
    let metagraph = client.metagraph(1).await.unwrap();
    let last_update = metagraph.neurons[1].last_update;
    if metagraph.block < last_update + 3 {
        assert!(matches!(set(vec![2, 3], vec![1, 1], 5).await, Err(ChainError::SettingWeightsTooFast { .. })));
    }
    net.advance(3).await;
    // uid 2 has stake now but no permit (only one validator): it may weight itself only.
    client.add_stake(&key(2), &key(102).account(), 1, 100 * TAO).await.unwrap();
    assert_eq!(
        client.set_weights(&key(102), 1, &Weights::from_pairs([(3, 1), (2, 1)]), 5).await,
        Err(ChainError::NeuronNoValidatorPermit { uid: 2 })
    );
    client.set_weights(&key(102), 1, &Weights::from_pairs([(2, 1)]), 5).await.unwrap();
    assert_eq!(set(vec![2, 3, 2], vec![1, 1, 1], 6).await, Err(ChainError::DuplicateUids { uid: 2 }));
    assert_eq!(set(vec![2, 9], vec![1, 1], 6).await, Err(ChainError::UidVecContainInvalidOne { uid: 9, n: 4 }));
    assert_eq!(set(vec![2], vec![1], 6).await, Err(ChainError::WeightVecLengthIsLow { got: 1, min: 2 }));
    assert_eq!(set(vec![2, 3], vec![3, 1], 6).await, Err(ChainError::MaxWeightExceeded { limit: 45_000 }));
    // Accepted, stored max-upscaled with the order and zeros as sent, rate limit restarted.
    set(vec![3, 2, 0], vec![1, 1, 0], 6).await.unwrap();
    let block = client.block().await.unwrap();
    assert_eq!(
        set(vec![2, 3], vec![1, 1], 6).await,
        Err(ChainError::SettingWeightsTooFast { last_update: block, next_block: block + 3 })
    );
    assert_eq!(client.metagraph(1).await.unwrap().neurons[1].last_update, block);
    net.advance(10).await;
    let epoch = client.last_epoch(1).await.unwrap().unwrap();
    assert_eq!(epoch.input.weights[&1], vec![(3, 65_535), (2, 65_535), (0, 0)]);

    let mut on = params;
    on.commit_reveal_enabled = true;
    client.set_hyperparams(&owner().0, 1, &on).await.unwrap();
    assert_eq!(set(vec![2, 3], vec![1, 1], 6).await, Err(ChainError::CommitRevealEnabled { netuid: 1 }));
}

#[tokio::test]
async fn commit_reveal_holds_weights_until_the_reveal_epoch() {
    let params = Hyperparams { commit_reveal_enabled: true, commit_reveal_period: 1, weights_rate_limit: 2, ..quick() };
    let net = weights_net(params).await;
    let client = &net.client;
    let validator = key(101);
    let reveal = Reveal { uids: vec![2, 3], values: vec![10, 30], salt: vec![7, 7, 7], version_key: 0 };
    let hash = commit_hash(&validator.account(), 1, &reveal);

    assert_eq!(
        client.reveal_weights(&validator, 1, &reveal).await,
        Err(ChainError::NoWeightsCommitFound { netuid: 1 })
    );
    net.advance(2).await;
    client.commit_weights(&validator, 1, hash).await.unwrap();
    let commit_block = client.block().await.unwrap();
    assert!(matches!(
        client.commit_weights(&validator, 1, hash).await,
        Err(ChainError::CommittingWeightsTooFast { next_block, .. }) if next_block == commit_block + 2
    ));
    // Epochs of netuid 1, tempo 9 start where (block + 2) % 10 == 0.
    let reveal_from = ((commit_block + 2) / 10 + 1) * 10 - 2;
    assert_eq!(
        client.reveal_weights(&validator, 1, &reveal).await,
        Err(ChainError::RevealTooEarly { from_block: reveal_from })
    );
    net.advance(reveal_from - commit_block).await;
    let wrong = Reveal { salt: vec![7, 7, 8], ..reveal.clone() };
    assert_eq!(client.reveal_weights(&validator, 1, &wrong).await, Err(ChainError::InvalidRevealCommitHashNotMatch));
    client.reveal_weights(&validator, 1, &reveal).await.unwrap();
    let revealed_at = client.block().await.unwrap();
    assert_eq!(client.metagraph(1).await.unwrap().neurons[1].last_update, revealed_at);
    assert_eq!(
        client.reveal_weights(&validator, 1, &reveal).await,
        Err(ChainError::NoWeightsCommitFound { netuid: 1 })
    );
    net.advance(10).await;
    let epoch = client.last_epoch(1).await.unwrap().unwrap();
    assert_eq!(epoch.input.weights[&1], vec![(2, 21_845), (3, 65_535)]);

    // A commit not revealed in its reveal epoch expires.
    let late = Reveal { salt: vec![1], ..reveal.clone() };
    client.commit_weights(&validator, 1, commit_hash(&validator.account(), 1, &late)).await.unwrap();
    net.advance(20).await;
    assert!(matches!(client.reveal_weights(&validator, 1, &late).await, Err(ChainError::ExpiredWeightCommit { .. })));
    assert_eq!(
        client.set_weights(&validator, 1, &Weights::from_pairs([(2, 1)]), 0).await,
        Err(ChainError::CommitRevealEnabled { netuid: 1 })
    );
}

#[tokio::test]
async fn at_most_ten_commits_wait_for_their_reveal() {
    let net = weights_net(Hyperparams { commit_reveal_enabled: true, ..quick() }).await;
    let validator = key(101);
    for salt in 0..10u16 {
        let reveal = Reveal { uids: vec![2], values: vec![1], salt: vec![salt], version_key: 0 };
        net.client.commit_weights(&validator, 1, commit_hash(&validator.account(), 1, &reveal)).await.unwrap();
    }
    let eleventh = Reveal { uids: vec![2], values: vec![1], salt: vec![99], version_key: 0 };
    assert_eq!(
        net.client.commit_weights(&validator, 1, commit_hash(&validator.account(), 1, &eleventh)).await,
        Err(ChainError::TooManyUnrevealedCommits { max: 10 })
    );
    let other = key(102);
    assert_eq!(
        net.client.commit_weights(&other, 1, commit_hash(&other.account(), 1, &eleventh)).await.map(drop),
        Ok(()),
        "the limit is per neuron"
    );
}

#[tokio::test]
async fn commits_need_commit_reveal_on() {
    let net = weights_net(quick()).await;
    let reveal = Reveal { uids: vec![2], values: vec![1], salt: vec![1], version_key: 0 };
    let hash = commit_hash(&key(101).account(), 1, &reveal);
    assert_eq!(
        net.client.commit_weights(&key(101), 1, hash).await,
        Err(ChainError::CommitRevealDisabled { netuid: 1 })
    );
    assert_eq!(
        net.client.reveal_weights(&key(101), 1, &reveal).await,
        Err(ChainError::CommitRevealDisabled { netuid: 1 })
    );
}

#[tokio::test]
async fn admin_calls_need_the_owner_or_sudo() {
    let net = Net::start(&genesis(quick())).await;
    let client = &net.client;
    let changed = Hyperparams { tempo: 19, ..quick() };
    assert_eq!(client.set_hyperparams(&key(1), 1, &changed).await, Err(ChainError::NotSubnetOwner));
    client.set_hyperparams(&owner().0, 1, &changed).await.unwrap();
    assert_eq!(Chain::hyperparams(client, 1).await.unwrap().tempo, 19);
    client.set_hyperparams(&sudo(), 1, &quick()).await.unwrap();
    let broken = Hyperparams { tempo: 0, ..quick() };
    assert_eq!(
        client.set_hyperparams(&sudo(), 1, &broken).await,
        Err(ChainError::Invalid { field: "tempo".to_owned(), message: "must be at least 1".to_owned() })
    );
    assert_eq!(client.fund(&key(1), &key(1).account(), TAO).await, Err(ChainError::BadOrigin));
    assert_eq!(client.advance_blocks(&key(1), 1).await, Err(ChainError::BadOrigin));
    client.fund(&sudo(), &key(240).account(), 3 * TAO).await.unwrap();
    assert_eq!(client.balance(&key(240).account()).await.unwrap(), 3 * TAO);
    assert!(matches!(client.advance_blocks(&sudo(), 0).await, Err(ChainError::Invalid { .. })));
}
