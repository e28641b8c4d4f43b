//! Property tests of `yuma::epoch`: against the independent reference, and invariants of its own.
//!
//! Case counts are the defaults below unless `PROPTEST_CASES` is set.

use proptest::prelude::*;
use proptest::test_runner::Config;
use yuma::{EpochInput, EpochOutput, FixedRows, Options, Rows, Workspace};

use crate::reference;
use crate::strategies::{MAX_LARGE_N, epoch_input, epoch_input_of, extreme_input};

/// `cases` cases, unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    Config { cases, ..Config::default() }
}

fn run(input: &EpochInput) -> EpochOutput {
    yuma::epoch(input, &Options { matrices: true })
        .unwrap_or_else(|e| panic!("valid input rejected: {e}\ninput: {}", to_json(input)))
}

fn to_json(input: &EpochInput) -> String {
    serde_json::to_string(input).unwrap_or_else(|e| format!("<unserialisable: {e}>"))
}

/// `floor(bits × 65535 / 2³²)` clamped to `u16`: the chain's `fixed_proportion_to_u16`, on raw bits.
fn u16_of_bits(bits: i64) -> u16 {
    ((i128::from(bits) * 65_535) >> 32).clamp(0, 65_535) as u16
}

/// `floor(bits × rao / 2³²)` clamped to `u64`: `I96F32(x) × I96F32(rao)` floored to rao, on raw bits.
fn rao_of_bits(bits: i64, rao: u64) -> u64 {
    let Ok(bits) = u128::try_from(bits) else { return 0 };
    u64::try_from((bits * u128::from(rao)) >> 32).unwrap_or(u64::MAX)
}

/// Fails with the first differing field and the input (as JSON, ready for a vector file).
fn assert_matches_reference(input: &EpochInput) -> Result<EpochOutput, TestCaseError> {
    let expected = reference::epoch(input);
    let actual = run(input);
    if let Some(mismatch) = actual.first_mismatch(&expected) {
        return Err(TestCaseError::fail(format!("{mismatch}\ninput: {}", to_json(input))));
    }
    Ok(actual)
}

proptest! {
    #![proptest_config(config(1024))]

    /// (a) The optimised epoch and the reference agree on every field, matrices included.
    #[test]
    fn matches_reference(input in epoch_input()) {
        assert_matches_reference(&input)?;
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// (a) The same on subnets of 121 to 256 uids (the chain's limit).
    #[test]
    fn matches_reference_on_large_subnets(input in (MAX_LARGE_N + 1..=256usize).prop_flat_map(epoch_input_of)) {
        assert_matches_reference(&input)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// (a) The same over a sequence of epochs, each fed the previous one's bonds and permits
    /// (as the chain stores them), so bonds build up the way they do on chain.
    #[test]
    fn matches_reference_over_a_sequence(first in epoch_input(), epochs in 2..=5usize) {
        let mut input = first;
        for _ in 0..epochs {
            let output = assert_matches_reference(&input)?;
            let mut next = input.clone();
            next.bonds = output.bonds;
            for (neuron, permit) in next.neurons.iter_mut().zip(output.validator_permit) {
                neuron.validator_permit = permit;
            }
            next.last_mechanism_step_block = input.current_block;
            next.current_block = input.current_block.saturating_add(u64::from(input.params.tempo).max(1));
            input = next;
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (b) No emission vector hands out more than `rao_emission`.
    #[test]
    fn emissions_never_exceed_rao_emission(input in epoch_input()) {
        let output = run(&input);
        let rao = u128::from(input.rao_emission);
        for (name, v) in [
            ("server_emission", &output.server_emission),
            ("validator_emission", &output.validator_emission),
            ("emission", &output.emission),
        ] {
            let total: u128 = v.iter().map(|&x| u128::from(x)).sum();
            prop_assert!(total <= rao, "Σ {name} = {total} > rao_emission {rao}\ninput: {}", to_json(&input));
        }
    }

    /// (e) Every `u16` output is `floor(x × 65535)` of its `fixed` vector, and every rao output is
    /// `floor(x × rao_emission)` of its normalised share.
    #[test]
    fn u16_and_rao_outputs_floor_their_fixed_values(input in epoch_input()) {
        let o = run(&input);
        let f = &o.fixed;
        for (name, quantised, fixed) in [
            ("stake_weight", &o.stake_weight, &f.stake),
            ("consensus", &o.consensus, &f.consensus),
            ("incentive", &o.incentive, &f.incentive),
            ("dividends", &o.dividends, &f.dividends),
            ("validator_trust", &o.validator_trust, &f.validator_trust),
        ] {
            let expected: Vec<u16> = fixed.iter().map(|&b| u16_of_bits(b)).collect();
            prop_assert_eq!(quantised, &expected, "{}", name);
        }
        for (name, rao, fixed) in [
            ("server_emission", &o.server_emission, &f.normalized_server_emission),
            ("validator_emission", &o.validator_emission, &f.normalized_validator_emission),
            ("emission", &o.emission, &f.normalized_combined_emission),
        ] {
            let expected: Vec<u64> = fixed.iter().map(|&b| rao_of_bits(b, input.rao_emission)).collect();
            prop_assert_eq!(rao, &expected, "{}", name);
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// (a) A `Workspace` reused across unrelated subnets (other sizes, variants and options)
    /// gives what the reference gives for each: nothing leaks from one epoch into the next.
    #[test]
    fn reused_workspace_matches_reference(
        inputs in proptest::collection::vec((epoch_input(), any::<bool>()), 2..=6),
    ) {
        let mut workspace = Workspace::default();
        for &(ref input, matrices) in &inputs {
            let actual = workspace
                .epoch(input, &Options { matrices })
                .map_err(|e| TestCaseError::fail(format!("valid input rejected: {e}")))?;
            prop_assert_eq!(actual.matrices.is_some(), matrices);
            let mut expected = reference::epoch(input);
            if !matrices {
                // `first_mismatch` compares matrices only when the expected output has them.
                expected.matrices = None;
            }
            if let Some(mismatch) = actual.first_mismatch(&expected) {
                prop_assert!(false, "{mismatch}\ninput: {}", to_json(input));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (c) Relabelling uids.
// ---------------------------------------------------------------------------------------------

/// `input` with uid `i` renamed `perm[i]` everywhere: neurons, owner, row keys and targets.
/// Rows keep their stored order.
fn relabel(input: &EpochInput, perm: &[u16]) -> EpochInput {
    let mut out = input.clone();
    for (i, neuron) in input.neurons.iter().enumerate() {
        let p = usize::from(perm[i]);
        out.neurons[p] = neuron.clone();
        out.neurons[p].uid = perm[i];
    }
    out.params.subnet_owner_uid = input.params.subnet_owner_uid.map(|o| perm[usize::from(o)]);
    let rows = |rows: &Rows| -> Rows {
        rows.iter()
            .map(|(&i, row)| (perm[usize::from(i)], row.iter().map(|&(j, v)| (perm[usize::from(j)], v)).collect()))
            .collect()
    };
    out.weights = rows(&input.weights);
    out.bonds = rows(&input.bonds);
    out
}

/// Rows relabelled by `perm`, each sorted by target: rows compared as sets.
fn relabelled_sets<V: Copy + Ord>(
    rows: &std::collections::BTreeMap<u16, Vec<(u16, V)>>,
    perm: &[u16],
) -> Vec<(u16, Vec<(u16, V)>)> {
    let mut out: Vec<(u16, Vec<(u16, V)>)> = rows
        .iter()
        .map(|(&i, row)| {
            let mut row: Vec<(u16, V)> = row.iter().map(|&(j, v)| (perm[usize::from(j)], v)).collect();
            row.sort();
            (perm[usize::from(i)], row)
        })
        .collect();
    out.sort();
    out
}

fn sets<V: Copy + Ord>(rows: &std::collections::BTreeMap<u16, Vec<(u16, V)>>) -> Vec<(u16, Vec<(u16, V)>)> {
    let identity: Vec<u16> = (0..=u16::MAX).collect();
    relabelled_sets(rows, &identity)
}

fn permuted<T: Clone>(v: &[T], perm: &[u16]) -> Vec<T> {
    let mut out = v.to_vec();
    for (i, x) in v.iter().enumerate() {
        out[usize::from(perm[i])] = x.clone();
    }
    out
}

/// Whether the top-k permit selection meets a tie between non-zero stakes at its cut: there the
/// stable sort's uid order decides, and relabelling may move the permit.
fn permit_cut_is_tied(stake_bits: &[i64], k: usize) -> bool {
    let n = stake_bits.len();
    // With n ≤ k nothing is cut, with k = 0 everything is: the order matters for neither.
    if n <= k || k == 0 {
        return false;
    }
    let mut sorted = stake_bits.to_vec();
    sorted.sort_unstable();
    // The stable sort clears sorted[..n − k]; a tie across that cut is decided by uid.
    let cut = n - k;
    sorted[cut - 1] != 0 && sorted[cut - 1] == sorted[cut]
}

fn input_and_permutation() -> impl Strategy<Value = (EpochInput, Vec<u16>)> {
    epoch_input().prop_flat_map(|input| {
        let uids: Vec<u16> = (0..input.neurons.len() as u16).collect();
        (Just(input), Just(uids).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// (c) Renaming uids renames the outputs.
    ///
    /// The epoch is uid-order independent except in three places, which this property steers
    /// clear of by construction:
    /// * Permit ties: the top-k selection stable-sorts by stake, so of two equal non-zero stakes
    ///   at the cut the lower uid loses. Inputs with such a tie are rejected (`prop_assume`).
    /// * Liquid alpha (Yuma3 only) looks `w` and `b` up with a forward pointer over target uids,
    ///   so an unsorted row reads differently once targets are renamed. It is switched off here.
    /// * Row order: a bonds penalty strictly between 0 and 1 rebuilds weight rows sorted by
    ///   target, and every EMA row comes out sorted by target, so renamed rows come out in another
    ///   order. Bonds and matrices are therefore compared as sets of `(target, value)`; the order
    ///   within a row feeds nothing but liquid alpha, which is off.
    /// Every sum in the epoch is exact (fixed-point addition, far from overflow on these inputs)
    /// and the weighted median depends only on the multiset of (value, stake) pairs, so nothing
    /// else sees uid order.
    #[test]
    fn relabelling_uids_permutes_outputs((mut input, perm) in input_and_permutation()) {
        input.params.liquid_alpha_enabled = false;
        let original = run(&input);
        let k = usize::from(input.params.max_allowed_validators);
        prop_assume!(!permit_cut_is_tied(&original.fixed.stake, k));

        let renamed = run(&relabel(&input, &perm));
        let json = to_json(&input);
        macro_rules! same_vec {
            ($($field:ident).+) => {
                prop_assert_eq!(
                    &renamed.$($field).+, &permuted(&original.$($field).+, &perm),
                    "{} differs after relabelling by {:?}\ninput: {}", stringify!($($field).+), perm, json
                );
            };
        }
        same_vec!(active);
        same_vec!(validator_permit);
        same_vec!(stake);
        same_vec!(stake_weight);
        same_vec!(consensus);
        same_vec!(incentive);
        same_vec!(dividends);
        same_vec!(validator_trust);
        same_vec!(server_emission);
        same_vec!(validator_emission);
        same_vec!(emission);
        same_vec!(fixed.stake);
        same_vec!(fixed.active_stake);
        same_vec!(fixed.consensus);
        same_vec!(fixed.validator_trust);
        same_vec!(fixed.ranks);
        same_vec!(fixed.incentive);
        same_vec!(fixed.dividends);
        same_vec!(fixed.normalized_server_emission);
        same_vec!(fixed.normalized_validator_emission);
        same_vec!(fixed.normalized_combined_emission);
        prop_assert_eq!(&renamed.derived, &original.derived);
        prop_assert_eq!(sets(&renamed.bonds), relabelled_sets(&original.bonds, &perm), "bonds\ninput: {}", json);

        let (Some(a), Some(b)) = (&original.matrices, &renamed.matrices) else {
            return Err(TestCaseError::fail("matrices were asked for"));
        };
        let pairs: [(&str, &FixedRows, &FixedRows); 5] = [
            ("weights", &a.weights, &b.weights),
            ("clipped_weights", &a.clipped_weights, &b.clipped_weights),
            ("weights_for_bonds", &a.weights_for_bonds, &b.weights_for_bonds),
            ("bonds_in", &a.bonds_in, &b.bonds_in),
            ("ema_bonds", &a.ema_bonds, &b.ema_bonds),
        ];
        for (name, before, after) in pairs {
            prop_assert_eq!(sets(after), relabelled_sets(before, &perm), "matrices.{}\ninput: {}", name, json);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (d) The documented fallbacks.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(128))]

    /// (d) Without any stake: no permit but the owner's, no consensus, incentive or dividends, no
    /// emission at all.
    #[test]
    fn zero_stake_everywhere_emits_nothing(mut input in epoch_input()) {
        for neuron in &mut input.neurons {
            neuron.stake = 0;
            neuron.tao_stake = 0;
        }
        let o = run(&input);
        let owner = input.params.subnet_owner_uid.map(usize::from);
        let json = to_json(&input);
        for (uid, &permit) in o.validator_permit.iter().enumerate() {
            prop_assert_eq!(permit, Some(uid) == owner, "permit of uid {}\ninput: {}", uid, json);
        }
        prop_assert!(o.stake.iter().all(|&x| x == 0));
        prop_assert!(o.stake_weight.iter().all(|&x| x == 0));
        prop_assert!(o.fixed.active_stake.iter().all(|&x| x == 0));
        prop_assert!(o.fixed.consensus.iter().all(|&x| x == 0), "consensus\ninput: {}", json);
        prop_assert!(o.fixed.ranks.iter().all(|&x| x == 0), "ranks\ninput: {}", json);
        prop_assert!(o.fixed.incentive.iter().all(|&x| x == 0), "incentive\ninput: {}", json);
        prop_assert!(o.fixed.dividends.iter().all(|&x| x == 0), "dividends\ninput: {}", json);
        prop_assert!(o.fixed.validator_trust.iter().all(|&x| x == 0), "validator trust\ninput: {}", json);
        let emissions =
            [("server", &o.server_emission), ("validator", &o.validator_emission), ("combined", &o.emission)];
        for (name, v) in emissions {
            prop_assert!(v.iter().all(|&x| x == 0), "{} emission\ninput: {}", name, json);
        }
        // Only the owner holds a new permit, so only its bonds row can be stored.
        prop_assert!(o.bonds.keys().all(|&uid| Some(usize::from(uid)) == owner), "bonds\ninput: {}", json);
    }

    /// (d) With stake only on uids that cannot vote (no old permit, or every permitted uid
    /// inactive), nothing is active: the validator and combined emission fall back to plain
    /// (threshold-filtered, normalised) stake, permit or not, and miners get nothing.
    #[test]
    fn stake_without_active_validators_falls_back_to_plain_stake(
        mut input in epoch_input(),
        all_inactive in any::<bool>(),
    ) {
        if all_inactive {
            let p = &input.params;
            let cutoff = (u64::from(p.activity_cutoff_factor_milli) * u64::from(p.tempo) / 1000).max(1);
            input.current_block = input.current_block.max(cutoff + 1);
            let stale = input.current_block - cutoff - 1;
            for neuron in &mut input.neurons {
                neuron.last_update = stale;
                neuron.block_at_registration = neuron.block_at_registration.min(stale);
            }
        } else {
            let owner = input.params.subnet_owner_uid.map(usize::from);
            for (uid, neuron) in input.neurons.iter_mut().enumerate() {
                if Some(uid) == owner {
                    // The owner always votes with its forced permit: give it no stake instead.
                    neuron.stake = 0;
                    neuron.tao_stake = 0;
                } else if neuron.stake > 0 || neuron.tao_stake > 0 {
                    neuron.validator_permit = false;
                }
            }
        }
        let o = run(&input);
        let json = to_json(&input);
        let f = &o.fixed;
        prop_assert!(f.active_stake.iter().all(|&x| x == 0), "active stake\ninput: {}", json);
        prop_assert!(f.incentive.iter().all(|&x| x == 0), "incentive\ninput: {}", json);
        prop_assert!(o.server_emission.iter().all(|&x| x == 0), "server emission\ninput: {}", json);
        prop_assert_eq!(&f.normalized_validator_emission, &f.stake, "validator share\ninput: {}", json);
        prop_assert_eq!(&f.normalized_combined_emission, &f.stake, "combined share\ninput: {}", json);
        let expected: Vec<u64> = f.stake.iter().map(|&b| rao_of_bits(b, input.rao_emission)).collect();
        prop_assert_eq!(&o.validator_emission, &expected, "validator emission\ninput: {}", json);
        prop_assert_eq!(&o.emission, &expected, "emission\ninput: {}", json);
        // The fallback follows stake, so it pays exactly the uids whose filtered stake is not 0.
        for (uid, &bits) in f.stake.iter().enumerate() {
            let staked = input.neurons[uid].stake > 0 || input.neurons[uid].tao_stake > 0;
            prop_assert!(bits == 0 || staked, "uid {} has stake weight without stake\ninput: {}", uid, json);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (f) Robustness and validation.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// (f) No input makes the epoch panic, however extreme its numbers (sums that wrap, blocks at
    /// `u64::MAX`, any hyperparameter). Inputs whose total stake reaches 2⁶³ rao (where the chain's
    /// `I64F64` stake sum wraps) are rejected; on every other one the reference agrees.
    #[test]
    fn never_panics_on_extreme_input(input in extreme_input()) {
        let total_stake: u128 = input.neurons.iter().map(|x| u128::from(x.stake) + u128::from(x.tao_stake)).sum();
        match yuma::epoch(&input, &Options { matrices: true }) {
            Err(e) => prop_assert!(total_stake >= 1 << 63, "valid input rejected: {e}\ninput: {}", to_json(&input)),
            Ok(actual) => {
                prop_assert!(total_stake < 1 << 63, "stake total 2^63 accepted");
                if let Some(mismatch) = actual.first_mismatch(&reference::epoch(&input)) {
                    prop_assert!(false, "{mismatch}\ninput: {}", to_json(&input));
                }
            }
        }
    }
}

/// Found by `never_panics_on_extreme_input`: with a total stake past 2⁶³ rao the chain's `I64F64`
/// stake sum wraps, stakes come out negative or far above 1, and the chain's saturating pivot
/// search and any closed form part ways. No subnet holds that much, so the input is refused.
#[test]
fn a_total_stake_the_chain_cannot_sum_is_refused() {
    let input: EpochInput = serde_json::from_str(OVERFLOWING_STAKE_TOTAL).expect("valid JSON");
    let error = yuma::epoch(&input, &Options::default()).expect_err("refused");
    assert_eq!(error.path, "neurons");
    assert!(error.message.contains("2^63"), "{error}");
}

/// Eight uids, stakes of 2⁶³ rao (alpha, or TAO at a weight of almost 1): the minimal input
/// `never_panics_on_extreme_input` shrank to, then reduced by hand.
const OVERFLOWING_STAKE_TOTAL: &str = r#"{
  "params": {"tempo": 0, "activity_cutoff_factor_milli": 0, "kappa": 0, "bonds_moving_average": 0,
    "bonds_penalty": 0, "max_allowed_validators": 0, "liquid_alpha_enabled": false, "alpha_low": 0,
    "alpha_high": 0, "alpha_sigmoid_steepness": 0, "yuma3_enabled": false, "stake_threshold": 0,
    "tao_weight": 18446744073709551614, "commit_reveal_weights_enabled": false, "subnet_owner_uid": null},
  "current_block": 1, "last_mechanism_step_block": 0, "rao_emission": 0,
  "neurons": [
    {"uid": 0, "stake": 0, "tao_stake": 9223372036854775808,
     "validator_permit": true, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 1, "stake": 9223372036854775808, "tao_stake": 0,
     "validator_permit": true, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 2, "stake": 2147483648, "tao_stake": 9223372036854775808,
     "validator_permit": true, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 3, "stake": 9223372036854775808, "tao_stake": 0,
     "validator_permit": false, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 4, "stake": 2147483648, "tao_stake": 9223372036854775808,
     "validator_permit": true, "last_update": 18446744073709551615, "block_at_registration": 0, "commit_block": null},
    {"uid": 5, "stake": 9223372036854775808, "tao_stake": 0,
     "validator_permit": true, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 6, "stake": 1, "tao_stake": 9223372036854775808,
     "validator_permit": true, "last_update": 0, "block_at_registration": 0, "commit_block": null},
    {"uid": 7, "stake": 1, "tao_stake": 9223372036854775808,
     "validator_permit": false, "last_update": 0, "block_at_registration": 0, "commit_block": null}
  ],
  "weights": {"4": [[1, 11]]},
  "bonds": {}
}"#;

/// Ways to break an otherwise valid input.
#[derive(Clone, Copy, Debug)]
enum Breakage {
    /// A weight or bond target `≥ n`.
    TargetOutOfRange { bonds: bool, beyond: u16 },
    /// The same target twice in a row.
    DuplicateTarget { bonds: bool },
    /// A row keyed by a uid `≥ n` (empty or not).
    RowOutOfRange { bonds: bool, beyond: u16, empty: bool },
    /// A neuron whose uid is not its index.
    UidNotIndex { shift: u16 },
    /// An owner uid `≥ n`.
    OwnerOutOfRange { beyond: u16 },
}

fn breakage() -> impl Strategy<Value = Breakage> {
    prop_oneof![
        (any::<bool>(), 0..1000u16).prop_map(|(bonds, beyond)| Breakage::TargetOutOfRange { bonds, beyond }),
        any::<bool>().prop_map(|bonds| Breakage::DuplicateTarget { bonds }),
        (any::<bool>(), 0..1000u16, any::<bool>()).prop_map(|(bonds, beyond, empty)| Breakage::RowOutOfRange {
            bonds,
            beyond,
            empty
        }),
        (1..1000u16).prop_map(|shift| Breakage::UidNotIndex { shift }),
        (0..1000u16).prop_map(|beyond| Breakage::OwnerOutOfRange { beyond }),
    ]
}

fn rows_mut(input: &mut EpochInput, bonds: bool) -> &mut Rows {
    if bonds { &mut input.bonds } else { &mut input.weights }
}

fn break_input(input: &mut EpochInput, breakage: Breakage, which: proptest::sample::Index) {
    let n = input.neurons.len() as u16;
    let uid = which.index(input.neurons.len()) as u16;
    match breakage {
        Breakage::TargetOutOfRange { bonds, beyond } => {
            let row = rows_mut(input, bonds).entry(uid).or_default();
            let at = which.index(row.len() + 1);
            row.insert(at, (n + beyond, 1));
        }
        Breakage::DuplicateTarget { bonds } => {
            let row = rows_mut(input, bonds).entry(uid).or_default();
            if row.is_empty() {
                row.push((uid, 7));
            }
            let (target, _) = row[which.index(row.len())];
            let at = which.index(row.len() + 1);
            row.insert(at, (target, 0));
        }
        Breakage::RowOutOfRange { bonds, beyond, empty } => {
            let row = if empty { Vec::new() } else { vec![(0, 1)] };
            rows_mut(input, bonds).insert(n + beyond, row);
        }
        Breakage::UidNotIndex { shift } => {
            let neuron = &mut input.neurons[usize::from(uid)];
            neuron.uid = neuron.uid.wrapping_add(shift);
        }
        Breakage::OwnerOutOfRange { beyond } => input.params.subnet_owner_uid = Some(n + beyond),
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (f) `validate` (and so `epoch`) rejects what the chain cannot hold: targets `≥ n`,
    /// repeated targets, rows of uids `≥ n`, uids that are not their index, owners `≥ n`.
    #[test]
    fn validate_rejects_invalid_input(
        mut input in epoch_input(),
        breakage in breakage(),
        which in any::<proptest::sample::Index>(),
    ) {
        prop_assert!(input.validate().is_ok(), "generated input is invalid: {}", to_json(&input));
        break_input(&mut input, breakage, which);
        prop_assert!(input.validate().is_err(), "{:?} accepted\ninput: {}", breakage, to_json(&input));
        prop_assert!(yuma::epoch(&input, &Options::default()).is_err(), "{:?} accepted by epoch", breakage);
    }
}
