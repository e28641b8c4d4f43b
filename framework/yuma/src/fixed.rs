//! Fixed-point primitives with the chain's rounding.
//!
//! Multiplication floors (exact double-width product, arithmetic shift), division truncates and
//! yields 0 on division by zero or overflow (`safe_div`), and a plain sum wraps like the chain's
//! release build does (valid inputs never get near that).

use substrate_fixed::types::{I32F32, I64F64};

/// 0 as `I32F32`.
pub(crate) const ZERO: I32F32 = I32F32::from_bits(0);
/// 1 as `I32F32`.
pub(crate) const ONE: I32F32 = I32F32::from_bits(1 << 32);

/// `a × b` floored, saturating at the type's bounds: substrate-fixed's `saturating_mul`.
///
/// That one multiplies in 128 bits with an overflow check; one widening 64-bit multiply gives the
/// same bits, because the product of two `i64` always fits in an `i128`.
#[inline]
pub(crate) fn mul(a: I32F32, b: I32F32) -> I32F32 {
    let product = (i128::from(a.to_bits()) * i128::from(b.to_bits())) >> 32;
    I32F32::from_bits(product.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// `a × b` floored, or 0 when it does not fit: `checked_mul(..).unwrap_or(0)`.
#[inline]
pub(crate) fn mul_or_zero(a: I32F32, b: I32F32) -> I32F32 {
    let product = (i128::from(a.to_bits()) * i128::from(b.to_bits())) >> 32;
    i64::try_from(product).map_or(ZERO, I32F32::from_bits)
}

/// A `u16` as an `I32F32` integer.
#[inline]
pub(crate) fn from_u16(value: u16) -> I32F32 {
    I32F32::from_bits(i64::from(value) << 32)
}

/// `⌊share × rao⌋` as the chain pays emission: `I96F32(share) × I96F32(rao)`, saturated to `u64`.
///
/// `rao` is an integer, so the `I96F32` product is exactly `share_bits × rao` (it always fits in
/// 128 bits) and the conversion floors it; no wide multiplication is needed.
pub(crate) fn share_of(share: I32F32, rao: u64) -> u64 {
    let product = (i128::from(share.to_bits()) * i128::from(rao)) >> 32;
    product.clamp(0, i128::from(u64::MAX)) as u64
}

/// `I32F32(stake / total)` as the chain normalises stake: an `I64F64` quotient (0 on overflow or
/// division by zero), then floored to `I32F32`.
///
/// The two floors compose into `⌊stake·2³² / total⌋` on the raw bits; with a common power of two
/// cancelled (integer stakes have 64 zero bits) that is one 128-bit division, instead of the
/// 192-bit long division of `I64F64::checked_div`. Same bits either way.
pub(crate) fn share_of_total(stake: I64F64, total: I64F64) -> I32F32 {
    let (x, y) = (stake.to_bits(), total.to_bits());
    if x >= 0 && y > 0 {
        let common = (x | y).trailing_zeros();
        let (x, y) = ((x as u128) >> common, (y as u128) >> common);
        if x < 1 << 95 {
            let quotient = (x << 32) / y;
            return match quotient {
                // The I64F64 quotient itself would not fit: the chain's `safe_div` gives 0.
                q if q >= 1 << 95 => ZERO,
                q => I32F32::from_bits(i64::try_from(q).unwrap_or(i64::MAX)),
            };
        }
    }
    I32F32::saturating_from_num(stake.checked_div(total).unwrap_or(I64F64::from_bits(0)))
}

/// `a / b`, or 0 when `b` is 0 or the quotient does not fit (the chain's `safe_div`).
///
/// The quotient's bits are `trunc(a·2³² / b)` on the raw bits. For the non-negative operands the
/// epoch divides, a common power of two is cancelled first; whenever the reduced dividend is below
/// 2³² (every proportion, and every integer weight over an integer sum) the division fits in 64
/// bits, several times cheaper than the 128-bit division `checked_div` does. Same bits either way.
pub(crate) fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    let (x, y) = (a.to_bits(), b.to_bits());
    if x >= 0 && y > 0 {
        let common = (x | y).trailing_zeros();
        let (x, y) = ((x as u64) >> common, (y as u64) >> common);
        if x < 1 << 32 {
            let quotient = (x << 32) / y;
            return i64::try_from(quotient).map_or(ZERO, I32F32::from_bits);
        }
    }
    a.checked_div(b).unwrap_or(ZERO)
}

/// One divisor applied to many values, each result exactly [`safe_div`]'s.
///
/// Normalising a row, a column or a vector divides by the same sum again and again, and the
/// quotient's bits are `⌊x·2³² / y⌋` on the raw bits. Here that division is a multiplication by a
/// precomputed reciprocal: the estimate `⌊n·m / 2⁶⁴⌋` with `m = ⌊(2⁶⁴ − 1) / d⌋` is at most one below
/// `⌊n / d⌋`, and one compare fixes it. Two shapes of dividend fit in 64 bits: a proportion
/// (`x < 2³²`, so `n = x·2³²` and `d = y`), and an integer over an integer divisor (both with 32 low
/// zero bits, which cancel: `n = x` and `d = y / 2³²`), the shape of a row of `u16` weights over
/// its sum. Anything else takes [`safe_div`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisor {
    /// The divisor's bits.
    bits: i64,
    /// Reciprocal of the divisor's bits, for proportions; 0 when the divisor is not positive.
    reciprocal: u64,
    /// The divisor's integer part when the divisor is a positive integer, else 0.
    whole: u64,
    /// Reciprocal of `whole`.
    whole_reciprocal: u64,
}

impl Divisor {
    /// Prepares division by `divisor`.
    pub(crate) fn new(divisor: I32F32) -> Divisor {
        let bits = divisor.to_bits();
        if bits <= 0 {
            return Divisor { bits, reciprocal: 0, whole: 0, whole_reciprocal: 0 };
        }
        let whole = if bits & 0xffff_ffff == 0 { (bits >> 32) as u64 } else { 0 };
        let whole_reciprocal = u64::MAX.checked_div(whole).unwrap_or(0);
        Divisor { bits, reciprocal: u64::MAX / bits as u64, whole, whole_reciprocal }
    }

    /// `safe_div(value, divisor)`.
    #[inline]
    pub(crate) fn divide(&self, value: I32F32) -> I32F32 {
        let x = value.to_bits();
        if self.reciprocal != 0 && (0..1 << 32).contains(&x) {
            return exact_quotient((x as u64) << 32, self.bits as u64, self.reciprocal);
        }
        if self.whole != 0 && x >= 0 && x & 0xffff_ffff == 0 {
            return exact_quotient(x as u64, self.whole, self.whole_reciprocal);
        }
        safe_div(value, I32F32::from_bits(self.bits))
    }

    /// `value` divided, or unchanged when the divisor is 0: how the chain normalises a column.
    #[inline]
    pub(crate) fn divide_unless_zero(&self, value: I32F32) -> I32F32 {
        if self.bits == 0 { value } else { self.divide(value) }
    }
}

/// `⌊dividend / divisor⌋` as `I32F32` bits (0 when it does not fit), from `reciprocal = ⌊(2⁶⁴ − 1) / divisor⌋`.
#[inline]
fn exact_quotient(dividend: u64, divisor: u64, reciprocal: u64) -> I32F32 {
    let estimate = ((u128::from(dividend) * u128::from(reciprocal)) >> 64) as u64;
    // Without a branch: whether the estimate is one short is data, and unpredictable.
    let quotient = estimate + u64::from(dividend - estimate * divisor >= divisor);
    i64::try_from(quotient).map_or(ZERO, I32F32::from_bits)
}

/// `value / 65535`, truncated: how the chain reads a `u16` proportion (kappa, penalty, alpha bounds, Yuma3 bonds).
///
/// As `2³² = 65535 · 65537 + 1`, the quotient's bits are `65537·v + ⌊v / 65535⌋`, no division needed.
pub(crate) fn u16_proportion(value: u16) -> I32F32 {
    let v = i64::from(value);
    I32F32::from_bits(v * 65_537 + i64::from(value == u16::MAX))
}

/// `floor(x × 65535)`, clamped to `u16`: how the chain stores every proportion.
pub(crate) fn proportion_to_u16(x: I32F32) -> u16 {
    (mul(x, from_u16(u16::MAX)).to_bits() >> 32).clamp(0, i64::from(u16::MAX)) as u16
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
        let total = Divisor::new(total);
        values.iter_mut().for_each(|x| *x = total.divide(*x));
    }
}

/// Raw bits of each value, the form the vectors record.
pub(crate) fn bits(values: &[I32F32]) -> Vec<i64> {
    values.iter().map(|x| x.to_bits()).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use substrate_fixed::types::I32F32;

    use substrate_fixed::types::I96F32;

    use substrate_fixed::types::I64F64;

    use super::{
        Divisor, ZERO, mul, mul_or_zero, proportion_to_u16, safe_div, share_of, share_of_total, u16_proportion,
    };

    fn chain_div(a: I32F32, b: I32F32) -> I32F32 {
        a.checked_div(b).unwrap_or(ZERO)
    }

    #[test]
    fn u16_proportion_matches_division_for_every_value() {
        for v in 0..=u16::MAX {
            assert_eq!(u16_proportion(v), chain_div(I32F32::from_num(v), I32F32::from_num(u16::MAX)), "v = {v}");
        }
    }

    /// Bits shaped like the epoch's operands: proportions, integers, and anything at all.
    fn operand() -> impl Strategy<Value = i64> {
        prop_oneof![
            0..=(1i64 << 32),
            (0..=u64::from(u16::MAX) << 16).prop_map(|w| (w as i64) << 16),
            (0..1i64 << 20).prop_map(|w| w << 32),
            any::<i64>(),
            Just(0),
            Just(1),
            Just(i64::MAX),
            Just(i64::MIN),
        ]
    }

    /// `I64F64` bits shaped like stakes: integers (alpha only), with fractions (tao), and anything.
    fn stake_bits() -> impl Strategy<Value = i128> {
        prop_oneof![
            (0..=u64::MAX >> 1).prop_map(|rao| i128::from(rao) << 64),
            (0..1u64 << 40, any::<u64>()).prop_map(|(rao, frac)| i128::from(rao) << 64 | i128::from(frac)),
            any::<i128>(),
            Just(0),
            Just(1),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn multiplication_is_substrate_fixed(a in operand(), b in operand()) {
            let (a, b) = (I32F32::from_bits(a), I32F32::from_bits(b));
            prop_assert_eq!(mul(a, b), a.saturating_mul(b));
            prop_assert_eq!(mul_or_zero(a, b), a.checked_mul(b).unwrap_or(ZERO));
            prop_assert_eq!(
                proportion_to_u16(a),
                a.saturating_mul(I32F32::from_num(u16::MAX)).saturating_to_num::<u16>()
            );
        }

        #[test]
        fn stake_share_is_the_chains_i64f64_quotient(stake in stake_bits(), total in stake_bits()) {
            let (stake, total) = (I64F64::from_bits(stake), I64F64::from_bits(total));
            let chain = I32F32::saturating_from_num(stake.checked_div(total).unwrap_or(I64F64::from_bits(0)));
            prop_assert_eq!(share_of_total(stake, total), chain);
        }

        #[test]
        fn share_of_is_the_chains_i96f32_product(share in operand(), rao in any::<u64>()) {
            let share = I32F32::from_bits(share);
            let chain = I96F32::saturating_from_num(share)
                .saturating_mul(I96F32::saturating_from_num(rao))
                .saturating_to_num::<u64>();
            prop_assert_eq!(share_of(share, rao), chain);
        }

        #[test]
        fn fast_division_is_exact(a in operand(), b in operand()) {
            let (a, b) = (I32F32::from_bits(a), I32F32::from_bits(b));
            prop_assert_eq!(safe_div(a, b), chain_div(a, b));
            prop_assert_eq!(Divisor::new(b).divide(a), chain_div(a, b));
        }
    }
}
