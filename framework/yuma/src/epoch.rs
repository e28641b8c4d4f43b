//! The epoch, step by step in the chain's order (`epoch_mechanism`).

use std::borrow::Cow;

use substrate_fixed::types::{I32F32, I64F64, U96F32};

use crate::InputError;
use crate::bonds::{LiquidAlpha, ema_fixed, fixed_alpha};
use crate::consensus::weighted_median_columns;
use crate::fixed::{
    ONE, ZERO, bits, from_u16, mul, mul_or_zero, normalize, normalize_by, proportion_to_u16, share_of, share_of_total,
    sum, u16_proportion,
};
use crate::input::{EpochInput, Params, Rows, ValidInput};
use crate::output::{Derived, EpochOutput, FixedVectors, Matrices};
use crate::sparse::{Csr, Pool, column_divisors, normalize_row};

/// What to compute besides the chain's outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Also return the intermediate matrices (costs a copy of each).
    pub matrices: bool,
}

/// Runs one epoch on `input`, exactly as the chain would.
///
/// Fails only on input the chain could not hold (see [`EpochInput::validate`]). To run many
/// epochs, a [`Workspace`] reuses its memory from one to the next.
pub fn epoch(input: &EpochInput, options: &Options) -> Result<EpochOutput, InputError> {
    Workspace::default().epoch(input, options)
}

/// Memory kept between epochs: the sparse matrices' buffers and scratch space.
#[derive(Debug, Default)]
pub struct Workspace {
    pool: Pool,
}

impl Workspace {
    /// Runs one epoch on `input`, exactly as the chain would; see [`epoch`].
    pub fn epoch(&mut self, input: &EpochInput, options: &Options) -> Result<EpochOutput, InputError> {
        Ok(self.run(input.validate()?, options))
    }

    /// Runs one epoch on an input validated beforehand.
    pub fn run(&mut self, input: ValidInput<'_>, options: &Options) -> EpochOutput {
        run(&mut self.pool, input.get(), options)
    }
}

fn run(pool: &mut Pool, input: &EpochInput, options: &Options) -> EpochOutput {
    let params = &input.params;
    let n = input.n();
    let owner = params.subnet_owner_uid.map(usize::from);

    // Activity.
    let cutoff = activity_cutoff(params);
    let active: Vec<bool> =
        input.neurons.iter().map(|x| x.last_update.saturating_add(cutoff) >= input.current_block).collect();

    // Stake and permits: this epoch votes with the stored (old) permits; the new ones are for the next.
    let (raw_stake, stake) = stake_weights(input, owner);
    let mut old_permits: Vec<bool> = input.neurons.iter().map(|x| x.validator_permit).collect();
    let new_permits = top_k_nonzero(&stake, usize::from(params.max_allowed_validators), owner);
    if let Some(owner) = owner {
        old_permits[owner] = true;
    }
    let mut active_stake: Vec<I32F32> =
        (0..n).map(|i| if active[i] && old_permits[i] { stake[i] } else { ZERO }).collect();
    normalize(&mut active_stake);

    // Weights, consensus, clipping, trust and incentive.
    let weights = masked_weights(pool, input, &old_permits, owner);
    let kappa = u16_proportion(params.kappa);
    let consensus = weighted_median_columns(&mut pool.keys, &weights, &active_stake, kappa, n);
    let Clipped { weights: clipped, trust: validator_trust, ranks } =
        clip_to_consensus(pool, &weights, &consensus, &active_stake);
    let mut incentive = ranks.clone();
    normalize(&mut incentive);

    // Bonds and dividends.
    let penalty = u16_proportion(params.bonds_penalty);
    let weights_for_bonds = penalised_weights(pool, &weights, &clipped, &consensus, penalty);
    let last_tempo = last_tempo(input, params);
    let recently_registered: Vec<bool> = input.neurons.iter().map(|x| last_tempo <= x.block_at_registration).collect();
    let alpha = fixed_alpha(params.bonds_moving_average);
    let (dividends, bonds_in, ema_for_dividends, stored) = if params.yuma3_enabled {
        let bonds_in = stored_bonds(pool, &input.bonds, n, u16_proportion, &recently_registered);
        let ema = if params.liquid_alpha_enabled && consensus.iter().any(|&c| c != ZERO) {
            LiquidAlpha::new(params.alpha_low, params.alpha_high, params.alpha_sigmoid_steepness).ema(
                pool,
                &weights_for_bonds,
                &bonds_in,
                &consensus,
            )
        } else {
            ema_fixed(pool, &weights_for_bonds, &bonds_in, alpha, n)
        };
        let dividends = yuma3_dividends(&ema, &incentive, &active_stake, n);
        (dividends, bonds_in, None, ema)
    } else {
        let mut bonds_in = stored_bonds(pool, &input.bonds, n, from_u16, &recently_registered);
        bonds_in.normalize_columns(n);
        let mut delta = row_scaled(pool, &weights_for_bonds, &active_stake);
        delta.normalize_columns(n);
        let mut ema = ema_fixed(pool, &delta, &bonds_in, alpha, n);
        pool.recycle(delta);
        ema.normalize_columns(n);
        let mut dividends: Vec<I32F32> = (0..n)
            .map(|i| ema.row(i).iter().fold(ZERO, |acc, &(j, b)| acc.saturating_add(mul(incentive[usize::from(j)], b))))
            .collect();
        normalize(&mut dividends);
        // Dividends use the normalised EMA; storage gets it column max-upscaled.
        let normalized = options.matrices.then(|| ema.clone());
        ema.max_upscale_columns(n);
        (dividends, bonds_in, normalized, ema)
    };

    // Emission.
    let shares = emission_shares(&incentive, &dividends, &active_stake, &stake);
    let to_rao = |x: &[I32F32]| -> Vec<u64> { x.iter().map(|&v| share_of(v, input.rao_emission)).collect() };

    let bonds: Rows = (0..n)
        .filter(|&i| new_permits[i] && !stored.row(i).is_empty())
        .map(|i| (i as u16, stored.row(i).iter().map(|&(j, v)| (j, proportion_to_u16(v))).collect()))
        .collect();
    let to_u16 = |x: &[I32F32]| -> Vec<u16> { x.iter().map(|&v| proportion_to_u16(v)).collect() };

    let matrices = options.matrices.then(|| Matrices {
        weights: weights.to_fixed_rows(),
        clipped_weights: clipped.to_fixed_rows(),
        weights_for_bonds: weights_for_bonds.to_fixed_rows(),
        bonds_in: bonds_in.to_fixed_rows(),
        ema_bonds: ema_for_dividends.as_ref().unwrap_or(&stored).to_fixed_rows(),
    });
    if let Cow::Owned(interpolated) = weights_for_bonds {
        pool.recycle(interpolated);
    }
    for matrix in [weights, clipped, bonds_in, stored] {
        pool.recycle(matrix);
    }

    EpochOutput {
        active,
        validator_permit: new_permits,
        stake: raw_stake,
        stake_weight: to_u16(&stake),
        consensus: to_u16(&consensus),
        incentive: to_u16(&incentive),
        dividends: to_u16(&dividends),
        validator_trust: to_u16(&validator_trust),
        server_emission: to_rao(&shares.server),
        validator_emission: to_rao(&shares.validator),
        emission: to_rao(&shares.combined),
        bonds,
        derived: Derived {
            activity_cutoff_blocks: cutoff,
            last_tempo,
            kappa: kappa.to_bits(),
            bonds_penalty: penalty.to_bits(),
        },
        fixed: FixedVectors {
            stake: bits(&stake),
            active_stake: bits(&active_stake),
            consensus: bits(&consensus),
            validator_trust: bits(&validator_trust),
            ranks: bits(&ranks),
            incentive: bits(&incentive),
            dividends: bits(&dividends),
            normalized_server_emission: bits(&shares.server),
            normalized_validator_emission: bits(&shares.validator),
            normalized_combined_emission: bits(&shares.combined),
        },
        matrices,
    }
}

/// Blocks without a weight update after which a uid is inactive: `max(1, factor × tempo / 1000)`.
fn activity_cutoff(params: &Params) -> u64 {
    (u64::from(params.activity_cutoff_factor_milli) * u64::from(params.tempo) / 1000).max(1)
}

/// Block from which registrations are too recent for bonds: the block after the previous epoch.
fn last_tempo(input: &EpochInput, params: &Params) -> u64 {
    match input.last_mechanism_step_block {
        0 => input.current_block.saturating_sub(u64::from(params.tempo)),
        previous => previous.saturating_add(1),
    }
}

/// Raw stake `⌊alpha + tao × tao_weight⌋` per uid, and the threshold-filtered stake normalised to `I32F32`.
fn stake_weights(input: &EpochInput, owner: Option<usize>) -> (Vec<u64>, Vec<I32F32>) {
    let params = &input.params;
    let tao_weight = I64F64::saturating_from_num(
        U96F32::saturating_from_num(params.tao_weight).saturating_div(U96F32::saturating_from_num(u64::MAX)),
    );
    let total: Vec<I64F64> = input
        .neurons
        .iter()
        .map(|x| {
            I64F64::saturating_from_num(x.stake)
                .saturating_add(I64F64::saturating_from_num(x.tao_stake).saturating_mul(tao_weight))
        })
        .collect();
    let raw: Vec<u64> = total.iter().map(|s| s.saturating_to_num::<u64>()).collect();

    let filtered: Vec<I64F64> = total
        .iter()
        .zip(&raw)
        .enumerate()
        .map(
            |(i, (&s, &floor))| {
                if owner != Some(i) && floor < params.stake_threshold { I64F64::from_bits(0) } else { s }
            },
        )
        .collect();
    let sum = filtered.iter().fold(I64F64::from_bits(0), |acc, &x| acc.wrapping_add(x));
    let stake = if sum == I64F64::from_bits(0) {
        filtered.iter().map(|&x| I32F32::saturating_from_num(x)).collect()
    } else {
        filtered.iter().map(|&x| share_of_total(x, sum)).collect()
    };
    (raw, stake)
}

/// New validator permits: non-zero stake among the `k` largest (ties drop the lower uid), plus the owner.
fn top_k_nonzero(stake: &[I32F32], k: usize, owner: Option<usize>) -> Vec<bool> {
    let n = stake.len();
    let mut permits: Vec<bool> = stake.iter().map(|&s| s != ZERO).collect();
    let dropped = n.saturating_sub(k);
    if dropped > 0 {
        // The chain stable-sorts uids by stake and clears the first n − k: the n − k smallest
        // by (stake, uid). Selection finds the same set without a full sort.
        let mut order: Vec<usize> = (0..n).collect();
        order.select_nth_unstable_by_key(dropped - 1, |&i| (stake[i], i));
        order[..dropped].iter().for_each(|&i| permits[i] = false);
    }
    if let Some(owner) = owner {
        permits[owner] = true;
    }
    permits
}

/// The stored weights with every mask applied, rows normalised (order and zero entries kept).
///
/// Masks, in order: rows of uids without a permit; the diagonal except the owner's; weights set
/// before their target's registration; and, with commit-reveal, weights whose row has an unexpired
/// commit older than the target's registration.
fn masked_weights(pool: &mut Pool, input: &EpochInput, permits: &[bool], owner: Option<usize>) -> Csr {
    let n = input.n();
    let neurons = &input.neurons;
    // Contiguous, for the lookup per weight.
    let registered: Vec<u64> = neurons.iter().map(|x| x.block_at_registration).collect();
    let commit_reveal = input.params.commit_reveal_weights_enabled;
    let capacity = input.weights.values().map(Vec::len).sum();
    let mut rows = input.weights.iter().peekable();
    pool.build(n, capacity, |i, out| {
        let Some((_, row)) = rows.next_if(|(uid, _)| usize::from(**uid) == i) else {
            return;
        };
        if !permits[i] {
            return;
        }
        let last_update = neurons[i].last_update;
        let commit_block = neurons[i].commit_block.unwrap_or(u64::MAX);
        let start = out.len();
        out.extend(row.iter().filter_map(|&(j, w)| {
            let registered = registered[usize::from(j)];
            let masked = (usize::from(j) == i && owner != Some(i))
                || last_update <= registered
                || (commit_reveal && commit_block < registered);
            (!masked).then(|| (j, from_u16(w)))
        }));
        normalize_row(&mut out[start..]);
    })
}

/// Weights clipped at their column's consensus, with what the clipped rows and columns add up to.
struct Clipped {
    /// Entries above their column's consensus are lowered to it, or dropped where it is zero.
    weights: Csr,
    /// Validator trust: each row's sum (wrapping, `row_sum_sparse`).
    trust: Vec<I32F32>,
    /// `rank[j] = Σᵢ active_stake[i] × clipped[i][j]`, products floored, sums saturating.
    ranks: Vec<I32F32>,
}

fn clip_to_consensus(pool: &mut Pool, weights: &Csr, consensus: &[I32F32], active_stake: &[I32F32]) -> Clipped {
    let mut trust = vec![ZERO; weights.rows()];
    let mut ranks = vec![ZERO; consensus.len()];
    let clipped = pool.build(weights.rows(), weights.nnz(), |i, out| {
        let stake = active_stake[i];
        let mut row_sum = ZERO;
        // Clipping is data-dependent and frequent, so the loop has no branch on it: the row is
        // copied, then compacted in place, each entry kept by advancing past it or not.
        let start = out.len();
        out.extend_from_slice(weights.row(i));
        let row = &mut out[start..];
        let mut kept = 0;
        for k in 0..row.len() {
            let (j, w) = row[k];
            let c = consensus[usize::from(j)];
            let value = w.min(c);
            row[kept] = (j, value);
            kept += usize::from(!(c < w && c == ZERO));
            row_sum = row_sum.wrapping_add(value);
            let rank = &mut ranks[usize::from(j)];
            *rank = rank.saturating_add(mul(stake, value));
        }
        out.truncate(start + kept);
        trust[i] = row_sum;
    });
    Clipped { weights: clipped, trust, ranks }
}

/// The weights bonds are built from: `W + β·(clipped − W)`.
///
/// `β = 0` and `β = 1` return `W` or `clipped` untouched (stored order, zero entries). Otherwise
/// each row is recomputed densely, as the chain does: positive entries only, sorted by target.
fn penalised_weights<'a>(
    pool: &mut Pool,
    weights: &'a Csr,
    clipped: &'a Csr,
    consensus: &[I32F32],
    penalty: I32F32,
) -> Cow<'a, Csr> {
    if penalty == ZERO {
        return Cow::Borrowed(weights);
    }
    if penalty == ONE {
        return Cow::Borrowed(clipped);
    }
    let mut sorted = Vec::new();
    Cow::Owned(pool.build(weights.rows(), weights.nnz(), |i, out| {
        sorted.clear();
        sorted.extend_from_slice(weights.row(i));
        sorted.sort_unstable_by_key(|&(j, _)| j);
        out.extend(sorted.iter().filter_map(|&(j, w)| {
            // The clipped value of an entry is min(w, consensus): a zero consensus drops it, i.e. 0.
            let c = w.min(consensus[usize::from(j)]);
            let value = w.saturating_add(mul(penalty, c.saturating_sub(w)));
            (value > ZERO).then_some((j, value))
        }));
    }))
}

/// The stored bonds read through `read`, without bonds to uids registered since the last epoch.
fn stored_bonds(
    pool: &mut Pool,
    bonds: &Rows,
    n: usize,
    read: impl Fn(u16) -> I32F32,
    recently_registered: &[bool],
) -> Csr {
    let capacity = bonds.values().map(Vec::len).sum();
    let mut rows = bonds.iter().peekable();
    pool.build(n, capacity, |i, out| {
        if let Some((_, row)) = rows.next_if(|(uid, _)| usize::from(**uid) == i) {
            out.extend(row.iter().filter(|&&(j, _)| !recently_registered[usize::from(j)]).map(|&(j, b)| (j, read(b))));
        }
    })
}

/// Each row scaled by its uid's active stake (`row_hadamard_sparse`): classic ΔB before normalisation.
fn row_scaled(pool: &mut Pool, matrix: &Csr, scale: &[I32F32]) -> Csr {
    pool.build(matrix.rows(), matrix.nnz(), |i, out| {
        out.extend(matrix.row(i).iter().map(|&(j, w)| (j, mul(w, scale[i]))));
    })
}

/// Yuma3 dividends: `(Σⱼ ema_norm[i][j] × incentive[j]) × active_stake[i]`, normalised,
/// where `ema_norm` is the column-normalised EMA.
fn yuma3_dividends(ema: &Csr, incentive: &[I32F32], active_stake: &[I32F32], n: usize) -> Vec<I32F32> {
    let column_sums = column_divisors(&ema.column_sums(n));
    let mut dividends: Vec<I32F32> = (0..n)
        .map(|i| {
            let total_bonds = ema.row(i).iter().fold(ZERO, |acc, &(j, v)| {
                let normalised = column_sums[usize::from(j)].divide_unless_zero(v);
                acc.wrapping_add(mul(normalised, incentive[usize::from(j)]))
            });
            mul_or_zero(total_bonds, active_stake[i])
        })
        .collect();
    normalize(&mut dividends);
    dividends
}

/// Normalised miner, validator and combined shares of the emission.
struct EmissionShares {
    server: Vec<I32F32>,
    validator: Vec<I32F32>,
    combined: Vec<I32F32>,
}

/// Splits emission by `incentive + dividends` (summing to about 2); with neither, validators get it
/// all by active stake, or by plain stake when no validator is active.
fn emission_shares(
    incentive: &[I32F32],
    dividends: &[I32F32],
    active_stake: &[I32F32],
    stake: &[I32F32],
) -> EmissionShares {
    let mut combined: Vec<I32F32> = incentive.iter().zip(dividends).map(|(&i, &d)| i.saturating_add(d)).collect();
    let total = sum(&combined);
    let mut server = incentive.to_vec();
    let mut validator = dividends.to_vec();
    normalize_by(&mut server, total);
    normalize_by(&mut validator, total);
    normalize(&mut combined);
    if total == ZERO {
        let fallback = if sum(active_stake) == ZERO { stake } else { active_stake };
        validator = fallback.to_vec();
        combined = fallback.to_vec();
    }
    EmissionShares { server, validator, combined }
}
