//! `subnetkit btauth sign` and `btauth verify`: round trips through the binary, every rejection
//! reason, the Python SDK's vectors, and bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{EXIT_BAD_INPUT, EXIT_MISMATCH, Outcome, run};

const SENDER: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const RECEIVER: &str = "5Hp5m7HeK6vGv7Emr9ZeL2XdXGQpUWL971errQkXz1Se23H5";
const NONCE: &str = "1764000000000000000";
const SECOND: u64 = 1_000_000_000;

/// The Bittensor test wallets committed with the `protocol` crate.
pub(crate) fn test_wallets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/data/wallets")
}

fn vectors() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/data/vectors.json");
    serde_json::from_slice(&std::fs::read(path).expect("vectors readable")).expect("vectors parse")
}

/// A temp dir holding a copy of the test wallets, a body file and room for headers.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(body: &[u8]) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        for wallet in ["miner", "validator"] {
            let to = dir.path().join("wallets").join(wallet).join("hotkeys");
            std::fs::create_dir_all(&to).expect("mkdir");
            for file in ["default", "defaultpub.txt"] {
                std::fs::copy(test_wallets().join(wallet).join("hotkeys").join(file), to.join(file)).expect("copy");
            }
        }
        std::fs::write(dir.path().join("body"), body).expect("write body");
        Scratch { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().expect("UTF-8 temp path").to_owned()
    }

    fn write(&self, name: &str, contents: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), contents).expect("write");
        self.path(name)
    }

    /// `btauth sign` as the validator wallet, with `extra` arguments; returns the headers file.
    fn sign(&self, method: &str, path: &str, extra: &[&str]) -> String {
        let (wallets, body) = (self.path("wallets"), self.path("body"));
        let mut args = vec![
            "btauth",
            "sign",
            "--wallet-path",
            &wallets,
            "--wallet",
            "validator",
            "--hotkey",
            "default",
            "--method",
            method,
            "--path",
            path,
            "--body-file",
            &body,
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        out.assert_code(0);
        self.write("headers.json", out.stdout.as_bytes())
    }

    /// `btauth verify` of `headers` against the body file, with `extra` arguments.
    fn verify(&self, headers: &str, method: &str, path: &str, extra: &[&str]) -> Outcome {
        let body = self.path("body");
        let mut args =
            vec!["btauth", "verify", "--headers", headers, "--body-file", &body, "--method", method, "--path", path];
        args.extend_from_slice(extra);
        run(&args)
    }
}

/// Asserts a rejection with exit code 1 naming `reason`.
#[track_caller]
fn assert_rejected(out: &Outcome, reason: &str) {
    out.assert_code(EXIT_MISMATCH);
    assert!(out.stdout.starts_with(&format!("rejected: {reason} (HTTP ")), "{}", out.stdout);
}

#[test]
fn sign_prints_the_python_header_set_in_wire_order() {
    let scratch = Scratch::new(b"{}");
    let headers = scratch.sign("post", "/t?x=1", &["--receiver", RECEIVER, "--nonce-ns", NONCE]);
    let text = std::fs::read_to_string(&headers).expect("read");
    let value: Value = serde_json::from_str(&text).expect("JSON object");
    assert_eq!(value["X-Bittensor-Version"], "1");
    assert_eq!(value["X-Bittensor-Hotkey"], SENDER);
    assert_eq!(value["X-Bittensor-Receiver"], RECEIVER);
    assert_eq!(value["X-Bittensor-Nonce"], NONCE);
    let signature = value["X-Bittensor-Signature"].as_str().expect("string");
    assert!(signature.starts_with("0x") && signature.len() == 130, "{signature}");
    assert_eq!(value.as_object().expect("object").len(), 5);
    let order: Vec<usize> = ["Version", "Hotkey", "Nonce", "Signature", "Receiver"]
        .iter()
        .map(|name| text.find(&format!("X-Bittensor-{name}")).expect("present"))
        .collect();
    assert!(order.is_sorted(), "{text}");
}

#[test]
fn sign_then_verify_round_trips() {
    let scratch = Scratch::new(b"{\"prompt\":\"hi\"}");
    let headers = scratch.sign("POST", "/task", &["--receiver", RECEIVER]);
    let out = scratch.verify(&headers, "POST", "/task", &["--receiver", RECEIVER]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("{SENDER}\n"));
}

#[test]
fn body_from_standard_input() {
    let scratch = Scratch::new(b"abc");
    let (wallets, body) = (scratch.path("wallets"), scratch.path("body"));
    let out = crate::run_with_stdin(
        &[
            "btauth",
            "sign",
            "--wallet-path",
            &wallets,
            "--wallet",
            "validator",
            "--hotkey",
            "default",
            "--method",
            "PUT",
            "--path",
            "/p",
            "--body-file",
            "-",
            "--receiver",
            RECEIVER,
        ],
        b"abc".to_vec(),
    );
    out.assert_code(0);
    let headers = scratch.write("h.json", out.stdout.as_bytes());
    let verified = run(&[
        "btauth",
        "verify",
        "--headers",
        &headers,
        "--body-file",
        &body,
        "--method",
        "PUT",
        "--path",
        "/p",
        "--receiver",
        RECEIVER,
    ]);
    verified.assert_code(0);
}

#[test]
fn every_python_vector_verifies_through_the_cli() {
    let vectors = vectors();
    for case in vectors["cases"].as_array().expect("cases") {
        let scratch = Scratch::new(case["body_utf8"].as_str().expect("body").as_bytes());
        let headers = scratch.write("h.json", case["headers"].to_string().as_bytes());
        let now = (case["nonce_ns"].as_u64().expect("nonce") + 1_000_000).to_string();
        let mut extra = vec!["--receiver", RECEIVER, "--now-ns", &now];
        if case["headers"].get("X-Bittensor-Receiver").is_none() {
            extra.push("--allow-unbound");
        }
        let (method, path) = (case["method"].as_str().expect("method"), case["path"].as_str().expect("path"));
        let out = scratch.verify(&headers, method, path, &extra);
        out.assert_code(0);
        assert_eq!(out.stdout.trim(), SENDER);
    }
}

#[test]
fn each_rejection_reason() {
    let scratch = Scratch::new(b"body");
    let nonce: u64 = NONCE.parse().expect("nonce");
    let bound = scratch.sign("POST", "/t", &["--receiver", RECEIVER, "--nonce-ns", NONCE]);
    let at = |offset: u64| (nonce + offset).to_string();

    // Bad signature: another path than the one signed.
    assert_rejected(
        &scratch.verify(&bound, "POST", "/u", &["--receiver", RECEIVER, "--now-ns", &at(0)]),
        "bad signature",
    );
    // Stale: verified 11 s later; and from the future: 3 s before signing.
    assert_rejected(
        &scratch.verify(&bound, "POST", "/t", &["--receiver", RECEIVER, "--now-ns", &at(11 * SECOND)]),
        "stale",
    );
    let early = (nonce - 3 * SECOND).to_string();
    assert_rejected(&scratch.verify(&bound, "POST", "/t", &["--receiver", RECEIVER, "--now-ns", &early]), "stale");
    // Wrong receiver: the server is the sender itself.
    let out = scratch.verify(&bound, "POST", "/t", &["--receiver", SENDER, "--now-ns", &at(0)]);
    assert_rejected(&out, "wrong receiver");
    assert!(out.stdout.contains("HTTP 403"), "{}", out.stdout);
    // Missing receiver: rejected unless --allow-unbound.
    let unbound = scratch.sign("POST", "/t", &["--nonce-ns", NONCE]);
    assert_rejected(
        &scratch.verify(&unbound, "POST", "/t", &["--receiver", RECEIVER, "--now-ns", &at(0)]),
        "wrong receiver",
    );
    scratch
        .verify(&unbound, "POST", "/t", &["--receiver", RECEIVER, "--now-ns", &at(0), "--allow-unbound"])
        .assert_code(0);
    // Malformed: a signature that is not hex.
    let mut headers: Value = serde_json::from_slice(&std::fs::read(&bound).expect("read")).expect("JSON");
    headers["X-Bittensor-Signature"] = Value::from("0xnothex");
    let malformed = scratch.write("malformed.json", headers.to_string().as_bytes());
    let out = scratch.verify(&malformed, "POST", "/t", &["--receiver", RECEIVER, "--now-ns", &at(0)]);
    assert_rejected(&out, "malformed");
    assert!(!out.stdout.contains("nothex"), "the value is not echoed: {}", out.stdout);
}

#[test]
fn replay_log_makes_the_second_use_a_replay() {
    let scratch = Scratch::new(b"");
    let headers = scratch.sign("GET", "/health", &["--receiver", RECEIVER, "--nonce-ns", NONCE]);
    let log = scratch.path("seen.log");
    let now = NONCE.parse::<u64>().expect("nonce").to_string();
    let args = ["--receiver", RECEIVER, "--now-ns", &now, "--replay-log", &log];
    scratch.verify(&headers, "GET", "/health", &args).assert_code(0);
    assert_eq!(std::fs::read_to_string(&log).expect("log written"), format!("{SENDER} {NONCE}\n"));
    assert_rejected(&scratch.verify(&headers, "GET", "/health", &args), "replayed");
    // A forged request reusing the nonce fails on its signature and is not logged.
    assert_rejected(&scratch.verify(&headers, "GET", "/other", &args), "bad signature");
    assert_eq!(std::fs::read_to_string(&log).expect("log"), format!("{SENDER} {NONCE}\n"));
}

#[test]
fn bad_input_exits_2_with_one_error_line() {
    let scratch = Scratch::new(b"");
    let (wallets, body) = (scratch.path("wallets"), scratch.path("body"));
    let headers = scratch.sign("GET", "/", &["--receiver", RECEIVER]);
    let not_object = scratch.write("array.json", b"[]");
    let not_string = scratch.write("number.json", br#"{"X-Bittensor-Version": 1}"#);
    let not_json = scratch.write("text.json", b"X-Bittensor-Version: 1");
    let encrypted_root = tempfile::tempdir().expect("temp dir");
    let encrypted = encrypted_root.path().join("enc/hotkeys");
    std::fs::create_dir_all(&encrypted).expect("mkdir");
    std::fs::write(encrypted.join("default"), b"$NACL\x01\x02\x03").expect("write");
    let encrypted_root = encrypted_root.path().to_str().expect("UTF-8").to_owned();
    let sign = |wallets: &str, wallet: &str, extra: &[&str]| {
        let mut args = vec![
            "btauth",
            "sign",
            "--wallet-path",
            wallets,
            "--wallet",
            wallet,
            "--hotkey",
            "default",
            "--method",
            "GET",
            "--path",
            "/",
            "--body-file",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let verify = |headers: &str, body: &str, receiver: &str| {
        run(&[
            "btauth",
            "verify",
            "--headers",
            headers,
            "--body-file",
            body,
            "--method",
            "GET",
            "--path",
            "/",
            "--receiver",
            receiver,
        ])
    };
    let cases: Vec<(Outcome, &str)> = vec![
        (sign(&wallets, "nobody", &[&body]), "nobody/hotkeys/default"),
        (sign(&wallets, "validator", &[&scratch.path("missing-body")]), "missing-body"),
        (sign(&wallets, "validator", &[&body, "--receiver", "5Hp5m7"]), "--receiver"),
        (sign(&encrypted_root, "enc", &[&body]), "encrypted"),
        (verify(&headers, &body, "not-ss58"), "--receiver"),
        (verify(&scratch.path("none.json"), &body, RECEIVER), "none.json"),
        (verify(&not_object, &body, RECEIVER), "JSON object"),
        (verify(&not_string, &body, RECEIVER), "X-Bittensor-Version"),
        (verify(&not_json, &body, RECEIVER), "not JSON"),
        (verify(&headers, &scratch.path("missing-body"), RECEIVER), "missing-body"),
    ];
    for (out, expected) in cases {
        out.assert_code(EXIT_BAD_INPUT);
        assert!(out.stderr.starts_with("error: ") && out.stderr.contains(expected), "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert_eq!(out.stdout, "");
    }
}
