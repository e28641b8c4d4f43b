//! One served subnet: its route, schemas, limits and miner.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::miner::{DynMiner, Miner};

/// Why a [`Subnet`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubnetError {
    /// The name is not a lowercase route segment.
    #[error("subnet name {0:?} must be 1 to 64 characters of a-z, 0-9, '-' and '_'")]
    Name(String),
    /// A schema is not JSON.
    #[error("the {which} schema of subnet {subnet} is not JSON")]
    SchemaJson {
        /// The subnet.
        subnet: String,
        /// `task` or `response`.
        which: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A schema is not a valid JSON Schema (or refers to an external document).
    #[error("the {which} schema of subnet {subnet} is not a valid JSON Schema: {message}")]
    Schema {
        /// The subnet.
        subnet: String,
        /// `task` or `response`.
        which: &'static str,
        /// What the schema compiler said.
        message: String,
    },
    /// A limit is zero.
    #[error("subnet {subnet}: {what} must be greater than zero")]
    Zero {
        /// The subnet.
        subnet: String,
        /// The limit.
        what: &'static str,
    },
}

/// A subnet the miner serves at `POST /{name}/task`: its schemas (compiled once), deadline,
/// queue limits and the [`Miner`] that answers its tasks.
#[derive(Clone)]
pub struct Subnet {
    pub(crate) name: String,
    pub(crate) netuid: u16,
    pub(crate) task_schema: Arc<jsonschema::Validator>,
    pub(crate) response_schema: Arc<jsonschema::Validator>,
    pub(crate) deadline: Duration,
    pub(crate) concurrency: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) miner: Arc<dyn DynMiner>,
}

impl Subnet {
    /// Default time a miner has to answer one task.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(12);
    /// Default number of tasks answered at once.
    pub const DEFAULT_CONCURRENCY: usize = 4;
    /// Default number of tasks waiting for a free slot.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 32;

    /// A subnet named `name` (its route segment) with netuid `netuid`, whose tasks and responses
    /// must match the JSON Schemas `task_schema` and `response_schema` (JSON text, as a plugin
    /// manifest gives them; `$ref`s to other documents are refused, never fetched).
    pub fn new(
        name: &str,
        netuid: u16,
        task_schema: &str,
        response_schema: &str,
        miner: impl Miner,
    ) -> Result<Subnet, SubnetError> {
        let valid_name = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid_name {
            return Err(SubnetError::Name(name.to_owned()));
        }
        Ok(Subnet {
            name: name.to_owned(),
            netuid,
            task_schema: Arc::new(compile(name, "task", task_schema)?),
            response_schema: Arc::new(compile(name, "response", response_schema)?),
            deadline: Subnet::DEFAULT_DEADLINE,
            concurrency: Subnet::DEFAULT_CONCURRENCY,
            queue_capacity: Subnet::DEFAULT_QUEUE_CAPACITY,
            miner: Arc::new(miner),
        })
    }

    /// Sets the time the miner has to answer one task (timed from when it starts; past it the
    /// validator gets 504).
    pub fn with_deadline(mut self, deadline: Duration) -> Result<Subnet, SubnetError> {
        if deadline.is_zero() {
            return Err(SubnetError::Zero { subnet: self.name, what: "the deadline" });
        }
        self.deadline = deadline;
        Ok(self)
    }

    /// Sets how many tasks the miner answers at once (`concurrency`) and how many more may wait
    /// for a slot (`queue_capacity`, may be zero); beyond that, requests get 503.
    pub fn with_queue(mut self, concurrency: usize, queue_capacity: usize) -> Result<Subnet, SubnetError> {
        if concurrency == 0 {
            return Err(SubnetError::Zero { subnet: self.name, what: "the concurrency" });
        }
        self.concurrency = concurrency;
        self.queue_capacity = queue_capacity;
        Ok(self)
    }

    /// The route segment.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The netuid.
    pub fn netuid(&self) -> u16 {
        self.netuid
    }
}

impl fmt::Debug for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subnet")
            .field("name", &self.name)
            .field("netuid", &self.netuid)
            .field("deadline", &self.deadline)
            .field("concurrency", &self.concurrency)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

fn compile(subnet: &str, which: &'static str, text: &str) -> Result<jsonschema::Validator, SubnetError> {
    let schema: serde_json::Value = serde_json::from_str(text).map_err(|source| SubnetError::SchemaJson {
        subnet: subnet.to_owned(),
        which,
        source,
    })?;
    jsonschema::validator_for(&schema).map_err(|error| SubnetError::Schema {
        subnet: subnet.to_owned(),
        which,
        message: error.to_string(),
    })
}
