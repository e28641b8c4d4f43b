//! The HTTP backend: an external image server (a diffusion model behind a small web service).

use std::time::Duration;

use base64::Engine as _;

use crate::wire::{ImageAnswer, ImageTask};

/// Why the image server's answer was not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The request failed (connection, timeout).
    #[error("the image server did not answer")]
    Transport(#[source] reqwest::Error),
    /// The server answered with another status than 200.
    #[error("the image server answered {0}")]
    Status(u16),
    /// The body is larger than any acceptable answer.
    #[error("the image server's answer is over {0} bytes")]
    TooLarge(usize),
    /// The body is not `{"image": "<base64>"}`.
    #[error("the image server's answer is not {{\"image\": \"<base64>\"}}")]
    NotJson(#[source] serde_json::Error),
    /// The image is not standard padded base64.
    #[error("the image is not standard base64")]
    Base64(#[source] base64::DecodeError),
    /// The image is not a PNG or JPEG file the task accepts, or is over the task's byte limit.
    #[error("the image {0}")]
    Unacceptable(String),
}

/// A client of an external image server: POSTs the task as JSON to a URL and expects
/// `{"image": "<standard base64 PNG or JPEG>"}` back within a timeout.
#[derive(Debug, Clone)]
pub struct HttpBackend {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpBackend {
    /// A client of `url` with a per-request `timeout`.
    pub fn new(url: reqwest::Url, timeout: Duration) -> Result<HttpBackend, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(HttpBackend { client, url })
    }

    /// Asks the server for a picture for `task`, and checks that it is a PNG (or a JPEG, if the
    /// task accepts them) within the task's byte limits before it is sent to the validator.
    pub async fn generate(&self, task: &ImageTask) -> Result<ImageAnswer, HttpError> {
        let body = serde_json::to_vec(task).map_err(HttpError::NotJson)?;
        let mut response = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(HttpError::Transport)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(HttpError::Status(response.status().as_u16()));
        }
        // Base64 of the largest acceptable file, plus room for the JSON around it.
        let limit = (task.max_bytes as usize).div_ceil(3) * 4 + 4096;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Transport)? {
            if bytes.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        let answer: ImageAnswer = serde_json::from_slice(&bytes).map_err(HttpError::NotJson)?;
        let file = base64::engine::general_purpose::STANDARD.decode(&answer.image).map_err(HttpError::Base64)?;
        crate::check_file(task, &file).map_err(HttpError::Unacceptable)?;
        Ok(answer)
    }
}
