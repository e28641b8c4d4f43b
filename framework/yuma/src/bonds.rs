//! Bond moving averages: the fixed-alpha EMA (classic and Yuma3) and Yuma3's liquid alpha.

use substrate_fixed::transcendental::exp;
use substrate_fixed::types::{I32F32, I64F64};

use crate::fixed::{ONE, ZERO, u16_proportion};
use crate::sparse::Csr;

/// The fixed EMA coefficient `1 − BondsMovingAverage / 1e6`, computed in `I64F64` and floored to `I32F32`.
pub(crate) fn fixed_alpha(bonds_moving_average: u64) -> I32F32 {
    let memory = I64F64::saturating_from_num(bonds_moving_average)
        .checked_div(I64F64::saturating_from_num(1_000_000))
        .unwrap_or(I64F64::from_bits(0));
    ONE.saturating_sub(I32F32::saturating_from_num(memory))
}

/// Reusable dense row of `n` values that remembers which columns it touched.
struct DenseRow {
    values: Vec<I32F32>,
    touched: Vec<u16>,
}

impl DenseRow {
    fn new(n: usize) -> DenseRow {
        DenseRow { values: vec![ZERO; n], touched: Vec::new() }
    }

    /// Saturating-adds `x` at column `j`. A column counts as touched once, the first time.
    fn add(&mut self, j: u16, x: I32F32) {
        let cell = &mut self.values[usize::from(j)];
        if *cell == ZERO {
            self.touched.push(j);
        }
        *cell = cell.saturating_add(x);
    }
}

/// `α·new + (1 − α)·old` per entry (`mat_ema_sparse`): each row sums `α × new` entries, then
/// `(1 − α) × old` entries, and keeps the positive results sorted by column.
pub(crate) fn ema_fixed(new: &Csr, old: &Csr, alpha: I32F32, n: usize) -> Csr {
    let keep = ONE.saturating_sub(alpha);
    let mut row = DenseRow::new(n);
    Csr::build(new.rows(), new.nnz() + old.nnz(), |i, out| {
        for &(j, v) in new.row(i) {
            row.add(j, alpha.saturating_mul(v));
        }
        for &(j, v) in old.row(i) {
            row.add(j, keep.saturating_mul(v));
        }
        // A column whose running sum returned to zero may be listed twice; sorting and the
        // reset below make that harmless.
        row.touched.sort_unstable();
        row.touched.dedup();
        for &j in &row.touched {
            let value = std::mem::replace(&mut row.values[usize::from(j)], ZERO);
            if value > ZERO {
                out.push((j, value));
            }
        }
        row.touched.clear();
    })
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
        let exponent = self.slope.saturating_mul(distance.saturating_sub(I32F32::from_num(0.5)));
        let sigmoid = ONE.saturating_div(ONE.saturating_add(exp_safe(exponent)));
        let alpha = self.low.saturating_add(sigmoid.saturating_mul(self.high.saturating_sub(self.low)));
        clamp(alpha, self.low, self.high)
    }

    /// Yuma3's EMA with a per-bond alpha (`mat_ema_alpha_sparse` over `compute_liquid_alpha_values_sparse`).
    ///
    /// Only targets in the bond-weight row survive: `min(1, (1 − α)·b + max(0, α·w))`, in that
    /// row's order, kept when positive. The `w` and `b` that set `α` are found as the chain finds
    /// them, with one forward pointer per row while `j` runs over `0..n`: an entry is seen only if
    /// its target exceeds every target before it in the row, so entries after a larger target in an
    /// unsorted row count as 0. The decayed `b` itself is looked up directly.
    pub(crate) fn ema(&self, new: &Csr, old: &Csr, consensus: &[I32F32]) -> Csr {
        let n = consensus.len();
        let mut seen_w = vec![ZERO; n];
        let mut seen_b = vec![ZERO; n];
        let mut stored_b = vec![ZERO; n];
        Csr::build(new.rows(), new.nnz(), |i, out| {
            mark_visible(new.row(i), &mut seen_w);
            mark_visible(old.row(i), &mut seen_b);
            for &(j, b) in old.row(i) {
                stored_b[usize::from(j)] = b;
            }
            for &(j, w) in new.row(i) {
                let k = usize::from(j);
                let alpha = self.alpha(consensus[k], seen_w[k], seen_b[k]);
                let decayed = ONE.saturating_sub(alpha).saturating_mul(stored_b[k]);
                let gained = alpha.saturating_mul(w).max(ZERO);
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
