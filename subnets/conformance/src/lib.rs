//! The reference subnets' plugins, built from source by `build.rs` (never committed as `.wasm`),
//! and what the conformance tests need to run them: the bundled sample batch and feeds, and the
//! conversions between the SDK's native harness and the host's types.
//!
//! The tests in `tests/` check every subnet the same way: it passes what `subnetkit plugin check`
//! runs, its wasm build makes the same tasks and scores as its native build, byte for byte, and
//! its outputs are identical across engines and after a restart.

use std::path::{Path, PathBuf};

use sdk_guest::testing::Batch;
use sdk_guest::wire;

include!(concat!(env!("OUT_DIR"), "/subnets.rs"));

/// A reference subnet's plugin and its crate.
#[derive(Clone, Copy, Debug)]
pub struct Subnet {
    /// Package name, e.g. `text-generation`.
    pub name: &'static str,
    /// The built component.
    pub wasm: &'static str,
    /// The crate's directory.
    pub dir: &'static str,
}

impl Subnet {
    /// The crate's bundled sample batch, `samples/batch.json`.
    pub fn sample_batch(&self) -> Batch {
        let path = self.file("samples/batch.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Batch::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The crate's sample feed values, `samples/feeds.json` (a JSON object by feed name), if any.
    pub fn sample_feeds(&self) -> Vec<wire::FeedValue> {
        let path = self.file("samples/feeds.json");
        let Ok(text) = std::fs::read(&path) else { return Vec::new() };
        let feeds: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        feeds.into_iter().map(|(name, value)| wire::FeedValue { name, value: value.to_string().into_bytes() }).collect()
    }

    /// The context of round `seed`: block and time derived from the seed, the sample feeds.
    pub fn context(&self, seed: u64) -> wire::Context {
        wire::Context {
            seed,
            block: 1_000 + seed,
            unix_ms: 1_767_225_600_000 + seed * 12_000,
            feeds: self.sample_feeds(),
        }
    }

    fn file(&self, relative: &str) -> PathBuf {
        Path::new(self.dir).join(relative)
    }
}

/// The host's view of a wire context.
pub fn host_context(context: &wire::Context) -> host::Context {
    host::Context {
        seed: context.seed,
        block: context.block,
        unix_ms: context.unix_ms,
        feeds: context.feeds.iter().map(|f| host::FeedValue { name: f.name.clone(), value: f.value.clone() }).collect(),
    }
}

/// The host's view of a wire task.
pub fn host_task(task: &wire::Task) -> host::Task {
    host::Task {
        public: task.public.clone(),
        private: task.private.clone(),
        settlement: match task.settlement {
            wire::Settlement::Immediate => host::Settlement::Immediate,
            wire::Settlement::Delayed(ms) => host::Settlement::Delayed(ms),
        },
    }
}

/// The host's view of wire responses.
pub fn host_responses(responses: &[wire::Response]) -> Vec<host::Response> {
    responses
        .iter()
        .map(|r| host::Response {
            uid: r.uid,
            hotkey: r.hotkey.clone(),
            body: r.body.clone(),
            outcome: match r.outcome {
                wire::Outcome::Ok => host::Outcome::Ok,
                wire::Outcome::Timeout => host::Outcome::Timeout,
                wire::Outcome::TransportError => host::Outcome::TransportError,
                wire::Outcome::Invalid => host::Outcome::Invalid,
            },
            latency_ms: r.latency_ms,
        })
        .collect()
}
