//! A backend for any server speaking the OpenAI chat-completions API.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, OpenAiConfig};
use crate::generator::{GenerateError, GenerationRequest, Generator, finish, truncate_to_bytes};

/// How much of an error body is kept in [`GenerateError::Status`].
const ERROR_BODY_BYTES: usize = 512;

/// The OpenAI API accepts at most this many stop strings; the rest are still applied locally.
const MAX_REMOTE_STOPS: usize = 4;

/// Generates with an OpenAI-compatible server: `POST {base_url}/v1/chat/completions` with
/// `temperature` 0, reading the first choice's message content.
///
/// Works with vLLM, llama.cpp's `llama-server`, Ollama, text-generation-inference and hosted
/// APIs. The client is cheap to clone and shares its connection pool.
#[derive(Clone)]
pub struct OpenAiCompatible {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OpenAiCompatible {
    /// Validates `config` and builds the client. `api_key`, if any, is sent as a bearer token;
    /// [`Backend::from_config`](crate::Backend::from_config) reads it from the environment variable
    /// the config names.
    pub fn new(config: &OpenAiConfig, api_key: Option<String>) -> Result<Self, ConfigError> {
        config.validate()?;
        let client = reqwest::Client::builder().build().map_err(ConfigError::HttpClient)?;
        Ok(Self {
            client,
            url: config.chat_completions_url(),
            model: config.model.clone(),
            api_key,
            timeout: Duration::from_millis(config.timeout_ms),
        })
    }

    /// The endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn body<'a>(&'a self, request: &'a GenerationRequest) -> ChatRequest<'a> {
        let mut messages = Vec::with_capacity(2);
        if let Some(system) = &request.system {
            messages.push(Message { role: "system", content: system });
        }
        messages.push(Message { role: "user", content: &request.prompt });
        let stop: Vec<&str> =
            request.stop.iter().filter(|stop| !stop.is_empty()).take(MAX_REMOTE_STOPS).map(String::as_str).collect();
        ChatRequest {
            model: &self.model,
            messages,
            max_tokens: request.max_new_tokens,
            temperature: 0.0,
            stream: false,
            stop: (!stop.is_empty()).then_some(stop),
        }
    }

    fn transport_error(&self, source: reqwest::Error, timeout: Duration) -> GenerateError {
        if source.is_timeout() {
            GenerateError::Timeout { url: self.url.clone(), timeout }
        } else {
            GenerateError::Request { url: self.url.clone(), source }
        }
    }
}

impl Generator for OpenAiCompatible {
    async fn generate(&self, request: &GenerationRequest) -> Result<String, GenerateError> {
        let timeout = request.time_limit.map_or(self.timeout, |limit| limit.min(self.timeout));
        let started = Instant::now();
        let mut http = self.client.post(&self.url).timeout(timeout).json(&self.body(request));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let response = http.send().await.map_err(|source| self.transport_error(source, timeout))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|source| self.transport_error(source, timeout))?;
        if !status.is_success() {
            let body = String::from_utf8_lossy(&bytes);
            return Err(GenerateError::Status {
                url: self.url.clone(),
                status: status.as_u16(),
                body: truncate_to_bytes(body.trim(), ERROR_BODY_BYTES).to_owned(),
            });
        }
        let malformed = |reason: String| GenerateError::MalformedResponse { url: self.url.clone(), reason };
        let completion: ChatResponse = serde_json::from_slice(&bytes).map_err(|error| malformed(error.to_string()))?;
        let choice = completion.choices.into_iter().next().ok_or_else(|| malformed("no choices".to_owned()))?;
        let content = choice.message.content.ok_or_else(|| {
            malformed(format!(
                "the first choice has no message content (finish_reason {})",
                choice.finish_reason.as_deref().unwrap_or("absent")
            ))
        })?;
        tracing::debug!(url = %self.url, elapsed = ?started.elapsed(), bytes = content.len(), "chat completion");
        Ok(finish(&content, request))
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    max_tokens: u32,
    temperature: f32,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<Vec<&'a str>>,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ResponseMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
}
