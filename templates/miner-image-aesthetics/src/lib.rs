//! `miner-image-aesthetics`: a miner for the `image-aesthetics` subnet.
//!
//! The validator sends a prompt and a size (`{"prompt", "width", "height", "max_bytes",
//! "max_jpeg_bytes", "formats"}`) and expects `{"image": "<base64 PNG or JPEG>"}` of exactly
//! that size. The subnet decodes the picture and pays for technical quality (exposure, contrast,
//! colourfulness, sharpness, composition) and for agreement with the prompt's colours and light;
//! copies within a round score 0 (see `subnets/image-aesthetics/README.md`).
//!
//! # Backends
//!
//! | `backend` | what it is |
//! | --- | --- |
//! | `renderer` | [`render`]: a landscape drawn from the prompt's words, pure Rust, PNG (the default) |
//! | `http` | [`HttpBackend`]: any image server taking the task as JSON and answering `{"image"}` |
//!
//! [`Config`] selects one. The renderer is a baseline that follows the prompt's colours and
//! light; a real text-to-image model behind the HTTP backend is how a miner competes.
//!
//! # Layout
//!
//! - `wire.rs`: the task and response types, mirroring the plugin's ([`task_schema`],
//!   [`response_schema`]).
//! - `render.rs`: the renderer; `http.rs`: the HTTP backend; `config.rs`: [`Config`].
//! - this file: [`ImageAestheticsMiner`], the [`miner::Miner`] the server calls.

mod config;
mod http;
pub mod render;
mod wire;

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use base64::Engine as _;
use miner::{Miner, MinerError, Subnet, SubnetError, Task};
use schemars::{JsonSchema, SchemaGenerator};

pub use config::{Config, ConfigError};
pub use http::{HttpBackend, HttpError};
pub use wire::{ImageAnswer, ImageFormat, ImageTask};

/// The subnet's name: its route segment (`POST /image-aesthetics/task`) and plugin name.
pub const SUBNET: &str = "image-aesthetics";

/// Largest side the renderer draws (the plugin asks for at most 512).
pub const MAX_SIDE: u32 = 2048;

/// The JSON Schema of the task ([`ImageTask`]), as the plugin's manifest gives it.
pub fn task_schema() -> String {
    schema::<ImageTask>()
}

/// The JSON Schema of the response ([`ImageAnswer`]), as the plugin's manifest gives it.
pub fn response_schema() -> String {
    schema::<ImageAnswer>()
}

fn schema<T: JsonSchema>() -> String {
    SchemaGenerator::default().into_root_schema_for::<T>().as_value().to_string()
}

/// Checks that `file` is a PNG, or a JPEG the task accepts, within the task's byte limits.
fn check_file(task: &ImageTask, file: &[u8]) -> Result<(), String> {
    let accepts = |format| task.formats.contains(&format);
    if file.starts_with(b"\x89PNG\r\n\x1a\n") {
        if !accepts(ImageFormat::Png) {
            return Err("is a PNG and the task does not accept PNG".to_owned());
        }
    } else if file.starts_with(&[0xFF, 0xD8, 0xFF]) {
        if !accepts(ImageFormat::Jpeg) {
            return Err("is a JPEG and the task does not accept JPEG".to_owned());
        }
        if file.len() > task.max_jpeg_bytes as usize {
            return Err(format!("is a JPEG of {} bytes, over the task's {}", file.len(), task.max_jpeg_bytes));
        }
    } else {
        return Err("is neither a PNG nor a JPEG file".to_owned());
    }
    if file.len() > task.max_bytes as usize {
        return Err(format!("is {} bytes, over the task's {}", file.len(), task.max_bytes));
    }
    Ok(())
}

/// Why the renderer could not answer a task.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The size is 0 or above [`MAX_SIDE`].
    #[error("size {width}x{height} is outside 1..={MAX_SIDE}")]
    Size {
        /// Asked width.
        width: u32,
        /// Asked height.
        height: u32,
    },
    /// The PNG file is not acceptable to the task (PNG not accepted, or over the byte limit).
    #[error("the rendered PNG {0}")]
    Unacceptable(String),
    /// The PNG encoder failed.
    #[error("cannot encode the PNG")]
    Png(#[source] png::EncodingError),
}

/// The built-in renderer with its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renderer {
    /// Seed of the layout and texture.
    pub seed: u64,
}

impl Renderer {
    /// The PNG file for `task`: the prompt rendered at the asked size.
    pub fn png(&self, task: &ImageTask) -> Result<Vec<u8>, RenderError> {
        let (width, height) = (task.width, task.height);
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(RenderError::Size { width, height });
        }
        let scene = render::Scene::of_prompt(&task.prompt);
        let seed = self.seed ^ fnv1a(task.prompt.as_bytes());
        let picture = render::render(&scene, width, height, seed);
        let file = render::encode_png(&picture).map_err(RenderError::Png)?;
        check_file(task, &file).map_err(RenderError::Unacceptable)?;
        Ok(file)
    }

    /// The answer to `task`: [`Renderer::png`] in standard base64.
    pub fn answer(&self, task: &ImageTask) -> Result<ImageAnswer, RenderError> {
        Ok(ImageAnswer { image: base64::engine::general_purpose::STANDARD.encode(self.png(task)?) })
    }
}

/// FNV-1a, 64 bits: a stable hash of the prompt (std's hashers are not stable across releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The backend a miner answers with.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The built-in renderer.
    Renderer(Renderer),
    /// An external image server.
    Http(HttpBackend),
}

/// The miner: a [`Backend`] applied to each task.
#[derive(Debug, Clone)]
pub struct ImageAestheticsMiner {
    backend: Backend,
}

impl ImageAestheticsMiner {
    /// A miner for a validated configuration (a renderer without a seed gets a random one).
    pub fn new(config: Config) -> Result<ImageAestheticsMiner, ConfigError> {
        config.validate()?;
        let backend = match config {
            Config::Renderer { seed } => Backend::Renderer(Renderer {
                seed: seed.unwrap_or_else(|| std::collections::hash_map::RandomState::new().build_hasher().finish()),
            }),
            Config::Http { url, timeout_ms } => {
                let url = reqwest::Url::parse(&url)
                    .map_err(|e| ConfigError::Invalid { field: "url", message: e.to_string() })?;
                let client = HttpBackend::new(url, Duration::from_millis(timeout_ms)).map_err(|e| {
                    ConfigError::Invalid { field: "url", message: format!("cannot build the client: {e}") }
                })?;
                Backend::Http(client)
            }
        };
        Ok(ImageAestheticsMiner { backend })
    }

    /// Its backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The answer to `task`. The renderer runs on the blocking pool, off the server's threads.
    pub async fn answer(&self, task: ImageTask) -> Result<ImageAnswer, MinerError> {
        match &self.backend {
            Backend::Renderer(renderer) => {
                let renderer = *renderer;
                Ok(tokio::task::spawn_blocking(move || renderer.answer(&task)).await??)
            }
            Backend::Http(client) => Ok(client.generate(&task).await?),
        }
    }

    /// The subnet entry the miner server serves: route [`SUBNET`], netuid `netuid`, the
    /// plugin's schemas and this miner, with the server's default deadline and queue.
    pub fn into_subnet(self, netuid: u16) -> Result<Subnet, SubnetError> {
        Subnet::new(SUBNET, netuid, &task_schema(), &response_schema(), self)
    }
}

impl Miner for ImageAestheticsMiner {
    async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
        let task: ImageTask = task.parse()?;
        let answer = self.answer(task).await?;
        Ok(serde_json::to_value(answer)?)
    }
}
