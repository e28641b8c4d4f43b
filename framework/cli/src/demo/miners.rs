//! The demo's miners: honest template miners, and the adversaries live subnets see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use miner::{Miner, MinerError, Task};
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

/// How a demo miner behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// A template miner answering each task itself.
    Honest,
    /// One operator's several uids returning one answer (a sybil copycat).
    Copycat,
    /// Well-formed answers with random content.
    Random,
    /// Its first answer, replayed for every later task.
    Stale,
    /// Answers after the validator has given up.
    Slow,
    /// Registered with an axon where nothing listens.
    Offline,
}

impl Strategy {
    /// The name in the final table (`honest` or the adversary's).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Strategy::Honest => "honest",
            Strategy::Copycat => "sybil-copycat",
            Strategy::Random => "random",
            Strategy::Stale => "stale-replay",
            Strategy::Slow => "slow",
            Strategy::Offline => "offline",
        }
    }
}

/// Which reference subnet a miner answers, for the adversaries that forge answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `text-generation`: `{"completion"}`.
    Text,
    /// `image-aesthetics`: `{"image"}` (base64 PNG).
    Image,
    /// `price-prediction`: `{"task_id", "closes"}`.
    Price,
}

/// The answers a sybil operator computed once and serves on all its uids, by task.
pub(crate) type SharedAnswers = Arc<Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Value>>>>>;

/// A miner with a strategy around an honest backend.
pub(crate) struct Behaviour<M> {
    inner: Arc<M>,
    strategy: Strategy,
    kind: Kind,
    seed: u64,
    first: OnceLock<Value>,
    shared: SharedAnswers,
}

impl<M: Miner> Behaviour<M> {
    /// A miner playing `strategy`; copycats of one operator pass the same `shared` answers.
    pub(crate) fn new(inner: Arc<M>, strategy: Strategy, kind: Kind, seed: u64, shared: SharedAnswers) -> Behaviour<M> {
        Behaviour { inner, strategy, kind, seed, first: OnceLock::new(), shared }
    }
}

impl<M: Miner> Miner for Behaviour<M> {
    async fn handle(&self, task: Task) -> Result<Value, MinerError> {
        match self.strategy {
            Strategy::Honest | Strategy::Offline => self.inner.handle(task).await,
            Strategy::Copycat => {
                let cell = {
                    let mut answers = self.shared.lock().map_err(|_| "the shared answers are poisoned")?;
                    if answers.len() > 256 {
                        answers.clear();
                    }
                    Arc::clone(answers.entry(task.body.to_string()).or_default())
                };
                let answer = cell.get_or_try_init(|| self.inner.handle(task)).await?;
                Ok(answer.clone())
            }
            Strategy::Random => random_answer(self.kind, &task.body, self.seed),
            Strategy::Stale => {
                if let Some(first) = self.first.get() {
                    return Ok(first.clone());
                }
                let answer = self.inner.handle(task).await?;
                Ok(self.first.get_or_init(|| answer).clone())
            }
            Strategy::Slow => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                self.inner.handle(task).await
            }
        }
    }
}

/// A well-formed answer with nothing of the task in it.
fn random_answer(kind: Kind, task: &Value, seed: u64) -> Result<Value, MinerError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ rand::random::<u64>());
    match kind {
        Kind::Text => {
            const WORDS: &[&str] = &[
                "the", "river", "seven", "quietly", "market", "blue", "engine", "under", "number", "garden", "answer",
                "cloud", "twelve", "because", "silver", "window", "train", "paper", "orbit", "salt",
            ];
            let count = rng.random_range(20..80);
            let words: Vec<&str> = (0..count).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
            Ok(json!({ "completion": words.join(" ") }))
        }
        Kind::Image => {
            let width = task["width"].as_u64().unwrap_or(256) as u32;
            let height = task["height"].as_u64().unwrap_or(256) as u32;
            let pixels: Vec<u8> = (0..width * height * 3).map(|_| rng.random()).collect();
            let mut png = Vec::new();
            {
                let mut encoder = png::Encoder::new(&mut png, width, height);
                encoder.set_color(png::ColorType::Rgb);
                encoder.set_depth(png::BitDepth::Eight);
                encoder.write_header()?.write_image_data(&pixels)?;
            }
            Ok(json!({ "image": base64::engine::general_purpose::STANDARD.encode(png) }))
        }
        Kind::Price => {
            let horizon = task["horizon"].as_u64().unwrap_or(1) as usize;
            let last =
                task["candles"].as_array().and_then(|c| c.last()).and_then(|c| c["close"].as_f64()).unwrap_or(1.0);
            let closes: Vec<f64> = (0..horizon).map(|_| last * rng.random_range(0.8..1.2)).collect();
            Ok(json!({ "task_id": task["task_id"], "closes": closes }))
        }
    }
}
