//! Bittensor wallet keyfiles: the test wallets load as they are; new hotkeys round trip.

use std::fs;
use std::path::Path;

use protocol::wallet::{self, WalletError};
use protocol::{CryptoScheme, Keypair};

use crate::{vectors, wallets_root};

#[test]
fn both_test_wallets_load_with_their_recorded_addresses() {
    let vectors = vectors();
    for (wallet, party) in [("validator", &vectors.sender), ("miner", &vectors.receiver)] {
        let keypair = wallet::load_hotkey(&wallets_root(), wallet, "default").expect("test wallet loads");
        assert_eq!(keypair.account().to_ss58(), party.ss58, "{wallet}");
        assert_eq!(keypair.scheme(), CryptoScheme::Sr25519);
        let file: serde_json::Value =
            serde_json::from_slice(&fs::read(wallets_root().join(wallet).join("hotkeys/default")).unwrap()).unwrap();
        assert_eq!(file["ss58Address"], party.ss58);
        // The stored privateKey is the ed25519-layout secret key of the stored seed.
        assert_eq!(format!("0x{}", hex::encode(&keypair.secret_key_bytes()[..])), file["privateKey"]);
        assert_eq!(format!("0x{}", hex::encode(keypair.seed().unwrap())), file["secretSeed"]);
    }
}

/// A temp wallet root holding one hotkey file `w/hotkeys/h` with `contents`.
fn root_with_keyfile(contents: &[u8]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("w/hotkeys");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("h"), contents).unwrap();
    root
}

fn load(root: &Path) -> Result<Keypair, WalletError> {
    wallet::load_hotkey(root, "w", "h")
}

fn miner_keyfile() -> serde_json::Value {
    serde_json::from_slice(&fs::read(wallets_root().join("miner/hotkeys/default")).unwrap()).unwrap()
}

#[test]
fn keyfiles_with_one_source_of_secret_load() {
    let full = miner_keyfile();
    let expected = full["ss58Address"].as_str().unwrap().to_owned();
    for keep in ["secretSeed", "secretPhrase", "privateKey"] {
        let mut file = full.clone();
        for field in ["secretSeed", "secretPhrase", "privateKey"] {
            if field != keep {
                file.as_object_mut().unwrap().remove(field);
            }
        }
        let root = root_with_keyfile(&serde_json::to_vec(&file).unwrap());
        assert_eq!(load(root.path()).expect(keep).account().to_ss58(), expected, "{keep}");
    }
}

#[test]
fn inconsistent_keyfiles_are_refused() {
    let validator_file: serde_json::Value =
        serde_json::from_slice(&fs::read(wallets_root().join("validator/hotkeys/default")).unwrap()).unwrap();
    for field in ["secretPhrase", "privateKey", "publicKey", "accountId", "ss58Address"] {
        let mut file = miner_keyfile();
        file[field] = validator_file[field].clone();
        let root = root_with_keyfile(&serde_json::to_vec(&file).unwrap());
        let error = load(root.path()).expect_err(field);
        assert!(matches!(error, WalletError::Inconsistent { .. }), "{field}: {error}");
        assert!(error.to_string().contains(field), "{error}");
    }
}

#[test]
fn encrypted_keyfiles_are_refused_with_a_clear_message() {
    for (prefix, format) in
        [(&b"$NACL"[..], "NaCl"), (b"$ANSIBLE_VAULT;1.1;AES256", "Ansible"), (b"gAAAAABk", "Fernet")]
    {
        let mut contents = prefix.to_vec();
        contents.extend_from_slice(&[0x5a; 80]);
        let root = root_with_keyfile(&contents);
        let error = load(root.path()).expect_err("encrypted");
        assert!(matches!(error, WalletError::Encrypted { .. }));
        let message = error.to_string();
        assert!(message.contains("encrypted") && message.contains(format) && message.contains("not"), "{message}");
        assert!(message.contains("w/hotkeys/h"), "{message}");
    }
}

#[test]
fn malformed_keyfiles_are_refused_without_echoing_them() {
    let public_only = fs::read(wallets_root().join("miner/hotkeys/defaultpub.txt")).unwrap();
    let secretish =
        br#"{"secretPhrase": "excite blast assault paddle good ladder coffee neglect awful magnet latin style" "#;
    let cases: Vec<(&[u8], &str)> = vec![
        (b"", "JSON"),
        (secretish, "JSON"),
        (&public_only, "no secret"),
        (br#"{"secretSeed":"0x1234"}"#, "secretSeed"),
        (
            br#"{"secretSeed":"0x2e87731866a454ec7ab3155c62d1bf8c22c3d668dd8baf56d98fee36b9e452ea","cryptoType":2}"#,
            "cryptoType 2",
        ),
    ];
    for (contents, expected) in cases {
        let root = root_with_keyfile(contents);
        let message = load(root.path()).expect_err(expected).to_string();
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("excite"), "{message}");
    }
}

#[test]
fn missing_hotkey_is_an_io_error_naming_the_file() {
    let error = wallet::load_hotkey(&wallets_root(), "miner", "nope").expect_err("missing");
    assert!(matches!(error, WalletError::Io { .. }));
    assert!(error.to_string().contains("miner/hotkeys/nope"), "{error}");
}

#[test]
fn names_cannot_escape_the_wallet_root() {
    for (wallet, hotkey) in
        [("..", "default"), ("miner", "../../validator/hotkeys/default"), ("", "h"), ("a/b", "h"), (".hidden", "h")]
    {
        let error = wallet::load_hotkey(&wallets_root(), wallet, hotkey).expect_err("invalid name");
        assert!(matches!(error, WalletError::InvalidName { .. }), "{wallet}/{hotkey}: {error}");
    }
}

#[cfg(unix)]
#[test]
fn new_hotkey_is_private_loads_back_and_is_never_overwritten() {
    use std::os::unix::fs::PermissionsExt as _;

    let root = tempfile::tempdir().unwrap();
    let created = wallet::create_hotkey(root.path(), "fresh", "hk", 12).expect("creates");
    for path in [&created.path, &created.pub_path] {
        let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let dir_mode = fs::metadata(root.path().join("fresh/hotkeys")).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert_eq!(created.pub_path, root.path().join("fresh/hotkeys/hkpub.txt"));

    let loaded = wallet::load_hotkey(root.path(), "fresh", "hk").expect("loads back");
    assert_eq!(loaded.account(), created.keypair.account());

    // The same fields, in the same format, as the Bittensor wallet writes.
    let file: serde_json::Value = serde_json::from_slice(&fs::read(&created.path).unwrap()).unwrap();
    let phrase = file["secretPhrase"].as_str().unwrap();
    assert_eq!(phrase.split(' ').count(), 12);
    assert_eq!(Keypair::from_phrase(CryptoScheme::Sr25519, phrase, "").unwrap().account(), loaded.account());
    assert_eq!(file["ss58Address"], loaded.account().to_ss58());
    assert_eq!(file["cryptoType"], 1);
    assert_eq!(file["publicKey"], file["accountId"]);
    assert_eq!(file["publicKey"], format!("0x{}", hex::encode(loaded.account().as_bytes())));
    let public: serde_json::Value = serde_json::from_slice(&fs::read(&created.pub_path).unwrap()).unwrap();
    let mut keys: Vec<_> = public.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["accountId", "cryptoType", "publicKey", "ss58Address"]);

    let before = fs::read(&created.path).unwrap();
    let again = wallet::create_hotkey(root.path(), "fresh", "hk", 12).expect_err("exists");
    assert!(matches!(again, WalletError::AlreadyExists { .. }));
    assert_eq!(fs::read(&created.path).unwrap(), before, "the existing key is untouched");
}

#[test]
fn list_shows_wallets_hotkeys_and_addresses() {
    let vectors = vectors();
    let wallets = wallet::list_wallets(&wallets_root()).expect("lists");
    let names: Vec<_> = wallets.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["miner", "validator"]);
    for (info, party) in wallets.iter().zip([&vectors.receiver, &vectors.sender]) {
        assert_eq!(info.hotkeys.len(), 1, "defaultpub.txt is not a hotkey");
        assert_eq!(info.hotkeys[0].name, "default");
        assert_eq!(info.hotkeys[0].address.map(|a| a.to_ss58()).as_deref(), Some(party.ss58.as_str()));
        assert!(!info.hotkeys[0].encrypted);
        assert_eq!(info.coldkey, None);
    }
    let missing = tempfile::tempdir().unwrap();
    assert!(wallet::list_wallets(&missing.path().join("none")).unwrap().is_empty());
}

#[test]
fn list_marks_encrypted_hotkeys() {
    let root = root_with_keyfile(b"$NACL\x00\x01\x02");
    let wallets = wallet::list_wallets(root.path()).unwrap();
    assert_eq!(wallets.len(), 1);
    assert!(wallets[0].hotkeys[0].encrypted);
    assert_eq!(wallets[0].hotkeys[0].address, None);
}
