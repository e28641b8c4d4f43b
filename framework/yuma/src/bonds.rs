//! Bond moving averages: the fixed-alpha EMA (classic and Yuma3) and Yuma3's liquid alpha.

use substrate_fixed::transcendental::exp;
use substrate_fixed::types::{I32F32, I64F64};

use crate::fixed::{ONE, ZERO, mul, u16_proportion};
use crate::sparse::{Csr, Pool};

/// The fixed EMA coefficient `1 − BondsMovingAverage / 1e6`, computed in `I64F64` and floored to `I32F32`.
pub(crate) fn fixed_alpha(bonds_moving_average: u64) -> I32F32 {
    let memory = I64F64::saturating_from_num(bonds_moving_average)
        .checked_div(I64F64::saturating_from_num(1_000_000))
        .unwrap_or(I64F64::from_bits(0));
    ONE.saturating_sub(I32F32::saturating_from_num(memory))
}

/// Reusable dense row of `n` values that lists its non-empty columns in order without sorting them.
struct DenseRow {
    values: Vec<I32F32>,
    /// One bit per column that received a value.
    occupied: Vec<u64>,
    /// Indices of the non-zero words of `occupied`.
    words: Vec<usize>,
}

impl DenseRow {
    fn new(n: usize) -> DenseRow {
        DenseRow { values: vec![ZERO; n], occupied: vec![0; n.div_ceil(64)], words: Vec::new() }
    }

    /// Saturating-adds `x` at column `j`.
    fn add(&mut self, j: u16, x: I32F32) {
        let j = usize::from(j);
        let word = &mut self.occupied[j / 64];
        if *word == 0 {
            self.words.push(j / 64);
        }
        *word |= 1 << (j % 64);
        self.values[j] = self.values[j].saturating_add(x);
    }

    /// Moves the positive values to `out` in column order and clears the row.
    fn drain_positive(&mut self, out: &mut Vec<(u16, I32F32)>) {
        self.words.sort_unstable();
        for &w in &self.words {
            let mut bits = std::mem::take(&mut self.occupied[w]);
            while bits != 0 {
                let j = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let value = std::mem::replace(&mut self.values[j], ZERO);
                if value > ZERO {
                    out.push((j as u16, value));
                }
            }
        }
        self.words.clear();
    }
}

/// `α·new + (1 − α)·old` per entry (`mat_ema_sparse`): each row sums `α × new` entries, then
/// `(1 − α) × old` entries, and keeps the positive results sorted by column.
///
/// Rows already sorted by column (the usual case: the EMA writes its rows sorted) are merged in
/// one pass; others go through a dense row.
pub(crate) fn ema_fixed(pool: &mut Pool, new: &Csr, old: &Csr, alpha: I32F32, n: usize) -> Csr {
    let keep = ONE.saturating_sub(alpha);
    let mut row = DenseRow::new(n);
    pool.build(new.rows(), new.nnz() + old.nnz(), |i, out| {
        let (fresh, stale) = (new.row(i), old.row(i));
        if is_sorted(fresh) && is_sorted(stale) {
            merge_positive(fresh, stale, |v| mul(alpha, v), |v| mul(keep, v), out);
            return;
        }
        for &(j, v) in fresh {
            row.add(j, mul(alpha, v));
        }
        for &(j, v) in stale {
            row.add(j, mul(keep, v));
        }
        row.drain_positive(out);
    })
}

/// Whether a row's targets strictly increase.
fn is_sorted(row: &[(u16, I32F32)]) -> bool {
    row.windows(2).all(|pair| pair[0].0 < pair[1].0)
}

/// Pushes `f(a) + g(b)` (saturating) for the union of two sorted rows, keeping positive values.
fn merge_positive(
    a: &[(u16, I32F32)],
    b: &[(u16, I32F32)],
    f: impl Fn(I32F32) -> I32F32,
    g: impl Fn(I32F32) -> I32F32,
    out: &mut Vec<(u16, I32F32)>,
) {
    let mut push = |j: u16, value: I32F32| {
        if value > ZERO {
            out.push((j, value));
        }
    };
    let (mut x, mut y) = (0, 0);
    while x < a.len() && y < b.len() {
        let ((ja, va), (jb, vb)) = (a[x], b[y]);
        if ja < jb {
            push(ja, f(va));
            x += 1;
        } else if jb < ja {
            push(jb, g(vb));
            y += 1;
        } else {
            push(ja, f(va).saturating_add(g(vb)));
            x += 1;
            y += 1;
        }
    }
    a[x..].iter().for_each(|&(j, v)| push(j, f(v)));
    b[y..].iter().for_each(|&(j, v)| push(j, g(v)));
}

/// Liquid-alpha parameters, read once per epoch.
pub(crate) struct LiquidAlpha {
    low: I32F32,
    high: I32F32,
    /// `steepness / −100`, the sigmoid's slope.
    slope: I32F32,
}

impl LiquidAlpha {
    /// Reads the bounds (`u16 / 65535`) and the steepness.
    pub(crate) fn new(alpha_low: u16, alpha_high: u16, steepness: i16) -> LiquidAlpha {
        LiquidAlpha {
            low: u16_proportion(alpha_low),
            high: u16_proportion(alpha_high),
            slope: I32F32::from_num(steepness).saturating_div(I32F32::from_num(-100)),
        }
    }

    /// The per-bond coefficient for weight `w` and bond `b` on a uid with consensus `c` (`alpha_sigmoid`).
    fn alpha(&self, c: I32F32, w: I32F32, b: I32F32) -> I32F32 {
        let buy = clamp(w.saturating_sub(c), ZERO, ONE);
        let sell = clamp(b.saturating_sub(w), ZERO, ONE);
        let distance = if w >= b { buy } else { sell };
        let exponent = mul(self.slope, distance.saturating_sub(I32F32::from_num(0.5)));
        let sigmoid = ONE.saturating_div(ONE.saturating_add(exp_safe(exponent)));
        let alpha = self.low.saturating_add(mul(sigmoid, self.high.saturating_sub(self.low)));
        clamp(alpha, self.low, self.high)
    }

    /// Yuma3's EMA with a per-bond alpha (`mat_ema_alpha_sparse` over `compute_liquid_alpha_values_sparse`).
    ///
    /// Only targets in the bond-weight row survive: `min(1, (1 − α)·b + max(0, α·w))`, in that
    /// row's order, kept when positive. The `w` and `b` that set `α` are found as the chain finds
    /// them, with one forward pointer per row while `j` runs over `0..n`: an entry is seen only if
    /// its target exceeds every target before it in the row, so entries after a larger target in an
    /// unsorted row count as 0. The decayed `b` itself is looked up directly.
    pub(crate) fn ema(&self, pool: &mut Pool, new: &Csr, old: &Csr, consensus: &[I32F32]) -> Csr {
        let n = consensus.len();
        let mut seen_w = vec![ZERO; n];
        let mut seen_b = vec![ZERO; n];
        let mut stored_b = vec![ZERO; n];
        pool.build(new.rows(), new.nnz(), |i, out| {
            mark_visible(new.row(i), &mut seen_w);
            mark_visible(old.row(i), &mut seen_b);
            for &(j, b) in old.row(i) {
                stored_b[usize::from(j)] = b;
            }
            for &(j, w) in new.row(i) {
                let k = usize::from(j);
                let alpha = self.alpha(consensus[k], seen_w[k], seen_b[k]);
                let decayed = mul(ONE.saturating_sub(alpha), stored_b[k]);
                let gained = mul(alpha, w).max(ZERO);
                let value = decayed.saturating_add(gained).min(ONE);
                if value > ZERO {
                    out.push((j, value));
                }
            }
            for &(j, _) in new.row(i) {
                seen_w[usize::from(j)] = ZERO;
            }
            for &(j, _) in old.row(i) {
                seen_b[usize::from(j)] = ZERO;
                stored_b[usize::from(j)] = ZERO;
            }
        })
    }
}

/// Writes into `seen` the entries a forward pointer walk over `0..n` would find: running records of the target.
fn mark_visible(row: &[(u16, I32F32)], seen: &mut [I32F32]) {
    let mut highest: Option<u16> = None;
    for &(j, v) in row {
        if highest.is_none_or(|h| j > h) {
            seen[usize::from(j)] = v;
            highest = Some(j);
        }
    }
}

/// `min(max(x, …))` in the chain's order: first cap at `high`, then floor at `low`.
fn clamp(x: I32F32, low: I32F32, high: I32F32) -> I32F32 {
    x.min(high).max(low)
}

/// `exp(x)` with `x` clamped to `[−20, 20]`, as substrate-fixed computes it (`exp_safe`).
fn exp_safe(x: I32F32) -> I32F32 {
    let x = x.clamp(I32F32::from_num(-20), I32F32::from_num(20));
    exp::<I32F32, I32F32>(x).unwrap_or(if x <= ZERO { ZERO } else { I32F32::max_value() })
}
