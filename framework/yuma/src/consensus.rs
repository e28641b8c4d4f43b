//! Consensus: the stake-weighted median of each column of the weight matrix.
//!
//! The voters are the uids with non-zero active stake, in uid order; their stakes are normalised
//! again into `u` (whose sum `U` may fall just short of 1), and `m = U − κ`. In column `j` every
//! voter contributes its weight (0 if it has none) with weight `u[i]`; the consensus is the smallest
//! contributed value `v` whose cumulative weight `D(v)` (the weight of contributions `≤ v`) exceeds
//! `m`, or the largest value if none does. Fixed-point addition is exact, so this closed form gives
//! the same bits as the chain's pivot search; here it costs one pass over the non-zero weights of
//! the voters plus a sort per column, instead of one pass over all voters for every column.

use substrate_fixed::types::I32F32;

use crate::fixed::{ZERO, normalize, sum};
use crate::sparse::Csr;

/// Stake-weighted median of each column of `weights` (`n` columns), over voters with `active_stake > 0`.
pub(crate) fn weighted_median_columns(weights: &Csr, active_stake: &[I32F32], kappa: I32F32, n: usize) -> Vec<I32F32> {
    let voters: Vec<usize> = (0..active_stake.len()).filter(|&i| active_stake[i] > ZERO).collect();
    let mut consensus = vec![ZERO; n];
    if voters.is_empty() {
        return consensus;
    }
    let mut u: Vec<I32F32> = voters.iter().map(|&i| active_stake[i]).collect();
    normalize(&mut u);
    let total = sum(&u);
    let minority = total.saturating_sub(kappa);

    // Gather each column's positive contributions as (value, voter weight), bucketed by column.
    let mut starts = vec![0usize; n + 1];
    for &i in &voters {
        for &(j, w) in weights.row(i) {
            if w > ZERO {
                starts[usize::from(j) + 1] += 1;
            }
        }
    }
    for j in 0..n {
        starts[j + 1] += starts[j];
    }
    let mut fill = starts.clone();
    let mut buckets = vec![(ZERO, ZERO); starts[n]];
    for (&i, &weight) in voters.iter().zip(&u) {
        for &(j, w) in weights.row(i) {
            if w > ZERO {
                let slot = &mut fill[usize::from(j)];
                buckets[*slot] = (w, weight);
                *slot += 1;
            }
        }
    }

    for (j, c) in consensus.iter_mut().enumerate() {
        let column = &mut buckets[starts[j]..starts[j + 1]];
        *c = column_median(column, voters.len(), total, minority);
    }
    consensus
}

/// Median of one column given its positive contributions; the other `voters − len` voters contribute 0.
fn column_median(positive: &mut [(I32F32, I32F32)], voters: usize, total: I32F32, minority: I32F32) -> I32F32 {
    let mut cumulative = ZERO;
    if positive.len() < voters {
        // Zero contributions: the weight of every voter without a positive entry.
        cumulative = positive.iter().fold(total, |acc, &(_, u)| acc.wrapping_sub(u));
        if cumulative > minority {
            return ZERO;
        }
    }
    positive.sort_unstable_by_key(|&(value, _)| value);
    let mut k = 0;
    while k < positive.len() {
        let value = positive[k].0;
        while k < positive.len() && positive[k].0 == value {
            cumulative = cumulative.wrapping_add(positive[k].1);
            k += 1;
        }
        if cumulative > minority {
            return value;
        }
    }
    positive.last().map_or(ZERO, |&(value, _)| value)
}
