//! The chain's own epochs (`tests/vectors/`, from subtensor's code): every field must match exactly.

use std::path::PathBuf;

use yuma::{EpochInput, EpochOutput, Options, VectorFile, Workspace};

/// Every vector file, parsed, with its name.
pub(crate) fn vector_files() -> Vec<(String, VectorFile)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 20, "expected the 20 public vector files in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable vector file");
            let file = VectorFile::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.file_name().expect("file name").to_string_lossy().into_owned(), file)
        })
        .collect()
}

fn expected(name: &str, k: usize, file: &VectorFile) -> EpochOutput {
    file.epochs[k].expected.clone().unwrap_or_else(|| panic!("{name}: epoch {k} has no expected output"))
}

fn assert_matches(name: &str, k: usize, actual: &EpochOutput, expected: &EpochOutput) {
    if let Some(mismatch) = actual.first_mismatch(expected) {
        panic!("{name}: epoch {k}: {mismatch}");
    }
}

#[test]
fn every_epoch_matches_the_chain_bit_for_bit() {
    let mut checked = 0;
    for (name, file) in vector_files() {
        for (k, epoch) in file.epochs.iter().enumerate() {
            let expected = expected(&name, k, &file);
            let options = Options { matrices: expected.matrices.is_some() };
            let actual = yuma::epoch(&epoch.input, &options).expect("valid input");
            assert_matches(&name, k, &actual, &expected);
            checked += 1;
        }
    }
    assert_eq!(checked, 53, "every epoch of the 20 files");
}

#[test]
fn one_workspace_reused_across_every_file_gives_the_same_bits() {
    let mut workspace = Workspace::default();
    for round in 0..2 {
        for (name, file) in vector_files() {
            for (k, epoch) in file.epochs.iter().enumerate() {
                let expected = expected(&name, k, &file);
                // Alternate matrices on and off so buffers of every shape get reused.
                let options = Options { matrices: expected.matrices.is_some() && (round + k) % 2 == 0 };
                let mut actual = workspace.epoch(&epoch.input, &options).expect("valid input");
                if !options.matrices {
                    actual.matrices = expected.matrices.clone();
                }
                assert_matches(&name, k, &actual, &expected);
            }
        }
    }
}

/// Feeds each epoch's own output into the next epoch, as the chain's storage would, and checks
/// that the carried state is exactly what the next input holds.
#[test]
fn sequences_carry_bonds_and_permits_from_one_epoch_to_the_next() {
    let mut sequences = 0;
    for (name, file) in vector_files() {
        if file.epochs.len() < 2 {
            continue;
        }
        sequences += 1;
        let mut carried: Option<(EpochInput, EpochOutput)> = None;
        for (k, epoch) in file.epochs.iter().enumerate() {
            let input = match &carried {
                None => epoch.input.clone(),
                Some((previous_input, previous_output)) => next_input(previous_input, previous_output, &epoch.input),
            };
            assert_eq!(input, epoch.input, "{name}: epoch {k}: carried state differs from the stored input");
            let output = yuma::epoch(&input, &Options::default()).expect("valid input");
            let mut expected = expected(&name, k, &file);
            expected.matrices = None;
            assert_matches(&name, k, &output, &expected);
            carried = Some((input, output));
        }
    }
    assert!(sequences >= 10, "the public set has at least ten sequences, found {sequences}");
}

/// The next epoch's input: its own weights, stakes and activity, with bonds, permits and the
/// last epoch block carried over, except for uids re-registered in between, which the chain resets.
fn next_input(previous_input: &EpochInput, previous_output: &EpochOutput, next: &EpochInput) -> EpochInput {
    let mut input = next.clone();
    input.last_mechanism_step_block = previous_input.current_block;
    input.bonds = previous_output.bonds.clone();
    for (uid, neuron) in input.neurons.iter_mut().enumerate() {
        let reregistered = previous_input
            .neurons
            .get(uid)
            .is_none_or(|before| before.block_at_registration != neuron.block_at_registration);
        if reregistered {
            neuron.validator_permit = false;
            input.bonds.remove(&(uid as u16));
        } else {
            neuron.validator_permit = previous_output.validator_permit[uid];
        }
    }
    input
}
