//! `subnetkit btauth …`: sign and verify `btauth/1` requests by hand, to debug authentication
//! between stacks (e.g. a Python validator and a Rust miner).

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use protocol::AccountId;
use protocol::btauth::{self, Request, Verifier, VerifierConfig};

use crate::Failure;
use crate::wallet_cmd::WalletPathArg;

/// `subnetkit btauth` subcommands.
#[derive(Subcommand)]
pub(crate) enum BtauthCommand {
    /// Sign a request with a wallet hotkey; prints its X-Bittensor-* headers as a JSON object.
    Sign(SignArgs),
    /// Verify a request as a server would; prints the caller's ss58 and exits 0 when valid, else
    /// prints the reason (malformed, wrong receiver, stale, bad signature, replayed) and exits 1.
    Verify(VerifyArgs),
}

/// Arguments of `subnetkit btauth sign`.
#[derive(Args)]
pub(crate) struct SignArgs {
    /// Wallet name.
    #[arg(long)]
    wallet: String,
    /// Hotkey name in the wallet.
    #[arg(long)]
    hotkey: String,
    /// HTTP method (sent and signed upper case).
    #[arg(long)]
    method: String,
    /// Request target exactly as sent: path plus `?query` if any.
    #[arg(long)]
    path: String,
    /// File holding the exact body bytes (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    body_file: PathBuf,
    /// The receiver's hotkey (ss58); omit for an unbound request (servers reject those by default).
    #[arg(long, value_name = "SS58")]
    receiver: Option<String>,
    /// Nonce in nanoseconds since the Unix epoch [default: now].
    #[arg(long, value_name = "N")]
    nonce_ns: Option<u64>,
    #[command(flatten)]
    wallets: WalletPathArg,
}

/// Arguments of `subnetkit btauth verify`.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// JSON object of the request's headers (name to string value; other headers are ignored).
    #[arg(long, value_name = "FILE")]
    headers: PathBuf,
    /// File holding the exact body bytes (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    body_file: PathBuf,
    /// HTTP method as received.
    #[arg(long)]
    method: String,
    /// Request target as received: path plus `?query` if any.
    #[arg(long)]
    path: String,
    /// The server's own hotkey (ss58), which the request must be bound to.
    #[arg(long, value_name = "SS58")]
    receiver: String,
    /// The server's clock, in nanoseconds since the Unix epoch [default: now].
    #[arg(long, value_name = "N")]
    now_ns: Option<u64>,
    /// Accept requests not bound to a receiver (servers reject them by default).
    #[arg(long)]
    allow_unbound: bool,
    /// A file of accepted (hotkey, nonce) pairs, one `SS58 NONCE` per line: a request found in it
    /// is a replay; an accepted one is appended. Lets successive runs act like one server.
    #[arg(long, value_name = "FILE")]
    replay_log: Option<PathBuf>,
}

/// Runs a `subnetkit btauth` subcommand.
pub(crate) fn run(command: BtauthCommand) -> Result<(), Failure> {
    match command {
        BtauthCommand::Sign(args) => sign(&args),
        BtauthCommand::Verify(args) => verify(&args),
    }
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let receiver = args.receiver.as_deref().map(|text| parse_account("--receiver", text)).transpose()?;
    let body = read_body(&args.body_file)?;
    let root = args.wallets.resolve()?;
    let keypair = protocol::wallet::load_hotkey(&root, &args.wallet, &args.hotkey).context("cannot load the hotkey")?;
    let request = Request { method: &args.method, target: &args.path, body: &body };
    let nonce = args.nonce_ns.unwrap_or_else(btauth::now_ns);
    let headers = btauth::sign(&keypair, &request, receiver.as_ref(), nonce).context("cannot sign the request")?;
    // In the order they are sent (a `serde_json::Map` would sort them).
    let fields: Vec<String> = headers
        .to_pairs()
        .iter()
        .map(|(name, value)| {
            format!("  {}: {}", serde_json::Value::from(*name), serde_json::Value::from(value.as_str()))
        })
        .collect();
    println!("{{\n{}\n}}", fields.join(",\n"));
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let own = parse_account("--receiver", &args.receiver)?;
    let headers = read_headers(&args.headers)?;
    let body = read_body(&args.body_file)?;
    let seen = args.replay_log.as_deref().map(read_replay_log).transpose()?.unwrap_or_default();

    let config = VerifierConfig { require_receiver: !args.allow_unbound, ..VerifierConfig::default() };
    let verifier = Verifier::new(own, config);
    let request = Request { method: &args.method, target: &args.path, body: &body };
    let now = args.now_ns.unwrap_or_else(btauth::now_ns);
    let pairs = headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()));
    let caller = match verifier.verify_pairs(pairs, &request, now) {
        Ok(caller) => caller,
        Err(error) => return reject(error.reason(), error.status(), &error.to_string()),
    };
    // Step 5 across runs: the verifier has checked the signature, the log says what came before.
    if seen.contains(&(caller.hotkey, caller.nonce_ns)) {
        let error = btauth::AuthError::Replayed;
        return reject(error.reason(), error.status(), &error.to_string());
    }
    if let Some(log) = &args.replay_log {
        append_replay_log(log, &caller.hotkey, caller.nonce_ns)?;
    }
    println!("{}", caller.hotkey);
    Ok(())
}

/// Reports a rejected request on standard output and fails with exit code 1.
fn reject(reason: btauth::Reason, status: u16, message: &str) -> Result<(), Failure> {
    println!("rejected: {reason} (HTTP {status}): {message}");
    Err(Failure::Mismatch)
}

fn parse_account(flag: &str, text: &str) -> anyhow::Result<AccountId> {
    text.parse().with_context(|| format!("{flag}: not a Bittensor ss58 address"))
}

fn read_body(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body).context("cannot read the body from standard input")?;
        return Ok(body);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The headers file: a JSON object whose values are all strings.
fn read_headers(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{}: not JSON", path.display()))?;
    let Some(object) = value.as_object() else {
        bail!("{}: expected a JSON object of header names to string values", path.display());
    };
    object
        .iter()
        .map(|(name, value)| match value.as_str() {
            Some(text) => Ok((name.clone(), text.to_owned())),
            None => bail!("{}: header {name}: expected a string value", path.display()),
        })
        .collect()
}

fn read_replay_log(path: &Path) -> anyhow::Result<HashSet<(AccountId, u64)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let entry =
                line.split_once(' ').and_then(|(hotkey, nonce)| Some((hotkey.parse().ok()?, nonce.parse().ok()?)));
            entry.with_context(|| format!("{}: line {}: expected `SS58 NONCE`", path.display(), index + 1))
        })
        .collect()
}

fn append_replay_log(path: &Path, hotkey: &AccountId, nonce: u64) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(file, "{hotkey} {nonce}").with_context(|| format!("cannot write {}", path.display()))
}
