//! `subnetkit wallet …`: create and list Bittensor wallet hotkeys.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::Failure;

/// `subnetkit wallet` subcommands.
#[derive(Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a new sr25519 hotkey from a fresh recovery phrase, as the Bittensor wallet does
    /// (unencrypted keyfile, mode 0600); prints its ss58 address.
    New(NewArgs),
    /// List wallets and their hotkeys' ss58 addresses.
    List(ListArgs),
}

/// Where wallets live.
#[derive(Args)]
pub(crate) struct WalletPathArg {
    /// Directory of wallets [default: ~/.bittensor/wallets].
    #[arg(long, value_name = "DIR")]
    wallet_path: Option<PathBuf>,
}

impl WalletPathArg {
    /// The wallet root, with a leading `~/` expanded.
    pub(crate) fn resolve(&self) -> anyhow::Result<PathBuf> {
        match &self.wallet_path {
            None => protocol::wallet::default_wallet_path().context("no wallet directory: set --wallet-path or HOME"),
            Some(path) => match path.strip_prefix("~") {
                Ok(rest) => Ok(protocol::wallet::default_wallet_path()
                    .and_then(|wallets| wallets.parent()?.parent().map(|home| home.join(rest)))
                    .context("cannot expand ~: HOME is not set")?),
                Err(_) => Ok(path.clone()),
            },
        }
    }
}

/// Arguments of `subnetkit wallet new`.
#[derive(Args)]
pub(crate) struct NewArgs {
    /// Wallet name (a directory under the wallet path; created if missing).
    #[arg(long)]
    name: String,
    /// Hotkey name (a file under the wallet's `hotkeys/`; never overwritten).
    #[arg(long)]
    hotkey: String,
    /// Words in the recovery phrase: 12, 15, 18, 21 or 24.
    #[arg(long, default_value_t = 12)]
    words: usize,
    #[command(flatten)]
    path: WalletPathArg,
}

/// Arguments of `subnetkit wallet list`.
#[derive(Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    path: WalletPathArg,
}

/// Runs a `subnetkit wallet` subcommand.
pub(crate) fn run(command: WalletCommand) -> Result<(), Failure> {
    match command {
        WalletCommand::New(args) => new(&args),
        WalletCommand::List(args) => list(&args),
    }
}

fn new(args: &NewArgs) -> Result<(), Failure> {
    let root = args.path.resolve()?;
    let created = protocol::wallet::create_hotkey(&root, &args.name, &args.hotkey, args.words)
        .context("cannot create the hotkey")?;
    println!("{}", created.keypair.account());
    eprintln!("created hotkey {}/{} at {}", args.name, args.hotkey, created.path.display());
    eprintln!(
        "its recovery phrase is stored in that file (secretPhrase): back it up privately; anyone who has it controls the hotkey"
    );
    Ok(())
}

fn list(args: &ListArgs) -> Result<(), Failure> {
    let root = args.path.resolve()?;
    let wallets = protocol::wallet::list_wallets(&root).context("cannot list wallets")?;
    if wallets.is_empty() {
        eprintln!("no wallets in {}", root.display());
    }
    for wallet in wallets {
        match wallet.coldkey {
            Some(coldkey) => println!("{} (coldkey {coldkey})", wallet.name),
            None => println!("{}", wallet.name),
        }
        for hotkey in wallet.hotkeys {
            let address = match (hotkey.address, hotkey.encrypted) {
                (Some(address), false) => address.to_string(),
                (Some(address), true) => format!("{address} (encrypted)"),
                (None, true) => "(encrypted, no public file)".to_owned(),
                (None, false) => "(unreadable)".to_owned(),
            };
            println!("  {} {address}", hotkey.name);
        }
    }
    Ok(())
}
