//! One hosted subnet: its plugin, its rounds and its weights.
//!
//! A round: refresh the metagraph, pick miners with a recorded seed, make a task in the plugin,
//! query the miners, store the round, score it (now, or once the feed has the truth), fold the
//! scores into the moving averages; and, at the subnet's cadence, turn the averages into weights
//! and send them to the chain.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chain::{AccountId, Chain, ChainError, Hyperparams, Metagraph, NetUid, Reveal, Uid};
use feeds::{Feeds, FeedsError, Window};
use host::{Host, Manifest, Plugin, Response, Settlement, Task};
use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use sha2::{Digest as _, Sha256};

use crate::metrics::Metrics;
use crate::query::{MinerClient, Target};
use crate::store::{NewRound, PendingReveal, ResponseOutcome, Settled, Store, StoredResponse, StoredRound};

/// What a validator may override of a plugin's defaults, per subnet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Miners queried per round.
    pub sample_size: Option<u16>,
    /// Per-query timeout, in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Moving-average alpha, in (0, 1].
    pub alpha: Option<f64>,
}

/// One subnet as the validator hosts it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetSpec {
    /// The subnet.
    pub netuid: NetUid,
    /// The plugin file; replacing it takes effect at the next round.
    pub plugin: PathBuf,
    /// The plugin's expected sha256 (hex); a file that does not match is not loaded.
    pub sha256: Option<String>,
    /// Overrides of the plugin's defaults.
    pub overrides: Overrides,
    /// Time between rounds.
    pub round_interval: Duration,
    /// Blocks between two weight sets [default: the subnet's tempo, at least its rate limit].
    pub weights_interval_blocks: Option<u64>,
    /// Version key sent with weights [default: the subnet's `weights_version_key`].
    pub version_key: Option<u64>,
    /// Mark answers repeated from a different task of the last 64 rounds invalid (turn off for
    /// subnets whose right answers repeat, e.g. a few labels).
    pub replay_guard: bool,
}

/// Why a round did not complete. The loop logs it and goes on with the next round.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoundError {
    /// The plugin could not be loaded, or faulted.
    #[error("plugin: {0}")]
    Plugin(String),
    /// The host failed on this machine (interrupted, cache, I/O): retried, never scored.
    #[error("plugin host: {0}")]
    Local(String),
    /// The plugin refused to make a task or to score (its own error).
    #[error("the plugin refused: {0}")]
    Refused(String),
    /// The chain could not be read or refused a call.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The state store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// A feed failed.
    #[error("feed: {0}")]
    Feed(#[from] FeedsError),
    /// Nothing to do yet (no miners with an axon, or the validator is not registered).
    #[error("{0}")]
    Idle(String),
}

/// What one round did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundReport {
    /// The round's index in the store, if a task was sent.
    pub round: Option<u64>,
    /// Miners queried.
    pub queried: usize,
    /// Of those, answers that passed every check.
    pub answered: usize,
    /// Earlier rounds scored in this pass (delayed ones that came due, ones a crash left unscored).
    pub settled: usize,
    /// Weights sent in this pass, with the block.
    pub weights_at: Option<u64>,
}

/// The plugin in use and what was read from it at load.
struct Loaded {
    plugin: Plugin,
    manifest: Manifest,
    response_schema: Arc<jsonschema::Validator>,
    file_sha256: String,
}

/// Rounds whose answers the replay guard remembers.
const REPLAY_MEMORY_ROUNDS: usize = 64;

/// Answers of recent rounds, to catch stale replays: an answer given, byte for byte, to a
/// different task earlier.
#[derive(Default)]
struct ReplayGuard {
    /// sha256 of an answer → sha256 of the task it answered.
    answers: std::collections::HashMap<[u8; 32], [u8; 32]>,
    /// Per remembered round, the answer hashes it added (oldest first).
    rounds: std::collections::VecDeque<Vec<[u8; 32]>>,
}

impl ReplayGuard {
    /// Marks as invalid every answer that repeats an answer to another task, then remembers this
    /// round's answers.
    fn check(&mut self, task: &[u8], responses: &mut [Response]) -> usize {
        let task_hash: [u8; 32] = Sha256::digest(task).into();
        let mut stale = 0;
        let mut added = Vec::new();
        for response in responses.iter_mut() {
            let (host::Outcome::Ok, Some(body)) = (response.outcome, &response.body) else { continue };
            if !self.admit(task_hash, body, &mut added) {
                response.outcome = host::Outcome::Invalid;
                stale += 1;
            }
        }
        self.end_round(added);
        stale
    }

    /// Remembers a stored round's accepted answers, as [`ReplayGuard::check`] did when it ran.
    fn replay_round(&mut self, task: &[u8], answers: &[String]) {
        let task_hash: [u8; 32] = Sha256::digest(task).into();
        let mut added = Vec::new();
        for answer in answers {
            self.admit(task_hash, answer.as_bytes(), &mut added);
        }
        self.end_round(added);
    }

    /// Whether `body` is new or was given to this same task; a new one is remembered in `added`.
    fn admit(&mut self, task_hash: [u8; 32], body: &[u8], added: &mut Vec<[u8; 32]>) -> bool {
        let hash: [u8; 32] = Sha256::digest(body).into();
        match self.answers.get(&hash) {
            Some(answered) => *answered == task_hash,
            None => {
                self.answers.insert(hash, task_hash);
                added.push(hash);
                true
            }
        }
    }

    /// Closes a round, forgetting the answers of the rounds beyond the memory.
    fn end_round(&mut self, added: Vec<[u8; 32]>) {
        self.rounds.push_back(added);
        while self.rounds.len() > REPLAY_MEMORY_ROUNDS {
            for hash in self.rounds.pop_front().unwrap_or_default() {
                self.answers.remove(&hash);
            }
        }
    }
}

/// The state of one hosted subnet between rounds.
pub struct SubnetRunner {
    spec: SubnetSpec,
    host: Host,
    chain: Arc<dyn Chain>,
    store: Arc<Store>,
    miners: Arc<MinerClient>,
    feeds: Arc<Feeds>,
    metrics: Arc<Metrics>,
    loaded: Option<Loaded>,
    last_weights_block: Option<u64>,
    /// Whether the commit awaiting its reveal and the replay guard were read back from the store.
    restored: bool,
    pending_reveal: Option<PendingReveal>,
    replays: ReplayGuard,
}

impl SubnetRunner {
    /// A runner for `spec`; the plugin loads at the first round, which also reads back from the
    /// store what an earlier run left: a commit awaiting its reveal and the replay guard's memory.
    pub fn new(
        spec: SubnetSpec,
        host: Host,
        chain: Arc<dyn Chain>,
        store: Arc<Store>,
        miners: Arc<MinerClient>,
        feeds: Arc<Feeds>,
        metrics: Arc<Metrics>,
    ) -> SubnetRunner {
        SubnetRunner {
            spec,
            host,
            chain,
            store,
            miners,
            feeds,
            metrics,
            loaded: None,
            last_weights_block: None,
            restored: false,
            pending_reveal: None,
            replays: ReplayGuard::default(),
        }
    }

    /// The subnet.
    pub fn netuid(&self) -> NetUid {
        self.spec.netuid
    }

    /// The time between rounds.
    pub fn round_interval(&self) -> Duration {
        self.spec.round_interval
    }

    /// The sha256 of the plugin in use, once one loaded.
    pub fn plugin_sha256(&self) -> Option<&str> {
        self.loaded.as_ref().map(|loaded| loaded.file_sha256.as_str())
    }

    /// Scores the stored rounds that came due (delayed ones, and immediate ones a crash left
    /// unscored), runs one round, then sets weights if it is time.
    pub async fn round(&mut self) -> Result<RoundReport, RoundError> {
        if !self.restored {
            self.restore().await?;
        }
        self.reload_plugin().await?;
        let netuid = self.spec.netuid;
        let metagraph = self.chain.metagraph(netuid).await?;
        let params = self.chain.hyperparams(netuid).await?;
        let me = self.miners.hotkey();
        if metagraph.neuron(&me).is_none() {
            return Err(RoundError::Idle(format!("hotkey {me} is not registered on subnet {netuid}")));
        }
        // Rounds stored earlier are scored first, so the moving averages fold scores in round
        // order even when a crash left an immediate round unscored.
        let mut report = RoundReport { settled: self.settle_due().await?, ..RoundReport::default() };
        match self.query_round(&metagraph).await {
            Ok((index, queried, answered)) => {
                report.round = Some(index);
                report.queried = queried;
                report.answered = answered;
            }
            Err(RoundError::Idle(reason)) => tracing::debug!(netuid, %reason, "no round"),
            Err(error) => return Err(error),
        }
        report.weights_at = self.maybe_set_weights(&metagraph, &params).await?;
        Ok(report)
    }

    /// Reads back what an earlier run of this subnet left in the store: the commit of this hotkey
    /// awaiting its reveal, and the accepted answers of the last rounds for the replay guard.
    async fn restore(&mut self) -> Result<(), RoundError> {
        let netuid = self.spec.netuid;
        let hotkey = self.miners.hotkey().to_ss58();
        self.pending_reveal = self.store.pending_reveal(netuid, &hotkey).await?;
        if let Some(pending) = &self.pending_reveal {
            tracing::info!(netuid, commit_block = pending.commit_block, "a stored commit awaits its reveal");
        }
        let mut replays = ReplayGuard::default();
        if self.spec.replay_guard {
            let rounds = self.store.recent_answers(netuid, REPLAY_MEMORY_ROUNDS as u64).await?;
            for round in &rounds {
                replays.replay_round(round.task_public.as_bytes(), &round.answers);
            }
            tracing::debug!(netuid, rounds = rounds.len(), "replay guard rebuilt from the store");
        }
        self.replays = replays;
        self.restored = true;
        Ok(())
    }

    /// Loads the plugin if none is loaded or the file changed. A new file that fails to load
    /// leaves the previous plugin in use.
    async fn reload_plugin(&mut self) -> Result<(), RoundError> {
        let path = self.spec.plugin.clone();
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(error) if self.loaded.is_some() => {
                tracing::warn!(netuid = self.spec.netuid, plugin = %path.display(), %error, "cannot read the plugin; keeping the loaded one");
                return Ok(());
            }
            Err(error) => return Err(RoundError::Plugin(format!("cannot read {}: {error}", path.display()))),
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if self.loaded.as_ref().is_some_and(|loaded| loaded.file_sha256 == sha256) {
            return Ok(());
        }
        match self.load(bytes, &sha256).await {
            Ok(loaded) => {
                let replaced = self.loaded.replace(loaded).is_some();
                tracing::info!(netuid = self.spec.netuid, %sha256, replaced, "plugin loaded");
                self.metrics.plugin_load(self.spec.netuid, "ok");
                Ok(())
            }
            Err(error) => {
                self.metrics.plugin_load(self.spec.netuid, "failed");
                if self.loaded.is_some() {
                    tracing::warn!(netuid = self.spec.netuid, %error, "the new plugin failed to load; keeping the previous one");
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn load(&self, bytes: Vec<u8>, sha256: &str) -> Result<Loaded, RoundError> {
        if let Some(expected) = &self.spec.sha256
            && !expected.eq_ignore_ascii_case(sha256)
        {
            return Err(RoundError::Plugin(format!(
                "{} has sha256 {sha256}, the config expects {expected}",
                self.spec.plugin.display()
            )));
        }
        let host = self.host.clone();
        let (plugin, manifest) = tokio::task::spawn_blocking(move || {
            let plugin = host.load_bytes(&bytes)?;
            let manifest = plugin.manifest()?;
            Ok::<_, host::HostError>((plugin, manifest))
        })
        .await
        .map_err(|error| RoundError::Plugin(error.to_string()))?
        .map_err(|error| RoundError::Plugin(error.to_string()))?;
        self.feeds.resolve(&manifest.feeds)?;
        let schema: serde_json::Value = serde_json::from_str(&manifest.response_schema)
            .map_err(|error| RoundError::Plugin(format!("response schema: {error}")))?;
        let response_schema = jsonschema::validator_for(&schema)
            .map_err(|error| RoundError::Plugin(format!("response schema: {error}")))?;
        Ok(Loaded { plugin, manifest, response_schema: Arc::new(response_schema), file_sha256: sha256.to_owned() })
    }

    fn loaded(&self) -> Result<&Loaded, RoundError> {
        self.loaded.as_ref().ok_or_else(|| RoundError::Plugin("no plugin loaded".to_owned()))
    }

    /// Makes a task, queries a seeded sample of miners, stores the round and, for an immediate
    /// task, scores it. Returns the round index, miners queried and valid answers.
    async fn query_round(&mut self, metagraph: &Metagraph) -> Result<(u64, usize, usize), RoundError> {
        let netuid = self.spec.netuid;
        let loaded = self.loaded()?;
        let me = self.miners.hotkey();
        let candidates: Vec<Target> = metagraph
            .neurons
            .iter()
            .filter(|neuron| neuron.hotkey != me)
            .filter_map(|neuron| {
                neuron.axon.clone().map(|axon| Target { uid: neuron.uid, hotkey: neuron.hotkey, axon })
            })
            .collect();
        if candidates.is_empty() {
            return Err(RoundError::Idle("no miner has published an axon".to_owned()));
        }
        let snapshot = self.feeds.snapshot(&loaded.manifest.feeds).await?;
        let seed = round_seed(&me, netuid, metagraph.block, snapshot.unix_ms);
        let sample_size =
            usize::from(self.spec.overrides.sample_size.unwrap_or(loaded.manifest.defaults.sample_size)).max(1);
        let mut targets = candidates;
        targets.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        targets.truncate(sample_size);
        targets.sort_by_key(|target| target.uid);

        let context = host::Context {
            seed,
            block: metagraph.block,
            unix_ms: snapshot.unix_ms,
            feeds: snapshot
                .values
                .into_iter()
                .map(|value| host::FeedValue { name: value.name, value: value.value })
                .collect(),
        };
        let plugin = loaded.plugin.clone();
        let task = tokio::task::spawn_blocking(move || plugin.make_task(&context))
            .await
            .map_err(|error| RoundError::Plugin(error.to_string()))?
            .map_err(|error| self.plugin_fault("make-task", &error))?
            .map_err(RoundError::Refused)?;

        let timeout_ms = self.spec.overrides.timeout_ms.unwrap_or(loaded.manifest.defaults.query_timeout_ms);
        let schema = Arc::clone(&loaded.response_schema);
        let accept = move |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|value| schema.is_valid(&value))
        };
        let tag = format!("{netuid}-{}-{seed:016x}", metagraph.block);
        let mut responses = self
            .miners
            .query(
                &loaded.manifest.name,
                &tag,
                &targets,
                &task.public,
                Duration::from_millis(u64::from(timeout_ms)),
                &accept,
            )
            .await;
        let plugin_sha256 = loaded.file_sha256.clone();
        let stale = if self.spec.replay_guard { self.replays.check(&task.public, &mut responses) } else { 0 };
        if stale > 0 {
            tracing::info!(netuid, stale, "answers replayed from earlier tasks marked invalid");
        }
        for response in &responses {
            self.metrics.response(netuid, outcome_name(response.outcome));
        }
        let answered = responses.iter().filter(|response| response.outcome == host::Outcome::Ok).count();

        let stored: Vec<StoredResponse> = responses.iter().map(stored_response).collect();
        let settles_at_ms = match task.settlement {
            Settlement::Immediate => None,
            Settlement::Delayed(delay) => Some(snapshot.unix_ms.saturating_add(delay)),
        };
        let task_public = utf8(&task.public, "task public part")?;
        let task_private = utf8(&task.private, "task private part")?;
        let index = self
            .store
            .record_round(&NewRound {
                netuid,
                seed,
                block: metagraph.block,
                started_ms: snapshot.unix_ms,
                plugin_sha256: &plugin_sha256,
                task_public: &task_public,
                task_private: &task_private,
                settles_at_ms,
                responses: &stored,
            })
            .await?;
        self.metrics.round(netuid);
        if settles_at_ms.is_none() {
            self.score_and_settle(index, &task, &responses, None).await?;
        }
        Ok((index, targets.len(), answered))
    }

    fn plugin_fault(&self, call: &str, error: &host::HostError) -> RoundError {
        if error.is_local_fault() {
            return RoundError::Local(format!("{call}: {error}"));
        }
        self.metrics.plugin_fault(self.spec.netuid);
        RoundError::Plugin(format!("{call}: {error}"))
    }

    /// Gives up on a stored round the plugin can never score (it faults or refuses on it, the
    /// same way every time): marked scored with no scores, so it neither blocks later rounds nor
    /// moves any average.
    async fn abandon(&self, round: &StoredRound, error: &RoundError) -> Result<(), RoundError> {
        tracing::warn!(netuid = self.spec.netuid, round = round.index, %error, "the round cannot be scored; abandoned");
        self.metrics.round_error(self.spec.netuid);
        self.store.settle(self.spec.netuid, round.index, &[], 1.0, None).await?;
        Ok(())
    }

    async fn score_and_settle(
        &self,
        index: u64,
        task: &Task,
        responses: &[Response],
        truth: Option<Vec<u8>>,
    ) -> Result<(), RoundError> {
        let netuid = self.spec.netuid;
        let loaded = self.loaded()?;
        let plugin = loaded.plugin.clone();
        let (task_owned, responses_owned, truth_owned) = (task.clone(), responses.to_vec(), truth.clone());
        let scores =
            tokio::task::spawn_blocking(move || plugin.score(&task_owned, &responses_owned, truth_owned.as_deref()))
                .await
                .map_err(|error| RoundError::Plugin(error.to_string()))?
                .map_err(|error| self.plugin_fault("score", &error))?
                .map_err(RoundError::Refused)?;
        let alpha = self.spec.overrides.alpha.unwrap_or(loaded.manifest.defaults.moving_average_alpha);
        let pairs: Vec<(Uid, f64)> =
            responses.iter().zip(&scores.values).map(|(response, &score)| (response.uid, score)).collect();
        let truth_text = truth.as_deref().map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        match self.store.settle(netuid, index, &pairs, alpha, truth_text.as_deref()).await? {
            Settled::Now => tracing::debug!(netuid, round = index, "round scored"),
            Settled::Already => tracing::warn!(netuid, round = index, "round was already scored; nothing changed"),
        }
        Ok(())
    }

    /// Scores every stored round whose settlement time has come and whose truth the feed has.
    /// Also finishes immediate rounds a crash left unscored.
    async fn settle_due(&self) -> Result<usize, RoundError> {
        let netuid = self.spec.netuid;
        let now = self.feeds.clock().now_unix_ms();
        let mut settled = 0;
        for round in self.store.unsettled(netuid).await? {
            if self.loaded()?.file_sha256 != round.plugin_sha256 {
                tracing::warn!(
                    netuid,
                    round = round.index,
                    "stored with another plugin version; scoring with the current one"
                );
            }
            let truth = match round.settles_at_ms {
                None => None,
                Some(at) if at > now => continue,
                Some(_) => match self.truth_for(&round, now).await {
                    Ok(truth) => Some(truth),
                    Err(RoundError::Feed(error)) => {
                        if !is_not_yet(&error) {
                            tracing::warn!(netuid, round = round.index, %error, "no truth yet; retrying later");
                        }
                        continue;
                    }
                    Err(error) => {
                        self.abandon(&round, &error).await?;
                        continue;
                    }
                },
            };
            let responses: Vec<Response> = round.responses.iter().map(host_response).collect();
            match self.score_and_settle(round.index, &stored_task(&round), &responses, truth).await {
                Ok(()) => settled += 1,
                Err(error @ (RoundError::Plugin(_) | RoundError::Refused(_))) => self.abandon(&round, &error).await?,
                Err(error) => return Err(error),
            }
        }
        Ok(settled)
    }

    /// The truth of a delayed price task: the realised candles of its horizon, from the feed of
    /// its pair (the price-feed settlement contract of `docs/plugins.md`).
    async fn truth_for(&self, round: &StoredRound, now_ms: u64) -> Result<Vec<u8>, RoundError> {
        #[derive(serde::Deserialize)]
        struct PriceTask {
            pair: String,
            interval_ms: u64,
            first_open_ms: u64,
            horizon: u32,
        }
        let task: PriceTask = serde_json::from_str(&round.task_public).map_err(|error| {
            RoundError::Plugin(format!(
                "round {} settles later, but its task is not a price task the feeds can settle: {error}",
                round.index
            ))
        })?;
        let window = Window { first_open_ms: task.first_open_ms, interval_ms: task.interval_ms, count: task.horizon };
        let realised = self.feeds.realised(&format!("price:{}", task.pair), window, now_ms).await?;
        Ok(realised.to_json())
    }

    /// Sets (or commits, or reveals) weights when the cadence and the chain's rate limit allow.
    async fn maybe_set_weights(
        &mut self,
        metagraph: &Metagraph,
        params: &Hyperparams,
    ) -> Result<Option<u64>, RoundError> {
        let netuid = self.spec.netuid;
        let block = metagraph.block;
        if let Some(pending) = self.pending_reveal.clone() {
            return self.try_reveal(pending, block).await;
        }
        let me = self.miners.hotkey();
        let Some(own) = metagraph.neuron(&me) else { return Ok(None) };
        let interval =
            self.spec.weights_interval_blocks.unwrap_or(u64::from(params.tempo)).max(params.weights_rate_limit);
        let since = block.saturating_sub(self.last_weights_block.unwrap_or(own.last_update));
        if self.last_weights_block.is_some() && since < interval
            || block.saturating_sub(own.last_update) < params.weights_rate_limit
        {
            return Ok(None);
        }
        let averages = self.store.moving_averages(netuid).await?;
        let (uids, scores): (Vec<Uid>, Vec<f64>) = averages
            .iter()
            .filter(|average| {
                metagraph
                    .neurons
                    .get(usize::from(average.uid))
                    .is_some_and(|neuron| neuron.hotkey.to_ss58() == average.hotkey && neuron.hotkey != me)
            })
            .map(|average| (average.uid, average.score))
            .unzip();
        if scores.iter().all(|&score| score <= 0.0) {
            tracing::info!(netuid, "no positive scores yet; no weights");
            return Ok(None);
        }
        let limit = f64::from(params.max_weight_limit) / 65_535.0;
        let weights = chain::scores_to_weights(&uids, &scores, limit)
            .map_err(|error| RoundError::Refused(format!("weights: {error}")))?;
        let version_key = self.spec.version_key.unwrap_or(params.weights_version_key);
        let keypair = self.miners.keypair();
        let result = if params.commit_reveal_enabled {
            let pending = PendingReveal {
                netuid,
                hotkey: me.to_ss58(),
                commit_block: block,
                uids: weights.uids.clone(),
                weights: weights.values.clone(),
                salt: rand::random::<[u16; 8]>().to_vec(),
                version_key,
            };
            let hash = chain::commit_hash(&me, netuid, &to_reveal(&pending));
            // Stored before it is sent, so a validator killed once the commit is out still
            // reveals it; a commit that never landed is dropped at its first reveal attempt.
            // Should the store fail here, the next round reads back whatever commit it holds.
            if let Err(error) = self.store.save_pending_reveal(&pending).await {
                self.restored = false;
                return Err(error.into());
            }
            let result = self.chain.commit_weights(keypair, netuid, hash).await;
            let stored = match &result {
                Ok(()) => {
                    self.pending_reveal = Some(pending.clone());
                    self.store.record_weights(netuid, block, &pending.uids, &pending.weights, "ok").await
                }
                Err(error) => {
                    self.store.close_pending_reveal(netuid, &pending.hotkey, block, &error.to_string()).await.map(drop)
                }
            };
            if let Err(error) = stored {
                self.restored = false;
                return Err(error.into());
            }
            result
        } else {
            let result = self.chain.set_weights(keypair, netuid, &weights, version_key).await;
            let outcome = match &result {
                Ok(()) => "ok".to_owned(),
                Err(error) => error.to_string(),
            };
            self.store.record_weights(netuid, block, &weights.uids, &weights.values, &outcome).await?;
            result
        };
        self.metrics.weights(netuid, if result.is_ok() { "ok" } else { "refused" });
        match result {
            Ok(()) => {
                self.last_weights_block = Some(block);
                tracing::info!(
                    netuid,
                    block,
                    n = weights.uids.len(),
                    commit = params.commit_reveal_enabled,
                    "weights sent"
                );
                Ok(Some(block))
            }
            Err(error) if error.is_retryable() => {
                tracing::info!(netuid, %error, "weights not accepted yet; retrying at a later round");
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(netuid, %error, "the chain refused the weights");
                self.last_weights_block = Some(block);
                Ok(None)
            }
        }
    }

    /// Reveals the pending commit. Too early or unreachable: kept for a later round. Refused
    /// (expired, never landed, already revealed): given up, and the next weights start a new
    /// commit. Either end removes it from the store and enters it in the weights history.
    async fn try_reveal(&mut self, pending: PendingReveal, block: u64) -> Result<Option<u64>, RoundError> {
        let netuid = self.spec.netuid;
        let commit_block = pending.commit_block;
        let result = self.chain.reveal_weights(self.miners.keypair(), netuid, &to_reveal(&pending)).await;
        match result {
            Ok(()) => {
                self.store.close_pending_reveal(netuid, &pending.hotkey, block, "ok (revealed)").await?;
                self.pending_reveal = None;
                self.last_weights_block = Some(block);
                self.metrics.weights(netuid, "revealed");
                tracing::info!(netuid, block, commit_block, "weights revealed");
                Ok(Some(block))
            }
            Err(ChainError::RevealTooEarly { .. }) => Ok(None),
            Err(error) if error.is_retryable() => {
                tracing::info!(netuid, %error, commit_block, "the reveal did not go out; retrying at a later round");
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(netuid, %error, commit_block, "the reveal failed; the next weights start a new commit");
                self.store.close_pending_reveal(netuid, &pending.hotkey, block, &error.to_string()).await?;
                self.pending_reveal = None;
                self.metrics.weights(netuid, "refused");
                Ok(None)
            }
        }
    }
}

/// Scores a stored round again with `plugin`, exactly as the validator scored it (the stored
/// task, responses and truth): `(uid, score)` in the stored order. `validator replay` compares
/// the result with the stored scores bit for bit.
pub fn rescore(plugin: &Plugin, round: &StoredRound) -> Result<Vec<(Uid, f64)>, RoundError> {
    let responses: Vec<Response> = round.responses.iter().map(host_response).collect();
    let truth = round.truth.as_ref().map(|truth| truth.as_bytes());
    let scores = plugin
        .score(&stored_task(round), &responses, truth)
        .map_err(|error| RoundError::Plugin(format!("score: {error}")))?
        .map_err(RoundError::Refused)?;
    Ok(responses.iter().zip(scores.values).map(|(response, score)| (response.uid, score)).collect())
}

/// What `reveal_weights` sends for a stored commit.
fn to_reveal(pending: &PendingReveal) -> Reveal {
    Reveal {
        uids: pending.uids.clone(),
        values: pending.weights.clone(),
        salt: pending.salt.clone(),
        version_key: pending.version_key,
    }
}

fn stored_task(round: &StoredRound) -> Task {
    Task {
        public: round.task_public.clone().into_bytes(),
        private: round.task_private.clone().into_bytes(),
        settlement: round
            .settles_at_ms
            .map_or(Settlement::Immediate, |at| Settlement::Delayed(at.saturating_sub(round.started_ms))),
    }
}

/// The round's seed: a hash of who validates, where and when, so it is reproducible from the
/// record and differs between validators.
fn round_seed(hotkey: &AccountId, netuid: NetUid, block: u64, unix_ms: u64) -> u64 {
    let digest = Sha256::new()
        .chain_update(hotkey.as_bytes())
        .chain_update(netuid.to_le_bytes())
        .chain_update(block.to_le_bytes())
        .chain_update(unix_ms.to_le_bytes())
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
}

fn is_not_yet(error: &FeedsError) -> bool {
    error.source_error().is_some_and(|source| matches!(source, feeds::FeedError::NotYetAvailable { .. }))
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, RoundError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| RoundError::Plugin(format!("the {what} is not UTF-8 JSON")))
}

fn outcome_name(outcome: host::Outcome) -> &'static str {
    match outcome {
        host::Outcome::Ok => "ok",
        host::Outcome::Timeout => "timeout",
        host::Outcome::TransportError => "transport",
        host::Outcome::Invalid => "invalid",
    }
}

fn stored_response(response: &Response) -> StoredResponse {
    StoredResponse {
        uid: response.uid,
        hotkey: response.hotkey.clone(),
        outcome: match response.outcome {
            host::Outcome::Ok => ResponseOutcome::Ok,
            host::Outcome::Timeout => ResponseOutcome::Timeout,
            host::Outcome::TransportError => ResponseOutcome::Transport,
            host::Outcome::Invalid => ResponseOutcome::Invalid,
        },
        body: response.body.as_ref().map(|body| String::from_utf8_lossy(body).into_owned()),
        latency_ms: u64::from(response.latency_ms),
    }
}

fn host_response(response: &StoredResponse) -> Response {
    Response {
        uid: response.uid,
        hotkey: response.hotkey.clone(),
        body: response.body.as_ref().map(|body| body.clone().into_bytes()),
        outcome: match response.outcome {
            ResponseOutcome::Ok => host::Outcome::Ok,
            ResponseOutcome::Timeout => host::Outcome::Timeout,
            ResponseOutcome::Transport => host::Outcome::TransportError,
            ResponseOutcome::Invalid => host::Outcome::Invalid,
        },
        latency_ms: u32::try_from(response.latency_ms).unwrap_or(u32::MAX),
    }
}
