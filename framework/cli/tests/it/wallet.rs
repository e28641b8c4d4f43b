//! `subnetkit wallet new` and `wallet list`.

use std::path::Path;

use crate::{EXIT_BAD_INPUT, run};

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

#[test]
fn new_writes_a_private_hotkey_that_lists_and_signs() {
    let root = tempfile::tempdir().expect("temp dir");
    let root_arg = path_str(root.path());
    let out = run(&["wallet", "new", "--wallet-path", root_arg, "--name", "w1", "--hotkey", "hk"]);
    out.assert_code(0);
    let address = out.stdout.trim().to_owned();
    assert!(address.starts_with('5') && address.len() == 48, "{}", out.stdout);
    assert!(out.stderr.contains("secretPhrase"), "{}", out.stderr);
    assert!(!out.stdout.contains(' '), "the phrase is not printed: {}", out.stdout);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["w1/hotkeys/hk", "w1/hotkeys/hkpub.txt"] {
            let mode = std::fs::metadata(root.path().join(file)).expect("written").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }

    let list = run(&["wallet", "list", "--wallet-path", root_arg]);
    list.assert_code(0);
    assert_eq!(list.stdout, format!("w1\n  hk {address}\n"));

    // The new key signs a request that verifies as coming from it.
    let body = root.path().join("body");
    std::fs::write(&body, b"{}").expect("write body");
    let receiver = "5Hp5m7HeK6vGv7Emr9ZeL2XdXGQpUWL971errQkXz1Se23H5";
    let signed = run(&[
        "btauth",
        "sign",
        "--wallet-path",
        root_arg,
        "--wallet",
        "w1",
        "--hotkey",
        "hk",
        "--method",
        "GET",
        "--path",
        "/",
        "--body-file",
        path_str(&body),
        "--receiver",
        receiver,
    ]);
    signed.assert_code(0);
    let headers = root.path().join("headers.json");
    std::fs::write(&headers, &signed.stdout).expect("write headers");
    let verified = run(&[
        "btauth",
        "verify",
        "--headers",
        path_str(&headers),
        "--body-file",
        path_str(&body),
        "--method",
        "GET",
        "--path",
        "/",
        "--receiver",
        receiver,
    ]);
    verified.assert_code(0);
    assert_eq!(verified.stdout.trim(), address);
}

#[test]
fn new_never_overwrites_and_rejects_bad_names() {
    let root = tempfile::tempdir().expect("temp dir");
    let root_arg = path_str(root.path());
    run(&["wallet", "new", "--wallet-path", root_arg, "--name", "w", "--hotkey", "h"]).assert_code(0);
    let before = std::fs::read(root.path().join("w/hotkeys/h")).expect("written");
    let again = run(&["wallet", "new", "--wallet-path", root_arg, "--name", "w", "--hotkey", "h"]);
    again.assert_code(EXIT_BAD_INPUT);
    assert!(again.stderr.starts_with("error: ") && again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read(root.path().join("w/hotkeys/h")).expect("still there"), before);

    for (name, hotkey) in [("../escape", "h"), ("w", "a/b"), ("", "h")] {
        let out = run(&["wallet", "new", "--wallet-path", root_arg, "--name", name, "--hotkey", hotkey]);
        out.assert_code(EXIT_BAD_INPUT);
        assert!(out.stderr.contains("invalid"), "{}", out.stderr);
    }
    let words = run(&["wallet", "new", "--wallet-path", root_arg, "--name", "w", "--hotkey", "x", "--words", "13"]);
    words.assert_code(EXIT_BAD_INPUT);
    assert_eq!(words.stderr.lines().count(), 1, "{}", words.stderr);
}

#[test]
fn list_shows_the_test_wallets() {
    let out = run(&["wallet", "list", "--wallet-path", path_str(&crate::btauth::test_wallets())]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "miner\n  default 5Hp5m7HeK6vGv7Emr9ZeL2XdXGQpUWL971errQkXz1Se23H5\n\
         validator\n  default 5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV\n"
    );
}

#[test]
fn list_of_an_empty_root_says_so() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = run(&["wallet", "list", "--wallet-path", path_str(&root.path().join("none"))]);
    out.assert_code(0);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("no wallets"), "{}", out.stderr);
}
