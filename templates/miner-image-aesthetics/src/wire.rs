//! The task a miner receives and the answer it sends, exactly as the `image-aesthetics` plugin
//! documents them (`subnets/image-aesthetics/README.md`).
//!
//! The types, their names and their doc comments mirror the plugin's, so that
//! [`crate::task_schema`] and [`crate::response_schema`] produce the plugin manifest's JSON Schemas.
//! Change them only together with the plugin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An image format miners may answer with.
// The doc text is the plugin's, word for word (it is the schema's description), link included.
#[allow(rustdoc::broken_intra_doc_links)]
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

/// A miner's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImageAnswer {
    /// The PNG or JPEG file, standard base64 with padding (no `data:` prefix).
    pub image: String,
}
