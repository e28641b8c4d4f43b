//! The epoch on localnet state is `yuma::epoch` on that state in the vector format, and its
//! emission lands in stake without creating or losing a rao.

use chain::{Chain, Hyperparams, Metagraph, Weights, YumaVariant};
use yuma::{EpochInput, Options, VECTOR_FORMAT, VectorFile};

use crate::{Net, TAO, genesis, key, owner, quick};

/// Epoch blocks of netuid 1 at tempo 9: (block + 2) % 10 == 0.
fn next_epoch_after(block: u64) -> u64 {
    (block + 2) / 10 * 10 + 8
}

/// Advances to the block before the next epoch, snapshots, then runs the epoch block.
async fn through_epoch(net: &Net) -> (Metagraph, Metagraph, localnet::EpochRecord) {
    let block = net.client.block().await.unwrap();
    let epoch = next_epoch_after(block);
    if epoch - 1 > block {
        net.advance(epoch - 1 - block).await;
    }
    let before = net.client.metagraph(1).await.unwrap();
    assert_eq!(net.advance(1).await, epoch);
    let after = net.client.metagraph(1).await.unwrap();
    let record = net.client.last_epoch(1).await.unwrap().unwrap();
    assert_eq!(record.block, epoch);
    (before, after, record)
}

/// What the epoch must have read, built from the metagraph one block earlier and the weights
/// the test set, not from the chain's own epoch code.
fn expected_input(
    before: &Metagraph,
    params: &Hyperparams,
    block: u64,
    last_step: u64,
    weights: &yuma::Rows,
    bonds: &yuma::Rows,
) -> EpochInput {
    let (_, owner_hotkey) = owner();
    let owner_cut = TAO * 11_796 / 65_535;
    EpochInput {
        params: yuma::Params {
            tempo: params.tempo,
            activity_cutoff_factor_milli: params.activity_cutoff_factor_milli,
            kappa: params.kappa,
            bonds_moving_average: params.bonds_moving_average,
            bonds_penalty: params.bonds_penalty,
            max_allowed_validators: params.max_allowed_validators,
            liquid_alpha_enabled: params.liquid_alpha_enabled,
            alpha_low: params.alpha_low,
            alpha_high: params.alpha_high,
            alpha_sigmoid_steepness: params.alpha_sigmoid_steepness,
            yuma3_enabled: params.yuma == YumaVariant::Yuma3,
            stake_threshold: params.stake_threshold,
            tao_weight: yuma::Params::default().tao_weight,
            commit_reveal_weights_enabled: params.commit_reveal_enabled,
            subnet_owner_uid: Some(0),
        },
        current_block: block,
        last_mechanism_step_block: last_step,
        rao_emission: 0, // compared separately
        neurons: before
            .neurons
            .iter()
            .map(|neuron| yuma::Neuron {
                uid: neuron.uid,
                // The owner's cut of the epoch block itself lands before the epoch reads stake.
                stake: neuron.stake + if neuron.hotkey == owner_hotkey.account() { owner_cut } else { 0 },
                tao_stake: 0,
                validator_permit: neuron.validator_permit,
                last_update: neuron.last_update,
                block_at_registration: neuron.registered_at,
                commit_block: None,
            })
            .collect(),
        weights: weights.clone(),
        bonds: bonds.clone(),
    }
}

#[tokio::test]
async fn the_epoch_is_yuma_on_the_stored_state_and_pays_into_stake() {
    for yuma in [YumaVariant::Yuma3, YumaVariant::Classic] {
        let params = Hyperparams { yuma, ..quick() };
        let net = Net::start(&genesis(params.clone())).await;
        let client = &net.client;
        // Validators 1 and 2, miners 3 to 5.
        for n in 1..=5 {
            net.register(&key(n), &key(100 + n)).await;
        }
        client.add_stake(&key(1), &key(101).account(), 1, 600 * TAO).await.unwrap();
        client.add_stake(&key(2), &key(102).account(), 1, 300 * TAO).await.unwrap();
        let (_, first, _) = through_epoch(&net).await;
        assert!(first.neurons[1].validator_permit && first.neurons[2].validator_permit);
        assert!(!first.neurons[3].validator_permit);

        client.set_weights(&key(101), 1, &Weights::from_pairs([(3, 10), (4, 20), (5, 30)]), 0).await.unwrap();
        client.set_weights(&key(102), 1, &Weights::from_pairs([(3, 30), (4, 20), (5, 0)]), 0).await.unwrap();
        let weights: yuma::Rows =
            [(1, vec![(3, 21_845), (4, 43_690), (5, 65_535)]), (2, vec![(3, 65_535), (4, 43_690), (5, 0)])].into();

        let mut previous_bonds = yuma::Rows::new();
        let mut last_step = first.block;
        for round in 0..3 {
            let (before, after, record) = through_epoch(&net).await;
            let expected = expected_input(&before, &params, record.block, last_step, &weights, &previous_bonds);
            assert_eq!(EpochInput { rao_emission: 0, ..record.input.clone() }, expected, "{yuma:?} round {round}");

            // The stored input, written out as a Yuma vector file and read back, gives exactly
            // what the chain stored.
            let vector = serde_json::json!({
                "format": VECTOR_FORMAT,
                "name": "localnet",
                "epochs": [{"input": record.input}],
            });
            let file = VectorFile::from_json(vector.to_string().as_bytes()).unwrap();
            let output = yuma::epoch(&file.epochs[0].input, &Options::default()).unwrap();
            assert_eq!(output, record.output);
            for (index, neuron) in after.neurons.iter().enumerate() {
                assert_eq!(neuron.consensus, output.consensus[index]);
                assert_eq!(neuron.incentive, output.incentive[index]);
                assert_eq!(neuron.dividends, output.dividends[index]);
                assert_eq!(neuron.validator_trust, output.validator_trust[index]);
                assert_eq!(neuron.emission, output.emission[index]);
                assert_eq!(neuron.validator_permit, output.validator_permit[index]);
                assert_eq!(neuron.active, output.active[index]);
            }
            assert!(output.incentive[5] > 0 || output.incentive[3] > 0, "miners earn: {:?}", output.incentive);

            // Payout: miners get their server emission; the rest of the pending pool goes to
            // validators pro rata to validator emission; the owner's hotkey only gets its cut.
            let pool = record.input.rao_emission - output.server_emission.iter().sum::<u64>();
            let total_validator: u128 = output.validator_emission.iter().map(|&v| u128::from(v)).sum();
            for index in 1..after.neurons.len() {
                let share = (u128::from(pool) * u128::from(output.validator_emission[index]))
                    .checked_div(total_validator)
                    .map_or(0, |share| share as u64);
                assert_eq!(
                    after.neurons[index].stake - before.neurons[index].stake,
                    output.server_emission[index] + share,
                    "uid {index}"
                );
            }
            let issuance = client.issuance().await.unwrap();
            assert!(issuance.is_conserved(), "{issuance:?}");
            previous_bonds = record.output.bonds.clone();
            last_step = record.block;
        }
    }
}

#[tokio::test]
async fn emission_accrues_every_block_and_the_epoch_empties_the_pool() {
    let net = Net::start(&genesis(quick())).await;
    net.register(&key(1), &key(101)).await;
    net.client.add_stake(&key(1), &key(101).account(), 1, 10 * TAO).await.unwrap();
    let start = net.client.issuance().await.unwrap();
    net.advance(7).await; // blocks 1..=7, no epoch (the first is block 8)
    let mid = net.client.issuance().await.unwrap();
    assert_eq!(mid.issued - start.issued, 7 * TAO);
    let owner_cut = TAO * 11_796 / 65_535;
    assert_eq!(mid.pending, 7 * (TAO - owner_cut));
    assert!(mid.is_conserved());
    net.advance(1).await;
    let end = net.client.issuance().await.unwrap();
    assert!(end.pending < 10, "only rounding dust stays pending: {end:?}");
    assert!(end.is_conserved());
}
