//! Input the command cannot use: exit 2, one `error:` line naming the file and field, no panic.

use serde_json::Value;

use crate::{EXIT_BAD_INPUT, Outcome, TempFile, run, vector_json};

/// Runs `--check` and a plain run on `file`, asserting each exits 2 with one `error:` line that
/// contains every string of `mentions`; nothing is printed on stdout.
#[track_caller]
fn check_rejected(file: &TempFile, mentions: &[&str]) {
    let path = file.path.to_str().unwrap();
    for args in [&["yuma", "epoch", "--check", path][..], &["yuma", "epoch", path][..]] {
        let out = run(args);
        assert_one_error(&out, mentions);
    }
}

/// Asserts exit 2, nothing on stdout, and one `error:` line containing every one of `mentions`.
#[track_caller]
pub(crate) fn assert_one_error(out: &Outcome, mentions: &[&str]) {
    out.assert_code(EXIT_BAD_INPUT);
    assert_eq!(out.stdout, "", "nothing on stdout");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {:?}", out.stderr);
    assert!(lines[0].starts_with("error: "), "stderr: {:?}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "stderr: {:?}", out.stderr);
    for mention in mentions {
        assert!(lines[0].contains(mention), "{mention:?} not in {:?}", lines[0]);
    }
}

/// The first vector, edited by `edit`, in a temp file.
fn edited(tag: &str, edit: impl FnOnce(&mut Value)) -> TempFile {
    let mut vector = vector_json("01-single-validator.json");
    edit(&mut vector);
    TempFile::with_json(tag, &vector)
}

fn file_name(file: &TempFile) -> String {
    file.path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn unknown_format() {
    let file = edited("format", |v| v["format"] = "yuma-epoch-vector/v2".into());
    check_rejected(&file, &[&file_name(&file), "format", "yuma-epoch-vector/v2"]);
}

#[test]
fn missing_format() {
    let file = edited("no-format", |v| {
        v.as_object_mut().unwrap().remove("format");
    });
    check_rejected(&file, &["format", "missing"]);
}

#[test]
fn missing_field() {
    let file = edited("missing-kappa", |v| {
        v["epochs"][0]["input"]["params"].as_object_mut().unwrap().remove("kappa");
    });
    check_rejected(&file, &[&file_name(&file), "epochs[0].input.params", "missing field `kappa`"]);
}

#[test]
fn wrong_type() {
    let file = edited("string-tempo", |v| v["epochs"][1]["input"]["params"]["tempo"] = "360".into());
    check_rejected(&file, &["epochs[1].input.params.tempo", "u16"]);
}

#[test]
fn out_of_range_value() {
    let file = edited("big-kappa", |v| v["epochs"][0]["input"]["params"]["kappa"] = 65_536.into());
    check_rejected(&file, &["epochs[0].input.params.kappa", "u16"]);
}

#[test]
fn unknown_field() {
    let file = edited("unknown-field", |v| v["epochs"][0]["input"]["params"]["kapa"] = 1.into());
    check_rejected(&file, &["epochs[0].input.params", "kapa"]);
}

#[test]
fn weight_target_not_below_n() {
    // n = 5, so target 5 is one past the last uid.
    let file = edited("target-n", |v| v["epochs"][0]["input"]["weights"]["0"][1][0] = 5.into());
    check_rejected(&file, &["epochs[0].input.weights.0[1]", "target 5"]);
}

#[test]
fn bond_row_of_unregistered_uid() {
    let file = edited("bond-row-n", |v| v["epochs"][1]["input"]["bonds"]["7"] = serde_json::json!([[1, 1]]));
    check_rejected(&file, &["epochs[1].input.bonds.7", "uid 7"]);
}

#[test]
fn duplicate_target() {
    let file = edited("duplicate", |v| v["epochs"][0]["input"]["weights"]["0"][1][0] = 1.into());
    check_rejected(&file, &["epochs[0].input.weights.0[1]", "duplicate target 1"]);
}

#[test]
fn uid_not_its_index() {
    let file = edited("uid-order", |v| v["epochs"][0]["input"]["neurons"][3]["uid"] = 4.into());
    check_rejected(&file, &["epochs[0].input.neurons[3].uid"]);
}

#[test]
fn invalid_json() {
    let file = TempFile::with_bytes("truncated", br#"{"format": "yuma-epoch-vector/v1", "epochs": ["#);
    check_rejected(&file, &[&file_name(&file), "line 1"]);
}

#[test]
fn empty_file() {
    let file = TempFile::with_bytes("empty", b"");
    check_rejected(&file, &[&file_name(&file)]);
}

#[test]
fn check_without_expected() {
    let file = edited("no-expected", |v| {
        v["epochs"][1].as_object_mut().unwrap().remove("expected");
    });
    let out = run(&["yuma", "epoch", "--check", file.path.to_str().unwrap()]);
    assert_one_error(&out, &["epochs[1].expected"]);
    // Without --check, `expected` is optional.
    run(&["yuma", "epoch", file.path.to_str().unwrap()]).assert_code(0);
}

#[test]
fn nonexistent_file() {
    let path = std::env::temp_dir().join(format!("subnetkit-cli-it-{}-does-not-exist.json", std::process::id()));
    let out = run(&["yuma", "epoch", "--check", path.to_str().unwrap()]);
    assert_one_error(&out, &["cannot read", &path.display().to_string()]);
}

#[test]
fn no_epochs() {
    let file = edited("no-epochs", |v| v["epochs"] = Value::Array(Vec::new()));
    check_rejected(&file, &[&file_name(&file), "epochs", "no epochs"]);
}

#[test]
fn top_level_array() {
    let file = TempFile::with_bytes("array", b"[1, 2]");
    check_rejected(&file, &[&file_name(&file), "expected a JSON object"]);
}
