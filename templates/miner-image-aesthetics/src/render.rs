//! The built-in renderer: a landscape drawn from the prompt's words, in pure Rust.
//!
//! It reads colour words (the first one paints the sky, the largest area, so it dominates the
//! palette; the second the ground; the third the subject), light words (`dark`, `night`,
//! `bright`, `sunny`, `sunset`, …), `black and white`, `vivid`, and a few subject words (`sun`,
//! `moon`, `mountain`, `tower`, …). It then draws a sky gradient above a horizon on one third
//! of the height, a ground with a hilly silhouette, a subject (a glowing disc, a peak or a
//! tower) on a rule-of-thirds point, and mild multi-scale texture so that the picture has detail
//! at every scale without pixel noise. The result depends only on the prompt, the size and the
//! seed.

/// An RGB colour.
pub type Rgb = [f64; 3];

/// Colour words and their colours (sRGB, 0–255).
const COLOURS: &[(&str, Rgb)] = &[
    ("red", [200.0, 30.0, 35.0]),
    ("crimson", [185.0, 20.0, 50.0]),
    ("scarlet", [225.0, 40.0, 25.0]),
    ("orange", [240.0, 130.0, 30.0]),
    ("amber", [240.0, 170.0, 30.0]),
    ("yellow", [240.0, 215.0, 50.0]),
    ("gold", [225.0, 180.0, 50.0]),
    ("golden", [225.0, 180.0, 50.0]),
    ("green", [50.0, 160.0, 60.0]),
    ("emerald", [30.0, 150.0, 90.0]),
    ("cyan", [40.0, 200.0, 210.0]),
    ("teal", [30.0, 140.0, 140.0]),
    ("turquoise", [50.0, 200.0, 190.0]),
    ("blue", [40.0, 90.0, 210.0]),
    ("azure", [60.0, 140.0, 235.0]),
    ("navy", [25.0, 40.0, 120.0]),
    ("purple", [130.0, 50.0, 170.0]),
    ("violet", [140.0, 70.0, 200.0]),
    ("lavender", [170.0, 140.0, 220.0]),
    ("pink", [235.0, 110.0, 170.0]),
    ("magenta", [210.0, 40.0, 170.0]),
    ("brown", [125.0, 80.0, 45.0]),
    ("white", [240.0, 240.0, 240.0]),
    ("black", [15.0, 15.0, 18.0]),
    ("grey", [128.0, 128.0, 128.0]),
    ("gray", [128.0, 128.0, 128.0]),
    ("silver", [185.0, 185.0, 195.0]),
];

const DARK: &[&str] = &["dark", "night", "midnight", "dim", "shadowy", "gloomy", "moonlit", "nocturnal", "dusk"];
const BRIGHT: &[&str] = &["bright", "sunny", "sunlit", "daylight", "luminous", "airy", "snowy", "noon", "radiant"];
const WARM: &[&str] = &["warm", "sunset", "sunrise", "candlelit", "fiery", "autumn", "desert"];
const COOL: &[&str] = &["cool", "icy", "wintry", "frosty", "arctic", "winter", "frozen"];
const VIVID: &[&str] = &["vivid", "colourful", "colorful", "vibrant", "saturated", "neon"];
const PEAKS: &[&str] = &["mountain", "mountains", "peak", "volcano", "pyramid", "hill", "tree", "forest", "pine"];
const TOWERS: &[&str] = &["tower", "building", "lighthouse", "castle", "city", "skyscraper", "house", "door"];

/// The light of a scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Light {
    /// Night and shadow: the scene is kept dark, the subject glows.
    Dark,
    /// Neither dark nor bright words (or both).
    Neutral,
    /// Daylight, snow, high key.
    Bright,
}

/// What the subject looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A glowing disc (sun, moon, lantern, flower…), the default.
    Disc,
    /// A peak rising from the horizon (mountain, tree).
    Peak,
    /// A tall block standing on the horizon (tower, building).
    Tower,
}

/// What the renderer takes from a prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The named colours, in the prompt's order, without repeats.
    pub colours: Vec<Rgb>,
    /// The light.
    pub light: Light,
    /// Warm (`> 0`) or cool (`< 0`) light.
    pub temperature: i32,
    /// Black and white.
    pub monochrome: bool,
    /// Stronger saturation.
    pub vivid: bool,
    /// The subject's shape.
    pub subject: Subject,
}

impl Scene {
    /// Reads a prompt.
    pub fn of_prompt(prompt: &str) -> Scene {
        let lower = prompt.to_lowercase();
        let words: Vec<&str> =
            lower.split(|c: char| !c.is_alphanumeric() && c != '&').filter(|w| !w.is_empty()).collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        let phrase = |p: &str| lower.contains(p);
        let monochrome = phrase("black and white")
            || ["b&w", "monochrome", "greyscale", "grayscale"].iter().any(|w| words.contains(w));
        let mut colours: Vec<Rgb> = Vec::new();
        for word in &words {
            if let Some((_, rgb)) = COLOURS.iter().find(|(name, _)| name == word)
                && !colours.contains(rgb)
            {
                colours.push(*rgb);
            }
        }
        let light = match (has(DARK) || phrase("low key"), has(BRIGHT) || phrase("high key")) {
            (true, false) => Light::Dark,
            (false, true) => Light::Bright,
            _ => Light::Neutral,
        };
        let temperature = i32::from(has(WARM)) - i32::from(has(COOL));
        let subject = if has(TOWERS) {
            Subject::Tower
        } else if has(PEAKS) {
            Subject::Peak
        } else {
            Subject::Disc
        };
        Scene { colours, light, temperature, monochrome, vivid: has(VIVID), subject }
    }

    /// Sky (top, horizon), ground and subject colours, before texture.
    fn palette(&self) -> [Rgb; 4] {
        let (sky, ground, subject) = match (self.colours.as_slice(), self.light, self.temperature) {
            ([], Light::Dark, _) => ([20.0, 30.0, 75.0], [18.0, 22.0, 30.0], [235.0, 232.0, 205.0]),
            ([], _, t) if t > 0 => ([240.0, 135.0, 60.0], [70.0, 40.0, 70.0], [255.0, 215.0, 120.0]),
            ([], _, t) if t < 0 => ([150.0, 200.0, 235.0], [225.0, 235.0, 245.0], [90.0, 130.0, 170.0]),
            ([], _, _) => ([95.0, 160.0, 230.0], [80.0, 140.0, 65.0], [250.0, 225.0, 110.0]),
            ([only], _, _) => (*only, shade(*only, 0.6), complement(*only)),
            ([first, second], _, _) => (*first, *second, complement(*first)),
            ([first, second, third, ..], _, _) => (*first, *second, *third),
        };
        let top = shade(sky, 0.8);
        let horizon = mix(sky, [255.0, 255.0, 255.0], 0.15);
        [top, horizon, ground, subject]
    }
}

/// An RGB picture, 8 bits per channel, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width · height · 3` bytes.
    pub rgb: Vec<u8>,
}

/// Draws `scene` at `width`×`height` (both at least 1) with `seed`.
pub fn render(scene: &Scene, width: u32, height: u32, seed: u64) -> Picture {
    let (w, h) = (width as usize, height as usize);
    let (wf, hf) = (width as f64, height as f64);
    let mut rng = SplitMix(seed);
    let [top, horizon_colour, ground, subject_colour] = scene.palette();
    // Layout: the horizon on a third of the height, the subject on a rule-of-thirds point above it.
    let horizon_low = rng.next().is_multiple_of(2);
    let horizon = if horizon_low { 2.0 / 3.0 } else { 0.55 } * hf;
    let subject_x = if rng.next().is_multiple_of(2) { 1.0 / 3.0 } else { 2.0 / 3.0 } * wf;
    let subject_y = hf / 3.0;
    let size = wf.min(hf);
    let radius = size * (0.09 + 0.04 * rng.unit());
    let light = match scene.light {
        Light::Dark => 0.45,
        Light::Neutral => 0.9,
        Light::Bright => 1.2,
    };
    let lift = if scene.light == Light::Bright { 45.0 } else { 0.0 };
    let noise = ValueNoise { seed: rng.next() };
    let ridge = ValueNoise { seed: rng.next() };

    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            // Hilly horizon: a low-frequency silhouette.
            let hills = horizon - size * 0.06 * ridge.fractal(px / size * 3.0, 0.0, 3);
            let mut colour = if py < hills {
                let t = (py / hills).clamp(0.0, 1.0);
                mix(top, horizon_colour, t * t)
            } else {
                let t = ((py - hills) / (hf - hills).max(1.0)).clamp(0.0, 1.0);
                shade(ground, 1.0 - 0.35 * t)
            };
            colour = brighten(colour, light, lift);
            // The subject, lit at full strength whatever the scene's light (a lantern at night).
            let dx = px - subject_x;
            let inside = match scene.subject {
                Subject::Disc => {
                    let d = (dx * dx + (py - subject_y).powi(2)).sqrt();
                    let glow = (1.0 - (d - radius) / (radius * 1.5)).clamp(0.0, 1.0);
                    colour = mix(colour, subject_colour, 0.55 * glow * glow);
                    ((radius + 1.0 - d).clamp(0.0, 1.0), 1.0 - 0.25 * (d / radius).min(1.0))
                }
                Subject::Peak => {
                    let apex = subject_y - radius;
                    let half_width = (py - apex).max(0.0) * 0.8;
                    let edge = half_width - dx.abs();
                    let shaded = if dx < 0.0 { 0.75 } else { 1.0 };
                    (if py < hills + radius { edge.clamp(0.0, 1.0) } else { 0.0 }, shaded)
                }
                Subject::Tower => {
                    let top_y = subject_y - radius;
                    let edge = (radius * 0.45 - dx.abs()).min(py - top_y);
                    let windows = if (py / (radius * 0.3)).floor() as i64 % 2 == 0 && dx.abs() < radius * 0.25 {
                        1.15
                    } else {
                        0.9
                    };
                    (if py < hills + radius * 0.2 { edge.clamp(0.0, 1.0) } else { 0.0 }, windows)
                }
            };
            let (coverage, shading) = inside;
            if coverage > 0.0 {
                colour = mix(colour, shade(subject_colour, shading), coverage);
            }
            // Mild texture: multiplicative, mostly at coarse scales, a little at the finest.
            let texture =
                1.0 + 0.07 * noise.fractal(px / 24.0, py / 24.0, 6) + 0.04 * noise.fractal(px / 1.5, py / 1.5, 2);
            colour = [colour[0] * texture, colour[1] * texture, colour[2] * texture];
            if scene.vivid {
                colour = saturate(colour, 1.35);
            }
            if scene.monochrome {
                let y = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
                colour = [y, y, y];
            }
            rgb.extend(colour.map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    Picture { width, height, rgb }
}

/// `colour` scaled by `light`, then lifted towards white by `lift`.
fn brighten(colour: Rgb, light: f64, lift: f64) -> Rgb {
    colour.map(|c| c * light + lift * (1.0 - c / 255.0))
}

fn shade(colour: Rgb, factor: f64) -> Rgb {
    colour.map(|c| c * factor)
}

fn mix(a: Rgb, b: Rgb, t: f64) -> Rgb {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

fn complement(colour: Rgb) -> Rgb {
    let max = colour.iter().fold(0.0_f64, |m, &c| m.max(c));
    let min = colour.iter().fold(255.0_f64, |m, &c| m.min(c));
    if max - min < 30.0 {
        // A grey: a warm light reads better than its complement.
        return [245.0, 200.0, 110.0];
    }
    colour.map(|c| max + min - c)
}

fn saturate(colour: Rgb, factor: f64) -> Rgb {
    let y = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
    colour.map(|c| y + (c - y) * factor)
}

/// SplitMix64: a small, good, reproducible generator for layout choices.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Smooth value noise in `[-1, 1]`: random values on an integer lattice, interpolated.
struct ValueNoise {
    seed: u64,
}

impl ValueNoise {
    fn lattice(&self, x: i64, y: i64) -> f64 {
        let mut s =
            SplitMix(self.seed ^ (x as u64).wrapping_mul(0x9E37_79B9) ^ (y as u64).wrapping_mul(0x85EB_CA6B) << 1);
        s.unit() * 2.0 - 1.0
    }

    fn at(&self, x: f64, y: f64) -> f64 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let (ix, iy) = (x0 as i64, y0 as i64);
        let top = self.lattice(ix, iy) + (self.lattice(ix + 1, iy) - self.lattice(ix, iy)) * sx;
        let bottom = self.lattice(ix, iy + 1) + (self.lattice(ix + 1, iy + 1) - self.lattice(ix, iy + 1)) * sx;
        top + (bottom - top) * sy
    }

    /// `octaves` layers, each twice as fine and half as strong, normalised to `[-1, 1]`.
    fn fractal(&self, x: f64, y: f64, octaves: u32) -> f64 {
        let (mut sum, mut weight, mut total, mut scale) = (0.0, 1.0, 0.0, 1.0);
        for _ in 0..octaves {
            sum += weight * self.at(x * scale, y * scale);
            total += weight;
            weight *= 0.5;
            scale *= 2.0;
        }
        sum / total
    }
}

/// The picture as an 8-bit RGB PNG file.
pub fn encode_png(picture: &Picture) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, picture.width, picture.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&picture.rgb)?;
    writer.finish()?;
    Ok(bytes)
}
