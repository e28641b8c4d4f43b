//! `image-aesthetics`: a text-to-image incentive mechanism in the spirit of Bittensor's SN5.
//!
//! Each task is a prompt from a bundled list and a requested size. A miner answers with a PNG or
//! JPEG, base64-encoded. The plugin decodes it itself (pure-Rust decoders, no host model) and pays
//! for technical quality (exposure, contrast, colourfulness, sharpness, composition; noise and
//! blank images gated out) and for agreement with the prompt's simple attributes (brightness,
//! named colours, black and white, vividness, warm or cool light). Wrong sizes, oversized or
//! undecodable bodies score 0, and copies within the batch (by a perceptual hash, also mirrored or
//! inverted) are zeroed on both sides, near-copies scaled down.
//!
//! ```text
//! score = Q · (0.4 + 0.6 · P) · D
//! Q = (0.20·exposure + 0.20·contrast + 0.15·colourfulness + 0.35·sharpness + 0.10·composition)
//!     · noise_gate · flat_gate
//! P = mean agreement with the prompt's attributes (1 when it has none)
//! D = duplicate factor: 0 for a copy, (d − 48)/(120 − 48) for a near copy at hash distance d
//! ```
//!
//! The README lists every parameter and the attacks each part answers. Everything is computed
//! with integer sums and IEEE-exact float operations, so native and wasm scores are bit-identical.

use schemars::JsonSchema;
use sdk_guest::{Context, Defaults, Manifest, Mechanism, NoTruth, Response, Scores, Task};
use serde::{Deserialize, Serialize};

pub mod analysis;
pub mod decode;
pub mod phash;
pub mod prompt;

use crate::analysis::{Aesthetics, Features};
use crate::decode::{Reject, Rgb8};
use crate::phash::Fingerprint;
use crate::prompt::Attributes;

/// The mechanism.
pub struct ImageAesthetics;

/// An image format miners may answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG, any colour type and bit depth; alpha is composited over black.
    Png,
    /// Baseline or progressive Huffman JPEG, at most [`decode::MAX_JPEG_SCANS`] scans.
    Jpeg,
}

/// What miners receive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageTask {
    /// The text prompt.
    pub prompt: String,
    /// Required width in pixels.
    pub width: u32,
    /// Required height in pixels.
    pub height: u32,
    /// Largest accepted encoded image, in bytes (before base64).
    pub max_bytes: u32,
    /// Largest accepted JPEG, in bytes (before base64); JPEG decoding costs more per byte.
    pub max_jpeg_bytes: u32,
    /// Accepted formats.
    pub formats: Vec<ImageFormat>,
}

/// What the validator keeps: the attributes checked in the image, derived from the prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePrivate {
    /// Line number of the prompt in the bundled list (0-based, comments excluded).
    pub prompt_index: u32,
    /// The prompt's checkable attributes.
    pub attributes: Attributes,
}

/// A miner's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImageAnswer {
    /// The PNG or JPEG file, standard base64 with padding (no `data:` prefix).
    pub image: String,
}

/// Sizes a task may ask for, `(width, height)`; the first is the default and drawn twice as
/// often.
pub const SIZES: [(u32, u32); 4] = [(256, 256), (256, 256), (320, 240), (240, 320)];
/// The default (and most common) requested size.
pub const DEFAULT_SIZE: (u32, u32) = SIZES[0];
/// Largest encoded image a task accepts, in bytes: an uncompressed 8-bit RGBA PNG of the
/// largest size fits.
pub const MAX_IMAGE_BYTES: u32 = 384 * 1024;
/// Largest JPEG a task accepts, in bytes: a 320×240 photograph at quality 100 fits. Entropy
/// decoding is the costly part of a JPEG, so this bounds the work an image can cause.
pub const MAX_JPEG_BYTES: u32 = 96 * 1024;
/// Largest side the scorer accepts in a task (a hand-made task asking for more is refused, which
/// bounds the work per image whatever the task says).
pub const MAX_SIDE: u32 = 512;
/// Share of the score that does not depend on the prompt's attributes.
pub const PROMPT_FLOOR: f64 = 0.4;

/// The bundled prompts, comments and blank lines excluded.
pub fn prompts() -> Vec<&'static str> {
    include_str!("../data/prompts.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The full assessment of one decoded image against a prompt's attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Raw measurements.
    pub features: Features,
    /// Aesthetic sub-scores and gates.
    pub aesthetics: Aesthetics,
    /// `Q`: the aesthetic quality.
    pub quality: f64,
    /// `P`: agreement with the attributes, `None` when the prompt has none.
    pub agreement: Option<f64>,
    /// `Q · (PROMPT_FLOOR + (1 − PROMPT_FLOOR) · P)`, before the duplicate rule.
    pub score: f64,
}

/// Assesses a decoded image for a prompt with `attributes`.
pub fn assess(image: &Rgb8, attributes: &Attributes) -> Assessment {
    assess_with_luma(image, attributes, &mut Vec::new())
}

/// [`assess`], leaving the image's luma plane in `lum`.
fn assess_with_luma(image: &Rgb8, attributes: &Attributes, lum: &mut Vec<u8>) -> Assessment {
    let features = Features::measure_with_luma(image, lum);
    let aesthetics = Aesthetics::of(&features);
    let quality = aesthetics.quality();
    let agreement = attributes.agreement(&features);
    let score = sdk_guest::score::clamp(quality * (PROMPT_FLOOR + (1.0 - PROMPT_FLOOR) * agreement.unwrap_or(1.0)));
    Assessment { features, aesthetics, quality, agreement, score }
}

/// What happened to one response, for the diagnostics.
enum Fate {
    NoImage,
    Rejected(Reject),
    Scored,
}

/// Scores one batch: decode, assess and fingerprint each image, then apply the duplicate rule.
/// Returns the scores and a one-line summary.
pub fn score_batch(
    task: &ImageTask,
    attributes: &Attributes,
    images: &[Option<&str>],
) -> Result<(Vec<f64>, String), String> {
    if task.width == 0 || task.height == 0 || task.width > MAX_SIDE || task.height > MAX_SIDE {
        return Err(format!("task size {}x{} is outside 1..={MAX_SIDE}", task.width, task.height));
    }
    let max_bytes = task.max_bytes.min(MAX_IMAGE_BYTES) as usize;
    let max_jpeg_bytes = task.max_jpeg_bytes.min(MAX_JPEG_BYTES) as usize;
    let mut scores = Vec::with_capacity(images.len());
    let mut prints = Vec::with_capacity(images.len());
    let mut fates = Vec::with_capacity(images.len());
    let mut lum = Vec::new();
    for image in images {
        let decoded = image.map(|b64| decode::decode_image(b64, task.width, task.height, max_bytes, max_jpeg_bytes));
        match decoded {
            None => {
                scores.push(0.0);
                prints.push(None);
                fates.push(Fate::NoImage);
            }
            Some(Err(reject)) => {
                scores.push(0.0);
                prints.push(None);
                fates.push(Fate::Rejected(reject));
            }
            Some(Ok(rgb)) => {
                scores.push(assess_with_luma(&rgb, attributes, &mut lum).score);
                prints.push(Some(Fingerprint::of_luma(&lum, rgb.width() as usize, rgb.height() as usize)));
                fates.push(Fate::Scored);
            }
        }
    }
    let factors = phash::duplicate_factors(&prints);
    let mut copies = 0;
    let mut near = 0;
    for (score, factor) in scores.iter_mut().zip(&factors) {
        if *factor == 0.0 {
            copies += 1;
        } else if *factor < 1.0 {
            near += 1;
        }
        *score = sdk_guest::score::clamp(*score * factor);
    }
    let count = |f: fn(&Fate) -> bool| fates.iter().filter(|x| f(x)).count();
    let summary = format!(
        "{} scored, {} without image, {} wrong size, {} too large, {} undecodable; {} copies, {} near copies",
        count(|f| matches!(f, Fate::Scored)),
        count(|f| matches!(f, Fate::NoImage)),
        count(|f| matches!(f, Fate::Rejected(Reject::WrongSize { .. }))),
        count(|f| matches!(f, Fate::Rejected(Reject::TooLarge { .. }))),
        count(|f| matches!(f, Fate::Rejected(r) if !matches!(r, Reject::WrongSize { .. } | Reject::TooLarge { .. }))),
        copies,
        near,
    );
    Ok((scores, summary))
}

impl Mechanism for ImageAesthetics {
    type Task = ImageTask;
    type Private = ImagePrivate;
    type Response = ImageAnswer;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new(
            "image-aesthetics",
            env!("CARGO_PKG_VERSION"),
            "Text-to-image in the spirit of SN5: miners return a PNG or JPEG of the requested size for a prompt; \
             the plugin decodes it and pays for exposure, contrast, colourfulness, sharpness and composition, \
             gated by noise and blankness, scaled by agreement with the prompt's colours and brightness; \
             copies within the batch (perceptual hash) score 0.",
        )
        .with_defaults(Defaults { query_timeout_ms: 12_000, sample_size: 24, ..Defaults::default() })
    }

    fn make_task(ctx: &Context) -> Result<Task<ImageTask, ImagePrivate>, String> {
        let prompts = prompts();
        let index = ctx.rng_stream(0).range_u64(0..prompts.len() as u64) as usize;
        let (width, height) = SIZES[ctx.rng_stream(1).range_u64(0..SIZES.len() as u64) as usize];
        let prompt = prompts[index];
        Ok(Task::immediate(
            ImageTask {
                prompt: prompt.to_owned(),
                width,
                height,
                max_bytes: MAX_IMAGE_BYTES,
                max_jpeg_bytes: MAX_JPEG_BYTES,
                formats: vec![ImageFormat::Png, ImageFormat::Jpeg],
            },
            ImagePrivate { prompt_index: index as u32, attributes: Attributes::of_prompt(prompt) },
        ))
    }

    fn score(
        task: &Task<ImageTask, ImagePrivate>,
        responses: &[Response<ImageAnswer>],
        _: Option<&NoTruth>,
    ) -> Result<Scores, String> {
        let images: Vec<Option<&str>> = responses.iter().map(|r| r.ok().map(|a| a.image.as_str())).collect();
        let (values, summary) = score_batch(&task.public, &task.private.attributes, &images)?;
        Ok(Scores::new(values).with_diagnostics(summary))
    }

    fn check_response(task: &Task<ImageTask, ImagePrivate>, response: &ImageAnswer) -> Result<(), String> {
        let limit = task.public.max_bytes.min(MAX_IMAGE_BYTES) as usize;
        if response.image.len() > decode::base64_encoded_len(limit) {
            return Err(format!("image is over the limit of {limit} bytes"));
        }
        Ok(())
    }
}

sdk_guest::export_mechanism!(ImageAesthetics);
