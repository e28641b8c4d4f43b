//! Bittensor wallets on disk: `ROOT/WALLET/hotkeys/HOTKEY` (the keyfile, JSON, mode 0600) and
//! `ROOT/WALLET/hotkeys/HOTKEYpub.txt` (its public part), with `ROOT` usually
//! `~/.bittensor/wallets`.
//!
//! Unencrypted keyfiles are read exactly as the Bittensor wallet writes them. Encrypted ones
//! (NaCl, Ansible vault, legacy Fernet) are recognised and refused with a clear error.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keys::{self, CryptoScheme, KeyError, Keypair};
use crate::ss58::AccountId;

/// `cryptoType` of an ed25519 keyfile.
const CRYPTO_TYPE_ED25519: u8 = 0;
/// `cryptoType` of an sr25519 keyfile.
const CRYPTO_TYPE_SR25519: u8 = 1;
/// Suffix of the public-part file next to a hotkey.
const PUB_SUFFIX: &str = "pub.txt";

/// Why a wallet operation failed. Messages name files, never secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// A wallet or hotkey name is not a plain file name.
    #[error("invalid {what} name {name:?}: use letters, digits, '-', '_' or '.', not starting with '.'")]
    InvalidName {
        /// `wallet` or `hotkey`.
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The keyfile is encrypted, which is not supported yet.
    #[error(
        "{}: keyfile is encrypted ({format}); subnetkit cannot decrypt keyfiles yet, \
         use an unencrypted hotkey (Bittensor hotkeys are unencrypted by default)",
        path.display()
    )]
    Encrypted {
        /// The file.
        path: PathBuf,
        /// The encryption format recognised.
        format: &'static str,
    },
    /// The keyfile is not in the Bittensor JSON keyfile format.
    #[error("{}: not a Bittensor keyfile: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The keyfile's fields contradict each other (e.g. its publicKey is not its seed's).
    #[error("{}: inconsistent keyfile: {reason}", path.display())]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// Which fields disagree.
        reason: String,
    },
    /// The key material could not be used.
    #[error("{}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: KeyError,
    },
    /// `create_hotkey` would overwrite an existing hotkey.
    #[error("{}: hotkey already exists; not overwriting it", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
}

/// A hotkey file's JSON, as the Bittensor wallet writes it. Every field is optional on read.
#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_phrase: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_seed: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crypto_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ss58_address: Option<String>,
}

/// One wallet found by [`list_wallets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletInfo {
    /// The wallet's directory name.
    pub name: String,
    /// The coldkey's address from `coldkeypub.txt`, if readable.
    pub coldkey: Option<AccountId>,
    /// Its hotkeys, sorted by name.
    pub hotkeys: Vec<HotkeyInfo>,
}

/// One hotkey found by [`list_wallets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotkeyInfo {
    /// The hotkey's file name.
    pub name: String,
    /// Its address, from `NAMEpub.txt` or the keyfile's public fields; `None` if neither is readable.
    pub address: Option<AccountId>,
    /// Whether the keyfile is encrypted.
    pub encrypted: bool,
}

/// A hotkey written by [`create_hotkey`].
#[derive(Debug)]
pub struct NewHotkey {
    /// The new keypair.
    pub keypair: Keypair,
    /// The keyfile (holds the recovery phrase as `secretPhrase`).
    pub path: PathBuf,
    /// The public-part file.
    pub pub_path: PathBuf,
}

/// `~/.bittensor/wallets`, or `None` when `HOME` is not set.
pub fn default_wallet_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(PathBuf::from(home).join(".bittensor").join("wallets"))
}

/// The keyfile of hotkey `hotkey` of wallet `wallet` under `root`.
pub fn hotkey_path(root: &Path, wallet: &str, hotkey: &str) -> Result<PathBuf, WalletError> {
    check_name("wallet", wallet)?;
    check_name("hotkey", hotkey)?;
    Ok(root.join(wallet).join("hotkeys").join(hotkey))
}

/// Loads hotkey `hotkey` of wallet `wallet` under `root`.
pub fn load_hotkey(root: &Path, wallet: &str, hotkey: &str) -> Result<Keypair, WalletError> {
    read_keyfile(&hotkey_path(root, wallet, hotkey)?)
}

/// Reads an unencrypted Bittensor keyfile with secret material and checks that its fields agree.
///
/// The key comes from `secretSeed`, else `secretPhrase`, else (sr25519) `privateKey`; every
/// other field present must describe the same key.
pub fn read_keyfile(path: &Path) -> Result<Keypair, WalletError> {
    let bytes = Zeroizing::new(fs::read(path).map_err(|source| WalletError::Io { path: path.to_owned(), source })?);
    parse_keyfile(&bytes).map_err(|e| e.at(path))
}

/// Creates a new hotkey from a fresh `words`-word phrase (12 is the Bittensor default) and writes
/// its keyfile and public part with mode 0600, creating missing directories with mode 0700.
/// Never overwrites an existing hotkey.
pub fn create_hotkey(root: &Path, wallet: &str, hotkey: &str, words: usize) -> Result<NewHotkey, WalletError> {
    let path = hotkey_path(root, wallet, hotkey)?;
    let pub_path = pub_path_of(&path);
    for existing in [&path, &pub_path] {
        if fs::symlink_metadata(existing).is_ok() {
            return Err(WalletError::AlreadyExists { path: existing.clone() });
        }
    }
    let (keypair, phrase) = Keypair::generate(CryptoScheme::Sr25519, words)
        .map_err(|source| WalletError::Key { path: path.clone(), source })?;
    let dir = path.parent().expect("a hotkey path has a parent");
    create_private_dirs(dir).map_err(|source| WalletError::Io { path: dir.to_owned(), source })?;

    let mut secret = public_json(&keypair);
    secret.secret_phrase = Some(phrase);
    secret.secret_seed = keypair.seed().map(|seed| Zeroizing::new(hex0x(seed)));
    secret.private_key = Some(Zeroizing::new(hex0x(&keypair.secret_key_bytes()[..])));
    let secret_text = Zeroizing::new(serde_json::to_string(&secret).expect("a keyfile serialises"));
    let public_text = serde_json::to_string(&public_json(&keypair)).expect("a keyfile serialises");

    write_new_private(&path, secret_text.as_bytes())
        .map_err(|source| WalletError::Io { path: path.clone(), source })?;
    if let Err(source) = write_new_private(&pub_path, public_text.as_bytes()) {
        let _ = fs::remove_file(&path);
        return Err(WalletError::Io { path: pub_path, source });
    }
    Ok(NewHotkey { keypair, path, pub_path })
}

/// Lists the wallets under `root` with their hotkeys' addresses (never reading secrets into keys).
/// A missing `root` has no wallets.
pub fn list_wallets(root: &Path) -> Result<Vec<WalletInfo>, WalletError> {
    let mut wallets = Vec::new();
    for entry in sorted_dir(root)? {
        if !entry.is_dir() {
            continue;
        }
        let name = file_name(&entry);
        let coldkey = fs::read(entry.join("coldkeypub.txt")).ok().and_then(|bytes| public_address(&bytes));
        let mut hotkeys = Vec::new();
        let hotkeys_dir = entry.join("hotkeys");
        for file in sorted_dir(&hotkeys_dir)? {
            let hotkey = file_name(&file);
            if !file.is_file() || hotkey.ends_with(PUB_SUFFIX) {
                continue;
            }
            let contents = fs::read(&file).map(Zeroizing::new).ok();
            let encrypted = contents.as_deref().is_some_and(|bytes| encryption_format(bytes).is_some());
            let address = fs::read(pub_path_of(&file))
                .ok()
                .and_then(|bytes| public_address(&bytes))
                .or_else(|| contents.as_deref().and_then(|bytes| public_address(bytes)));
            hotkeys.push(HotkeyInfo { name: hotkey, address, encrypted });
        }
        wallets.push(WalletInfo { name, coldkey, hotkeys });
    }
    Ok(wallets)
}

/// A keyfile error before its path is known.
enum ParseError {
    Encrypted(&'static str),
    Format(String),
    Inconsistent(String),
    Key(KeyError),
}

impl ParseError {
    fn at(self, path: &Path) -> WalletError {
        let path = path.to_owned();
        match self {
            ParseError::Encrypted(format) => WalletError::Encrypted { path, format },
            ParseError::Format(reason) => WalletError::Format { path, reason },
            ParseError::Inconsistent(reason) => WalletError::Inconsistent { path, reason },
            ParseError::Key(source) => WalletError::Key { path, source },
        }
    }
}

fn parse_keyfile(bytes: &[u8]) -> Result<Keypair, ParseError> {
    if let Some(format) = encryption_format(bytes) {
        return Err(ParseError::Encrypted(format));
    }
    // serde_json's error would quote the offending input, which may be secret: keep only where.
    let json: KeyfileJson = serde_json::from_slice(bytes).map_err(|e| {
        ParseError::Format(format!("not the JSON keyfile format (line {}, column {})", e.line(), e.column()))
    })?;
    let scheme = match json.crypto_type {
        None | Some(CRYPTO_TYPE_SR25519) => CryptoScheme::Sr25519,
        Some(CRYPTO_TYPE_ED25519) => CryptoScheme::Ed25519,
        Some(other) => {
            return Err(ParseError::Format(format!(
                "cryptoType {other} is not supported (sr25519 is 1, ed25519 is 0)"
            )));
        }
    };

    let keypair = if let Some(seed) = &json.secret_seed {
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(decode_hex_array("secretSeed", seed)?);
        let keypair = Keypair::from_seed(scheme, &seed);
        if let Some(phrase) = &json.secret_phrase {
            let from_phrase = keys::seed_from_phrase(phrase, "").map_err(ParseError::Key)?;
            if *from_phrase != *seed {
                return Err(ParseError::Inconsistent("secretPhrase does not derive secretSeed".into()));
            }
        }
        keypair
    } else if let Some(phrase) = &json.secret_phrase {
        Keypair::from_phrase(scheme, phrase, "").map_err(ParseError::Key)?
    } else if let Some(private) = &json.private_key {
        if scheme != CryptoScheme::Sr25519 {
            return Err(ParseError::Format("an ed25519 keyfile needs secretSeed or secretPhrase".into()));
        }
        let private: Zeroizing<[u8; 64]> = Zeroizing::new(decode_hex_array("privateKey", private)?);
        Keypair::from_sr25519_secret_key(&private[..]).map_err(ParseError::Key)?
    } else {
        return Err(ParseError::Format("it holds no secret (secretSeed, secretPhrase or privateKey)".into()));
    };

    let account = keypair.account();
    if let Some(private) = &json.private_key
        && json.secret_seed.is_some()
    {
        let private: Zeroizing<[u8; 64]> = Zeroizing::new(decode_hex_array("privateKey", private)?);
        if private[..] != keypair.secret_key_bytes()[..] {
            return Err(ParseError::Inconsistent("privateKey does not belong to secretSeed".into()));
        }
    }
    for (field, value) in [("publicKey", &json.public_key), ("accountId", &json.account_id)] {
        if let Some(value) = value
            && decode_hex_array::<32>(field, value)? != *account.as_bytes()
        {
            return Err(ParseError::Inconsistent(format!("{field} is not the secret's public key")));
        }
    }
    if let Some(address) = &json.ss58_address {
        let parsed = AccountId::from_ss58(address).map_err(|e| ParseError::Format(format!("ss58Address: {e}")))?;
        if parsed != account {
            return Err(ParseError::Inconsistent("ss58Address is not the secret's address".into()));
        }
    }
    Ok(keypair)
}

/// The address a public-part file (or a plain keyfile) declares, if any.
fn public_address(bytes: &[u8]) -> Option<AccountId> {
    if encryption_format(bytes).is_some() {
        return None;
    }
    let json: KeyfileJson = serde_json::from_slice(bytes).ok()?;
    if let Some(address) = &json.ss58_address {
        return AccountId::from_ss58(address).ok();
    }
    let public = json.public_key.as_ref().or(json.account_id.as_ref())?;
    decode_hex_array::<32>("publicKey", public).ok().map(AccountId::from_bytes)
}

/// The encryption a keyfile's leading bytes announce, if any.
fn encryption_format(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"$NACL") {
        Some("NaCl secretbox")
    } else if bytes.starts_with(b"$ANSIBLE_VAULT") {
        Some("Ansible vault")
    } else if bytes.starts_with(b"gAAAAA") {
        Some("legacy Fernet")
    } else {
        None
    }
}

fn decode_hex_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], ParseError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = [0u8; N];
    hex::decode_to_slice(digits, &mut bytes)
        .map_err(|_| ParseError::Format(format!("{field} is not {N} bytes of hex")))?;
    Ok(bytes)
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn public_json(keypair: &Keypair) -> KeyfileJson {
    let public = hex0x(keypair.account().as_bytes());
    KeyfileJson {
        crypto_type: Some(match keypair.scheme() {
            CryptoScheme::Sr25519 => CRYPTO_TYPE_SR25519,
            CryptoScheme::Ed25519 => CRYPTO_TYPE_ED25519,
        }),
        public_key: Some(public.clone()),
        account_id: Some(public),
        ss58_address: Some(keypair.account().to_ss58()),
        ..KeyfileJson::default()
    }
}

fn pub_path_of(keyfile: &Path) -> PathBuf {
    let mut name = keyfile.file_name().expect("a keyfile path ends in a name").to_owned();
    name.push(PUB_SUFFIX);
    keyfile.with_file_name(name)
}

fn check_name(what: &'static str, name: &str) -> Result<(), WalletError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(()) } else { Err(WalletError::InvalidName { what, name: name.to_owned() }) }
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>, WalletError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(WalletError::Io { path: dir.to_owned(), source }),
    };
    let mut paths = entries
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| WalletError::Io { path: dir.to_owned(), source })?;
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(unix)]
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Creates `path` (failing if it exists) readable and writable by the owner only, writes
/// `contents` and syncs it; a partly written file is removed.
fn write_new_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if written.is_err() {
        drop(file);
        let _ = fs::remove_file(path);
    }
    written
}
