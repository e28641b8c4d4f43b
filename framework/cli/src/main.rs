//! `subnetkit`: one command for subnet owners, miners and validators.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod btauth_cmd;
mod demo;
mod localnet_cmd;
mod miner_cmd;
mod plugin_cmd;
mod template;
mod validator_cmd;
mod wallet_cmd;
mod weights_cmd;
mod yuma_cmd;

/// Exit code for input the command cannot use (unreadable file, bad format, invalid field).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a check that ran and found a difference.
const EXIT_MISMATCH: u8 = 1;

#[derive(Parser)]
#[command(name = "subnetkit", version, about = "A Rust framework for Bittensor-style subnets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Yuma Consensus, computed exactly as the subtensor chain computes it.
    Yuma {
        #[command(subcommand)]
        command: yuma_cmd::YumaCommand,
    },
    /// Incentive-mechanism plugins: create, build, check, and run them on tasks and batches.
    Plugin {
        #[command(subcommand)]
        command: plugin_cmd::PluginCommand,
    },
    /// Bittensor wallets: create and list hotkeys.
    Wallet {
        #[command(subcommand)]
        command: wallet_cmd::WalletCommand,
    },
    /// Miners: copy a template into a new crate, or run one (serves until Ctrl-C).
    Miner {
        #[command(subcommand)]
        command: miner_cmd::MinerCommand,
    },
    /// `btauth/1` signed requests: sign and verify by hand to debug auth between stacks.
    Btauth {
        #[command(subcommand)]
        command: btauth_cmd::BtauthCommand,
    },
    /// The embedded local chain: `localnet init --genesis FILE`, then `localnet` serves it.
    Localnet(localnet_cmd::LocalnetArgs),
    /// The validator: host many subnets from one config; replay a stored round.
    Validator {
        #[command(subcommand)]
        command: validator_cmd::ValidatorCommand,
    },
    /// Validator weights: preview the u16 weights the Python SDK would set for given scores.
    Weights {
        #[command(subcommand)]
        command: weights_cmd::WeightsCommand,
    },
    /// Everything at once on the embedded chain: three subnets, honest and adversarial miners,
    /// one validator; ends with each miner's score, incentive and emission.
    Demo(demo::DemoArgs),
}

/// How a command ended, beyond plain success.
enum Failure {
    /// The input was unusable; the message names the file and field.
    BadInput(anyhow::Error),
    /// A comparison found a difference; already reported.
    Mismatch,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::BadInput(error)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Yuma { command } => yuma_cmd::run(command),
        Command::Plugin { command } => plugin_cmd::run(command),
        Command::Wallet { command } => wallet_cmd::run(command),
        Command::Miner { command } => miner_cmd::run(command),
        Command::Btauth { command } => btauth_cmd::run(command),
        Command::Localnet(args) => localnet_cmd::run(args),
        Command::Validator { command } => validator_cmd::run(command),
        Command::Weights { command } => weights_cmd::run(command),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(error)) => {
            // One line, whatever the causes print (some spread a byte dump over several).
            let message = format!("{error:#}").split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("error: {message}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Err(Failure::Mismatch) => ExitCode::from(EXIT_MISMATCH),
    }
}

/// Logs to stderr through `tracing`, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    init_tracing_at("info");
}

/// As [`init_tracing`], but warnings only unless `RUST_LOG` says otherwise (for commands whose
/// progress is their stdout).
pub(crate) fn init_tracing_quiet() {
    init_tracing_at("warn");
}

fn init_tracing_at(default: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on Ctrl-C, or SIGTERM on Unix.
pub(crate) fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // SIGTERM's handler is installed now, not at the first poll, so a signal that arrives while
    // the caller is still starting up is not fatal. Call it from inside the runtime.
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutting down");
    }
}
