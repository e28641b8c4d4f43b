//! The chain's state in SQLite and every transition of it. Each call and each block is one
//! transaction, taken under one writer lock: a crash leaves the last committed block and
//! nothing of a call that had not returned.

use std::path::Path;
use std::time::Duration;

use chain::{
    AccountId, Axon, ChainError, CommitHash, Hyperparams, Metagraph, NetUid, Neuron, Reveal, Uid, YumaVariant,
    commit_hash,
};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, watch};
use yuma::{EpochInput, EpochOutput, Options, Params, Rows};

use crate::genesis::{Genesis, check_hyperparams};
use crate::rules::{self, PruneCandidate, WeightContext, WeightsCall, WeightsCaller};

/// Most blocks one `advance_blocks` call may produce.
pub const MAX_ADVANCE: u64 = 10_000;

/// A call that changes the chain, as a signed request carries it (JSON: `{"set_weights": {...}}`).
/// Who it acts for is the signer
/// (see [`Origin`]): the coldkey for `register` and `add_stake`, the hotkey for axon and weight
/// calls, the subnet owner or sudo for `set_hyperparams`, sudo for `fund` and `advance_blocks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// Burned registration of `hotkey`, paid by the signing coldkey.
    Register {
        /// The subnet.
        netuid: NetUid,
        /// The hotkey to register.
        hotkey: AccountId,
    },
    /// Publish the signing hotkey's axon.
    ServeAxon {
        /// The subnet.
        netuid: NetUid,
        /// Where it serves.
        axon: Axon,
    },
    /// Stake `amount` rao of the signing coldkey on `hotkey`.
    AddStake {
        /// The subnet.
        netuid: NetUid,
        /// The hotkey staked to.
        hotkey: AccountId,
        /// Rao moved from balance to stake.
        amount: u64,
    },
    /// Set the signing hotkey's weights.
    SetWeights {
        /// The subnet.
        netuid: NetUid,
        /// Target uids.
        uids: Vec<Uid>,
        /// One value per target.
        values: Vec<u16>,
        /// The validator's weights version key.
        version_key: u64,
    },
    /// Commit to weights by hash.
    CommitWeights {
        /// The subnet.
        netuid: NetUid,
        /// [`commit_hash`] of the weights to reveal.
        hash: CommitHash,
    },
    /// Reveal committed weights.
    RevealWeights {
        /// The subnet.
        netuid: NetUid,
        /// Target uids.
        uids: Vec<Uid>,
        /// One value per target.
        values: Vec<u16>,
        /// The salt hashed into the commit.
        salt: Vec<u16>,
        /// The version key hashed into the commit.
        version_key: u64,
    },
    /// Replace a subnet's hyperparameters (owner or sudo).
    SetHyperparams {
        /// The subnet.
        netuid: NetUid,
        /// The new hyperparameters, complete.
        hyperparams: Hyperparams,
    },
    /// Mint `amount` rao to `coldkey` (sudo): the local chain's faucet.
    Fund {
        /// The account funded.
        coldkey: AccountId,
        /// Rao added.
        amount: u64,
    },
    /// Produce `count` blocks now (sudo), for chains run in manual mode.
    AdvanceBlocks {
        /// Number of blocks, at most [`MAX_ADVANCE`].
        count: u64,
    },
}

/// Who a call comes from: the signer, and for a request off the network its `btauth/1` nonce,
/// recorded with the call so the same request is never applied twice, even across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The account that signed.
    pub signer: AccountId,
    /// `(nonce_ns, expires_ns)` of the request, if it came signed over HTTP.
    pub nonce: Option<(u64, u64)>,
}

impl Origin {
    /// An in-process call by `signer` (the embedder holds the database, so no signature).
    pub fn local(signer: AccountId) -> Origin {
        Origin { signer, nonce: None }
    }
}

/// What an applied call returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The block the call took effect at (the last block produced, for `advance_blocks`).
    pub block: u64,
    /// The uid a registration got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<Uid>,
}

/// One epoch as run: its input in the Yuma vector format and the output it stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochRecord {
    /// The subnet.
    pub netuid: NetUid,
    /// The block it ran at.
    pub block: u64,
    /// Exactly what `yuma::epoch` read.
    pub input: EpochInput,
    /// What it returned.
    pub output: EpochOutput,
}

/// Where every rao is: what was ever created against where it is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuance {
    /// Genesis balances, faucet mints and emission.
    pub issued: u64,
    /// Free balances.
    pub balances: u64,
    /// Stake.
    pub stakes: u64,
    /// Emission accrued and not yet distributed by an epoch.
    pub pending: u64,
    /// Registration burns and the owner's own miner emission.
    pub burned: u64,
}

impl Issuance {
    /// Whether every issued rao is accounted for.
    pub fn is_conserved(&self) -> bool {
        u128::from(self.issued)
            == u128::from(self.balances) + u128::from(self.stakes) + u128::from(self.pending) + u128::from(self.burned)
    }
}

/// Why a chain database could not be opened or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// SQLite refused (file unreadable, locked, not a database...).
    #[error("cannot open the chain database {path}: {source}")]
    Database {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the chain database {path}: {source}")]
    Migrate {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// `open` on a database without a genesis.
    #[error("{path} holds no chain; create one with `subnetkit localnet init --genesis FILE --db {path}`")]
    NotInitialised {
        /// The file.
        path: String,
    },
    /// `init` on a database that already holds a chain.
    #[error("{path} already holds a chain (at block {block}); choose another --db or delete it")]
    AlreadyInitialised {
        /// The file.
        path: String,
        /// Its current block.
        block: u64,
    },
    /// The genesis could not be written.
    #[error("cannot write the genesis to {path}: {source}")]
    Genesis {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: ChainError,
    },
}

/// The local chain: its database and the lock every write takes.
#[derive(Debug)]
pub struct Localnet {
    pool: SqlitePool,
    writer: Mutex<()>,
    identity: AccountId,
    sudo: AccountId,
    blocks: watch::Sender<u64>,
}

impl Localnet {
    /// Creates a chain in the database at `path` (created if missing) from `genesis`, in one
    /// transaction. Refuses a database that already holds a chain.
    pub async fn init(path: &Path, genesis: &Genesis) -> Result<Localnet, OpenError> {
        let display = path.display().to_string();
        let pool = connect(path, true).await?;
        if let Some(block) = stored_block(&pool).await.map_err(|source| database(&display, source))? {
            return Err(OpenError::AlreadyInitialised { path: display, block });
        }
        let mut identity = [0u8; 32];
        getrandom::fill(&mut identity).map_err(|error| OpenError::Genesis {
            path: display.clone(),
            source: internal(format!("no randomness for the chain identity: {error}")),
        })?;
        write_genesis(&pool, genesis, &identity)
            .await
            .map_err(|source| OpenError::Genesis { path: display.clone(), source })?;
        Localnet::from_pool(pool, &display).await
    }

    /// Opens the chain in the database at `path`, resuming at its last committed block.
    pub async fn open(path: &Path) -> Result<Localnet, OpenError> {
        let display = path.display().to_string();
        if !path.exists() {
            return Err(OpenError::NotInitialised { path: display });
        }
        let pool = connect(path, false).await?;
        Localnet::from_pool(pool, &display).await
    }

    async fn from_pool(pool: SqlitePool, display: &str) -> Result<Localnet, OpenError> {
        let row = sqlx::query("SELECT block, identity, sudo FROM chain WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .map_err(|source| database(display, source))?
            .ok_or_else(|| OpenError::NotInitialised { path: display.to_owned() })?;
        let block = nat(row.get("block"));
        let identity = account(row.get("identity")).map_err(|source| corrupt(display, source))?;
        let sudo = account(row.get("sudo")).map_err(|source| corrupt(display, source))?;
        let (blocks, _) = watch::channel(block);
        Ok(Localnet { pool, writer: Mutex::new(()), identity, sudo, blocks })
    }

    /// The account signed requests must name as their receiver.
    pub fn identity(&self) -> AccountId {
        self.identity
    }

    /// The sudo key.
    pub fn sudo(&self) -> AccountId {
        self.sudo
    }

    /// Follows the block number as blocks are produced.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.blocks.subscribe()
    }

    /// The current block.
    pub async fn block(&self) -> Result<u64, ChainError> {
        stored_block(&self.pool).await.map_err(storage)?.ok_or_else(|| internal("the chain row is missing"))
    }

    /// A coldkey's free balance (0 for an unknown account).
    pub async fn balance(&self, coldkey: &AccountId) -> Result<u64, ChainError> {
        let mut connection = self.pool.acquire().await.map_err(storage)?;
        balance_of(&mut connection, coldkey).await
    }

    /// The subnet's metagraph at the current block.
    pub async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        let mut tx = self.pool.begin().await.map_err(storage)?;
        let block = current_block(&mut tx).await?;
        subnet(&mut tx, netuid).await?;
        let neurons = load_neurons(&mut tx, netuid).await?;
        Ok(Metagraph { netuid, block, neurons })
    }

    /// The subnet's hyperparameters.
    pub async fn hyperparams(&self, netuid: NetUid) -> Result<Hyperparams, ChainError> {
        let mut connection = self.pool.acquire().await.map_err(storage)?;
        Ok(subnet(&mut connection, netuid).await?.params)
    }

    /// The netuids of every subnet.
    pub async fn netuids(&self) -> Result<Vec<NetUid>, ChainError> {
        let rows =
            sqlx::query("SELECT netuid FROM subnets ORDER BY netuid").fetch_all(&self.pool).await.map_err(storage)?;
        Ok(rows.iter().map(|row| netuid_of(row.get("netuid"))).collect())
    }

    /// The subnet's most recent epoch, if one has run.
    pub async fn last_epoch(&self, netuid: NetUid) -> Result<Option<EpochRecord>, ChainError> {
        let mut connection = self.pool.acquire().await.map_err(storage)?;
        subnet(&mut connection, netuid).await?;
        let row = sqlx::query("SELECT block, input, output FROM epochs WHERE netuid = ? ORDER BY block DESC LIMIT 1")
            .bind(i64::from(netuid))
            .fetch_optional(&mut *connection)
            .await
            .map_err(storage)?;
        row.map(|row| {
            Ok(EpochRecord {
                netuid,
                block: nat(row.get("block")),
                input: from_json("epochs.input", row.get("input"))?,
                output: from_json("epochs.output", row.get("output"))?,
            })
        })
        .transpose()
    }

    /// Totals of every place rao can be.
    pub async fn issuance(&self) -> Result<Issuance, ChainError> {
        let row = sqlx::query(
            "SELECT issued, burned,
                (SELECT COALESCE(SUM(balance), 0) FROM accounts) AS balances,
                (SELECT COALESCE(SUM(amount), 0) FROM stakes) AS stakes,
                (SELECT COALESCE(SUM(pending_server + pending_validator), 0) FROM subnets) AS pending
             FROM chain WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage)?;
        Ok(Issuance {
            issued: nat(row.get("issued")),
            balances: nat(row.get("balances")),
            stakes: nat(row.get("stakes")),
            pending: nat(row.get("pending")),
            burned: nat(row.get("burned")),
        })
    }

    /// Applies `call` for `origin` at the current block, all or nothing. A refused request's
    /// nonce is recorded too, so it cannot be replayed once it would pass.
    pub async fn apply(&self, origin: Origin, call: Call) -> Result<Receipt, ChainError> {
        if let Call::AdvanceBlocks { count } = call {
            self.sudo_only(origin)?;
            self.record_nonce_alone(origin).await?;
            if count == 0 || count > MAX_ADVANCE {
                return Err(invalid("count", format!("must be between 1 and {MAX_ADVANCE}")));
            }
            let block = self.advance(count).await?;
            return Ok(Receipt { block, uid: None });
        }
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await.map_err(storage)?;
        if let Some((nonce_ns, expires_ns)) = origin.nonce {
            let inserted = sqlx::query("INSERT OR IGNORE INTO nonces (account, nonce_ns, expires_ns) VALUES (?, ?, ?)")
                .bind(origin.signer.as_bytes().as_slice())
                .bind(int(nonce_ns))
                .bind(int(expires_ns))
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
            if inserted.rows_affected() == 0 {
                return Err(ChainError::Unauthorized { reason: "the request was replayed".to_owned() });
            }
        }
        let block = current_block(&mut tx).await?;
        match dispatch(&mut tx, self.sudo, block, origin.signer, call).await {
            Ok(uid) => {
                tx.commit().await.map_err(storage)?;
                Ok(Receipt { block, uid })
            }
            Err(refusal) => {
                tx.rollback().await.map_err(storage)?;
                drop(_writer);
                self.record_nonce_alone(origin).await?;
                Err(refusal)
            }
        }
    }

    /// Produces `count` blocks, each its own transaction: emission, epochs due, nonce expiry.
    /// Returns the last block.
    pub async fn advance(&self, count: u64) -> Result<u64, ChainError> {
        let mut block = self.block().await?;
        for _ in 0..count {
            block = self.produce_block().await?;
        }
        Ok(block)
    }

    async fn produce_block(&self) -> Result<u64, ChainError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await.map_err(storage)?;
        let block = current_block(&mut tx).await? + 1;
        sqlx::query("UPDATE chain SET block = ? WHERE id = 1")
            .bind(int(block))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        for netuid in all_netuids(&mut tx).await? {
            let subnet = subnet(&mut tx, netuid).await?;
            accrue_emission(&mut tx, &subnet).await?;
            if rules::is_epoch_block(block, netuid, subnet.params.tempo) {
                run_epoch(&mut tx, netuid, block).await?;
            }
        }
        sqlx::query("DELETE FROM nonces WHERE expires_ns < ?")
            .bind(int(protocol::btauth::now_ns()))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        self.blocks.send_replace(block);
        Ok(block)
    }

    fn sudo_only(&self, origin: Origin) -> Result<(), ChainError> {
        if origin.signer == self.sudo { Ok(()) } else { Err(ChainError::BadOrigin) }
    }

    async fn record_nonce_alone(&self, origin: Origin) -> Result<(), ChainError> {
        let Some((nonce_ns, expires_ns)) = origin.nonce else { return Ok(()) };
        let _writer = self.writer.lock().await;
        let inserted = sqlx::query("INSERT OR IGNORE INTO nonces (account, nonce_ns, expires_ns) VALUES (?, ?, ?)")
            .bind(origin.signer.as_bytes().as_slice())
            .bind(int(nonce_ns))
            .bind(int(expires_ns))
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        if inserted.rows_affected() == 0 {
            return Err(ChainError::Unauthorized { reason: "the request was replayed".to_owned() });
        }
        Ok(())
    }
}

async fn connect(path: &Path, create: bool) -> Result<SqlitePool, OpenError> {
    let display = path.display().to_string();
    // WAL with synchronous=NORMAL: a killed process loses nothing committed; a power cut may
    // lose the last transactions but never leaves one half-applied.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|source| database(&display, source))?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(|source| OpenError::Migrate { path: display, source })?;
    Ok(pool)
}

async fn stored_block(pool: &SqlitePool) -> Result<Option<u64>, sqlx::Error> {
    let row = sqlx::query("SELECT block FROM chain WHERE id = 1").fetch_optional(pool).await?;
    Ok(row.map(|row| nat(row.get("block"))))
}

async fn write_genesis(pool: &SqlitePool, genesis: &Genesis, identity: &[u8; 32]) -> Result<(), ChainError> {
    genesis.validate().map_err(|error| invalid("genesis", error.to_string()))?;
    let mut tx = pool.begin().await.map_err(storage)?;
    let supply: u64 = genesis.accounts.iter().map(|account| account.balance).sum();
    sqlx::query("INSERT INTO chain (id, block, identity, sudo, issued) VALUES (1, 0, ?, ?, ?)")
        .bind(identity.as_slice())
        .bind(genesis.sudo.as_bytes().as_slice())
        .bind(int(supply))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    for account in &genesis.accounts {
        sqlx::query("INSERT INTO accounts (coldkey, balance) VALUES (?, ?)")
            .bind(account.coldkey.as_bytes().as_slice())
            .bind(int(account.balance))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
    }
    for subnet in &genesis.subnets {
        sqlx::query(
            "INSERT INTO subnets (netuid, owner_coldkey, owner_hotkey, hyperparams, emission_per_block) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(i64::from(subnet.netuid))
        .bind(subnet.owner_coldkey.as_bytes().as_slice())
        .bind(subnet.owner_hotkey.as_bytes().as_slice())
        .bind(to_json(&subnet.hyperparams)?)
        .bind(int(subnet.emission_per_block))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
        claim_hotkey(&mut tx, &subnet.owner_hotkey, &subnet.owner_coldkey).await?;
        insert_neuron(&mut tx, subnet.netuid, 0, &subnet.owner_hotkey, 0).await?;
    }
    tx.commit().await.map_err(storage)
}

/// A subnet's row.
struct Subnet {
    netuid: NetUid,
    owner_coldkey: AccountId,
    owner_hotkey: AccountId,
    params: Hyperparams,
    emission_per_block: u64,
    last_step_block: u64,
    pending_server: u64,
    pending_validator: u64,
}

async fn subnet(connection: &mut SqliteConnection, netuid: NetUid) -> Result<Subnet, ChainError> {
    let row = sqlx::query("SELECT * FROM subnets WHERE netuid = ?")
        .bind(i64::from(netuid))
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage)?
        .ok_or(ChainError::SubnetNotExists { netuid })?;
    Ok(Subnet {
        netuid,
        owner_coldkey: account(row.get("owner_coldkey"))?,
        owner_hotkey: account(row.get("owner_hotkey"))?,
        params: from_json("subnets.hyperparams", row.get("hyperparams"))?,
        emission_per_block: nat(row.get("emission_per_block")),
        last_step_block: nat(row.get("last_step_block")),
        pending_server: nat(row.get("pending_server")),
        pending_validator: nat(row.get("pending_validator")),
    })
}

async fn all_netuids(connection: &mut SqliteConnection) -> Result<Vec<NetUid>, ChainError> {
    let rows =
        sqlx::query("SELECT netuid FROM subnets ORDER BY netuid").fetch_all(&mut *connection).await.map_err(storage)?;
    Ok(rows.iter().map(|row| netuid_of(row.get("netuid"))).collect())
}

async fn current_block(connection: &mut SqliteConnection) -> Result<u64, ChainError> {
    let row = sqlx::query("SELECT block FROM chain WHERE id = 1").fetch_one(&mut *connection).await.map_err(storage)?;
    Ok(nat(row.get("block")))
}

async fn balance_of(connection: &mut SqliteConnection, coldkey: &AccountId) -> Result<u64, ChainError> {
    let row = sqlx::query("SELECT balance FROM accounts WHERE coldkey = ?")
        .bind(coldkey.as_bytes().as_slice())
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage)?;
    Ok(row.map_or(0, |row| nat(row.get("balance"))))
}

/// Adds `amount` to a balance, creating the account.
async fn credit(connection: &mut SqliteConnection, coldkey: &AccountId, amount: u64) -> Result<(), ChainError> {
    sqlx::query(
        "INSERT INTO accounts (coldkey, balance) VALUES (?1, ?2)
         ON CONFLICT (coldkey) DO UPDATE SET balance = balance + ?2",
    )
    .bind(coldkey.as_bytes().as_slice())
    .bind(int(amount))
    .execute(&mut *connection)
    .await
    .map_err(storage)?;
    Ok(())
}

/// Takes `amount` from a balance the caller checked covers it.
async fn debit(connection: &mut SqliteConnection, coldkey: &AccountId, amount: u64) -> Result<(), ChainError> {
    let updated = sqlx::query("UPDATE accounts SET balance = balance - ? WHERE coldkey = ?")
        .bind(int(amount))
        .bind(coldkey.as_bytes().as_slice())
        .execute(&mut *connection)
        .await
        .map_err(storage)?;
    if updated.rows_affected() == 1 || amount == 0 {
        Ok(())
    } else {
        Err(internal("debit from an account that does not exist"))
    }
}

async fn add_to_stake(
    connection: &mut SqliteConnection,
    netuid: NetUid,
    hotkey: &AccountId,
    coldkey: &AccountId,
    amount: u64,
) -> Result<(), ChainError> {
    if amount == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO stakes (netuid, hotkey, coldkey, amount) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (netuid, hotkey, coldkey) DO UPDATE SET amount = amount + ?4",
    )
    .bind(i64::from(netuid))
    .bind(hotkey.as_bytes().as_slice())
    .bind(coldkey.as_bytes().as_slice())
    .bind(int(amount))
    .execute(&mut *connection)
    .await
    .map_err(storage)?;
    Ok(())
}

async fn add_burned(connection: &mut SqliteConnection, amount: u64) -> Result<(), ChainError> {
    sqlx::query("UPDATE chain SET burned = burned + ? WHERE id = 1")
        .bind(int(amount))
        .execute(&mut *connection)
        .await
        .map_err(storage)?;
    Ok(())
}

async fn owner_of(connection: &mut SqliteConnection, hotkey: &AccountId) -> Result<Option<AccountId>, ChainError> {
    let row = sqlx::query("SELECT coldkey FROM hotkeys WHERE hotkey = ?")
        .bind(hotkey.as_bytes().as_slice())
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage)?;
    row.map(|row| account(row.get("coldkey"))).transpose()
}

async fn claim_hotkey(
    connection: &mut SqliteConnection,
    hotkey: &AccountId,
    coldkey: &AccountId,
) -> Result<(), ChainError> {
    sqlx::query("INSERT OR IGNORE INTO hotkeys (hotkey, coldkey) VALUES (?, ?)")
        .bind(hotkey.as_bytes().as_slice())
        .bind(coldkey.as_bytes().as_slice())
        .execute(&mut *connection)
        .await
        .map_err(storage)?;
    Ok(())
}

async fn insert_neuron(
    connection: &mut SqliteConnection,
    netuid: NetUid,
    uid: Uid,
    hotkey: &AccountId,
    block: u64,
) -> Result<(), ChainError> {
    sqlx::query("INSERT INTO neurons (netuid, uid, hotkey, registered_at, last_update) VALUES (?, ?, ?, ?, ?)")
        .bind(i64::from(netuid))
        .bind(i64::from(uid))
        .bind(hotkey.as_bytes().as_slice())
        .bind(int(block))
        .bind(int(block))
        .execute(&mut *connection)
        .await
        .map_err(storage)?;
    Ok(())
}

/// A neuron's row, as the rules read it.
struct NeuronRow {
    uid: Uid,
    hotkey: AccountId,
    registered_at: u64,
    last_update: u64,
    validator_permit: bool,
    emission: u64,
    axon_block: Option<u64>,
    weights: Vec<(u16, u16)>,
    bonds: Vec<(u16, u16)>,
    stake: u64,
}

const NEURON_COLUMNS: &str = "n.uid, n.hotkey, n.registered_at, n.last_update, n.validator_permit, n.active,
    n.consensus, n.incentive, n.dividends, n.validator_trust, n.emission, n.axon, n.axon_block, n.weights, n.bonds,
    COALESCE((SELECT SUM(s.amount) FROM stakes s WHERE s.netuid = n.netuid AND s.hotkey = n.hotkey), 0) AS stake";

fn neuron_row(row: &sqlx::sqlite::SqliteRow) -> Result<NeuronRow, ChainError> {
    Ok(NeuronRow {
        uid: netuid_of(row.get("uid")),
        hotkey: account(row.get("hotkey"))?,
        registered_at: nat(row.get("registered_at")),
        last_update: nat(row.get("last_update")),
        validator_permit: row.get("validator_permit"),
        emission: nat(row.get("emission")),
        axon_block: row.get::<Option<i64>, _>("axon_block").map(nat),
        weights: from_json("neurons.weights", row.get("weights"))?,
        bonds: from_json("neurons.bonds", row.get("bonds"))?,
        stake: nat(row.get("stake")),
    })
}

async fn neuron_rows(connection: &mut SqliteConnection, netuid: NetUid) -> Result<Vec<NeuronRow>, ChainError> {
    let rows = sqlx::query(&format!("SELECT {NEURON_COLUMNS} FROM neurons n WHERE n.netuid = ? ORDER BY n.uid"))
        .bind(i64::from(netuid))
        .fetch_all(&mut *connection)
        .await
        .map_err(storage)?;
    rows.iter().map(neuron_row).collect()
}

async fn neuron_by_hotkey(
    connection: &mut SqliteConnection,
    netuid: NetUid,
    hotkey: &AccountId,
) -> Result<Option<NeuronRow>, ChainError> {
    let row = sqlx::query(&format!("SELECT {NEURON_COLUMNS} FROM neurons n WHERE n.netuid = ? AND n.hotkey = ?"))
        .bind(i64::from(netuid))
        .bind(hotkey.as_bytes().as_slice())
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage)?;
    row.as_ref().map(neuron_row).transpose()
}

async fn neuron_count(connection: &mut SqliteConnection, netuid: NetUid) -> Result<usize, ChainError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM neurons WHERE netuid = ?")
        .bind(i64::from(netuid))
        .fetch_one(&mut *connection)
        .await
        .map_err(storage)?;
    Ok(usize::try_from(row.get::<i64, _>("n")).unwrap_or(0))
}

async fn load_neurons(connection: &mut SqliteConnection, netuid: NetUid) -> Result<Vec<Neuron>, ChainError> {
    let rows = sqlx::query(&format!(
        "SELECT {NEURON_COLUMNS}, h.coldkey FROM neurons n JOIN hotkeys h ON h.hotkey = n.hotkey
         WHERE n.netuid = ? ORDER BY n.uid"
    ))
    .bind(i64::from(netuid))
    .fetch_all(&mut *connection)
    .await
    .map_err(storage)?;
    rows.iter()
        .map(|row| {
            let axon: Option<String> = row.get("axon");
            Ok(Neuron {
                uid: netuid_of(row.get("uid")),
                hotkey: account(row.get("hotkey"))?,
                coldkey: account(row.get("coldkey"))?,
                stake: nat(row.get("stake")),
                validator_permit: row.get("validator_permit"),
                active: row.get("active"),
                last_update: nat(row.get("last_update")),
                registered_at: nat(row.get("registered_at")),
                axon: axon.map(|text| from_json("neurons.axon", text)).transpose()?,
                consensus: proportion(row.get("consensus")),
                incentive: proportion(row.get("incentive")),
                dividends: proportion(row.get("dividends")),
                validator_trust: proportion(row.get("validator_trust")),
                emission: nat(row.get("emission")),
            })
        })
        .collect()
}

async fn dispatch(
    tx: &mut SqliteConnection,
    sudo: AccountId,
    block: u64,
    signer: AccountId,
    call: Call,
) -> Result<Option<Uid>, ChainError> {
    match call {
        Call::Register { netuid, hotkey } => register(tx, block, &signer, netuid, &hotkey).await.map(Some),
        Call::ServeAxon { netuid, axon } => serve_axon(tx, block, &signer, netuid, &axon).await.map(|()| None),
        Call::AddStake { netuid, hotkey, amount } => {
            add_stake(tx, &signer, netuid, &hotkey, amount).await.map(|()| None)
        }
        Call::SetWeights { netuid, uids, values, version_key } => {
            set_weights(tx, block, &signer, netuid, &uids, &values, version_key).await.map(|()| None)
        }
        Call::CommitWeights { netuid, hash } => commit_weights(tx, block, &signer, netuid, hash).await.map(|()| None),
        Call::RevealWeights { netuid, uids, values, salt, version_key } => {
            let reveal = Reveal { uids, values, salt, version_key };
            reveal_weights(tx, block, &signer, netuid, &reveal).await.map(|()| None)
        }
        Call::SetHyperparams { netuid, hyperparams } => {
            let subnet = subnet(tx, netuid).await?;
            if signer != subnet.owner_coldkey && signer != sudo {
                return Err(ChainError::NotSubnetOwner);
            }
            check_hyperparams(&hyperparams)?;
            sqlx::query("UPDATE subnets SET hyperparams = ? WHERE netuid = ?")
                .bind(to_json(&hyperparams)?)
                .bind(i64::from(netuid))
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
            Ok(None)
        }
        Call::Fund { coldkey, amount } => {
            if signer != sudo {
                return Err(ChainError::BadOrigin);
            }
            if amount > 1 << 50 {
                return Err(invalid("amount", "at most 2^50 rao per call"));
            }
            credit(tx, &coldkey, amount).await?;
            sqlx::query("UPDATE chain SET issued = issued + ? WHERE id = 1")
                .bind(int(amount))
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
            Ok(None)
        }
        Call::AdvanceBlocks { .. } => Err(internal("advance_blocks is not a transaction")),
    }
}

async fn register(
    tx: &mut SqliteConnection,
    block: u64,
    coldkey: &AccountId,
    netuid: NetUid,
    hotkey: &AccountId,
) -> Result<Uid, ChainError> {
    let subnet = subnet(tx, netuid).await?;
    if let Some(existing) = neuron_by_hotkey(tx, netuid, hotkey).await? {
        return Err(ChainError::HotKeyAlreadyRegisteredInSubNet { netuid, uid: existing.uid });
    }
    if owner_of(tx, hotkey).await?.is_some_and(|owner| owner != *coldkey) {
        return Err(ChainError::NonAssociatedColdKey);
    }
    let cost = subnet.params.burn;
    let available = balance_of(tx, coldkey).await?;
    if available < cost {
        return Err(ChainError::NotEnoughBalanceToStake { needed: cost, available });
    }
    let n = neuron_count(tx, netuid).await?;
    let uid = if n < usize::from(subnet.params.max_allowed_uids) {
        Uid::try_from(n).map_err(|_| ChainError::NoNeuronIdAvailable { netuid })?
    } else {
        let neurons = neuron_rows(tx, netuid).await?;
        let candidates: Vec<PruneCandidate> = neurons
            .iter()
            .map(|neuron| PruneCandidate {
                uid: neuron.uid,
                emission: neuron.emission,
                registered_at: neuron.registered_at,
                is_owner: neuron.hotkey == subnet.owner_hotkey,
            })
            .collect();
        let uid = rules::uid_to_prune(&candidates, block, subnet.params.immunity_period)
            .ok_or(ChainError::NoNeuronIdAvailable { netuid })?;
        replace_neuron(tx, netuid, uid, &neurons).await?;
        uid
    };
    claim_hotkey(tx, hotkey, coldkey).await?;
    insert_neuron(tx, netuid, uid, hotkey, block).await?;
    debit(tx, coldkey, cost).await?;
    add_burned(tx, cost).await?;
    Ok(uid)
}

/// Clears `uid` for a new hotkey as the chain does: its own row goes (weights, bonds, axon,
/// permit); every other row keeps its weight entry to `uid` with the value 0; bonds to `uid`
/// stay and the epoch's registration mask drops them.
async fn replace_neuron(
    tx: &mut SqliteConnection,
    netuid: NetUid,
    uid: Uid,
    neurons: &[NeuronRow],
) -> Result<(), ChainError> {
    sqlx::query("DELETE FROM neurons WHERE netuid = ? AND uid = ?")
        .bind(i64::from(netuid))
        .bind(i64::from(uid))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    for neuron in neurons.iter().filter(|neuron| neuron.uid != uid) {
        if !neuron.weights.iter().any(|&(target, value)| target == uid && value != 0) {
            continue;
        }
        let weights: Vec<(u16, u16)> =
            neuron.weights.iter().map(|&(target, value)| (target, if target == uid { 0 } else { value })).collect();
        sqlx::query("UPDATE neurons SET weights = ? WHERE netuid = ? AND uid = ?")
            .bind(to_json(&weights)?)
            .bind(i64::from(netuid))
            .bind(i64::from(neuron.uid))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
    }
    Ok(())
}

async fn registered(tx: &mut SqliteConnection, netuid: NetUid, hotkey: &AccountId) -> Result<NeuronRow, ChainError> {
    neuron_by_hotkey(tx, netuid, hotkey).await?.ok_or(ChainError::HotKeyNotRegisteredInSubNet { netuid })
}

async fn serve_axon(
    tx: &mut SqliteConnection,
    block: u64,
    hotkey: &AccountId,
    netuid: NetUid,
    axon: &Axon,
) -> Result<(), ChainError> {
    let subnet = subnet(tx, netuid).await?;
    let neuron = registered(tx, netuid, hotkey).await?;
    rules::check_axon(axon)?;
    if let Some(last) = neuron.axon_block {
        rules::check_rate_limit(last, subnet.params.serving_rate_limit, block)
            .map_err(|next_block| ChainError::ServingRateLimitExceeded { next_block })?;
    }
    sqlx::query("UPDATE neurons SET axon = ?, axon_block = ? WHERE netuid = ? AND uid = ?")
        .bind(to_json(axon)?)
        .bind(int(block))
        .bind(i64::from(netuid))
        .bind(i64::from(neuron.uid))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    Ok(())
}

async fn add_stake(
    tx: &mut SqliteConnection,
    coldkey: &AccountId,
    netuid: NetUid,
    hotkey: &AccountId,
    amount: u64,
) -> Result<(), ChainError> {
    subnet(tx, netuid).await?;
    if amount == 0 {
        return Err(ChainError::AmountTooLow);
    }
    if owner_of(tx, hotkey).await?.is_none() {
        return Err(ChainError::HotKeyAccountNotExists);
    }
    let available = balance_of(tx, coldkey).await?;
    if available < amount {
        return Err(ChainError::NotEnoughBalanceToStake { needed: amount, available });
    }
    debit(tx, coldkey, amount).await?;
    add_to_stake(tx, netuid, hotkey, coldkey, amount).await
}

/// What the weight checks need about the signing hotkey, if it is registered.
async fn weights_caller(
    tx: &mut SqliteConnection,
    subnet: &Subnet,
    hotkey: &AccountId,
) -> Result<Option<(WeightsCaller, NeuronRow)>, ChainError> {
    Ok(neuron_by_hotkey(tx, subnet.netuid, hotkey).await?.map(|neuron| {
        let caller = WeightsCaller {
            uid: neuron.uid,
            stake: neuron.stake,
            is_owner: neuron.hotkey == subnet.owner_hotkey,
            validator_permit: neuron.validator_permit,
            last_update: neuron.last_update,
        };
        (caller, neuron)
    }))
}

async fn store_weights(
    tx: &mut SqliteConnection,
    netuid: NetUid,
    uid: Uid,
    uids: &[Uid],
    values: &[u16],
    block: u64,
) -> Result<(), ChainError> {
    let stored: Vec<(u16, u16)> = uids.iter().copied().zip(rules::max_upscale(values)).collect();
    sqlx::query("UPDATE neurons SET weights = ?, last_update = ? WHERE netuid = ? AND uid = ?")
        .bind(to_json(&stored)?)
        .bind(int(block))
        .bind(i64::from(netuid))
        .bind(i64::from(uid))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    Ok(())
}

async fn set_weights(
    tx: &mut SqliteConnection,
    block: u64,
    hotkey: &AccountId,
    netuid: NetUid,
    uids: &[Uid],
    values: &[u16],
    version_key: u64,
) -> Result<(), ChainError> {
    let subnet = subnet(tx, netuid).await?;
    let n = neuron_count(tx, netuid).await?;
    let caller = weights_caller(tx, &subnet, hotkey).await?;
    let context = WeightContext { netuid, params: &subnet.params, n, block, caller: caller.as_ref().map(|c| c.0) };
    rules::check_weights(&context, WeightsCall::Set, uids, values, version_key)?;
    let (caller, _) = caller.ok_or(ChainError::HotKeyNotRegisteredInSubNet { netuid })?;
    store_weights(tx, netuid, caller.uid, uids, values, block).await
}

/// A neuron's pending commits, oldest first: `(id, hash, commit_block)`.
async fn commits_of(
    tx: &mut SqliteConnection,
    netuid: NetUid,
    hotkey: &AccountId,
) -> Result<Vec<(i64, CommitHash, u64)>, ChainError> {
    let rows = sqlx::query("SELECT id, hash, commit_block FROM commits WHERE netuid = ? AND hotkey = ? ORDER BY id")
        .bind(i64::from(netuid))
        .bind(hotkey.as_bytes().as_slice())
        .fetch_all(&mut *tx)
        .await
        .map_err(storage)?;
    rows.iter()
        .map(|row| {
            let hash: Vec<u8> = row.get("hash");
            let hash =
                <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| internal("a stored commit hash is not 32 bytes"))?;
            Ok((row.get("id"), CommitHash(hash), nat(row.get("commit_block"))))
        })
        .collect()
}

/// Whether a commit made at `commit_block` can still be revealed at `block`.
fn unexpired(subnet: &Subnet, commit_block: u64, block: u64) -> bool {
    let tempo = subnet.params.tempo;
    rules::epoch_index(block, subnet.netuid, tempo)
        <= rules::epoch_index(commit_block, subnet.netuid, tempo) + subnet.params.commit_reveal_period
}

async fn commit_weights(
    tx: &mut SqliteConnection,
    block: u64,
    hotkey: &AccountId,
    netuid: NetUid,
    hash: CommitHash,
) -> Result<(), ChainError> {
    let subnet = subnet(tx, netuid).await?;
    if !subnet.params.commit_reveal_enabled {
        return Err(ChainError::CommitRevealDisabled { netuid });
    }
    let neuron = registered(tx, netuid, hotkey).await?;
    sqlx::query("DELETE FROM commits WHERE netuid = ? AND hotkey = ? AND commit_block < ?")
        .bind(i64::from(netuid))
        .bind(hotkey.as_bytes().as_slice())
        .bind(int(expiry_horizon(&subnet, block, 0)))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    let commits = commits_of(tx, netuid, hotkey).await?;
    let last = commits.iter().map(|&(_, _, commit_block)| commit_block).max().unwrap_or(0).max(neuron.last_update);
    rules::check_rate_limit(last, subnet.params.weights_rate_limit, block)
        .map_err(|next_block| ChainError::CommittingWeightsTooFast { last_update: last, next_block })?;
    let pending = commits.iter().filter(|&&(_, _, commit_block)| unexpired(&subnet, commit_block, block)).count();
    if pending >= rules::MAX_UNREVEALED_COMMITS {
        return Err(ChainError::TooManyUnrevealedCommits { max: rules::MAX_UNREVEALED_COMMITS });
    }
    sqlx::query("INSERT INTO commits (netuid, hotkey, hash, commit_block) VALUES (?, ?, ?, ?)")
        .bind(i64::from(netuid))
        .bind(hotkey.as_bytes().as_slice())
        .bind(hash.0.as_slice())
        .bind(int(block))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    Ok(())
}

async fn reveal_weights(
    tx: &mut SqliteConnection,
    block: u64,
    hotkey: &AccountId,
    netuid: NetUid,
    reveal: &Reveal,
) -> Result<(), ChainError> {
    let subnet = subnet(tx, netuid).await?;
    if !subnet.params.commit_reveal_enabled {
        return Err(ChainError::CommitRevealDisabled { netuid });
    }
    registered(tx, netuid, hotkey).await?;
    let commits = commits_of(tx, netuid, hotkey).await?;
    if commits.is_empty() {
        return Err(ChainError::NoWeightsCommitFound { netuid });
    }
    let hash = commit_hash(hotkey, netuid, reveal);
    let &(id, _, commit_block) =
        commits.iter().find(|&&(_, stored, _)| stored == hash).ok_or(ChainError::InvalidRevealCommitHashNotMatch)?;
    let tempo = subnet.params.tempo;
    let reveal_epoch = rules::epoch_index(commit_block, netuid, tempo) + subnet.params.commit_reveal_period;
    let now = rules::epoch_index(block, netuid, tempo);
    if now < reveal_epoch {
        return Err(ChainError::RevealTooEarly { from_block: rules::epoch_start(reveal_epoch, netuid, tempo) });
    }
    if now > reveal_epoch {
        return Err(ChainError::ExpiredWeightCommit {
            ended_at: rules::epoch_start(reveal_epoch + 1, netuid, tempo).saturating_sub(1),
        });
    }
    let n = neuron_count(tx, netuid).await?;
    let caller = weights_caller(tx, &subnet, hotkey).await?;
    let context = WeightContext { netuid, params: &subnet.params, n, block, caller: caller.as_ref().map(|c| c.0) };
    rules::check_weights(&context, WeightsCall::Reveal, &reveal.uids, &reveal.values, reveal.version_key)?;
    let (caller, _) = caller.ok_or(ChainError::HotKeyNotRegisteredInSubNet { netuid })?;
    store_weights(tx, netuid, caller.uid, &reveal.uids, &reveal.values, block).await?;
    sqlx::query("DELETE FROM commits WHERE id = ?").bind(id).execute(&mut *tx).await.map_err(storage)?;
    Ok(())
}

/// One block of a subnet's emission: the owner's cut to the owner's hotkey, the rest pending
/// for the next epoch.
async fn accrue_emission(tx: &mut SqliteConnection, subnet: &Subnet) -> Result<(), ChainError> {
    let (owner, server, validator) = rules::split_block_emission(subnet.emission_per_block);
    add_to_stake(tx, subnet.netuid, &subnet.owner_hotkey, &subnet.owner_coldkey, owner).await?;
    sqlx::query(
        "UPDATE subnets SET pending_server = pending_server + ?, pending_validator = pending_validator + ? WHERE netuid = ?",
    )
    .bind(int(server))
    .bind(int(validator))
    .bind(i64::from(subnet.netuid))
    .execute(&mut *tx)
    .await
    .map_err(storage)?;
    sqlx::query("UPDATE chain SET issued = issued + ? WHERE id = 1")
        .bind(int(subnet.emission_per_block))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    Ok(())
}

/// The epoch's input, read from the stored state exactly as the chain's epoch reads storage.
async fn epoch_input(
    tx: &mut SqliteConnection,
    subnet: &Subnet,
    block: u64,
) -> Result<(EpochInput, Vec<NeuronRow>), ChainError> {
    let neurons = neuron_rows(tx, subnet.netuid).await?;
    let params = &subnet.params;
    let mut yuma_neurons = Vec::with_capacity(neurons.len());
    let mut weights = Rows::new();
    let mut bonds = Rows::new();
    for neuron in &neurons {
        let commit_block = if params.commit_reveal_enabled {
            commits_of(tx, subnet.netuid, &neuron.hotkey)
                .await?
                .iter()
                .map(|&(_, _, commit_block)| commit_block)
                .filter(|&commit_block| unexpired(subnet, commit_block, block))
                .min()
        } else {
            None
        };
        yuma_neurons.push(yuma::Neuron {
            uid: neuron.uid,
            stake: neuron.stake,
            tao_stake: 0,
            validator_permit: neuron.validator_permit,
            last_update: neuron.last_update,
            block_at_registration: neuron.registered_at,
            commit_block,
        });
        if !neuron.weights.is_empty() {
            weights.insert(neuron.uid, neuron.weights.clone());
        }
        if !neuron.bonds.is_empty() {
            bonds.insert(neuron.uid, neuron.bonds.clone());
        }
    }
    let input = EpochInput {
        params: Params {
            tempo: params.tempo,
            activity_cutoff_factor_milli: params.activity_cutoff_factor_milli,
            kappa: params.kappa,
            bonds_moving_average: params.bonds_moving_average,
            bonds_penalty: params.bonds_penalty,
            max_allowed_validators: params.max_allowed_validators,
            liquid_alpha_enabled: params.liquid_alpha_enabled,
            alpha_low: params.alpha_low,
            alpha_high: params.alpha_high,
            alpha_sigmoid_steepness: params.alpha_sigmoid_steepness,
            yuma3_enabled: params.yuma == YumaVariant::Yuma3,
            stake_threshold: params.stake_threshold,
            tao_weight: Params::default().tao_weight,
            commit_reveal_weights_enabled: params.commit_reveal_enabled,
            subnet_owner_uid: neurons
                .iter()
                .find(|neuron| neuron.hotkey == subnet.owner_hotkey)
                .map(|neuron| neuron.uid),
        },
        current_block: block,
        last_mechanism_step_block: subnet.last_step_block,
        rao_emission: subnet.pending_server + subnet.pending_validator,
        neurons: yuma_neurons,
        weights,
        bonds,
    };
    Ok((input, neurons))
}

/// Runs the subnet's epoch at `block` and pays it out: miners' emission to their hotkeys' stake
/// (burned for the owner's own hotkey), then the rest of the pending emission to validators in
/// proportion to their validator emission; the rounding dust stays pending.
async fn run_epoch(tx: &mut SqliteConnection, netuid: NetUid, block: u64) -> Result<(), ChainError> {
    let subnet = subnet(tx, netuid).await?;
    // Commits expired for a whole epoch go; younger expired ones stay so that a late reveal
    // is told `ExpiredWeightCommit`.
    sqlx::query("DELETE FROM commits WHERE netuid = ? AND commit_block < ?")
        .bind(i64::from(netuid))
        .bind(int(expiry_horizon(&subnet, block, 1)))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    let (input, neurons) = epoch_input(tx, &subnet, block).await?;
    let output = yuma::epoch(&input, &Options::default()).map_err(|error| internal(format!("epoch input: {error}")))?;

    let mut pool = input.rao_emission;
    for (neuron, &amount) in neurons.iter().zip(&output.server_emission) {
        if amount == 0 {
            continue;
        }
        pool = pool.saturating_sub(amount);
        if neuron.hotkey == subnet.owner_hotkey {
            add_burned(tx, amount).await?;
        } else {
            let owner =
                owner_of(tx, &neuron.hotkey).await?.ok_or_else(|| internal("a registered hotkey has no owner"))?;
            add_to_stake(tx, netuid, &neuron.hotkey, &owner, amount).await?;
        }
    }
    let shares = rules::pro_rata(pool, &output.validator_emission);
    for (neuron, &amount) in neurons.iter().zip(&shares) {
        if amount > 0 {
            let owner =
                owner_of(tx, &neuron.hotkey).await?.ok_or_else(|| internal("a registered hotkey has no owner"))?;
            add_to_stake(tx, netuid, &neuron.hotkey, &owner, amount).await?;
        }
    }
    let dust = pool - shares.iter().sum::<u64>();

    for (index, neuron) in neurons.iter().enumerate() {
        let bonds = output.bonds.get(&neuron.uid).cloned().unwrap_or_default();
        sqlx::query(
            "UPDATE neurons SET validator_permit = ?, active = ?, consensus = ?, incentive = ?, dividends = ?,
                validator_trust = ?, emission = ?, bonds = ? WHERE netuid = ? AND uid = ?",
        )
        .bind(output.validator_permit[index])
        .bind(output.active[index])
        .bind(i64::from(output.consensus[index]))
        .bind(i64::from(output.incentive[index]))
        .bind(i64::from(output.dividends[index]))
        .bind(i64::from(output.validator_trust[index]))
        .bind(int(output.emission[index]))
        .bind(to_json(&bonds)?)
        .bind(i64::from(netuid))
        .bind(i64::from(neuron.uid))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    }
    sqlx::query("UPDATE subnets SET last_step_block = ?, pending_server = 0, pending_validator = ? WHERE netuid = ?")
        .bind(int(block))
        .bind(int(dust))
        .bind(i64::from(netuid))
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    sqlx::query("INSERT INTO epochs (netuid, block, input, output) VALUES (?, ?, ?, ?)")
        .bind(i64::from(netuid))
        .bind(int(block))
        .bind(to_json(&input)?)
        .bind(to_json(&output)?)
        .execute(&mut *tx)
        .await
        .map_err(storage)?;
    tracing::debug!(netuid, block, n = neurons.len(), "epoch");
    Ok(())
}

/// Commits made before the returned block have been unrevealable at `block` for at least
/// `grace` epochs.
fn expiry_horizon(subnet: &Subnet, block: u64, grace: u64) -> u64 {
    let tempo = subnet.params.tempo;
    let now = rules::epoch_index(block, subnet.netuid, tempo);
    // Unexpired: epoch_index(commit) + period >= now, i.e. commit epoch >= now - period.
    now.checked_sub(subnet.params.commit_reveal_period + grace)
        .map_or(0, |first| rules::epoch_start(first, subnet.netuid, tempo))
}

/// Stored integers are non-negative and far below 2⁶³ (genesis and emission are bounded).
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn nat(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn netuid_of(value: i64) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

fn proportion(value: i64) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

fn account(bytes: Vec<u8>) -> Result<AccountId, ChainError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(AccountId::from_bytes)
        .map_err(|_| internal("a stored account id is not 32 bytes"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ChainError> {
    serde_json::to_string(value).map_err(|error| internal(format!("encoding state: {error}")))
}

fn from_json<T: for<'de> Deserialize<'de>>(column: &str, text: String) -> Result<T, ChainError> {
    serde_json::from_str(&text).map_err(|error| internal(format!("stored {column} is corrupt: {error}")))
}

fn storage(error: sqlx::Error) -> ChainError {
    internal(format!("database: {error}"))
}

fn internal(message: impl Into<String>) -> ChainError {
    ChainError::Internal { message: message.into() }
}

fn invalid(field: &str, message: impl Into<String>) -> ChainError {
    ChainError::Invalid { field: field.to_owned(), message: message.into() }
}

fn database(path: &str, source: sqlx::Error) -> OpenError {
    OpenError::Database { path: path.to_owned(), source }
}

fn corrupt(path: &str, source: ChainError) -> OpenError {
    OpenError::Genesis { path: path.to_owned(), source }
}
