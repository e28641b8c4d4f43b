//! Keeping scores inside `[0, 1]`.
//!
//! The host rejects a batch whose scores are not all finite and inside `[0, 1]`, and the SDK
//! returns an error for such a batch before it leaves the plugin. Formulas that can leave the
//! range (divisions by a zero norm, differences, exponentials) should pass through [`clamp`].
//!
//! ```
//! use sdk_guest::score;
//!
//! assert_eq!(score::clamp(f64::NAN), 0.0);
//! assert_eq!(score::clamp(1.7), 1.0);
//! assert_eq!(score::clamp(-0.2), 0.0);
//! assert_eq!(score::normalize_max(vec![0.0, 2.0, 4.0]), [0.0, 0.5, 1.0]);
//! ```

/// `x` clamped to `[0, 1]`; NaN becomes 0 and `-0.0` becomes `0.0`.
pub fn clamp(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        0.0
    } else if x >= 1.0 {
        1.0
    } else {
        x
    }
}

/// [`clamp`] applied to every score in place.
pub fn clamp_all(scores: &mut [f64]) {
    for s in scores {
        *s = clamp(*s);
    }
}

/// Scores divided by their maximum, so the best is 1, then [`clamp`]ed. All zeros (or no positive
/// finite maximum) stay zero.
pub fn normalize_max(mut scores: Vec<f64>) -> Vec<f64> {
    let max = scores.iter().copied().filter(|x| x.is_finite()).fold(0.0_f64, f64::max);
    if max > 0.0 {
        for s in &mut scores {
            *s /= max;
        }
    }
    clamp_all(&mut scores);
    scores
}

/// Whether `x` is a valid score: finite and inside `[0, 1]`.
pub fn is_valid(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_cases() {
        let cases = [
            (f64::NAN, 0.0),
            (-f64::NAN, 0.0),
            (f64::INFINITY, 1.0),
            (f64::NEG_INFINITY, 0.0),
            (-0.0, 0.0),
            (0.0, 0.0),
            (0.25, 0.25),
            (1.0, 1.0),
            (1.0 + f64::EPSILON, 1.0),
            (f64::MIN_POSITIVE, f64::MIN_POSITIVE),
        ];
        for (x, want) in cases {
            let got = clamp(x);
            assert_eq!(got.to_bits(), want.to_bits(), "clamp({x})");
        }
    }

    #[test]
    fn clamp_all_and_validity() {
        let mut v = [2.0, -1.0, f64::NAN, 0.5];
        clamp_all(&mut v);
        assert_eq!(v, [1.0, 0.0, 0.0, 0.5]);
        assert!(v.iter().all(|&x| is_valid(x)));
        assert!(!is_valid(f64::NAN));
        assert!(!is_valid(1.5));
        assert!(!is_valid(-0.1));
    }

    #[test]
    fn normalize_max_cases() {
        assert_eq!(normalize_max(vec![]), Vec::<f64>::new());
        assert_eq!(normalize_max(vec![0.0, 0.0]), [0.0, 0.0]);
        assert_eq!(normalize_max(vec![1.0, 3.0, f64::NAN]), [1.0 / 3.0, 1.0, 0.0]);
        assert_eq!(normalize_max(vec![f64::INFINITY, 2.0]), [1.0, 1.0]);
        assert_eq!(normalize_max(vec![-1.0, 0.5]), [0.0, 1.0]);
    }
}
