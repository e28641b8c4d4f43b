//! `subnetkit yuma epoch --check`: exit 0 with `ok` when every field matches, exit 1 naming the first mismatch.

use crate::{EXIT_MISMATCH, TempFile, run, vector_json, vector_path};

#[test]
fn good_vector_prints_ok_and_exits_0() {
    for name in ["01-single-validator.json", "09-yuma3-liquid-alpha-sequence.json"] {
        let path = vector_path(name);
        let out = run(&["yuma", "epoch", "--check", path.to_str().unwrap()]);
        out.assert_code(0);
        let stem = name.trim_end_matches(".json");
        assert!(out.stdout.starts_with(&format!("ok: {stem}: ")), "stdout: {}", out.stdout);
        assert!(out.stdout.contains("every field matches"), "stdout: {}", out.stdout);
    }
}

#[test]
fn tampered_expected_is_a_mismatch_naming_epoch_field_and_uid() {
    let mut vector = vector_json("01-single-validator.json");
    let consensus = &mut vector["epochs"][0]["expected"]["consensus"][2];
    let original = consensus.as_u64().expect("consensus values are integers");
    *consensus = (original + 1).into();
    let file = TempFile::with_json("tampered", &vector);

    let out = run(&["yuma", "epoch", "--check", file.path.to_str().unwrap()]);
    out.assert_code(EXIT_MISMATCH);
    let expected = format!(
        "mismatch: 01-single-validator: epoch 0, field `consensus`, uid 2: expected {}, got {original}\n",
        original + 1
    );
    assert_eq!(out.stdout, expected);
    assert!(!out.stderr.contains("panicked"), "stderr: {}", out.stderr);
}

#[test]
fn mismatch_in_a_later_epoch_names_that_epoch() {
    let mut vector = vector_json("01-single-validator.json");
    let dividends = &mut vector["epochs"][2]["expected"]["dividends"][0];
    *dividends = (dividends.as_u64().unwrap() ^ 1).into();
    let file = TempFile::with_json("tampered-epoch-2", &vector);

    let out = run(&["yuma", "epoch", "--check", file.path.to_str().unwrap()]);
    out.assert_code(EXIT_MISMATCH);
    assert!(
        out.stdout.starts_with("mismatch: 01-single-validator: epoch 2, field `dividends`, uid 0: "),
        "stdout: {}",
        out.stdout
    );
}
