//! The one trait a miner template implements, and what a task carries to it.

use std::future::Future;
use std::pin::Pin;

use protocol::AccountId;
use serde::de::DeserializeOwned;

/// What a [`Miner`] returns when it cannot answer a task. The server logs it and answers 500
/// without sending its text to the validator.
pub type MinerError = Box<dyn std::error::Error + Send + Sync>;

/// The validator that sent a task: authenticated by btauth/1 and authorised by the metagraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validator {
    /// The validator's hotkey.
    pub hotkey: AccountId,
    /// Its uid on the subnet, in the metagraph snapshot the request was authorised against.
    pub uid: u16,
    /// Its stake in rao, in that snapshot.
    pub stake: u64,
}

/// One task for a miner: a JSON body already checked against the subnet's task schema.
#[derive(Debug, Clone)]
pub struct Task {
    /// The subnet's name (the route segment of `POST /{subnet}/task`).
    pub subnet: String,
    /// The subnet's netuid.
    pub netuid: u16,
    /// Who sent the task.
    pub validator: Validator,
    /// The task, valid under the subnet's task schema.
    pub body: serde_json::Value,
}

impl Task {
    /// Deserialises the body into the subnet's task type.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.body)
    }
}

/// A miner for one subnet: turns a task into a response. This is all a template implements;
/// authentication, authorisation, rate limits, queueing, deadlines and schema checks are the
/// server's.
///
/// Implement it with `async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError>`;
/// the returned future must be `Send` (the server runs it on a multi-threaded runtime). The
/// server drops the future when the deadline passes or the validator hangs up, so work that
/// must not be cut short belongs in a task of its own.
pub trait Miner: Send + Sync + 'static {
    /// Answers one task. The answer is checked against the subnet's response schema before it
    /// is signed and sent; an answer that does not match is a bug (logged, answered with 500).
    fn handle(&self, task: Task) -> impl Future<Output = Result<serde_json::Value, MinerError>> + Send;
}

/// The future of an erased miner call.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Miner`] made object safe, so one server holds many miners of different types: every
/// [`Miner`] is one, through the blanket impl. Templates keep writing `async fn`; the box is
/// the server's.
pub(crate) trait DynMiner: Send + Sync + 'static {
    fn handle_boxed(&self, task: Task) -> BoxFuture<'_, Result<serde_json::Value, MinerError>>;
}

impl<M: Miner> DynMiner for M {
    fn handle_boxed(&self, task: Task) -> BoxFuture<'_, Result<serde_json::Value, MinerError>> {
        Box::pin(self.handle(task))
    }
}
