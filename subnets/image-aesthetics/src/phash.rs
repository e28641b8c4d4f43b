//! A perceptual hash for finding copies within a batch, and the duplicate rule.
//!
//! The hash is a difference hash on a 16×16 grid of mean luma: one bit per pair of horizontal
//! neighbours and one per pair of vertical neighbours (480 bits), set when the first cell is
//! brighter. Re-encoding, mild blur, noise, recolouring and a crop of a few pixels move few bits;
//! unrelated images differ in about half of them. It is computed with integers only.
//!
//! Copies are also looked for mirrored left-to-right and with inverted luma, the two cheapest
//! disguises that would otherwise flip most bits.

use crate::decode::Rgb8;

/// Cells per side of the grid.
const GRID: usize = 16;
/// Bits in a hash: `2 · GRID · (GRID − 1)`.
pub const HASH_BITS: u32 = (2 * GRID * (GRID - 1)) as u32;
/// Fixed-point scale of cell means.
const SCALE: u64 = 1024;

/// A 480-bit perceptual hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PHash([u64; 8]);

impl PHash {
    /// The number of differing bits.
    pub fn distance(&self, other: &PHash) -> u32 {
        self.0.iter().zip(&other.0).map(|(a, b)| (a ^ b).count_ones()).sum()
    }
}

/// The hashes of one image: as it is, mirrored, inverted, and both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    variants: [PHash; 4],
}

impl Fingerprint {
    /// The fingerprint of `image`.
    pub fn of(image: &Rgb8) -> Fingerprint {
        let lum: Vec<u8> = image.data().chunks_exact(3).map(|p| crate::analysis::luma([p[0], p[1], p[2]])).collect();
        Fingerprint::of_luma(&lum, image.width() as usize, image.height() as usize)
    }

    /// The fingerprint of an image from its luma plane (`width · height` values, rows top to
    /// bottom).
    pub fn of_luma(lum: &[u8], width: usize, height: usize) -> Fingerprint {
        let grid = luma_grid(lum, width, height);
        let mirrored: Vec<[u64; GRID]> = grid.iter().map(|row| std::array::from_fn(|c| row[GRID - 1 - c])).collect();
        let invert =
            |g: &[[u64; GRID]]| -> Vec<[u64; GRID]> { g.iter().map(|row| row.map(|v| 255 * SCALE - v)).collect() };
        Fingerprint {
            variants: [
                hash_grid(&grid),
                hash_grid(&mirrored),
                hash_grid(&invert(&grid)),
                hash_grid(&invert(&mirrored)),
            ],
        }
    }

    /// The hash of the image as it is.
    pub fn hash(&self) -> PHash {
        self.variants[0]
    }

    /// The smallest distance between this image and `other` or a mirrored or inverted `other`.
    pub fn distance(&self, other: &Fingerprint) -> u32 {
        other.variants.iter().map(|v| self.variants[0].distance(v)).min().unwrap_or(HASH_BITS)
    }
}

/// Mean luma of each cell of a `GRID`×`GRID` partition, in units of 1/[`SCALE`].
fn luma_grid(lum: &[u8], w: usize, h: usize) -> Vec<[u64; GRID]> {
    let mut sums = vec![[0u64; GRID]; GRID];
    let mut counts = vec![[0u64; GRID]; GRID];
    let col_of: Vec<usize> = (0..w).map(|x| x * GRID / w).collect();
    for (y, row) in lum.chunks_exact(w.max(1)).take(h).enumerate() {
        let r = y * GRID / h;
        for (x, &v) in row.iter().enumerate() {
            let c = col_of[x];
            sums[r][c] += v as u64;
            counts[r][c] += 1;
        }
    }
    sums.iter().zip(&counts).map(|(s, n)| std::array::from_fn(|c| s[c] * SCALE / n[c].max(1))).collect()
}

fn hash_grid(grid: &[[u64; GRID]]) -> PHash {
    let mut words = [0u64; 8];
    let mut bit = 0usize;
    let mut push = |set: bool| {
        if set {
            words[bit / 64] |= 1 << (bit % 64);
        }
        bit += 1;
    };
    for row in grid {
        for c in 0..GRID - 1 {
            push(row[c] > row[c + 1]);
        }
    }
    for pair in grid.windows(2) {
        for (upper, lower) in pair[0].iter().zip(&pair[1]) {
            push(upper > lower);
        }
    }
    PHash(words)
}

/// Distance (in bits of [`HASH_BITS`]) at or below which two images are copies: every image of
/// such a pair scores 0.
pub const COPY_DISTANCE: u32 = 48;
/// Distance at or above which two images are unrelated. Between the two, the score is multiplied
/// by `(d − COPY_DISTANCE) / (NEAR_DISTANCE − COPY_DISTANCE)`.
pub const NEAR_DISTANCE: u32 = 120;

/// The duplicate factor of each image: 0 for a copy of another image of the batch (both sides of
/// the pair), a fraction for a near-duplicate, 1 for an image unlike every other. `None` entries
/// (no valid image) take part in nothing and get 1.
pub fn duplicate_factors(prints: &[Option<Fingerprint>]) -> Vec<f64> {
    let mut factors = vec![1.0; prints.len()];
    for (i, a) in prints.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in prints.iter().enumerate() {
            let Some(b) = b else { continue };
            if i == j {
                continue;
            }
            let d = a.distance(b).min(b.distance(a));
            factors[i] = f64::min(factors[i], near_factor(d));
        }
    }
    factors
}

/// The factor for one pair at distance `d`.
pub fn near_factor(d: u32) -> f64 {
    if d <= COPY_DISTANCE {
        0.0
    } else if d >= NEAR_DISTANCE {
        1.0
    } else {
        (d - COPY_DISTANCE) as f64 / (NEAR_DISTANCE - COPY_DISTANCE) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient_image(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Rgb8 {
        let data = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).flat_map(|(x, y)| [f(x, y); 3]).collect();
        Rgb8::new(w, h, data).unwrap()
    }

    #[test]
    fn disguises_are_seen_through() {
        let img = gradient_image(64, 48, |x, y| ((x * 7 + y * y) % 251) as u8);
        let mirrored = gradient_image(64, 48, |x, y| (((63 - x) * 7 + y * y) % 251) as u8);
        let inverted = gradient_image(64, 48, |x, y| 255 - ((x * 7 + y * y) % 251) as u8);
        let a = Fingerprint::of(&img);
        assert_eq!(a.distance(&a), 0);
        assert_eq!(a.distance(&Fingerprint::of(&mirrored)), 0);
        assert_eq!(a.distance(&Fingerprint::of(&inverted)), 0);
        assert_eq!(duplicate_factors(&[Some(a), None, Some(Fingerprint::of(&mirrored))]), [0.0, 1.0, 0.0]);
    }

    #[test]
    fn factor_is_monotone() {
        assert_eq!(near_factor(0), 0.0);
        assert_eq!(near_factor(COPY_DISTANCE), 0.0);
        assert!(near_factor(COPY_DISTANCE + 1) > 0.0);
        assert!(near_factor(NEAR_DISTANCE - 1) < 1.0);
        assert_eq!(near_factor(NEAR_DISTANCE), 1.0);
        assert_eq!(near_factor(HASH_BITS), 1.0);
    }
}
