//! Measurements of a decoded image, and the aesthetic sub-scores built from them.
//!
//! Every measurement is an integer sum over pixels; floating point enters only at the end, with
//! `+ - * /` and `sqrt`, which IEEE 754 rounds identically on every platform. So the sub-scores
//! are bit-identical in a native build and in the wasm plugin.

use crate::decode::Rgb8;

/// A colour name a prompt can ask for, with a fixed region of (integer) hue, chroma and value.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// Hue below 15° or from 345°, saturated.
    Red,
    /// Hue 15–40°, saturated and light.
    Orange,
    /// Hue 40–70°, saturated.
    Yellow,
    /// Hue 70–165°, saturated.
    Green,
    /// Hue 165–200°, saturated.
    Cyan,
    /// Hue 200–255°, saturated.
    Blue,
    /// Hue 255–290°, saturated.
    Purple,
    /// Hue 290–345°, saturated, or light desaturated reds.
    Pink,
    /// Hue 10–45°, moderately saturated and darker than orange.
    Brown,
    /// Bright and unsaturated.
    White,
    /// Very dark.
    Black,
    /// Unsaturated, mid value.
    Grey,
}

impl Colour {
    /// All colours, in a fixed order.
    pub const ALL: [Colour; 12] = [
        Colour::Red,
        Colour::Orange,
        Colour::Yellow,
        Colour::Green,
        Colour::Cyan,
        Colour::Blue,
        Colour::Purple,
        Colour::Pink,
        Colour::Brown,
        Colour::White,
        Colour::Black,
        Colour::Grey,
    ];

    /// Position in [`Colour::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the pixel `[r, g, b]` belongs to this colour's region. Regions may overlap (a dark
    /// orange is both orange and brown).
    pub fn contains(self, pixel: [u8; 3]) -> bool {
        colour_mask(pixel) & (1 << self.index()) != 0
    }
}

/// The colours whose regions hold `[r, g, b]`, as a bit set over [`Colour::index`].
///
/// Colours are classified per bin of 8×8×8 RGB values (5 bits per channel), at the bin's centre,
/// through a table built at compile time: a table lookup per pixel instead of a hue division.
pub fn colour_mask([r, g, b]: [u8; 3]) -> u16 {
    COLOUR_TABLE[((r as usize >> 3) << 10) | ((g as usize >> 3) << 5) | (b as usize >> 3)]
}

static COLOUR_TABLE: [u16; 1 << 15] = {
    let mut table = [0u16; 1 << 15];
    let mut i = 0;
    while i < table.len() {
        table[i] = classify(bin_centre(i >> 10), bin_centre((i >> 5) & 31), bin_centre(i & 31));
        i += 1;
    }
    table
};

/// The centre of 5-bit bin `v` in 8-bit units.
const fn bin_centre(v: usize) -> i32 {
    ((v & 31) << 3) as i32 + 4
}

const fn within(x: i32, lo: i32, hi: i32) -> bool {
    lo <= x && x < hi
}

const fn bit(c: Colour, on: bool) -> u16 {
    (on as u16) << (c as u16)
}

/// The colour regions holding the RGB value `(r, g, b)`: thresholds on integer hue (degrees),
/// chroma (`max − min`) and value (`max`).
const fn classify(r: i32, g: i32, b: i32) -> u16 {
    let max = if r > g {
        if r > b { r } else { b }
    } else if g > b {
        g
    } else {
        b
    };
    let min = if r < g {
        if r < b { r } else { b }
    } else if g < b {
        g
    } else {
        b
    };
    let chroma = max - min;
    let hue = hue_degrees(r, g, b, max, chroma);
    let saturated = chroma >= 50 && max >= 60;
    let mut mask = bit(Colour::White, max >= 200 && chroma < 30)
        | bit(Colour::Black, max < 45)
        | bit(Colour::Grey, chroma < 25 && within(max, 45, 200))
        | bit(Colour::Brown, within(hue, 10, 45) && chroma >= 30 && within(max, 50, 160))
        | bit(Colour::Pink, max >= 180 && within(chroma, 25, 90) && !within(hue, 20, 330));
    if saturated {
        mask |= bit(Colour::Red, !within(hue, 15, 345))
            | bit(Colour::Orange, within(hue, 15, 40) && max >= 150)
            | bit(Colour::Yellow, within(hue, 40, 70) && max >= 110)
            | bit(Colour::Green, within(hue, 70, 165))
            | bit(Colour::Cyan, within(hue, 165, 200))
            | bit(Colour::Blue, within(hue, 200, 255))
            | bit(Colour::Purple, within(hue, 255, 290))
            | bit(Colour::Pink, within(hue, 290, 345));
    }
    mask
}

/// Hue in whole degrees `0..360` (0 for greys), by integer arithmetic.
const fn hue_degrees(r: i32, g: i32, b: i32, max: i32, chroma: i32) -> i32 {
    if chroma == 0 {
        return 0;
    }
    let h = if max == r {
        60 * (g - b) / chroma
    } else if max == g {
        120 + 60 * (b - r) / chroma
    } else {
        240 + 60 * (r - g) / chroma
    };
    h.rem_euclid(360)
}

/// BT.601 luma in `0..=255`, by integer arithmetic.
pub fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((77 * r as u32 + 150 * g as u32 + 29 * b as u32 + 128) >> 8) as u8
}

/// Raw measurements of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Mean luma, 0–255.
    pub mean_luma: f64,
    /// Standard deviation of luma (RMS contrast), 0–127.5.
    pub luma_std: f64,
    /// Share of pixels with luma ≤ 3 or ≥ 252 (clipped shadows and highlights).
    pub clipped: f64,
    /// Hasler–Süsstrunk colourfulness `√(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²)`.
    pub colourfulness: f64,
    /// Mean red minus mean blue, −255–255 (positive is warm).
    pub warmth: f64,
    /// Mean absolute luma difference to the right and lower neighbour, summed.
    pub gradient: f64,
    /// The same mean gradient on the image halved in each direction (2×2 means), in luma units.
    /// Natural photographs are roughly scale-invariant, so the two are close; blur makes the
    /// fine one smaller, flat synthetic shapes (mosaics, gradients) make it about half.
    pub coarse_gradient: f64,
    /// The same on the image reduced by 4×4 means.
    pub coarser_gradient: f64,
    /// Noise standard deviation by Immerkær's Laplacian-difference estimator, over the flatter
    /// half of the image (ranked by Sobel magnitude) so that edges and texture count less.
    pub noise_sigma: f64,
    /// Centre of gradient energy, `(x, y)` in `[0, 1]²`.
    pub detail_centroid: (f64, f64),
    /// How many cells of a 3×3 grid hold at least a quarter of the mean cell's gradient energy.
    pub detailed_cells: u32,
    /// Share of pixels in each colour's region, in the order of [`Colour::ALL`].
    pub colour_share: [f64; 12],
}

/// `sqrt(π/2)`, the scale of Immerkær's estimator.
const SQRT_HALF_PI: f64 = 1.253_314_137_315_500_3;

impl Features {
    /// Measures `image`.
    pub fn measure(image: &Rgb8) -> Features {
        Features::measure_with_luma(image, &mut Vec::new())
    }

    /// Measures `image`, leaving its luma plane (see [`luma`]) in `lum` for other uses.
    pub fn measure_with_luma(image: &Rgb8, lum: &mut Vec<u8>) -> Features {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let n = (w * h) as u64;
        lum.clear();
        lum.resize(w * h, 0);
        let mut hist = [0u64; 256];
        let (mut sum_rg, mut sum_yb2, mut sq_rg, mut sq_yb2) = (0i64, 0i64, 0u64, 0u64);
        let (mut sum_r, mut sum_b) = (0u64, 0u64);
        // Pixels counted per set of colour regions (12 bits), expanded per colour at the end.
        let mut mask_counts = vec![0u64; 1 << Colour::ALL.len()];
        // Chunks of at most 4096 pixels keep the per-chunk sums inside i32/u32:
        // 4096 · 510² < 2³².
        for (chunk, lum_chunk) in image.data().chunks(3 * 4096).zip(lum.chunks_mut(4096)) {
            let (mut c_rg, mut c_yb2, mut c_sq_rg, mut c_sq_yb2, mut c_r, mut c_b) =
                (0i32, 0i32, 0u32, 0u32, 0u32, 0u32);
            for (px, y_out) in chunk.chunks_exact(3).zip(lum_chunk.iter_mut()) {
                let p = [px[0], px[1], px[2]];
                let y = luma(p);
                *y_out = y;
                hist[y as usize] += 1;
                let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
                let rg = r - g;
                let yb2 = r + g - 2 * b; // twice the yellow–blue opponent
                c_rg += rg;
                c_yb2 += yb2;
                c_sq_rg += (rg * rg) as u32;
                c_sq_yb2 += (yb2 * yb2) as u32;
                c_r += r as u32;
                c_b += b as u32;
                mask_counts[colour_mask(p) as usize] += 1;
            }
            sum_rg += c_rg as i64;
            sum_yb2 += c_yb2 as i64;
            sq_rg += c_sq_rg as u64;
            sq_yb2 += c_sq_yb2 as u64;
            sum_r += c_r as u64;
            sum_b += c_b as u64;
        }
        let mut colour_counts = [0u64; 12];
        for (mask, &count) in mask_counts.iter().enumerate() {
            if count > 0 {
                for (c, total) in colour_counts.iter_mut().enumerate() {
                    if mask & (1 << c) != 0 {
                        *total += count;
                    }
                }
            }
        }
        let nf = n as f64;
        let (sum_y, sum_y2) =
            hist.iter().enumerate().fold((0u64, 0u64), |(s, s2), (v, &c)| (s + v as u64 * c, s2 + (v * v) as u64 * c));
        let mean_luma = sum_y as f64 / nf;
        let luma_std = variance(sum_y, sum_y2, n).sqrt();
        let clipped = (hist[..4].iter().sum::<u64>() + hist[252..].iter().sum::<u64>()) as f64 / nf;

        let var_rg = variance_signed(sum_rg, sq_rg, n);
        let var_yb = variance_signed(sum_yb2, sq_yb2, n) / 4.0;
        let mean_rg = sum_rg as f64 / nf;
        let mean_yb = sum_yb2 as f64 / nf / 2.0;
        let colourfulness = (var_rg + var_yb).sqrt() + 0.3 * (mean_rg * mean_rg + mean_yb * mean_yb).sqrt();
        let warmth = (sum_r as f64 - sum_b as f64) / nf;

        let (gradient, detail_centroid, detailed_cells) = gradient_features(lum, w, h);
        let (coarse_gradient, coarser_gradient) = block_gradients(lum, w, h);
        let noise_sigma = noise_sigma(lum, w, h);
        let mut colour_share = [0.0; 12];
        for (share, count) in colour_share.iter_mut().zip(colour_counts) {
            *share = count as f64 / nf;
        }
        Features {
            width: image.width(),
            height: image.height(),
            mean_luma,
            luma_std,
            clipped,
            colourfulness,
            warmth,
            gradient,
            coarse_gradient,
            coarser_gradient,
            noise_sigma,
            detail_centroid,
            detailed_cells,
            colour_share,
        }
    }
}

impl Features {
    /// The smaller of the fine-to-coarse gradient ratios at two scales (`g₁/g₂`, `g₂/g₄`).
    /// Natural photographs are roughly scale-invariant and measure 0.7–1.3; blur brings the first
    /// ratio to 0.5, and flat synthetic shapes (mosaics, gradients, upscaled thumbnails) bring one
    /// of them to 0.5 however they are compressed. `None` for an image without coarse detail.
    pub fn detail_ratio(&self) -> Option<f64> {
        if self.coarse_gradient > 0.0 && self.coarser_gradient > 0.0 {
            Some(f64::min(self.gradient / self.coarse_gradient, self.coarse_gradient / self.coarser_gradient))
        } else {
            None
        }
    }
}

/// Population variance from integer sums (exact up to the final division).
fn variance(sum: u64, sum_sq: u64, n: u64) -> f64 {
    // n·Σx² − (Σx)² is exact in u128; it is never negative.
    let num = n as u128 * sum_sq as u128 - sum as u128 * sum as u128;
    num as f64 / (n as f64 * n as f64)
}

fn variance_signed(sum: i64, sum_sq: u64, n: u64) -> f64 {
    let num = n as i128 * sum_sq as i128 - sum as i128 * sum as i128;
    num.max(0) as f64 / (n as f64 * n as f64)
}

/// Mean gradient, centroid of gradient energy and the number of detailed cells of a 3×3 grid.
fn gradient_features(lum: &[u8], w: usize, h: usize) -> (f64, (f64, f64), u32) {
    // Sums fit in u64: at most 510 per pixel, times a coordinate below 2^16, over fewer than 2^32
    // pixels.
    let mut total = 0u64;
    let (mut mx, mut my) = (0u64, 0u64);
    let mut cells = [0u64; 9];
    let cell_of: Vec<usize> = (0..w).map(|x| x * 3 / w).collect();
    for y in 0..h {
        let row = &lum[y * w..(y + 1) * w];
        let below = if y + 1 < h { &lum[(y + 1) * w..(y + 2) * w] } else { row };
        let cell_row = &mut cells[(y * 3 / h) * 3..(y * 3 / h) * 3 + 3];
        let mut row_total = 0u64;
        for x in 0..w {
            let v = row[x] as i32;
            let dx = if x + 1 < w { (row[x + 1] as i32 - v).unsigned_abs() } else { 0 };
            let dy = (below[x] as i32 - v).unsigned_abs();
            let g = (dx + dy) as u64;
            row_total += g;
            mx += g * x as u64;
            cell_row[cell_of[x]] += g;
        }
        total += row_total;
        my += row_total * y as u64;
    }
    let n = (w * h) as f64;
    let gradient = total as f64 / n;
    let centroid = if total == 0 {
        (0.5, 0.5)
    } else {
        let cx = (mx as f64 / total as f64 + 0.5) / w as f64;
        let cy = (my as f64 / total as f64 + 0.5) / h as f64;
        (cx, cy)
    };
    // A cell is detailed when it holds at least a quarter of the mean cell's energy:
    // 4 · 9 · cell ≥ total.
    let detailed = cells.iter().filter(|&&c| total > 0 && 36 * c >= total).count() as u32;
    (gradient, centroid, detailed)
}

/// Mean gradients of the image reduced by 2×2 and by 4×4 means, in luma units (differences of
/// block sums divided by the block's area). Partial blocks at the right and bottom are left out.
fn block_gradients(lum: &[u8], w: usize, h: usize) -> (f64, f64) {
    let (w2, h2) = (w / 2, h / 2);
    let mut sums2 = vec![0i32; w2 * h2];
    for y in 0..h2 * 2 {
        let row = &lum[y * w..y * w + w2 * 2];
        let out = &mut sums2[(y / 2) * w2..(y / 2 + 1) * w2];
        for (o, pair) in out.iter_mut().zip(row.chunks_exact(2)) {
            *o += pair[0] as i32 + pair[1] as i32;
        }
    }
    let (w4, h4) = (w2 / 2, h2 / 2);
    let mut sums4 = vec![0i32; w4 * h4];
    for y in 0..h4 * 2 {
        let row = &sums2[y * w2..y * w2 + w4 * 2];
        let out = &mut sums4[(y / 2) * w4..(y / 2 + 1) * w4];
        for (o, pair) in out.iter_mut().zip(row.chunks_exact(2)) {
            *o += pair[0] + pair[1];
        }
    }
    (grid_gradient(&sums2, w2, h2, 4.0), grid_gradient(&sums4, w4, h4, 16.0))
}

/// Mean absolute difference to the right and lower neighbour of a `w`×`h` grid of block sums,
/// divided by `area` (the pixels per block).
fn grid_gradient(sums: &[i32], w: usize, h: usize, area: f64) -> f64 {
    if w == 0 || h == 0 {
        return 0.0;
    }
    let mut total = 0u64;
    for y in 0..h {
        let row = &sums[y * w..(y + 1) * w];
        for pair in row.windows(2) {
            total += (pair[1] - pair[0]).unsigned_abs() as u64;
        }
        if y + 1 < h {
            for (a, b) in row.iter().zip(&sums[(y + 1) * w..(y + 2) * w]) {
                total += (b - a).unsigned_abs() as u64;
            }
        }
    }
    total as f64 / (area * (w * h) as f64)
}

/// Immerkær's noise estimate over the flatter half of the interior pixels of every other row
/// (rows 1, 3, 5, …: the estimate is an average, so half the rows give it as well at half the
/// cost).
fn noise_sigma(lum: &[u8], w: usize, h: usize) -> f64 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    // Sobel magnitude |gx| + |gy| is at most 2 · 4 · 255.
    const SOBEL_MAX: usize = 2040;
    let mut sobel_hist = vec![0u64; SOBEL_MAX + 1];
    let mut laplace_by_sobel = vec![0u64; SOBEL_MAX + 1];
    for y in (1..h - 1).step_by(2) {
        let (up, mid, down) = (&lum[(y - 1) * w..y * w], &lum[y * w..(y + 1) * w], &lum[(y + 1) * w..(y + 2) * w]);
        for x in 1..w - 1 {
            let (a, b, c) = (up[x - 1] as i32, up[x] as i32, up[x + 1] as i32);
            let (d, e, f) = (mid[x - 1] as i32, mid[x] as i32, mid[x + 1] as i32);
            let (g, hh, i) = (down[x - 1] as i32, down[x] as i32, down[x + 1] as i32);
            let gx = (c + 2 * f + i) - (a + 2 * d + g);
            let gy = (g + 2 * hh + i) - (a + 2 * b + c);
            let sobel = (gx.unsigned_abs() + gy.unsigned_abs()) as usize;
            let laplace = (a + c + g + i) - 2 * (b + d + f + hh) + 4 * e;
            sobel_hist[sobel] += 1;
            laplace_by_sobel[sobel] += laplace.unsigned_abs() as u64;
        }
    }
    let interior = ((w - 2) * (h - 2).div_ceil(2)) as u64;
    let half = interior.div_ceil(2);
    let (mut count, mut sum) = (0u64, 0u64);
    for (c, s) in sobel_hist.iter().zip(&laplace_by_sobel) {
        if count >= half {
            break;
        }
        count += c;
        sum += s;
    }
    SQRT_HALF_PI * sum as f64 / (6.0 * count.max(1) as f64)
}

/// The aesthetic sub-scores of an image, each in `[0, 1]`, and the gates that multiply them.
#[derive(Clone, Debug, PartialEq)]
pub struct Aesthetics {
    /// Exposure: mean luma inside a comfortable band, few clipped pixels.
    pub exposure: f64,
    /// Contrast: RMS contrast up to a target band; harsh contrast loses a little.
    pub contrast: f64,
    /// Colourfulness, saturating at "quite colourful"; garish images lose a little.
    pub colourfulness: f64,
    /// Sharpness: mean gradient, saturating.
    pub sharpness: f64,
    /// Composition: detail centred on the frame and spread over it.
    pub composition: f64,
    /// Noise gate: 1 for clean images, falling to 0 for heavy noise.
    pub noise_gate: f64,
    /// Fine-detail gate: from the ratio of fine to coarse gradient; 0 for images with no detail
    /// at the finest scale (blurred, upscaled, flat shapes and mosaics), 1 for natural detail.
    pub detail_gate: f64,
    /// 0 for a flat (blank, single-colour) image, else 1.
    pub flat_gate: f64,
}

/// The parameters of [`Aesthetics`]; the README lists every one.
pub mod params {
    /// Weight of exposure in the aesthetic sum.
    pub const W_EXPOSURE: f64 = 0.20;
    /// Weight of contrast.
    pub const W_CONTRAST: f64 = 0.20;
    /// Weight of colourfulness.
    pub const W_COLOURFULNESS: f64 = 0.15;
    /// Weight of sharpness.
    pub const W_SHARPNESS: f64 = 0.35;
    /// Weight of composition.
    pub const W_COMPOSITION: f64 = 0.10;

    /// Mean luma band scored 1 for exposure; outside it the score falls linearly to 0 at
    /// [`EXPOSURE_ZERO`].
    pub const EXPOSURE_BAND: (f64, f64) = (40.0, 200.0);
    /// Mean luma at which exposure reaches 0.
    pub const EXPOSURE_ZERO: (f64, f64) = (5.0, 250.0);
    /// Share of clipped pixels tolerated without loss.
    pub const CLIP_FREE: f64 = 0.05;
    /// Extra clipped share over [`CLIP_FREE`] at which exposure reaches 0.
    pub const CLIP_SPAN: f64 = 0.35;

    /// Luma standard deviation at which contrast reaches 1 (`1 − (1 − σ/σ_t)²` below it).
    pub const CONTRAST_TARGET: f64 = 64.0;
    /// Luma standard deviation above which contrast declines (harsh).
    pub const CONTRAST_HARSH: f64 = 96.0;
    /// Contrast score at the largest possible deviation, 127.5.
    pub const CONTRAST_HARSH_FLOOR: f64 = 0.6;

    /// Colourfulness at which its score reaches 1.
    pub const COLOURFUL_TARGET: f64 = 50.0;
    /// Colourfulness above which its score declines (garish).
    pub const COLOURFUL_GARISH: f64 = 110.0;
    /// Colourfulness score at [`COLOURFUL_GARISH`] + 100 and beyond.
    pub const COLOURFUL_GARISH_FLOOR: f64 = 0.4;

    /// Mean gradient (luma units) at which sharpness reaches 1; below it, `g/(g + k)` rescaled.
    pub const SHARPNESS_TARGET: f64 = 16.0;
    /// The half-saturation constant `k` of the sharpness curve.
    pub const SHARPNESS_K: f64 = 8.0;

    /// Mean gradient added per unit of noise sigma, `2 · √2 · √(2/π)`, subtracted before the
    /// sharpness curve.
    pub const NOISE_GRADIENT: f64 = 2.256_758_334_191_025;

    /// Noise sigma (luma units) tolerated without loss.
    pub const NOISE_FREE: f64 = 3.0;
    /// Noise sigma at which the noise gate reaches 0.
    pub const NOISE_ZERO: f64 = 12.0;

    /// Fine-to-coarse gradient ratio at or below which the detail gate is 0 (a blurred or
    /// piecewise-flat image measures 0.5).
    pub const DETAIL_RATIO_ZERO: f64 = 0.5;
    /// Fine-to-coarse gradient ratio at or above which the detail gate is 1 (photographs measure
    /// 0.7–1.3).
    pub const DETAIL_RATIO_FULL: f64 = 0.7;

    /// Luma standard deviation below which an image is flat and scores 0.
    pub const FLAT_STD: f64 = 4.0;
}

/// `(x - lo) / (hi - lo)` clamped to `[0, 1]`.
pub(crate) fn ramp(x: f64, lo: f64, hi: f64) -> f64 {
    sdk_guest::score::clamp((x - lo) / (hi - lo))
}

impl Aesthetics {
    /// The sub-scores of measured features.
    pub fn of(f: &Features) -> Aesthetics {
        use params::*;
        let (band_lo, band_hi) = EXPOSURE_BAND;
        let (zero_lo, zero_hi) = EXPOSURE_ZERO;
        let mean_ok = ramp(f.mean_luma, zero_lo, band_lo).min(1.0 - ramp(f.mean_luma, band_hi, zero_hi));
        let exposure = mean_ok * (1.0 - ramp(f.clipped, CLIP_FREE, CLIP_FREE + CLIP_SPAN));

        let s = f.luma_std;
        let contrast = if s < CONTRAST_TARGET {
            let short = 1.0 - s / CONTRAST_TARGET;
            1.0 - short * short
        } else {
            1.0 - (1.0 - CONTRAST_HARSH_FLOOR) * ramp(s, CONTRAST_HARSH, 127.5)
        };

        let m = f.colourfulness;
        let colourfulness = (m / COLOURFUL_TARGET).min(1.0)
            - (1.0 - COLOURFUL_GARISH_FLOOR) * ramp(m, COLOURFUL_GARISH, COLOURFUL_GARISH + 100.0);

        // Noise adds about 2.26·σ to the mean gradient (E|a − b| for two noisy neighbours, in
        // both directions); take it out so that noise does not pass for detail.
        let g = (f.gradient - NOISE_GRADIENT * f.noise_sigma).max(0.0);
        let sharpness = (g / (g + SHARPNESS_K) * (SHARPNESS_TARGET + SHARPNESS_K) / SHARPNESS_TARGET).min(1.0);

        let (cx, cy) = f.detail_centroid;
        let (dx, dy) = (cx - 0.5, cy - 0.5);
        let off_centre = (dx * dx + dy * dy).sqrt();
        let balance = 1.0 - ramp(off_centre, 0.1, 0.4);
        let spread = (f.detailed_cells as f64 / 6.0).min(1.0);
        let composition = 0.5 * balance + 0.5 * spread;

        let noise_gate = 1.0 - ramp(f.noise_sigma, NOISE_FREE, NOISE_ZERO);
        let detail_gate = match f.detail_ratio() {
            Some(r) => ramp(r, DETAIL_RATIO_ZERO, DETAIL_RATIO_FULL),
            None => 0.0,
        };
        let flat_gate = if f.luma_std < FLAT_STD { 0.0 } else { 1.0 };
        Aesthetics {
            exposure: sdk_guest::score::clamp(exposure),
            contrast: sdk_guest::score::clamp(contrast),
            colourfulness: sdk_guest::score::clamp(colourfulness),
            sharpness: sdk_guest::score::clamp(sharpness),
            composition: sdk_guest::score::clamp(composition),
            noise_gate,
            detail_gate,
            flat_gate,
        }
    }

    /// `(Σ wᵢ·subscoreᵢ) · noise_gate · detail_gate · flat_gate`, in `[0, 1]`.
    pub fn quality(&self) -> f64 {
        use params::*;
        let sum = W_EXPOSURE * self.exposure
            + W_CONTRAST * self.contrast
            + W_COLOURFULNESS * self.colourfulness
            + W_SHARPNESS * self.sharpness
            + W_COMPOSITION * self.composition;
        sdk_guest::score::clamp(sum * self.noise_gate * self.detail_gate * self.flat_gate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, p: [u8; 3]) -> Rgb8 {
        Rgb8::new(w, h, p.repeat((w * h) as usize)).unwrap()
    }

    #[test]
    fn colour_regions() {
        assert!(Colour::Red.contains([220, 30, 30]));
        assert!(Colour::Green.contains([40, 180, 60]));
        assert!(Colour::Blue.contains([30, 60, 200]));
        assert!(Colour::Yellow.contains([230, 220, 40]));
        assert!(Colour::Orange.contains([240, 140, 20]));
        assert!(Colour::Purple.contains([130, 40, 200]));
        assert!(Colour::Pink.contains([250, 170, 190]));
        assert!(Colour::Brown.contains([120, 70, 30]));
        assert!(Colour::White.contains([240, 240, 235]));
        assert!(Colour::Black.contains([10, 12, 20]));
        assert!(Colour::Grey.contains([128, 128, 128]));
        assert!(!Colour::Red.contains([30, 60, 200]));
        assert!(!Colour::Blue.contains([128, 128, 128]));
        assert_eq!(hue_degrees(255, 0, 0, 255, 255), 0);
        assert_eq!(hue_degrees(0, 255, 0, 255, 255), 120);
        assert_eq!(hue_degrees(255, 0, 128, 255, 255), 330);
    }

    #[test]
    fn flat_images_measure_as_flat() {
        let f = Features::measure(&solid(32, 32, [90, 90, 90]));
        assert_eq!(f.luma_std, 0.0);
        assert_eq!(f.gradient, 0.0);
        assert_eq!(f.noise_sigma, 0.0);
        assert_eq!(f.colourfulness, 0.0);
        assert_eq!(f.colour_share[Colour::Grey.index()], 1.0);
        assert_eq!(Aesthetics::of(&f).quality(), 0.0);
    }

    #[test]
    fn noise_estimator_tracks_added_noise() {
        // A smooth ramp plus a deterministic ±d checkerboard-like pattern of known amplitude.
        let (w, h) = (64u32, 64u32);
        let mut data = Vec::new();
        let mut state = 12345u64;
        for y in 0..h {
            for x in 0..w {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((state >> 33) % 41) as i32 - 20; // uniform in -20..=20, sigma ≈ 11.8
                let v = (64 + x + y) as i32 + noise;
                let v = v.clamp(0, 255) as u8;
                data.extend([v, v, v]);
            }
        }
        let noisy = Features::measure(&Rgb8::new(w, h, data).unwrap()).noise_sigma;
        let clean = {
            let data: Vec<u8> = (0..h).flat_map(|y| (0..w).flat_map(move |x| [(64 + x + y) as u8; 3])).collect();
            Features::measure(&Rgb8::new(w, h, data).unwrap()).noise_sigma
        };
        assert!(clean < 1.0, "{clean}");
        assert!((6.0..16.0).contains(&noisy), "{noisy}");
    }
}
