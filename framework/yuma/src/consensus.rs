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
///
/// `buckets` is scratch space, kept by the caller between epochs.
pub(crate) fn weighted_median_columns(
    buckets: &mut Vec<(I32F32, I32F32)>,
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

    // First pass: the weight of zero contributions in each column. Where it already exceeds the
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
    // Columns whose median is positive get their contributions gathered, bucketed by column.
    let mut starts = vec![0usize; n + 1];
    for j in 0..n {
        let open = positives[j] > 0 && (positives[j] == voters.len() || zero_weight[j] <= minority);
        starts[j + 1] = starts[j] + if open { positives[j] } else { 0 };
    }
    buckets.clear();
    buckets.resize(starts[n], (ZERO, ZERO));
    let mut fill = starts.clone();
    for (&i, &weight) in voters.iter().zip(&u) {
        for &(j, w) in weights.row(i) {
            let j = usize::from(j);
            if w > ZERO && fill[j] < starts[j + 1] {
                buckets[fill[j]] = (w, weight);
                fill[j] += 1;
            }
        }
    }

    for (j, c) in consensus.iter_mut().enumerate() {
        if starts[j] < starts[j + 1] {
            let has_zeros = positives[j] < voters.len();
            let below = if has_zeros { zero_weight[j] } else { ZERO };
            *c = column_median(&mut buckets[starts[j]..starts[j + 1]], below, minority);
        }
    }
    consensus
}

/// Median of one column from its positive contributions, `below` being the weight of its zeros
/// (which is at most `minority`, or the median would be 0).
fn column_median(positive: &mut [(I32F32, I32F32)], mut below: I32F32, minority: I32F32) -> I32F32 {
    // Weighted selection: `below` is the weight of every contribution smaller than all of `slice`.
    // Going left means the answer is in the left part; going right keeps the column's largest value
    // in `slice`, which is the answer when no value's cumulative weight exceeds `minority`.
    let mut slice = positive;
    while slice.len() > SMALL_COLUMN {
        let pivot = median_of_three(slice);
        let (less, equal) = partition3(slice, pivot);
        let weight_less = slice[..less].iter().fold(ZERO, |acc, &(_, u)| acc.wrapping_add(u));
        let weight_equal = slice[less..less + equal].iter().fold(ZERO, |acc, &(_, u)| acc.wrapping_add(u));
        if below.wrapping_add(weight_less) > minority {
            slice = &mut std::mem::take(&mut slice)[..less];
        } else if below.wrapping_add(weight_less).wrapping_add(weight_equal) > minority || less + equal == slice.len() {
            return pivot;
        } else {
            below = below.wrapping_add(weight_less).wrapping_add(weight_equal);
            slice = &mut std::mem::take(&mut slice)[less + equal..];
        }
    }
    insertion_sort_by_value(slice);
    let mut k = 0;
    while k < slice.len() {
        let value = slice[k].0;
        while k < slice.len() && slice[k].0 == value {
            below = below.wrapping_add(slice[k].1);
            k += 1;
        }
        if below > minority {
            return value;
        }
    }
    slice.last().map_or(ZERO, |&(value, _)| value)
}

/// Columns up to this length are sorted outright.
const SMALL_COLUMN: usize = 24;

fn median_of_three(slice: &[(I32F32, I32F32)]) -> I32F32 {
    let (a, b, c) = (slice[0].0, slice[slice.len() / 2].0, slice[slice.len() - 1].0);
    a.max(b).min(a.min(b).max(c))
}

/// Reorders `slice` into values `< pivot`, `== pivot`, `> pivot`; returns the first two counts.
fn partition3(slice: &mut [(I32F32, I32F32)], pivot: I32F32) -> (usize, usize) {
    let (mut less, mut next, mut greater) = (0, 0, slice.len());
    while next < greater {
        if slice[next].0 < pivot {
            slice.swap(less, next);
            less += 1;
            next += 1;
        } else if slice[next].0 > pivot {
            greater -= 1;
            slice.swap(next, greater);
        } else {
            next += 1;
        }
    }
    (less, greater - less)
}

fn insertion_sort_by_value(column: &mut [(I32F32, I32F32)]) {
    for k in 1..column.len() {
        let item = column[k];
        let mut at = k;
        while at > 0 && column[at - 1].0 > item.0 {
            column[at] = column[at - 1];
            at -= 1;
        }
        column[at] = item;
    }
}
