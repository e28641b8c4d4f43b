//! Scoring through the plugin's own path: a recorded batch, JSON bodies, the SDK's checks.

use image_aesthetics::prompt::Attributes;
use image_aesthetics::{ImageAesthetics, ImageFormat, ImagePrivate, ImageTask, MAX_IMAGE_BYTES};
use sdk_guest::Outcome;
use sdk_guest::testing::{self, Batch, BatchResponse, BatchTask};

/// A task for `prompt` at `w`×`h` with the default byte limit.
pub(crate) fn task(prompt: &str, w: u32, h: u32) -> (ImageTask, ImagePrivate) {
    let public = ImageTask {
        prompt: prompt.into(),
        width: w,
        height: h,
        max_bytes: MAX_IMAGE_BYTES,
        max_jpeg_bytes: image_aesthetics::MAX_JPEG_BYTES,
        formats: vec![ImageFormat::Png, ImageFormat::Jpeg],
    };
    (public, ImagePrivate { prompt_index: 0, attributes: Attributes::of_prompt(prompt) })
}

/// One response body: `Some(base64)` is an answer, `None` a timeout.
pub(crate) fn batch(task: &(ImageTask, ImagePrivate), bodies: &[Option<String>]) -> Batch {
    Batch {
        task: BatchTask {
            public: serde_json::to_value(&task.0).unwrap(),
            private: serde_json::to_value(&task.1).unwrap(),
            settles_after_ms: None,
        },
        responses: bodies
            .iter()
            .enumerate()
            .map(|(i, b)| BatchResponse {
                uid: i as u16,
                hotkey: format!("miner-{i}"),
                body: b.as_ref().map(|s| serde_json::json!({ "image": s })),
                outcome: if b.is_some() { Outcome::Ok } else { Outcome::Timeout },
                latency_ms: 1000 + i as u32,
            })
            .collect(),
        truth: None,
    }
}

/// Scores `bodies` together as one batch.
pub(crate) fn score_together(prompt: &str, w: u32, h: u32, bodies: &[Option<String>]) -> Vec<f64> {
    let scores = testing::score_batch::<ImageAesthetics>(&batch(&task(prompt, w, h), bodies)).unwrap();
    scores.values
}

/// Scores one body alone (so no duplicate rule applies).
pub(crate) fn score_alone(prompt: &str, w: u32, h: u32, body: &str) -> f64 {
    score_together(prompt, w, h, &[Some(body.to_owned())])[0]
}
