//! An independent, deliberately plain reference epoch, written from `shared/notes/yuma.md`.
//!
//! It follows the shape of the chain's `epoch_mechanism`: sparse rows as
//! `Vec<Vec<(u16, I32F32)>>`, one helper per `math.rs` primitive, dense length-`n` accumulators
//! for the EMA and the interpolation, a dense `n × n` liquid-alpha matrix with one `exp` per cell
//! found by the single-forward-pointer walk, and the mid-pivot partition median over all voters
//! for every column. It is **not** optimised on purpose: its costs are the chain's (O(n²) work per
//! epoch), so it also serves as the "chain algorithm" peer in benchmarks.
//!
//! Nothing here is shared with the crate's implementation except the input and output types.
//! Where the note is silent, which only matters once values leave the range valid inputs reach,
//! this follows subtensor's `math.rs`: column sums saturate while other plain sums wrap (as in a
//! release build), Yuma3's per-validator bond total is a row sum of the products, and
//! `clamp_value` caps at the upper bound before flooring at the lower one.
//!
//! A benchmark can compile this file on its own (`#[path = "../tests/it/reference.rs"] mod
//! reference;`): it needs only `yuma` and `substrate-fixed`, and its tests are `cfg(test)`.

use std::collections::BTreeMap;

use substrate_fixed::transcendental::exp;
use substrate_fixed::types::{I32F32, I64F64, I96F32, U96F32};
use yuma::{Derived, EpochInput, EpochOutput, FixedRows, FixedVectors, Matrices, Rows};

/// A sparse matrix the way the chain holds one: row `i` is `rows[i]`, entries `(column, value)`.
type Sparse = Vec<Vec<(u16, I32F32)>>;

fn fx(value: i64) -> I32F32 {
    I32F32::saturating_from_num(value)
}

fn zero() -> I32F32 {
    I32F32::from_bits(0)
}

fn one() -> I32F32 {
    fx(1)
}

/// `checked_div`, or 0 on division by zero or overflow (`safe_div` of the chain's safe-math).
fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    a.checked_div(b).unwrap_or_else(zero)
}

/// A plain `iter().sum()` as the chain's release build runs it: wrapping.
fn plain_sum(values: impl IntoIterator<Item = I32F32>) -> I32F32 {
    values.into_iter().fold(zero(), |acc, x| acc.wrapping_add(x))
}

/// `u16 / 65535` as an I32F32 proportion (kappa, bonds penalty, alpha bounds, Yuma3 bonds).
fn u16_fraction(value: u16) -> I32F32 {
    safe_div(fx(i64::from(value)), fx(i64::from(u16::MAX)))
}

/// `fixed_proportion_to_u16`: floor(x × 65535), saturating into u16.
fn to_u16(x: I32F32) -> u16 {
    x.saturating_mul(fx(i64::from(u16::MAX))).saturating_to_num::<u16>()
}

// ---------------------------------------------------------------------------------------------
// Vector primitives (math.rs).
// ---------------------------------------------------------------------------------------------

/// `inplace_normalize`: divide by the (wrapping) sum, unless it is 0.
fn inplace_normalize(x: &mut [I32F32]) {
    let total = plain_sum(x.iter().copied());
    inplace_normalize_using_sum(x, total);
}

/// `inplace_normalize_using_sum`.
fn inplace_normalize_using_sum(x: &mut [I32F32], total: I32F32) {
    if total == zero() {
        return;
    }
    for value in x.iter_mut() {
        *value = safe_div(*value, total);
    }
}

/// `inplace_normalize_64`.
fn inplace_normalize_64(x: &mut [I64F64]) {
    let total = x.iter().fold(I64F64::from_bits(0), |acc, &v| acc.wrapping_add(v));
    if total == I64F64::from_bits(0) {
        return;
    }
    for value in x.iter_mut() {
        *value = value.checked_div(total).unwrap_or(I64F64::from_bits(0));
    }
}

/// `is_topk_nonzero`: non-zero entries, then the `n − k` smallest cleared (stable ascending sort).
fn is_topk_nonzero(vector: &[I32F32], k: usize) -> Vec<bool> {
    let n = vector.len();
    let mut result: Vec<bool> = vector.iter().map(|&x| x != zero()).collect();
    if n < k {
        return result;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| vector[i]);
    for &i in order.iter().take(n - k) {
        result[i] = false;
    }
    result
}

/// `inplace_mask_vector`: zero where `mask` is true.
fn inplace_mask_vector(mask: &[bool], vector: &mut [I32F32]) {
    for (value, &masked) in vector.iter_mut().zip(mask) {
        if masked {
            *value = zero();
        }
    }
}

/// `vec_mul` with `checked_mul` (0 on overflow).
fn vec_mul(a: &[I32F32], b: &[I32F32]) -> Vec<I32F32> {
    a.iter().zip(b).map(|(&x, &y)| x.checked_mul(y).unwrap_or_else(zero)).collect()
}

/// `exp_safe`: substrate-fixed `exp` with its input clamped to [−20, 20].
fn exp_safe(input: I32F32) -> I32F32 {
    let clamped = input.max(fx(-20)).min(fx(20));
    match exp::<I32F32, I32F32>(clamped) {
        Ok(value) => value,
        Err(()) if clamped <= zero() => zero(),
        Err(()) => I32F32::max_value(),
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse matrix primitives (math.rs).
// ---------------------------------------------------------------------------------------------

/// `mask_rows_sparse`: empty the rows where `mask` is true.
fn mask_rows_sparse(mask: &[bool], matrix: &Sparse) -> Sparse {
    matrix.iter().zip(mask).map(|(row, &masked)| if masked { Vec::new() } else { row.clone() }).collect()
}

/// `mask_diag_sparse_except_index`: drop `(i, i)`, except for the row `except`.
fn mask_diag_sparse_except(matrix: &Sparse, except: Option<usize>) -> Sparse {
    matrix
        .iter()
        .enumerate()
        .map(|(i, row)| row.iter().copied().filter(|&(j, _)| usize::from(j) != i || except == Some(i)).collect())
        .collect()
}

/// `vec_mask_sparse_matrix`: drop `(i, j)` where `mask_fn(first[i], second[j])`.
fn vec_mask_sparse_matrix(
    matrix: &Sparse,
    first: &[u64],
    second: &[u64],
    mask_fn: impl Fn(u64, u64) -> bool,
) -> Sparse {
    matrix
        .iter()
        .enumerate()
        .map(|(i, row)| row.iter().copied().filter(|&(j, _)| !mask_fn(first[i], second[usize::from(j)])).collect())
        .collect()
}

/// `scalar_vec_mask_sparse_matrix`: drop `(i, j)` where `mask_fn(scalar, vector[j])`.
fn scalar_vec_mask_sparse_matrix(
    matrix: &Sparse,
    scalar: u64,
    vector: &[u64],
    mask_fn: impl Fn(u64, u64) -> bool,
) -> Sparse {
    matrix
        .iter()
        .map(|row| row.iter().copied().filter(|&(j, _)| !mask_fn(scalar, vector[usize::from(j)])).collect())
        .collect()
}

/// `inplace_row_normalize_sparse`: rows with a positive sum are divided by it.
fn inplace_row_normalize_sparse(matrix: &mut Sparse) {
    for row in matrix.iter_mut() {
        let total = plain_sum(row.iter().map(|&(_, v)| v));
        if total > zero() {
            for entry in row.iter_mut() {
                entry.1 = safe_div(entry.1, total);
            }
        }
    }
}

/// `inplace_col_normalize_sparse`: columns with a non-zero sum are divided by it. (Unlike the
/// plain sums elsewhere, the chain accumulates these column sums with `saturating_add`.)
fn inplace_col_normalize_sparse(matrix: &mut Sparse, columns: usize) {
    let mut sums = vec![zero(); columns];
    for row in matrix.iter() {
        for &(j, v) in row {
            sums[usize::from(j)] = sums[usize::from(j)].saturating_add(v);
        }
    }
    for row in matrix.iter_mut() {
        for entry in row.iter_mut() {
            let total = sums[usize::from(entry.0)];
            if total != zero() {
                entry.1 = safe_div(entry.1, total);
            }
        }
    }
}

/// `inplace_col_max_upscale_sparse`: each column divided by its maximum (unless that is 0).
fn inplace_col_max_upscale_sparse(matrix: &mut Sparse, columns: usize) {
    let mut maxima = vec![zero(); columns];
    for row in matrix.iter() {
        for &(j, v) in row {
            maxima[usize::from(j)] = maxima[usize::from(j)].max(v);
        }
    }
    for row in matrix.iter_mut() {
        for entry in row.iter_mut() {
            let max = maxima[usize::from(entry.0)];
            if max != zero() {
                entry.1 = safe_div(entry.1, max);
            }
        }
    }
}

/// `row_sum_sparse` (a plain, wrapping sum per row).
fn row_sum_sparse(matrix: &Sparse) -> Vec<I32F32> {
    matrix.iter().map(|row| plain_sum(row.iter().map(|&(_, v)| v))).collect()
}

/// `row_hadamard_sparse`: every entry of row `i` times `vector[i]`.
fn row_hadamard_sparse(matrix: &Sparse, vector: &[I32F32]) -> Sparse {
    matrix.iter().zip(vector).map(|(row, &s)| row.iter().map(|&(j, v)| (j, v.saturating_mul(s))).collect()).collect()
}

/// `matmul_sparse`: `result[j] = Σ_i vector[i] × m[i][j]` (ranks).
fn matmul_sparse(matrix: &Sparse, vector: &[I32F32], columns: usize) -> Vec<I32F32> {
    let mut result = vec![zero(); columns];
    for (i, row) in matrix.iter().enumerate() {
        for &(j, v) in row {
            let r = &mut result[usize::from(j)];
            *r = r.saturating_add(vector[i].saturating_mul(v));
        }
    }
    result
}

/// `matmul_transpose_sparse`: `result[i] = Σ_j vector[j] × m[i][j]` (dividends).
fn matmul_transpose_sparse(matrix: &Sparse, vector: &[I32F32]) -> Vec<I32F32> {
    matrix
        .iter()
        .map(|row| row.iter().fold(zero(), |acc, &(j, v)| acc.saturating_add(vector[usize::from(j)].saturating_mul(v))))
        .collect()
}

/// `mat_vec_mul_sparse`: entry `(i, j)` times `vector[j]`, zero products dropped.
fn mat_vec_mul_sparse(matrix: &Sparse, vector: &[I32F32]) -> Sparse {
    matrix
        .iter()
        .map(|row| {
            row.iter()
                .map(|&(j, v)| (j, v.saturating_mul(vector[usize::from(j)])))
                .filter(|&(_, v)| v != zero())
                .collect()
        })
        .collect()
}

/// `col_clip_sparse`: values above their column's threshold become the threshold, or vanish if it is 0.
fn col_clip_sparse(matrix: &Sparse, threshold: &[I32F32]) -> Sparse {
    matrix
        .iter()
        .map(|row| {
            let mut out = Vec::new();
            for &(j, v) in row {
                let c = threshold[usize::from(j)];
                if c < v {
                    if zero() < c {
                        out.push((j, c));
                    }
                } else {
                    out.push((j, v));
                }
            }
            out
        })
        .collect()
}

/// `interpolate_sparse`: `m1 + ratio × (m2 − m1)`, densified per row; 0 and 1 return a matrix as is.
fn interpolate_sparse(m1: &Sparse, m2: &Sparse, columns: usize, ratio: I32F32) -> Sparse {
    if ratio == zero() {
        return m1.clone();
    }
    if ratio == one() {
        return m2.clone();
    }
    let mut result = vec![Vec::new(); m1.len()];
    for i in 0..m1.len() {
        let mut row1 = vec![zero(); columns];
        for &(j, v) in &m1[i] {
            row1[usize::from(j)] = v;
        }
        let mut row2 = vec![zero(); columns];
        for &(j, v) in &m2[i] {
            row2[usize::from(j)] = v;
        }
        for j in 0..columns {
            let value = row1[j].saturating_add(ratio.saturating_mul(row2[j].saturating_sub(row1[j])));
            if zero() < value {
                result[i].push((j as u16, value));
            }
        }
    }
    result
}

/// `mat_ema_sparse`: per row, a dense accumulator gets `α·new` then `(1 − α)·old`; positives kept.
fn mat_ema_sparse(new: &Sparse, old: &Sparse, alpha: I32F32) -> Sparse {
    let n = new.len();
    let one_minus_alpha = one().saturating_sub(alpha);
    let mut result = vec![Vec::new(); n];
    for i in 0..n {
        let mut row = vec![zero(); n];
        for &(j, v) in &new[i] {
            row[usize::from(j)] = row[usize::from(j)].saturating_add(alpha.saturating_mul(v));
        }
        for &(j, v) in &old[i] {
            row[usize::from(j)] = row[usize::from(j)].saturating_add(one_minus_alpha.saturating_mul(v));
        }
        for (j, &v) in row.iter().enumerate() {
            if v > zero() {
                result[i].push((j as u16, v));
            }
        }
    }
    result
}

/// `mat_ema_alpha_sparse`: per-cell α; only the targets of the new row survive, in its order.
fn mat_ema_alpha_sparse(new: &Sparse, old: &Sparse, alpha: &[Vec<I32F32>]) -> Sparse {
    let mut result = Vec::with_capacity(new.len());
    for ((new_row, old_row), alpha_row) in new.iter().zip(old).zip(alpha) {
        let mut decayed = vec![zero(); alpha_row.len()];
        for &(j, b) in old_row {
            let j = usize::from(j);
            decayed[j] = one().saturating_sub(alpha_row[j]).saturating_mul(b);
        }
        let mut out = Vec::new();
        for &(j, w) in new_row {
            let a = alpha_row[usize::from(j)];
            let bought = a.saturating_mul(w).max(zero());
            let value = decayed[usize::from(j)].saturating_add(bought).min(one());
            if value > zero() {
                out.push((j, value));
            }
        }
        result.push(out);
    }
    result
}

/// `weighted_median`: the chain's deterministic mid-pivot partition search.
fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    partition: &[usize],
    minority: I32F32,
    mut partition_lo: I32F32,
    mut partition_hi: I32F32,
) -> I32F32 {
    let mut current: Vec<usize> = partition.to_vec();
    while !current.is_empty() {
        if current.len() == 1 {
            return score[current[0]];
        }
        let pivot = score[current[current.len() / 2]];
        let mut lo_stake = zero();
        let mut hi_stake = zero();
        let mut lower = Vec::new();
        let mut upper = Vec::new();
        for &idx in &current {
            if score[idx] == pivot {
                continue;
            }
            if score[idx] < pivot {
                lo_stake = lo_stake.saturating_add(stake[idx]);
                lower.push(idx);
            } else {
                hi_stake = hi_stake.saturating_add(stake[idx]);
                upper.push(idx);
            }
        }
        let below = partition_lo.saturating_add(lo_stake);
        let above = partition_hi.saturating_sub(hi_stake);
        if below <= minority && minority < above {
            return pivot;
        } else if minority < below && !lower.is_empty() {
            current = lower;
            partition_hi = below;
        } else if above <= minority && !upper.is_empty() {
            current = upper;
            partition_lo = above;
        } else {
            return pivot;
        }
    }
    zero()
}

/// `weighted_median_col_sparse`: per column, the median over every voter with positive stake
/// (re-normalised), a missing entry counting as 0.
fn weighted_median_col_sparse(stake: &[I32F32], score: &Sparse, columns: usize, majority: I32F32) -> Vec<I32F32> {
    let mut voter_stake: Vec<I32F32> = stake.iter().copied().filter(|&s| s > zero()).collect();
    inplace_normalize(&mut voter_stake);
    let stake_sum = plain_sum(voter_stake.iter().copied());
    let voters: Vec<usize> = (0..voter_stake.len()).collect();
    let minority = stake_sum.saturating_sub(majority);
    let mut column_scores = vec![vec![zero(); voter_stake.len()]; columns];
    let mut k = 0;
    for (r, row) in score.iter().enumerate() {
        if stake[r] <= zero() {
            continue;
        }
        for &(c, v) in row {
            column_scores[usize::from(c)][k] = v;
        }
        k += 1;
    }
    column_scores
        .iter()
        .map(|scores| weighted_median(&voter_stake, scores, &voters, minority, zero(), stake_sum))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Liquid alpha (Yuma3 only).
// ---------------------------------------------------------------------------------------------

/// The per-bond α of the liquid-alpha sigmoid.
fn alpha_sigmoid(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    low: I32F32,
    high: I32F32,
    steepness: I32F32,
) -> I32F32 {
    // `clamp_value` caps at `hi` first, then floors at `lo`: with `lo > hi` (which the chain's
    // setter forbids, but the storage item can hold) the result is `lo`.
    let clamp = |x: I32F32, lo: I32F32, hi: I32F32| x.min(hi).max(lo);
    let buy = clamp(weight.saturating_sub(consensus), zero(), one());
    let sell = clamp(bond.saturating_sub(weight), zero(), one());
    let diff = if weight >= bond { buy } else { sell };
    let exponent =
        steepness.saturating_div(fx(-100)).saturating_mul(diff.saturating_sub(I32F32::saturating_from_num(0.5)));
    let sigmoid = one().saturating_div(one().saturating_add(exp_safe(exponent)));
    let alpha = low.saturating_add(sigmoid.saturating_mul(high.saturating_sub(low)));
    clamp(alpha, low, high)
}

/// One step of the forward-pointer walk: move `at` past every entry whose target is below `j`,
/// then read the entry at `j` if the pointer is on it (without consuming it).
fn walk_to(row: &[(u16, I32F32)], at: &mut usize, j: usize) -> I32F32 {
    while *at < row.len() && usize::from(row[*at].0) < j {
        *at += 1;
    }
    match row.get(*at) {
        Some(&(target, value)) if usize::from(target) == j => value,
        _ => zero(),
    }
}

/// The dense `n × n` α matrix: for each row, one forward pointer into the `Wb` row and one into
/// the `B` row while `j` runs over `0..n`. A pointer only moves forward, so in an unsorted row an
/// entry that follows a larger target is skipped over and never read (its α sees 0).
fn liquid_alpha_matrix(
    weights: &Sparse,
    bonds: &Sparse,
    consensus: &[I32F32],
    low: I32F32,
    high: I32F32,
    steepness: I32F32,
) -> Vec<Vec<I32F32>> {
    weights
        .iter()
        .zip(bonds)
        .map(|(w_row, b_row)| {
            let (mut w_at, mut b_at) = (0, 0);
            (0..consensus.len())
                .map(|j| {
                    let w = walk_to(w_row, &mut w_at, j);
                    let b = walk_to(b_row, &mut b_at, j);
                    alpha_sigmoid(consensus[j], w, b, low, high, steepness)
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Storage reads.
// ---------------------------------------------------------------------------------------------

/// `get_weights_sparse`: stored rows, targets `< n` only, values as I32F32 integers.
fn read_weights(rows: &Rows, n: usize) -> Sparse {
    let mut matrix = vec![Vec::new(); n];
    for (&i, row) in rows {
        if usize::from(i) < n {
            matrix[usize::from(i)] =
                row.iter().filter(|&&(j, _)| usize::from(j) < n).map(|&(j, w)| (j, fx(i64::from(w)))).collect();
        }
    }
    matrix
}

/// `get_bonds_sparse` (classic: integers) or `get_bonds_sparse_fixed_proportion` (Yuma3: `/65535`).
fn read_bonds(rows: &Rows, n: usize, proportion: bool) -> Sparse {
    let mut matrix = vec![Vec::new(); n];
    for (&i, row) in rows {
        if usize::from(i) < n {
            matrix[usize::from(i)] =
                row.iter().map(|&(j, b)| (j, if proportion { u16_fraction(b) } else { fx(i64::from(b)) })).collect();
        }
    }
    matrix
}

fn to_fixed_rows(matrix: &Sparse) -> FixedRows {
    matrix
        .iter()
        .enumerate()
        .filter(|(_, row)| !row.is_empty())
        .map(|(i, row)| (i as u16, row.iter().map(|&(j, v)| (j, v.to_bits())).collect()))
        .collect()
}

fn bits(values: &[I32F32]) -> Vec<i64> {
    values.iter().map(|x| x.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------------
// The epoch.
// ---------------------------------------------------------------------------------------------

/// One epoch, computed the plain way, with the intermediate matrices.
pub(crate) fn epoch(input: &EpochInput) -> EpochOutput {
    epoch_with(input, true)
}

/// One epoch, computed the plain way; the intermediate matrices only when asked for (the chain
/// itself never builds them, so the benchmark peer does not either).
pub(crate) fn epoch_with(input: &EpochInput, matrices: bool) -> EpochOutput {
    let p = &input.params;
    let n = input.neurons.len();
    let owner = p.subnet_owner_uid.map(usize::from).filter(|&o| o < n);
    let current_block = input.current_block;
    let last_update: Vec<u64> = input.neurons.iter().map(|x| x.last_update).collect();
    let block_at_registration: Vec<u64> = input.neurons.iter().map(|x| x.block_at_registration).collect();

    // §3.1 Activity.
    let activity_cutoff = (u64::from(p.activity_cutoff_factor_milli) * u64::from(p.tempo) / 1000).max(1);
    let inactive: Vec<bool> = last_update.iter().map(|&u| u.saturating_add(activity_cutoff) < current_block).collect();
    let active: Vec<bool> = inactive.iter().map(|&x| !x).collect();

    // §3.2 Stake.
    let tao_weight = I64F64::saturating_from_num(
        U96F32::saturating_from_num(p.tao_weight)
            .checked_div(U96F32::saturating_from_num(u64::MAX))
            .unwrap_or(U96F32::from_bits(0)),
    );
    let total_stake: Vec<I64F64> = input
        .neurons
        .iter()
        .map(|x| {
            let alpha = I64F64::saturating_from_num(x.stake);
            let tao = I64F64::saturating_from_num(x.tao_stake).saturating_mul(tao_weight);
            alpha.saturating_add(tao)
        })
        .collect();
    let raw_stake: Vec<u64> = total_stake.iter().map(|s| s.saturating_to_num::<u64>()).collect();
    let mut filtered: Vec<I64F64> = total_stake.clone();
    for i in 0..n {
        if Some(i) != owner && raw_stake[i] < p.stake_threshold {
            filtered[i] = I64F64::from_bits(0);
        }
    }
    inplace_normalize_64(&mut filtered);
    let stake: Vec<I32F32> = filtered.iter().map(|&s| I32F32::saturating_from_num(s)).collect();

    // §3.3 Permits: old ones (owner forced) vote now; new ones are stored for the next epoch.
    let mut validator_permits: Vec<bool> = input.neurons.iter().map(|x| x.validator_permit).collect();
    if let Some(o) = owner {
        validator_permits[o] = true;
    }
    let validator_forbids: Vec<bool> = validator_permits.iter().map(|&x| !x).collect();
    let mut new_validator_permits = is_topk_nonzero(&stake, usize::from(p.max_allowed_validators));
    if let Some(o) = owner {
        new_validator_permits[o] = true;
    }

    // §3.4 Active stake.
    let mut active_stake = stake.clone();
    inplace_mask_vector(&inactive, &mut active_stake);
    inplace_mask_vector(&validator_forbids, &mut active_stake);
    inplace_normalize(&mut active_stake);

    // §3.5 Weights.
    let mut weights = read_weights(&input.weights, n);
    weights = mask_rows_sparse(&validator_forbids, &weights);
    weights = mask_diag_sparse_except(&weights, owner);
    weights = vec_mask_sparse_matrix(&weights, &last_update, &block_at_registration, |updated, registered| {
        updated <= registered
    });
    if p.commit_reveal_weights_enabled {
        let commit_blocks: Vec<u64> = input.neurons.iter().map(|x| x.commit_block.unwrap_or(u64::MAX)).collect();
        weights = vec_mask_sparse_matrix(&weights, &commit_blocks, &block_at_registration, |commit, registered| {
            commit < registered
        });
    }
    inplace_row_normalize_sparse(&mut weights);

    // §3.6 Consensus.
    let kappa = u16_fraction(p.kappa);
    let consensus = weighted_median_col_sparse(&active_stake, &weights, n, kappa);

    // §3.7 Clipping and validator trust.
    let clipped_weights = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped_weights);

    // §3.8 Ranks and incentive.
    let ranks = matmul_sparse(&clipped_weights, &active_stake, n);
    let mut incentive = ranks.clone();
    inplace_normalize(&mut incentive);

    // §3.9 Bonds penalty.
    let bonds_penalty = u16_fraction(p.bonds_penalty);
    let weights_for_bonds = interpolate_sparse(&weights, &clipped_weights, n, bonds_penalty);

    // §3.10 / §3.11 Bonds and dividends.
    let last_tempo = if input.last_mechanism_step_block == 0 {
        current_block.saturating_sub(u64::from(p.tempo))
    } else {
        input.last_mechanism_step_block.saturating_add(1)
    };
    let bma = I64F64::saturating_from_num(p.bonds_moving_average)
        .checked_div(I64F64::saturating_from_num(1_000_000))
        .unwrap_or(I64F64::from_bits(0));
    let fixed_alpha = one().saturating_sub(I32F32::saturating_from_num(bma));

    let bonds_in;
    let ema_bonds;
    let mut dividends;
    let stored: Sparse;
    if p.yuma3_enabled {
        let mut bonds = read_bonds(&input.bonds, n, true);
        bonds = scalar_vec_mask_sparse_matrix(&bonds, last_tempo, &block_at_registration, |tempo, registered| {
            tempo <= registered
        });
        let ema = if p.liquid_alpha_enabled && consensus.iter().any(|&c| c != zero()) {
            let alphas = liquid_alpha_matrix(
                &weights_for_bonds,
                &bonds,
                &consensus,
                u16_fraction(p.alpha_low),
                u16_fraction(p.alpha_high),
                fx(i64::from(p.alpha_sigmoid_steepness)),
            );
            mat_ema_alpha_sparse(&weights_for_bonds, &bonds, &alphas)
        } else {
            mat_ema_sparse(&weights_for_bonds, &bonds, fixed_alpha)
        };
        let mut ema_norm = ema.clone();
        inplace_col_normalize_sparse(&mut ema_norm, n);
        // Σ_j EMA_norm[i][j] × incentive[j], as the chain writes it: a row sum of the products.
        let total_bonds = row_sum_sparse(&mat_vec_mul_sparse(&ema_norm, &incentive));
        dividends = vec_mul(&total_bonds, &active_stake);
        inplace_normalize(&mut dividends);
        bonds_in = bonds;
        stored = ema.clone();
        ema_bonds = ema;
    } else {
        let mut bonds = read_bonds(&input.bonds, n, false);
        bonds = scalar_vec_mask_sparse_matrix(&bonds, last_tempo, &block_at_registration, |tempo, registered| {
            tempo <= registered
        });
        inplace_col_normalize_sparse(&mut bonds, n);
        let mut bonds_delta = row_hadamard_sparse(&weights_for_bonds, &active_stake);
        inplace_col_normalize_sparse(&mut bonds_delta, n);
        let mut ema = mat_ema_sparse(&bonds_delta, &bonds, fixed_alpha);
        inplace_col_normalize_sparse(&mut ema, n);
        dividends = matmul_transpose_sparse(&ema, &incentive);
        inplace_normalize(&mut dividends);
        let mut upscaled = ema.clone();
        inplace_col_max_upscale_sparse(&mut upscaled, n);
        bonds_in = bonds;
        ema_bonds = ema;
        stored = upscaled;
    }

    // §3.12 Emission.
    let combined: Vec<I32F32> = incentive.iter().zip(&dividends).map(|(&i, &d)| i.saturating_add(d)).collect();
    let emission_sum = plain_sum(combined.iter().copied());
    let mut server_n = incentive.clone();
    let mut validator_n = dividends.clone();
    let mut combined_n = combined;
    inplace_normalize_using_sum(&mut server_n, emission_sum);
    inplace_normalize_using_sum(&mut validator_n, emission_sum);
    inplace_normalize(&mut combined_n);
    if emission_sum == zero() {
        let fallback = if plain_sum(active_stake.iter().copied()) == zero() { &stake } else { &active_stake };
        validator_n.clone_from(fallback);
        combined_n.clone_from(fallback);
    }
    let rao = I96F32::saturating_from_num(input.rao_emission);
    let to_rao = |shares: &[I32F32]| -> Vec<u64> {
        shares.iter().map(|&x| I96F32::saturating_from_num(x).saturating_mul(rao).saturating_to_num::<u64>()).collect()
    };

    // §3.10.6 / §3.11.7 Bonds storage: rows of new permits, others empty.
    let mut bonds_out: Rows = BTreeMap::new();
    for (i, row) in stored.iter().enumerate() {
        if new_validator_permits[i] && !row.is_empty() {
            bonds_out.insert(i as u16, row.iter().map(|&(j, v)| (j, to_u16(v))).collect());
        }
    }

    let u16s = |x: &[I32F32]| -> Vec<u16> { x.iter().map(|&v| to_u16(v)).collect() };
    EpochOutput {
        active,
        validator_permit: new_validator_permits,
        stake: raw_stake,
        stake_weight: u16s(&stake),
        consensus: u16s(&consensus),
        incentive: u16s(&incentive),
        dividends: u16s(&dividends),
        validator_trust: u16s(&validator_trust),
        server_emission: to_rao(&server_n),
        validator_emission: to_rao(&validator_n),
        emission: to_rao(&combined_n),
        bonds: bonds_out,
        derived: Derived {
            activity_cutoff_blocks: activity_cutoff,
            last_tempo,
            kappa: kappa.to_bits(),
            bonds_penalty: bonds_penalty.to_bits(),
        },
        fixed: FixedVectors {
            stake: bits(&stake),
            active_stake: bits(&active_stake),
            consensus: bits(&consensus),
            validator_trust: bits(&validator_trust),
            ranks: bits(&ranks),
            incentive: bits(&incentive),
            dividends: bits(&dividends),
            normalized_server_emission: bits(&server_n),
            normalized_validator_emission: bits(&validator_n),
            normalized_combined_emission: bits(&combined_n),
        },
        matrices: matrices.then(|| Matrices {
            weights: to_fixed_rows(&weights),
            clipped_weights: to_fixed_rows(&clipped_weights),
            weights_for_bonds: to_fixed_rows(&weights_for_bonds),
            bonds_in: to_fixed_rows(&bonds_in),
            ema_bonds: to_fixed_rows(&ema_bonds),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The reference against the chain's own vectors.
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    /// Every vector file in `tests/vectors/`, parsed, with its file name.
    fn vector_files() -> Vec<(String, yuma::VectorFile)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                let file = yuma::VectorFile::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                (path.file_name().unwrap_or_default().to_string_lossy().into_owned(), file)
            })
            .collect()
    }

    use substrate_fixed::types::I32F32;

    use super::{alpha_sigmoid, fx, inplace_col_normalize_sparse, one, u16_fraction, zero};

    /// With `alpha_low > alpha_high` (the storage item allows it, the setter does not) the chain's
    /// clamp returns the lower bound: it caps at `high` first, then floors at `low`.
    #[test]
    fn liquid_alpha_clamp_caps_then_floors() {
        let (low, high) = (u16_fraction(55_695), u16_fraction(0));
        for (w, b, c) in [(one(), zero(), zero()), (zero(), one(), zero()), (zero(), zero(), zero())] {
            assert_eq!(alpha_sigmoid(c, w, b, low, high, fx(1000)), low);
        }
        let (low, high) = (u16_fraction(45_875), u16_fraction(58_982));
        let alpha = alpha_sigmoid(zero(), one(), zero(), low, high, fx(1000));
        assert!(low < alpha && alpha <= high);
    }

    /// Column sums saturate instead of wrapping, so a column of huge values still normalises to
    /// non-negative shares.
    #[test]
    fn column_sums_saturate() {
        let mut matrix = vec![vec![(0, I32F32::max_value())], vec![(0, I32F32::max_value())]];
        inplace_col_normalize_sparse(&mut matrix, 1);
        assert_eq!(matrix, vec![vec![(0, one())], vec![(0, one())]]);
    }

    /// The reference reproduces every field of every epoch of every public vector, matrices
    /// included where the vector has them. Epochs run on their own threads: the n = 1024
    /// liquid-alpha vector costs the reference (like the chain) about a million `exp` calls each.
    #[test]
    fn reference_matches_vectors() {
        let files = vector_files();
        assert_eq!(files.len(), 20, "expected the 20 public vector files");
        let epochs: Vec<(&str, usize, &yuma::VectorEpoch)> = files
            .iter()
            .flat_map(|(name, file)| file.epochs.iter().enumerate().map(move |(k, e)| (name.as_str(), k, e)))
            .collect();
        let failures: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = epochs
                .iter()
                .map(|&(name, k, epoch)| {
                    scope.spawn(move || {
                        let Some(expected) = epoch.expected.as_ref() else {
                            return Some(format!("{name} epoch {k}: no expected output"));
                        };
                        super::epoch(&epoch.input).first_mismatch(expected).map(|m| format!("{name} epoch {k}: {m}"))
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().expect("reference panicked")).collect()
        });
        assert!(failures.is_empty(), "{} of {} epochs differ:\n{}", failures.len(), epochs.len(), failures.join("\n"));
        assert!(epochs.len() >= 20);
    }
}
