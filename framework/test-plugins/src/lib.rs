//! Test plugins, built from source: the guest crates under `guests/`, compiled for
//! `wasm32-unknown-unknown` and componentised by `build.rs`, never committed as `.wasm`.
//!
//! For each guest there is a constant with the absolute path of its component, named after the
//! package (`good` → [`GOOD`], `rouge-l` → [`ROUGE_L`]), and [`ALL`] lists them all. The
//! [`foreach_guest!`] macro calls a macro once per guest, so a test suite can insist on one test
//! per guest.
//!
//! | guest | what it is for |
//! | --- | --- |
//! | `good` | a small, correct mechanism (sums); ships `samples/batch.json` |
//! | `rouge-l` | the realistic-scorer benchmark: ROUGE-L F1 of ~1 KB responses |
//! | `float-heavy` | the deterministic-float benchmark: hashed bag-of-words cosine |
//! | `hostile` | the host's adversarial tests (written against the raw WIT; see its crate docs) |
//! | `panicky` | panics on request, through the SDK (the host's panic-message tests) |
//!
//! [`native`] has the same mechanisms compiled natively, and [`bench`](mod@bench) makes benchmark batches.
//!
//! # Adding a guest
//!
//! 1. Create `guests/<name>/` (every directory under `guests/` must be a crate) with a `Cargo.toml` (package `<name>`, `[lib] crate-type = ["cdylib"]`
//!    (add `"rlib"` to use it natively), workspace-inherited fields and dependencies) and
//!    `src/lib.rs`. `guests/Cargo.toml` picks it up (`members = ["*"]`).
//! 2. The nested build is `--locked`: record the new member (and any new dependency) in
//!    `guests/Cargo.lock` with
//!    `cargo metadata --format-version 1 --manifest-path framework/test-plugins/guests/Cargo.toml`,
//!    and commit the lock. Prefer dependencies the lock already has (it pins the same versions as
//!    the main workspace), so the guests build offline after `cargo fetch`.
//! 3. Build: the constant `<NAME>` appears. A guest built without `sdk_guest::export_mechanism!`
//!    must still stamp the ABI (`sdk_guest::wire::stamp_abi!`), or set
//!    `[package.metadata.subnetkit] componentize = false` to ship its core module as is.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The path of guest `name`'s plugin, if there is such a guest.
pub fn path(name: &str) -> Option<&'static str> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// The guests' mechanisms compiled natively, with the SDK's harness, for native-vs-wasm
/// comparisons: `native::testing::score::<native::RougeL>(&task, &responses, None)` runs the same
/// decode-and-score code as the `rouge-l` plugin.
pub mod native {
    pub use float_heavy::FloatHeavy;
    pub use good::Good;
    pub use rouge_l::RougeL;
    pub use sdk_guest::{testing, wire};
}

/// Benchmark inputs.
pub mod bench {
    use sdk_guest::rng::Rng;

    /// `n` response bodies `{"text": "…"}` of about `bytes` bytes of text each, drawn from `seed`:
    /// each is `reference` with about 15 % of its words replaced and 10 % dropped, repeated or cut
    /// to length, so ROUGE-L and cosine scores spread over `(0, 1)` rather than sitting at 0 or 1.
    pub fn text_bodies(reference: &str, n: usize, bytes: usize, seed: u64) -> Vec<Vec<u8>> {
        let words: Vec<&str> = reference.split_whitespace().collect();
        let mut rng = Rng::from_seed(seed);
        (0..n)
            .map(|_| {
                let mut text = String::with_capacity(bytes + 16);
                while text.len() < bytes && !words.is_empty() {
                    for &word in &words {
                        if text.len() >= bytes {
                            break;
                        }
                        let roll = rng.unit_f64();
                        if roll < 0.10 {
                            continue;
                        }
                        let word = if roll < 0.25 { words[rng.index(words.len())] } else { word };
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(word);
                    }
                }
                serde_json::to_vec(&serde_json::json!({ "text": text })).expect("a string encodes")
            })
            .collect()
    }
}
