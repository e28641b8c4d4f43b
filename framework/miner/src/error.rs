//! Why a task request was refused, and the explicit map from refusal to HTTP answer.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::btauth::AuthError;

/// Why a task request was not answered with 200. Messages never carry secrets, signatures or
/// the miner's own error text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body is larger than the limit.
    #[error("request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body did not arrive in time.
    #[error("request body was not received in time")]
    BodyTimeout,
    /// The body could not be read.
    #[error("request body could not be read")]
    BodyRead,
    /// btauth/1 authentication failed.
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// The caller is not registered on the subnet.
    #[error("hotkey is not registered on subnet {netuid}")]
    NotRegistered {
        /// The subnet.
        netuid: u16,
    },
    /// The caller holds no validator permit.
    #[error("hotkey holds no validator permit on subnet {netuid}")]
    NoPermit {
        /// The subnet.
        netuid: u16,
    },
    /// The caller's stake is below the minimum.
    #[error("stake {stake} rao is below the minimum of {min} rao")]
    LowStake {
        /// The caller's stake.
        stake: u64,
        /// The minimum.
        min: u64,
    },
    /// No metagraph has been loaded for the subnet yet.
    #[error("the metagraph of subnet {netuid} is not loaded yet")]
    NoMetagraph {
        /// The subnet.
        netuid: u16,
    },
    /// The caller exceeded its rate limit.
    #[error("rate limit exceeded")]
    RateLimited {
        /// When the caller may try again.
        retry_after: Duration,
    },
    /// Too many requests are being read and authenticated at once.
    #[error("miner is busy: too many requests are being authenticated")]
    Busy,
    /// The queue is full of tasks from callers with at least this caller's stake.
    #[error("miner is overloaded")]
    Overloaded,
    /// A caller with more stake took this task's place in the queue.
    #[error("miner is overloaded: the task was displaced by a caller with more stake")]
    Displaced,
    /// The task waited too long for a free slot.
    #[error("miner is overloaded: no slot became free in time")]
    QueueTimeout,
    /// The body is not JSON.
    #[error("task is not valid JSON: {0}")]
    NotJson(String),
    /// The task does not match the subnet's task schema.
    #[error("task does not match the schema at {pointer:?}: {message}")]
    Schema {
        /// JSON pointer to the first offending value (`""` is the whole task).
        pointer: String,
        /// What is wrong, without the offending value.
        message: String,
    },
    /// The miner did not answer before the deadline.
    #[error("miner did not answer within {0:?}")]
    Deadline(Duration),
    /// The miner failed or answered with something that is not a valid response (logged).
    #[error("miner failed to produce a valid response")]
    MinerFailed,
    /// The server failed (logged).
    #[error("internal error")]
    Internal,
}

impl Refusal {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Refusal::BodyRead | Refusal::NotJson(_) | Refusal::Schema { .. } => StatusCode::BAD_REQUEST,
            // The status `protocol` gives (docs/btauth.md): 401, 403 for another receiver, 503
            // when the replay store is full. Malformed headers are 401 too, as everywhere in the
            // project: the request's credentials are unusable.
            Refusal::Auth(error) => StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            Refusal::NotRegistered { .. } | Refusal::NoPermit { .. } | Refusal::LowStake { .. } => {
                StatusCode::FORBIDDEN
            }
            Refusal::NoMetagraph { .. }
            | Refusal::Busy
            | Refusal::Overloaded
            | Refusal::Displaced
            | Refusal::QueueTimeout => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Deadline(_) => StatusCode::GATEWAY_TIMEOUT,
            Refusal::MinerFailed | Refusal::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `Retry-After` hint, for refusals that a later retry may overcome.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Refusal::RateLimited { retry_after } => Some(*retry_after),
            Refusal::Busy
            | Refusal::Overloaded
            | Refusal::Displaced
            | Refusal::QueueTimeout
            | Refusal::NoMetagraph { .. } => Some(Duration::from_secs(1)),
            Refusal::Auth(AuthError::Overloaded) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// A short, fixed label for metrics when this is an authentication or authorisation
    /// failure, else `None`.
    pub fn auth_reason(&self) -> Option<&'static str> {
        match self {
            Refusal::Auth(error) => Some(error.reason().as_str()),
            Refusal::NotRegistered { .. } => Some("not registered"),
            Refusal::NoPermit { .. } => Some("no validator permit"),
            Refusal::LowStake { .. } => Some("low stake"),
            _ => None,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let Refusal::Schema { pointer, .. } = &self {
            body["pointer"] = serde_json::Value::String(pointer.clone());
        }
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(after) = self.retry_after() {
            // Whole seconds, rounded up: never invite a retry that is certain to fail.
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}
