//! `miner-text-generation`: the generation layer of a miner for the `text-generation` subnet.
//!
//! The validator sends a task `{"prompt", "kind", "max_completion_bytes"}` and expects
//! `{"completion": "…"}` back within its query timeout (20 s by default); see
//! `subnets/text-generation/README.md` for how completions are scored. This crate turns a prompt
//! into a completion. The miner server (authentication, routing, queueing) is a separate layer.
//!
//! # Backends
//!
//! | backend | what it is | when |
//! | --- | --- | --- |
//! | `smollm2::SmolLm2` | SmolLM2-135M-Instruct, offline on the CPU with candle, greedy decoding or seeded [`Sampling`] | the default; cargo feature `smollm2` |
//! | [`OpenAiCompatible`] | any server speaking the OpenAI chat-completions API (vLLM, llama.cpp, hosted APIs) | bring your own, larger model |
//! | [`TestFallback`] | builds a string from the prompt's words: **not a model, earns nothing** | tests only |
//!
//! [`GeneratorConfig`] (serde) selects one, and [`Backend::from_config`] validates it and builds
//! it. Every backend implements [`Generator`].
//!
//! # Layout
//!
//! - `generator.rs`: the [`Generator`] trait, [`GenerationRequest`], [`GenerateError`] and the
//!   limits every backend applies ([`finish`]).
//! - `config.rs`: [`GeneratorConfig`], [`Backend`], [`ConfigError`].
//! - `openai.rs`, `fallback.rs`, `smollm2.rs`: one backend each.
//!
//! Build and measure the model with the `generate` example (`examples/generate.rs`).

mod config;
mod fallback;
mod generator;
mod openai;
#[cfg(feature = "smollm2")]
pub mod smollm2;
mod text_miner;
mod wire;

pub use config::{Backend, ConfigError, GeneratorConfig, OpenAiConfig, Sampling, SmolLm2Config};
pub use fallback::TestFallback;
pub use generator::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_NEW_TOKENS, DEFAULT_TIME_LIMIT, GenerateError, GenerationRequest, Generator, finish,
    truncate_to_bytes,
};
pub use openai::OpenAiCompatible;
pub use text_miner::{SUBNET, TextGenerationMiner, response_schema, task_schema};
pub use wire::{Completion, Prompt, TaskKind};

/// The environment variable naming the SmolLM2 GGUF file when the config gives no path.
pub const SMOLLM2_GGUF_ENV: &str = "SMOLLM2_GGUF";
