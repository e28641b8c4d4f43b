//! Who may call: metagraph snapshots, where they come from, and the store requests read them from.
//!
//! A background task ([`crate::MinerState::spawn_metagraph_refresh`]) fetches every served
//! subnet's metagraph from a [`MetagraphSource`] at an interval and swaps it in; requests only
//! read the latest snapshot, never the source. A failed fetch keeps the last good snapshot.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use protocol::AccountId;
use serde::{Deserialize, Serialize};

/// One neuron of a subnet, as the chain reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neuron {
    /// The neuron's uid on the subnet.
    pub uid: u16,
    /// Its hotkey, as an SS58 address in JSON.
    pub hotkey: AccountId,
    /// Its stake, in rao (10⁻⁹ TAO).
    pub stake: u64,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
}

/// A snapshot of one subnet's metagraph: the part the miner needs to authorise callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: u16,
    /// Its neurons (uids and hotkeys unique).
    pub neurons: Vec<Neuron>,
}

/// Why a metagraph could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source could not be read.
    #[error("failed to read the metagraph source {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The source is not valid metagraph JSON.
    #[error("failed to parse the metagraph source {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The source has no metagraph for this subnet.
    #[error("the metagraph source has no subnet {netuid}")]
    UnknownSubnet {
        /// The subnet asked for.
        netuid: u16,
    },
    /// The metagraph breaks an invariant (a repeated uid or hotkey).
    #[error("invalid metagraph for subnet {netuid}: {message}")]
    Invalid {
        /// The subnet.
        netuid: u16,
        /// What is wrong.
        message: String,
    },
    /// Any other failure of a source (a chain client's, for instance).
    #[error("metagraph source failed")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where metagraphs come from: a chain client, or a file ([`FileSource`]). The server calls it
/// from its refresh task only, never per request.
pub trait MetagraphSource: Send + Sync + 'static {
    /// The current metagraph of subnet `netuid`.
    fn fetch(&self, netuid: u16) -> impl Future<Output = Result<Metagraph, SourceError>> + Send;
}

/// A metagraph source backed by a JSON file, re-read on every fetch: a JSON array of
/// [`Metagraph`]s, e.g. `[{"netuid": 1, "neurons": [{"uid": 0, "hotkey": "5F…", "stake": 1000,
/// "validator_permit": true}]}]`. For local networks, tests, and miners that export the
/// metagraph with another tool.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
}

/// The most bytes [`FileSource`] reads (a metagraph of 4096 neurons is about 0.5 MiB).
const MAX_FILE_BYTES: u64 = 64 << 20;

impl FileSource {
    /// A source reading `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        FileSource { path: path.into() }
    }

    /// The file it reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: &Path, netuid: u16) -> Result<Metagraph, SourceError> {
        use std::io::Read;
        let read_error = |source| SourceError::Read { path: path.to_owned(), source };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(read_error(std::io::Error::other(format!("larger than {MAX_FILE_BYTES} bytes"))));
        }
        let graphs: Vec<Metagraph> =
            serde_json::from_slice(&bytes).map_err(|source| SourceError::Parse { path: path.to_owned(), source })?;
        graphs.into_iter().find(|graph| graph.netuid == netuid).ok_or(SourceError::UnknownSubnet { netuid })
    }
}

impl MetagraphSource for FileSource {
    async fn fetch(&self, netuid: u16) -> Result<Metagraph, SourceError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || FileSource::read(&path, netuid))
            .await
            .map_err(|join| SourceError::Other(Box::new(join)))?
    }
}

/// A metagraph source reading the chain through [`chain::Chain`]: the local chain's client, or
/// the real chain's.
pub struct ChainSource<C: ?Sized> {
    chain: Arc<C>,
}

impl<C: ?Sized> ChainSource<C> {
    /// A source reading `chain`.
    pub fn new(chain: Arc<C>) -> ChainSource<C> {
        ChainSource { chain }
    }
}

impl<C: chain::Chain + ?Sized + 'static> MetagraphSource for ChainSource<C> {
    async fn fetch(&self, netuid: u16) -> Result<Metagraph, SourceError> {
        let graph = self.chain.metagraph(netuid).await.map_err(|error| SourceError::Other(Box::new(error)))?;
        let neurons = graph
            .neurons
            .iter()
            .map(|neuron| Neuron {
                uid: neuron.uid,
                hotkey: neuron.hotkey,
                stake: neuron.stake,
                validator_permit: neuron.validator_permit,
            })
            .collect();
        Ok(Metagraph { netuid: graph.netuid, neurons })
    }
}

/// A metagraph indexed by hotkey, with the time it was fetched.
#[derive(Debug)]
pub(crate) struct Snapshot {
    metagraph: Metagraph,
    by_hotkey: HashMap<AccountId, usize>,
    fetched_at: Instant,
}

impl Snapshot {
    /// Indexes `metagraph`, refusing repeated uids or hotkeys and a metagraph of another subnet.
    pub(crate) fn new(netuid: u16, metagraph: Metagraph) -> Result<Snapshot, SourceError> {
        let invalid = |message: String| SourceError::Invalid { netuid, message };
        if metagraph.netuid != netuid {
            return Err(invalid(format!("the source returned subnet {}", metagraph.netuid)));
        }
        let mut by_hotkey = HashMap::with_capacity(metagraph.neurons.len());
        let mut uids = std::collections::HashSet::with_capacity(metagraph.neurons.len());
        for (index, neuron) in metagraph.neurons.iter().enumerate() {
            if !uids.insert(neuron.uid) {
                return Err(invalid(format!("uid {} appears more than once", neuron.uid)));
            }
            if by_hotkey.insert(neuron.hotkey, index).is_some() {
                return Err(invalid(format!("hotkey {} appears more than once", neuron.hotkey)));
            }
        }
        Ok(Snapshot { metagraph, by_hotkey, fetched_at: Instant::now() })
    }

    /// The neuron registered under `hotkey`, if any.
    pub(crate) fn neuron(&self, hotkey: &AccountId) -> Option<&Neuron> {
        self.by_hotkey.get(hotkey).map(|&index| &self.metagraph.neurons[index])
    }

    /// How long ago it was fetched.
    pub(crate) fn age(&self) -> Duration {
        self.fetched_at.elapsed()
    }

    /// The number of neurons.
    pub(crate) fn len(&self) -> usize {
        self.metagraph.neurons.len()
    }
}

/// The latest snapshot of one subnet, swapped in by the refresh task and read lock-free by requests.
#[derive(Debug, Default)]
pub(crate) struct SnapshotCell(ArcSwapOption<Snapshot>);

impl SnapshotCell {
    pub(crate) fn load(&self) -> Option<Arc<Snapshot>> {
        self.0.load_full()
    }

    pub(crate) fn store(&self, snapshot: Arc<Snapshot>) {
        self.0.store(Some(snapshot));
    }
}
