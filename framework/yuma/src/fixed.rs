//! Fixed-point primitives with the chain's rounding.
//!
//! Multiplication floors (exact double-width product, arithmetic shift), division truncates and
//! yields 0 on division by zero or overflow (`safe_div`), and a plain sum wraps like the chain's
//! release build does (valid inputs never get near that).

use substrate_fixed::types::I32F32;

/// 0 as `I32F32`.
pub(crate) const ZERO: I32F32 = I32F32::from_bits(0);
/// 1 as `I32F32`.
pub(crate) const ONE: I32F32 = I32F32::from_bits(1 << 32);

/// `a / b`, or 0 when `b` is 0 or the quotient does not fit (the chain's `safe_div`).
pub(crate) fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    a.checked_div(b).unwrap_or(ZERO)
}

/// `value / 65535`, truncated: how the chain reads a `u16` proportion (kappa, penalty, alpha bounds, Yuma3 bonds).
pub(crate) fn u16_proportion(value: u16) -> I32F32 {
    safe_div(I32F32::from_num(value), I32F32::from_num(u16::MAX))
}

/// `floor(x × 65535)`, clamped to `u16`: how the chain stores every proportion.
pub(crate) fn proportion_to_u16(x: I32F32) -> u16 {
    x.saturating_mul(I32F32::from_num(u16::MAX)).saturating_to_num::<u16>()
}

/// Sum that wraps on overflow, as `iter().sum()` does in the chain's release build.
pub(crate) fn sum(values: &[I32F32]) -> I32F32 {
    values.iter().fold(ZERO, |acc, &x| acc.wrapping_add(x))
}

/// Divides every entry by the sum, unless the sum is 0 (`inplace_normalize`).
pub(crate) fn normalize(values: &mut [I32F32]) {
    let total = sum(values);
    normalize_by(values, total);
}

/// Divides every entry by `total`, unless it is 0 (`inplace_normalize_i32f32_with_sum`).
pub(crate) fn normalize_by(values: &mut [I32F32], total: I32F32) {
    if total != ZERO {
        values.iter_mut().for_each(|x| *x = safe_div(*x, total));
    }
}

/// Raw bits of each value, the form the vectors record.
pub(crate) fn bits(values: &[I32F32]) -> Vec<i64> {
    values.iter().map(|x| x.to_bits()).collect()
}
