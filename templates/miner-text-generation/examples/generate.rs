//! Generates one completion with SmolLM2 and prints it with its timings: a smoke test and a
//! benchmark for the machine a miner runs on.
//!
//! Run with
//! `SMOLLM2_GGUF=PATH cargo run --release -p miner-text-generation --features smollm2 --example generate -- "PROMPT" [MAX_NEW_TOKENS]`

use std::time::Instant;

use anyhow::{Context, bail};
use miner_text_generation::smollm2::SmolLm2;
use miner_text_generation::{GenerationRequest, SMOLLM2_GGUF_ENV};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(prompt) = args.next() else { bail!("usage: generate PROMPT [MAX_NEW_TOKENS]") };
    let max_new_tokens = match args.next() {
        Some(max) => max.parse().context("MAX_NEW_TOKENS must be a number")?,
        None => 128,
    };
    let path = std::env::var_os(SMOLLM2_GGUF_ENV)
        .with_context(|| format!("set {SMOLLM2_GGUF_ENV} (fetch the model with fetch-model.sh)"))?;

    let started = Instant::now();
    let model = SmolLm2::load(&path).context("failed to load the model")?;
    let load = started.elapsed();
    let generation = model
        .generate_blocking(&GenerationRequest::new(prompt).with_max_new_tokens(max_new_tokens).without_time_limit())
        .context("failed to generate")?;
    println!("{}", generation.text);
    eprintln!(
        "load {load:.2?}; {} prompt tokens in {:.2?}; {} tokens in {:.2?} ({:.1} tokens/s); finish {:?}",
        generation.prompt_tokens,
        generation.prefill,
        generation.generated_tokens,
        generation.decode,
        generation.tokens_per_second(),
        generation.finish_reason
    );
    Ok(())
}
