//! Test images: the bundled photos, resized, and known degradations of them, all computed
//! deterministically with integer arithmetic.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine as _;
use image_aesthetics::decode::{self, Rgb8};

/// The bundled photos (see tests/data/README.md).
pub(crate) const PHOTOS: [&str; 6] = [
    "matplotlib_grace_hopper.jpg",
    "skimage_rocket.jpg",
    "sklearn_china.jpg",
    "sklearn_flower.jpg",
    "skimage_chelsea.png",
    "skimage_camera.png",
];

/// A bundled photo at its own size.
pub(crate) fn load(name: &str) -> Rgb8 {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (w, h) = decode::header_size(&bytes).unwrap();
    decode::decode_bytes(&bytes, w, h).unwrap()
}

/// A bundled photo, centre-cropped to the aspect of `w`×`h` and area-resampled to it (cached:
/// the tests ask for the same few many times).
pub(crate) fn photo(name: &str, w: u32, h: u32) -> Rgb8 {
    static CACHE: Mutex<BTreeMap<(String, u32, u32), Rgb8>> = Mutex::new(BTreeMap::new());
    let key = (name.to_owned(), w, h);
    if let Some(img) = CACHE.lock().unwrap().get(&key) {
        return img.clone();
    }
    let img = photo_uncached(name, w, h);
    CACHE.lock().unwrap().insert(key, img.clone());
    img
}

fn photo_uncached(name: &str, w: u32, h: u32) -> Rgb8 {
    let src = load(name);
    let (sw, sh) = (src.width() as u64, src.height() as u64);
    // Largest crop of aspect w:h.
    let (cw, ch) =
        if sw * h as u64 > sh * w as u64 { (sh * w as u64 / h as u64, sh) } else { (sw, sw * h as u64 / w as u64) };
    let (x0, y0) = ((sw - cw) / 2, (sh - ch) / 2);
    resample(&src, (x0, y0, cw, ch), w, h)
}

/// Area-average resampling of the window `(x0, y0, cw, ch)` of `src` to `w`×`h` (each output
/// pixel averages the source pixels whose index maps into it).
pub(crate) fn resample(src: &Rgb8, (x0, y0, cw, ch): (u64, u64, u64, u64), w: u32, h: u32) -> Rgb8 {
    let (w64, h64) = (w as u64, h as u64);
    let mut sums = vec![[0u64; 4]; (w * h) as usize];
    for sy in 0..ch {
        let oy = sy * h64 / ch;
        for sx in 0..cw {
            let ox = sx * w64 / cw;
            let p = src.pixel((x0 + sx) as u32, (y0 + sy) as u32);
            let cell = &mut sums[(oy * w64 + ox) as usize];
            cell[0] += p[0] as u64;
            cell[1] += p[1] as u64;
            cell[2] += p[2] as u64;
            cell[3] += 1;
        }
    }
    let data = sums
        .iter()
        .flat_map(|s| {
            let n = s[3].max(1);
            [(s[0] + n / 2) / n, (s[1] + n / 2) / n, (s[2] + n / 2) / n].map(|v| v as u8)
        })
        .collect();
    Rgb8::new(w, h, data).unwrap()
}

fn map_pixels(img: &Rgb8, mut f: impl FnMut(u32, u32, [u8; 3]) -> [u8; 3]) -> Rgb8 {
    let (w, h) = (img.width(), img.height());
    let data = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).flat_map(|(x, y)| f(x, y, img.pixel(x, y))).collect();
    Rgb8::new(w, h, data).unwrap()
}

/// A box blur of radius `r`, applied three times (close to a Gaussian of σ ≈ r).
pub(crate) fn blur(img: &Rgb8, r: u32) -> Rgb8 {
    let mut out = img.clone();
    for _ in 0..3 {
        out = box_pass(&out, r, true);
        out = box_pass(&out, r, false);
    }
    out
}

fn box_pass(img: &Rgb8, r: u32, horizontal: bool) -> Rgb8 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let r = r as i64;
    map_pixels(img, |x, y, _| {
        let mut acc = [0i64; 3];
        for k in -r..=r {
            let (sx, sy) = if horizontal {
                ((x as i64 + k).clamp(0, w - 1), y as i64)
            } else {
                (x as i64, (y as i64 + k).clamp(0, h - 1))
            };
            let p = img.pixel(sx as u32, sy as u32);
            for c in 0..3 {
                acc[c] += p[c] as i64;
            }
        }
        let n = 2 * r + 1;
        acc.map(|v| ((v + n / 2) / n) as u8)
    })
}

/// A small deterministic generator (PCG-style LCG), for noise.
pub(crate) struct Lcg(u64);

impl Lcg {
    /// Seeded generator.
    pub(crate) fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// 32 random bits.
    pub(crate) fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Roughly Gaussian noise (sum of four uniforms) with standard deviation about `sigma`.
    pub(crate) fn gaussian(&mut self, sigma: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.next() as f64 / u32::MAX as f64 - 0.5).sum();
        // Var of the sum of four U(-0.5, 0.5) is 1/3.
        s * sigma * 1.732_050_807_568_877_2
    }
}

/// Additive noise of standard deviation `sigma` on every channel.
pub(crate) fn noise(img: &Rgb8, sigma: f64, seed: u64) -> Rgb8 {
    let mut rng = Lcg::new(seed);
    map_pixels(img, |_, _, p| p.map(|v| (v as f64 + rng.gaussian(sigma)).round().clamp(0.0, 255.0) as u8))
}

/// Contrast scaled by `num/den` around mid-grey.
pub(crate) fn low_contrast(img: &Rgb8, num: i32, den: i32) -> Rgb8 {
    map_pixels(img, |_, _, p| p.map(|v| (128 + (v as i32 - 128) * num / den).clamp(0, 255) as u8))
}

/// Every sample multiplied by `num/den` (darker below 1, brighter above).
pub(crate) fn exposure(img: &Rgb8, num: u32, den: u32) -> Rgb8 {
    map_pixels(img, |_, _, p| p.map(|v| (v as u32 * num / den).min(255) as u8))
}

/// Every sample raised towards white: `v + (255 − v) · num/den`.
pub(crate) fn lift(img: &Rgb8, num: u32, den: u32) -> Rgb8 {
    map_pixels(img, |_, _, p| p.map(|v| (v as u32 + (255 - v as u32) * num / den) as u8))
}

/// One pixel cropped off the left and top, resampled back to the same size.
pub(crate) fn crop_1px(img: &Rgb8) -> Rgb8 {
    let (w, h) = (img.width(), img.height());
    resample(img, (1, 1, w as u64 - 1, h as u64 - 1), w, h)
}

/// Left–right mirror.
pub(crate) fn mirror(img: &Rgb8) -> Rgb8 {
    let w = img.width();
    map_pixels(img, |x, y, _| img.pixel(w - 1 - x, y))
}

/// Uniform random RGB noise.
pub(crate) fn random_image(w: u32, h: u32, seed: u64) -> Rgb8 {
    let mut rng = Lcg::new(seed);
    let data = (0..w * h * 3).map(|_| (rng.next() >> 24) as u8).collect();
    Rgb8::new(w, h, data).unwrap()
}

/// Random colours in square blocks of `block` pixels.
pub(crate) fn random_blocks(w: u32, h: u32, block: u32, seed: u64) -> Rgb8 {
    let mut rng = Lcg::new(seed);
    let cols = w.div_ceil(block);
    let colours: Vec<[u8; 3]> =
        (0..cols * h.div_ceil(block)).map(|_| [0; 3].map(|_: u8| (rng.next() >> 24) as u8)).collect();
    let img = Rgb8::new(w, h, vec![0; (w * h * 3) as usize]).unwrap();
    map_pixels(&img, |x, y, _| colours[((y / block) * cols + x / block) as usize])
}

/// One colour everywhere.
pub(crate) fn solid(w: u32, h: u32, p: [u8; 3]) -> Rgb8 {
    Rgb8::new(w, h, p.repeat((w * h) as usize)).unwrap()
}

/// PNG bytes (8-bit RGB).
pub(crate) fn png(img: &Rgb8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(img.data()).unwrap();
    out
}

/// JPEG bytes at `quality` (baseline, 4:2:0).
pub(crate) fn jpeg(img: &Rgb8, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.encode(img.data(), img.width() as u16, img.height() as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Progressive JPEG bytes at `quality`.
pub(crate) fn jpeg_progressive(img: &Rgb8, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_progressive(true);
    enc.encode(img.data(), img.width() as u16, img.height() as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Standard padded base64.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Blends every pixel towards `colour` by `num/den`.
pub(crate) fn tint(img: &Rgb8, colour: [u8; 3], num: u32, den: u32) -> Rgb8 {
    map_pixels(img, |_, _, p| {
        std::array::from_fn(|c| ((p[c] as u32 * (den - num) + colour[c] as u32 * num) / den) as u8)
    })
}

/// Luma copied to all three channels.
pub(crate) fn greyscale(img: &Rgb8) -> Rgb8 {
    map_pixels(img, |_, _, p| [image_aesthetics::analysis::luma(p); 3])
}

/// `img` with the columns left of `x_end` taken from `other` (same size).
pub(crate) fn splice(img: &Rgb8, other: &Rgb8, x_end: u32) -> Rgb8 {
    map_pixels(img, |x, y, p| if x < x_end { other.pixel(x, y) } else { p })
}

/// A single box-blur pass of radius 1 (the mildest blur).
pub(crate) fn soften(img: &Rgb8) -> Rgb8 {
    box_pass(&box_pass(img, 1, true), 1, false)
}

/// A horizontal grey ramp.
pub(crate) fn ramp_image(w: u32, h: u32) -> Rgb8 {
    let data = (0..h).flat_map(|_| (0..w).flat_map(|x| [(x * 255 / (w - 1)) as u8; 3])).collect();
    Rgb8::new(w, h, data).unwrap()
}
