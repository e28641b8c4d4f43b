//! `subnetkit yuma …`: run, check and time Yuma Consensus epochs from vector files.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use yuma::{EpochOutput, Options, VectorFile, Workspace};

use crate::Failure;

/// `subnetkit yuma` subcommands.
#[derive(Subcommand)]
pub(crate) enum YumaCommand {
    /// Run every epoch of a `yuma-epoch-vector/v1` file and print the outputs as JSON.
    Epoch(EpochArgs),
}

/// Arguments of `subnetkit yuma epoch`.
#[derive(Args)]
pub(crate) struct EpochArgs {
    /// Vector file to read, or `-` for standard input.
    file: PathBuf,
    /// Compare every epoch with the file's own `expected`; exit 0 only if all fields match.
    #[arg(long)]
    check: bool,
    /// Include the intermediate matrices in the printed outputs.
    #[arg(long)]
    matrices: bool,
    /// Time each epoch N times after parsing; the last line printed is `median_us=<microseconds>`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    bench: Option<u32>,
}

/// What `subnetkit yuma epoch` prints when it neither checks nor times.
#[derive(Serialize)]
struct Report<'a> {
    name: &'a str,
    epochs: Vec<EpochOutput>,
}

pub(crate) fn run(command: YumaCommand) -> Result<(), Failure> {
    match command {
        YumaCommand::Epoch(args) => epoch(&args),
    }
}

fn epoch(args: &EpochArgs) -> Result<(), Failure> {
    let source = if args.file.as_os_str() == "-" { "<stdin>".to_string() } else { args.file.display().to_string() };
    let bytes = read_input(args)?;
    let file = VectorFile::from_json(&bytes).with_context(|| format!("{source}: invalid vector file"))?;

    if args.check {
        check(&source, &file)?;
    }
    if let Some(runs) = args.bench {
        return bench(&source, &file, runs);
    }
    if !args.check {
        let options = Options { matrices: args.matrices };
        let epochs = file
            .epochs
            .iter()
            .enumerate()
            .map(|(k, e)| yuma::epoch(&e.input, &options).with_context(|| format!("{source}: epochs[{k}].input")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let stdout = std::io::stdout().lock();
        let mut out = std::io::BufWriter::new(stdout);
        serde_json::to_writer(&mut out, &Report { name: &file.name, epochs }).context("cannot write the output")?;
        writeln!(out).and_then(|()| out.flush()).context("cannot write the output")?;
    }
    Ok(())
}

fn read_input(args: &EpochArgs) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    }
    Ok(bytes)
}

/// Compares each epoch with its `expected`, printing the first mismatch or a summary line.
fn check(source: &str, file: &VectorFile) -> Result<(), Failure> {
    for (k, epoch) in file.epochs.iter().enumerate() {
        let expected = epoch
            .expected
            .as_ref()
            .with_context(|| format!("{source}: epochs[{k}].expected: missing, and --check compares against it"))?;
        let options = Options { matrices: expected.matrices.is_some() };
        let actual = yuma::epoch(&epoch.input, &options).with_context(|| format!("{source}: epochs[{k}].input"))?;
        if let Some(mismatch) = actual.first_mismatch(expected) {
            println!("mismatch: {}: epoch {k}, {mismatch}", file.name);
            return Err(Failure::Mismatch);
        }
    }
    println!("ok: {}: {} epoch(s), every field matches", file.name, file.epochs.len());
    Ok(())
}

/// Times each epoch `runs` times (outputs discarded) and prints per-epoch and overall medians.
fn bench(source: &str, file: &VectorFile, runs: u32) -> Result<(), Failure> {
    let options = Options::default();
    // One workspace for every run, as a validator or chain would keep it.
    let mut workspace = Workspace::default();
    let mut all = Vec::new();
    for (k, epoch) in file.epochs.iter().enumerate() {
        // Validation is part of parsing, outside the timed epoch (as storage reads are on chain).
        let input = epoch.input.validate().with_context(|| format!("{source}: epochs[{k}].input"))?;
        let mut samples = Vec::with_capacity(runs as usize);
        for _ in 0..runs {
            let start = Instant::now();
            let output = workspace.run(input, &options);
            samples.push(start.elapsed().as_secs_f64() * 1e6);
            drop(std::hint::black_box(output));
        }
        let median = median(&mut samples);
        println!("epoch {k}: n={} runs={runs} median_us={median:.1}", epoch.input.n());
        all.extend(samples);
    }
    println!("median_us={:.1}", median(&mut all));
    Ok(())
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => 0.0,
        len if len % 2 == 1 => samples[len / 2],
        len => (samples[len / 2 - 1] + samples[len / 2]) / 2.0,
    }
}
