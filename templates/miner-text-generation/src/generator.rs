//! The [`Generator`] trait and what every backend shares.

use std::future::Future;
use std::time::Duration;

/// Default budget of new tokens: a GSM8K answer with its working fits, and the subnet's length
/// budgets (64 tokens for labels, 512 for maths) are not exceeded by much.
pub const DEFAULT_MAX_NEW_TOKENS: u32 = 256;

/// Default byte limit: the `text-generation` subnet's `max_completion_bytes`. A longer completion
/// is refused by the validator and scores 0.
pub const DEFAULT_MAX_BYTES: usize = 16_384;

/// Default time limit: leaves headroom under the `text-generation` validator's 20 s query timeout
/// for the network and the miner's own work. On a small CPU SmolLM2 needs longer than that for a
/// full [`DEFAULT_MAX_NEW_TOKENS`] budget, and a timeout scores 0 where a partial answer may not.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(15);

/// A prompt to complete, with the limits the completion must respect.
///
/// Build one with [`GenerationRequest::new`] and the `with_*` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerationRequest {
    /// The system prompt. `None` uses the backend's default (SmolLM2's own default system prompt;
    /// no system message for an OpenAI-compatible server).
    pub system: Option<String>,
    /// The user prompt, as the task gives it.
    pub prompt: String,
    /// The most tokens to generate.
    pub max_new_tokens: u32,
    /// Strings that end the completion; the completion is cut before the first one found.
    pub stop: Vec<String>,
    /// The longest completion, in bytes of UTF-8: a longer one is cut at a character boundary.
    pub max_bytes: usize,
    /// Stop generating after this long (counted from the call, queueing included) and return what
    /// was generated so far: a partial answer can score, a timeout cannot. An HTTP backend uses it
    /// as the request timeout when it is shorter than the configured one. `None`: no limit but the
    /// token budget (and the HTTP backend's configured timeout).
    pub time_limit: Option<Duration>,
}

impl GenerationRequest {
    /// A request for `prompt` with the default limits ([`DEFAULT_MAX_NEW_TOKENS`],
    /// [`DEFAULT_MAX_BYTES`], [`DEFAULT_TIME_LIMIT`]) and no system prompt or stop strings.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            system: None,
            prompt: prompt.into(),
            max_new_tokens: DEFAULT_MAX_NEW_TOKENS,
            stop: Vec::new(),
            max_bytes: DEFAULT_MAX_BYTES,
            time_limit: Some(DEFAULT_TIME_LIMIT),
        }
    }

    /// Sets the system prompt.
    pub fn with_system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Sets the budget of new tokens.
    pub fn with_max_new_tokens(mut self, max_new_tokens: u32) -> Self {
        self.max_new_tokens = max_new_tokens;
        self
    }

    /// Adds a stop string.
    pub fn with_stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }

    /// Sets the byte limit (the task's `max_completion_bytes`).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Sets the time limit.
    pub fn with_time_limit(mut self, time_limit: Duration) -> Self {
        self.time_limit = Some(time_limit);
        self
    }

    /// Removes the time limit: generation ends only at the token budget, a stop or the byte
    /// limit.
    pub fn without_time_limit(mut self) -> Self {
        self.time_limit = None;
        self
    }
}

/// Why a generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The HTTP request could not be sent or its answer not read.
    #[error("request to {url} failed")]
    Request {
        /// The endpoint.
        url: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP endpoint did not answer in time.
    #[error("request to {url} timed out after {timeout:?}")]
    Timeout {
        /// The endpoint.
        url: String,
        /// The timeout that passed.
        timeout: Duration,
    },
    /// The HTTP endpoint answered with an error status.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// The endpoint.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body, for diagnosis.
        body: String,
    },
    /// The HTTP endpoint answered 2xx with something that is not a chat completion.
    #[error("{url} answered with a malformed chat completion: {reason}")]
    MalformedResponse {
        /// The endpoint.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The prompt does not fit the model's context.
    #[error("the prompt is {tokens} tokens but the model's context holds {limit}")]
    PromptTooLong {
        /// The prompt's length in tokens, with the chat template.
        tokens: usize,
        /// The context length.
        limit: usize,
    },
    /// The local model failed (tokenizer or tensor error).
    #[error("local inference failed")]
    Inference(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The blocking generation task panicked or was cancelled by the runtime.
    #[error("the generation task stopped: {0}")]
    Worker(String),
}

/// A text generator: one backend.
///
/// The method is `async` so a miner's server can await it: the HTTP backend waits on the network,
/// and the local model runs its CPU-bound decoding on tokio's blocking pool
/// (`spawn_blocking`), never on the async workers, so a long generation does not stall the
/// server's other connections. Futures must therefore be polled inside a tokio runtime.
///
/// Every backend applies [`finish`] to its text: stop strings, the byte limit, surrounding
/// whitespace trimmed.
pub trait Generator: Send + Sync {
    /// Completes `request`'s prompt.
    fn generate(&self, request: &GenerationRequest) -> impl Future<Output = Result<String, GenerateError>> + Send;
}

/// Applies `request`'s stop strings and byte limit to a backend's raw text: cut before the
/// earliest stop string, trimmed, then cut to `max_bytes` at a character boundary.
pub fn finish(text: &str, request: &GenerationRequest) -> String {
    let end = request.stop.iter().filter(|stop| !stop.is_empty()).filter_map(|stop| text.find(stop.as_str())).min();
    let text = &text[..end.unwrap_or(text.len())];
    truncate_to_bytes(text.trim(), request.max_bytes).trim_end().to_owned()
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends at a character boundary.
pub fn truncate_to_bytes(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let end = (0..=max_bytes).rev().find(|&end| text.is_char_boundary(end)).unwrap_or(0);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, request: GenerationRequest, expect: &str) {
        assert_eq!(finish(raw, &request), expect, "raw: {raw:?}, request: {request:?}");
    }

    #[test]
    fn finish_cuts_at_the_earliest_stop_string() {
        let request = GenerationRequest::new("p").with_stop("END").with_stop("\n\n");
        check("The answer is 7.\n\nEND more", request.clone(), "The answer is 7.");
        check("The answer is 7. END\n\nmore", request.clone(), "The answer is 7.");
        check("no stop here", request, "no stop here");
    }

    #[test]
    fn finish_ignores_empty_stop_strings() {
        check("text", GenerationRequest::new("p").with_stop(""), "text");
    }

    #[test]
    fn finish_trims_and_applies_the_byte_limit() {
        check("  hello world  ", GenerationRequest::new("p").with_max_bytes(8), "hello wo");
        check("  hello world  ", GenerationRequest::new("p").with_max_bytes(6), "hello");
        check("anything", GenerationRequest::new("p").with_max_bytes(0), "");
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        // "é" is 2 bytes, "€" 3.
        assert_eq!(truncate_to_bytes("aé€", 0), "");
        assert_eq!(truncate_to_bytes("aé€", 1), "a");
        assert_eq!(truncate_to_bytes("aé€", 2), "a");
        assert_eq!(truncate_to_bytes("aé€", 3), "aé");
        assert_eq!(truncate_to_bytes("aé€", 5), "aé");
        assert_eq!(truncate_to_bytes("aé€", 6), "aé€");
        assert_eq!(truncate_to_bytes("aé€", 100), "aé€");
    }

    #[test]
    fn request_builder_sets_every_field() {
        let request = GenerationRequest::new("user")
            .with_system("sys")
            .with_max_new_tokens(7)
            .with_stop("x")
            .with_max_bytes(9)
            .with_time_limit(Duration::from_secs(3));
        assert_eq!(
            request,
            GenerationRequest {
                system: Some("sys".into()),
                prompt: "user".into(),
                max_new_tokens: 7,
                stop: vec!["x".into()],
                max_bytes: 9,
                time_limit: Some(Duration::from_secs(3)),
            }
        );
        let defaults = GenerationRequest::new("user");
        assert_eq!(
            (defaults.max_new_tokens, defaults.max_bytes, defaults.time_limit),
            (DEFAULT_MAX_NEW_TOKENS, DEFAULT_MAX_BYTES, Some(DEFAULT_TIME_LIMIT))
        );
        assert_eq!(defaults.without_time_limit().time_limit, None);
    }
}
