//! Consensus: the stake-weighted median of each column of the weight matrix.
//!
//! The voters are the uids with non-zero active stake, in uid order; their stakes are normalised
//! again into `u` (whose sum `U` may fall just short of 1), and `m = U − κ`. In column `j` every
//! voter contributes its weight (0 if it has none) with weight `u[i]`; the consensus is the smallest
//! contributed value `v` whose cumulative weight `D(v)` (the weight of contributions `≤ v`) exceeds
//! `m`, or the largest value if none does. Fixed-point addition is exact, so this closed form gives
//! the same bits as the chain's pivot search; here it costs one pass over the non-zero weights of
//! the voters plus a sort of the columns whose median is not 0, instead of one pass over all
//! voters for every column.

use substrate_fixed::types::I32F32;

use crate::fixed::{ZERO, normalize, sum};
use crate::sparse::Csr;

/// Stake-weighted median of each column of `weights` (`n` columns), over voters with `active_stake > 0`.
///
/// `keys` is scratch space, kept by the caller between epochs.
pub(crate) fn weighted_median_columns(
    keys: &mut Vec<u64>,
    weights: &Csr,
    active_stake: &[I32F32],
    kappa: I32F32,
    n: usize,
) -> Vec<I32F32> {
    let voters: Vec<usize> = (0..active_stake.len()).filter(|&i| active_stake[i] > ZERO).collect();
    let mut consensus = vec![ZERO; n];
    if voters.is_empty() {
        return consensus;
    }
    let mut u: Vec<I32F32> = voters.iter().map(|&i| active_stake[i]).collect();
    normalize(&mut u);
    let total = sum(&u);
    let minority = total.saturating_sub(kappa);

    // First pass: the weight of the zero contributions in each column. Where it already exceeds the
    // minority, the median is 0 and the column needs nothing more.
    let mut zero_weight = vec![total; n];
    let mut positives = vec![0usize; n];
    for (&i, &weight) in voters.iter().zip(&u) {
        for &(j, w) in weights.row(i) {
            if w > ZERO {
                let j = usize::from(j);
                zero_weight[j] = zero_weight[j].wrapping_sub(weight);
                positives[j] += 1;
            }
        }
    }
    // The other columns get their contributions gathered, bucketed by column, as sortable keys:
    // the value's bits above the voter's index. A weight is at most 65535 (bits < 2⁴⁸) and there
    // are at most 2¹⁶ voters, so a key fits in 64 bits.
    let mut starts = vec![0usize; n + 1];
    for j in 0..n {
        let open = positives[j] > 0 && (positives[j] == voters.len() || zero_weight[j] <= minority);
        starts[j + 1] = starts[j] + if open { positives[j] } else { 0 };
    }
    keys.clear();
    keys.resize(starts[n], 0);
    let mut fill = starts.clone();
    for (voter, &i) in voters.iter().enumerate() {
        for &(j, w) in weights.row(i) {
            let j = usize::from(j);
            if w > ZERO && fill[j] < starts[j + 1] {
                keys[fill[j]] = (w.to_bits() as u64) << VOTER_BITS | voter as u64;
                fill[j] += 1;
            }
        }
    }

    for (j, c) in consensus.iter_mut().enumerate() {
        let column = &mut keys[starts[j]..starts[j + 1]];
        if !column.is_empty() {
            let zeros = if positives[j] < voters.len() { zero_weight[j] } else { ZERO };
            *c = column_median(column, &u, zeros, minority);
        }
    }
    consensus
}

/// Bits of a key that hold the voter's index.
const VOTER_BITS: u32 = 16;

/// The value part of a key.
fn value_of(key: u64) -> I32F32 {
    I32F32::from_bits((key >> VOTER_BITS) as i64)
}

/// Median of one column from its positive contributions (keys); `below` is the weight of its zero
/// contributions, at most `minority` (or the median would be 0).
fn column_median(column: &mut [u64], u: &[I32F32], mut below: I32F32, minority: I32F32) -> I32F32 {
    column.sort_unstable();
    let mut k = 0;
    while k < column.len() {
        let value = column[k] >> VOTER_BITS;
        while k < column.len() && column[k] >> VOTER_BITS == value {
            below = below.wrapping_add(u[(column[k] & ((1 << VOTER_BITS) - 1)) as usize]);
            k += 1;
        }
        if below > minority {
            return value_of(column[k - 1]);
        }
    }
    // No cumulative weight exceeds the minority: the largest value.
    column.last().map_or(ZERO, |&key| value_of(key))
}
