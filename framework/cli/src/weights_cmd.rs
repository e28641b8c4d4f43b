//! `subnetkit weights …`: the on-chain weights a validator sets for its scores.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use chain::WeightsError;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::Failure;

/// `subnetkit weights` subcommands.
#[derive(Subcommand)]
pub(crate) enum WeightsCommand {
    /// Convert scores to the u16 weights the Python SDK (bittensor 11) would set, and print them.
    ///
    /// FILE holds `{"uids": [...], "scores": [...], "max_weight_limit": 0.5}` (the limit is the
    /// subnet's MaxWeightsLimit as a fraction, default 1.0: no cap). Prints
    /// `{"uids": [...], "weights": [...]}`; zero weights are dropped.
    Preview(PreviewArgs),
}

/// Arguments of `subnetkit weights preview`.
#[derive(Args)]
pub(crate) struct PreviewArgs {
    /// Scores file to read, or `-` for standard input.
    file: PathBuf,
}

/// The scores file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewInput {
    /// Miner uids, parallel to `scores`.
    uids: Vec<u16>,
    /// One non-negative score per uid.
    scores: Vec<f64>,
    /// Largest weight share allowed, as a fraction in [0, 1].
    #[serde(default = "no_limit")]
    max_weight_limit: f64,
}

fn no_limit() -> f64 {
    1.0
}

/// What `subnetkit weights preview` prints.
#[derive(Serialize)]
struct PreviewOutput<'a> {
    uids: &'a [u16],
    weights: &'a [u16],
}

pub(crate) fn run(command: WeightsCommand) -> Result<(), Failure> {
    match command {
        WeightsCommand::Preview(args) => preview(&args),
    }
}

fn preview(args: &PreviewArgs) -> Result<(), Failure> {
    let stdin = args.file.as_os_str() == "-";
    let source = if stdin { "<stdin>".to_string() } else { args.file.display().to_string() };
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {source}"))?;
    }

    let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
    let input: PreviewInput = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { "(file)".to_string() } else { path };
        anyhow!("{source}: {field}: {}", error.into_inner())
    })?;
    let weights = chain::scores_to_weights(&input.uids, &input.scores, input.max_weight_limit)
        .map_err(|error| anyhow!("{source}: {}: {error}", field_of(&error)))?;

    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &PreviewOutput { uids: &weights.uids, weights: &weights.values })
        .context("cannot write the output")?;
    writeln!(out).and_then(|()| out.flush()).context("cannot write the output")?;
    Ok(())
}

/// The input field a conversion error is about.
fn field_of(error: &WeightsError) -> String {
    match error {
        WeightsError::LengthMismatch { .. } => "uids, scores".to_string(),
        WeightsError::InvalidWeight { index, .. } => format!("scores[{index}]"),
        WeightsError::AllZero => "scores".to_string(),
        WeightsError::LimitOutOfRange { .. } => "max_weight_limit".to_string(),
        WeightsError::DuplicateUid { index, .. } => format!("uids[{index}]"),
        _ => "(file)".to_string(),
    }
}
