//! Integration tests: one binary (`cargo test -p miner-text-generation`).
//!
//! - `config`: parsing and validation of [`GeneratorConfig`](miner_text_generation::GeneratorConfig).
//! - `openai`: the OpenAI-compatible backend against a real HTTP server on `127.0.0.1:0`.
//! - `smollm2` (feature `smollm2`): the real model; needs `SMOLLM2_GGUF` and fails without it.

mod config;
mod openai;
#[cfg(feature = "smollm2")]
mod smollm2;
