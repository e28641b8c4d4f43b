//! The validator's state in SQLite or PostgreSQL: rounds with their tasks and responses, scores,
//! the moving average of each uid's scores, the weights history, and weights committed but not
//! yet revealed.
//!
//! One set of migrations and one set of queries serve both databases through `sqlx::Any`. They
//! keep to what both read alike: `$1, $2...` placeholders, BIGINT integers (u64 values up to
//! `i64::MAX`; larger ones are refused, never wrapped), DOUBLE PRECISION floats (bit-exact on
//! both), TEXT for strings and JSON, 0/1 for flags, and ids allocated inside the transaction
//! from per-subnet counters in `subnets`. Every write of a subnet first writes that subnet's row,
//! which serialises the subnet's writers on both databases: on PostgreSQL through the row lock,
//! on SQLite through the database's single writer lock taken by the first statement.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row, Transaction};

/// Most connections the store opens to its database.
const MAX_CONNECTIONS: u32 = 8;

/// Every column of `rounds` that [`StoredRound`] holds, in the order [`round_row`] reads them.
const ROUND_COLUMNS: &str = "round_index, seed, block, started_ms, plugin_sha256, task_public, task_private, \
                             settles_at_ms, settled, truth";

/// How a miner's query ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseOutcome {
    /// It answered with a body that parsed.
    Ok,
    /// It did not answer in time.
    Timeout,
    /// The connection failed (refused, reset, TLS, HTTP error...).
    Transport,
    /// It answered, but not with a valid response.
    Invalid,
}

impl ResponseOutcome {
    /// The text stored for it: `ok`, `timeout`, `transport` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseOutcome::Ok => "ok",
            ResponseOutcome::Timeout => "timeout",
            ResponseOutcome::Transport => "transport",
            ResponseOutcome::Invalid => "invalid",
        }
    }

    fn parse(text: &str) -> Option<ResponseOutcome> {
        Some(match text {
            "ok" => ResponseOutcome::Ok,
            "timeout" => ResponseOutcome::Timeout,
            "transport" => ResponseOutcome::Transport,
            "invalid" => ResponseOutcome::Invalid,
            _ => return None,
        })
    }
}

/// One miner's response to a round's task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// The miner's uid.
    pub uid: u16,
    /// The hotkey registered on that uid when it was queried (SS58).
    pub hotkey: String,
    /// How the query ended.
    pub outcome: ResponseOutcome,
    /// The body as received (JSON text), if there was one.
    pub body: Option<String>,
    /// Milliseconds from sending the query to its end.
    pub latency_ms: u64,
}

/// A round just queried, as [`Store::record_round`] takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewRound<'a> {
    /// The subnet.
    pub netuid: u16,
    /// The seed the task was made from.
    pub seed: u64,
    /// The chain block the round started at.
    pub block: u64,
    /// When it started (Unix milliseconds).
    pub started_ms: u64,
    /// SHA-256 of the plugin that made the task (hex).
    pub plugin_sha256: &'a str,
    /// The task as sent to miners (JSON).
    pub task_public: &'a str,
    /// What the plugin kept for scoring (JSON).
    pub task_private: &'a str,
    /// When the truth to score it against is due (Unix milliseconds), for delayed settlement.
    pub settles_at_ms: Option<u64>,
    /// Every response, in the order they are to be kept.
    pub responses: &'a [StoredResponse],
}

/// A round as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRound {
    /// The subnet.
    pub netuid: u16,
    /// Its index among the subnet's rounds (0, 1, 2...).
    pub index: u64,
    /// The seed the task was made from.
    pub seed: u64,
    /// The chain block the round started at.
    pub block: u64,
    /// When it started (Unix milliseconds).
    pub started_ms: u64,
    /// SHA-256 of the plugin that made the task (hex).
    pub plugin_sha256: String,
    /// The task as sent to miners (JSON).
    pub task_public: String,
    /// What the plugin kept for scoring (JSON).
    pub task_private: String,
    /// When the truth is due (Unix milliseconds), for delayed settlement.
    pub settles_at_ms: Option<u64>,
    /// Every response, in the order recorded.
    pub responses: Vec<StoredResponse>,
    /// The scores by uid, in the order given, once the round is settled.
    pub scores: Option<Vec<(u16, f64)>>,
    /// The truth it was scored against (JSON), if one was given.
    pub truth: Option<String>,
}

/// What [`Store::settle`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The round is scored now and its scores are in the moving averages.
    Now,
    /// The round was scored before; nothing changed.
    Already,
}

/// A uid's exponential moving average of scores.
#[derive(Clone, Debug, PartialEq)]
pub struct MovingAverage {
    /// The uid.
    pub uid: u16,
    /// The hotkey whose scores it averages (SS58).
    pub hotkey: String,
    /// The average, in [0, 1].
    pub score: f64,
    /// How many scores were folded in since this hotkey took the uid.
    pub rounds: u64,
}

/// One entry of the weights history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsRecord {
    /// The block they were sent at.
    pub block: u64,
    /// The target uids.
    pub uids: Vec<u16>,
    /// One weight per uid.
    pub weights: Vec<u16>,
    /// `ok`, or the chain's error text.
    pub outcome: String,
}

/// A weights commit waiting for its reveal: everything `reveal_weights` sends, kept from before
/// the commit goes out until the reveal lands or is given up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingReveal {
    /// The subnet.
    pub netuid: u16,
    /// The hotkey that commits (SS58); the commit hash is bound to it.
    pub hotkey: String,
    /// The block the commit was sent at.
    pub commit_block: u64,
    /// The target uids.
    pub uids: Vec<u16>,
    /// One weight per uid.
    pub weights: Vec<u16>,
    /// The salt hashed into the commit.
    pub salt: Vec<u16>,
    /// The weights version key hashed into the commit.
    pub version_key: u64,
}

/// The answers of one stored round that passed every check, as the replay guard remembers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundAnswers {
    /// The round's index.
    pub index: u64,
    /// The task as sent to miners (JSON).
    pub task_public: String,
    /// The bodies of its `ok` responses, in the recorded order.
    pub answers: Vec<String>,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one the store can open.
    #[error("invalid database URL {url}: {reason}")]
    Url {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot connect to the database {url}: {source}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database {url}: {source}")]
    Migrate {
        /// The URL, password redacted.
        url: String,
        /// The cause.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("cannot {action} (table {table}): {source}")]
    Query {
        /// The table it worked on.
        table: &'static str,
        /// What it did.
        action: &'static str,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// A u64 value the databases cannot hold (they store signed 64-bit integers).
    #[error("{field} = {value} is larger than the store keeps (at most i64::MAX = {})", i64::MAX)]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// Text with a NUL character, which PostgreSQL's TEXT cannot hold (refused on both databases).
    #[error("{field} contains a NUL character, which the store cannot keep")]
    Nul {
        /// The field.
        field: &'static str,
    },
    /// The moving average's weight of a new score is not in (0, 1].
    #[error("alpha must be in (0, 1], got {alpha}")]
    Alpha {
        /// The value given.
        alpha: f64,
    },
    /// A score is not a finite number in [0, 1].
    #[error("the score of uid {uid} must be a finite number in [0, 1], got {score}")]
    Score {
        /// The uid.
        uid: u16,
        /// The value given.
        score: f64,
    },
    /// A uid appears twice where each may appear once.
    #[error("uid {uid} appears more than once in {field}")]
    DuplicateUid {
        /// The list.
        field: &'static str,
        /// The uid.
        uid: u16,
    },
    /// Weights whose uid and weight lists differ in length.
    #[error("{uids} uids but {weights} weights")]
    WeightsLength {
        /// How many uids.
        uids: usize,
        /// How many weights.
        weights: usize,
    },
    /// The round was never recorded.
    #[error("subnet {netuid} has no round {round}")]
    UnknownRound {
        /// The subnet.
        netuid: u16,
        /// The round index.
        round: u64,
    },
    /// A score for a uid that has no response in the round.
    #[error("round {round} of subnet {netuid} has no response from uid {uid} to score")]
    NoResponse {
        /// The subnet.
        netuid: u16,
        /// The round index.
        round: u64,
        /// The uid.
        uid: u16,
    },
    /// A commit of this hotkey already awaits its reveal; it must be revealed or given up first.
    #[error(
        "subnet {netuid}: hotkey {hotkey} already has a commit awaiting its reveal (committed at block {commit_block})"
    )]
    RevealPending {
        /// The subnet.
        netuid: u16,
        /// The hotkey (SS58).
        hotkey: String,
        /// The block of the commit already stored.
        commit_block: u64,
    },
    /// A stored value that the store cannot have written.
    #[error("the stored {table}.{column} is invalid: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The validator's state store: a pool of connections to SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Opens (creating a SQLite file if missing: `sqlite://path` / `sqlite:path`) or connects
    /// (`postgres://…`) and runs migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = redact(url);
        let bad_url = |reason: String| StoreError::Url { url: shown.clone(), reason };
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
        let sqlite = match scheme.as_deref() {
            Some("sqlite") => true,
            Some("postgres" | "postgresql") => false,
            _ => {
                return Err(bad_url(
                    "the store opens sqlite://PATH (or sqlite:PATH) and postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                        .to_owned(),
                ));
            }
        };
        let url = if sqlite { sqlite_create_if_missing(url) } else { url.to_owned() };
        let options = AnyConnectOptions::from_str(&url).map_err(|error| bad_url(error.to_string()))?;
        let connect = |source| StoreError::Connect { url: shown.clone(), source };
        // One connection first: it fails at once where the pool would retry until its timeout,
        // and on SQLite it sets WAL (readers do not block the writer, a killed process loses
        // nothing committed). The mode is kept in the file; switching takes a lock busy_timeout
        // does not wait for, so it is set before the pool opens more connections.
        let mut connection = AnyConnection::connect_with(&options).await.map_err(connect)?;
        if sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").fetch_optional(&mut connection).await.map_err(connect)?;
        }
        connection.close().await.map_err(connect)?;
        let pool =
            AnyPoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await.map_err(connect)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate { url: shown.clone(), source })?;
        Ok(Store { pool })
    }

    /// Stores a round that was just queried, in one transaction: allocates the subnet's next round
    /// index (0, 1, 2...), stores seed, block, time, plugin hash, the task's public and private
    /// JSON, when it settles, and every response. Returns the round index.
    pub async fn record_round(&self, round: &NewRound<'_>) -> Result<u64, StoreError> {
        let block = int("block", round.block)?;
        let started_ms = int("started_ms", round.started_ms)?;
        let settles_at_ms = round.settles_at_ms.map(|ms| int("settles_at_ms", ms)).transpose()?;
        text("plugin_sha256", round.plugin_sha256)?;
        text("task_public", round.task_public)?;
        text("task_private", round.task_private)?;
        let mut seen = HashSet::new();
        for response in round.responses {
            int("latency_ms", response.latency_ms)?;
            text("hotkey", &response.hotkey)?;
            text("body", response.body.as_deref().unwrap_or_default())?;
            if !seen.insert(response.uid) {
                return Err(StoreError::DuplicateUid { field: "the round's responses", uid: response.uid });
            }
        }
        let netuid = i64::from(round.netuid);

        let mut tx = self.begin().await?;
        let next: i64 = lock_subnet(&mut tx, netuid, "next_round").await?;
        let index = next - 1;
        sqlx::query(
            "INSERT INTO rounds (netuid, round_index, seed, block, started_ms, plugin_sha256, task_public, \
             task_private, settles_at_ms, settled, truth) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL)",
        )
        .bind(netuid)
        .bind(index)
        .bind(format!("{:016x}", round.seed))
        .bind(block)
        .bind(started_ms)
        .bind(round.plugin_sha256)
        .bind(round.task_public)
        .bind(round.task_private)
        .bind(settles_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(query("rounds", "record a round"))?;
        for (position, response) in round.responses.iter().enumerate() {
            sqlx::query(
                "INSERT INTO responses (netuid, round_index, position, uid, hotkey, outcome, body, latency_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(netuid)
            .bind(index)
            .bind(position as i64)
            .bind(i64::from(response.uid))
            .bind(response.hotkey.as_str())
            .bind(response.outcome.as_str())
            .bind(response.body.as_deref())
            .bind(int("latency_ms", response.latency_ms)?)
            .execute(&mut *tx)
            .await
            .map_err(query("responses", "record a response"))?;
        }
        tx.commit().await.map_err(query("rounds", "commit a round"))?;
        Ok(index as u64)
    }

    /// Scores a round and folds the scores into the moving averages, in one transaction, exactly
    /// once: a round already scored returns [`Settled::Already`] and changes nothing. `truth`
    /// (JSON) is stored for delayed settlement.
    ///
    /// Per scored uid, `avg ← alpha·score + (1−alpha)·avg`, from 0 for a uid never seen, and from
    /// 0 again when the uid's hotkey in the round differs from the one averaged (the uid was
    /// re-registered). Uids not in `scores` are untouched. A score of −0 is kept as 0.
    pub async fn settle(
        &self,
        netuid: u16,
        round: u64,
        scores: &[(u16, f64)],
        alpha: f64,
        truth: Option<&str>,
    ) -> Result<Settled, StoreError> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(StoreError::Alpha { alpha });
        }
        let mut seen = HashSet::new();
        for &(uid, score) in scores {
            if !(score.is_finite() && (0.0..=1.0).contains(&score)) {
                return Err(StoreError::Score { uid, score });
            }
            if !seen.insert(uid) {
                return Err(StoreError::DuplicateUid { field: "the scores", uid });
            }
        }
        let index = int("round", round)?;
        text("truth", truth.unwrap_or_default())?;
        let unknown = || StoreError::UnknownRound { netuid, round };
        let netuid_i = i64::from(netuid);

        let mut tx = self.begin().await?;
        // Takes the subnet's lock first, so settlements of one subnet fold in one at a time.
        let locked = sqlx::query("UPDATE subnets SET settled_rounds = settled_rounds + 1 WHERE netuid = $1")
            .bind(netuid_i)
            .execute(&mut *tx)
            .await
            .map_err(query("subnets", "count a settlement"))?;
        if locked.rows_affected() == 0 {
            return Err(unknown());
        }
        let marked = sqlx::query(
            "UPDATE rounds SET settled = 1, truth = $3 WHERE netuid = $1 AND round_index = $2 AND settled = 0",
        )
        .bind(netuid_i)
        .bind(index)
        .bind(truth)
        .execute(&mut *tx)
        .await
        .map_err(query("rounds", "mark a round settled"))?;
        if marked.rows_affected() == 0 {
            let exists = sqlx::query("SELECT settled FROM rounds WHERE netuid = $1 AND round_index = $2")
                .bind(netuid_i)
                .bind(index)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query("rounds", "read a round"))?;
            tx.rollback().await.map_err(query("rounds", "roll back a settlement"))?;
            return match exists {
                Some(_) => Ok(Settled::Already),
                None => Err(unknown()),
            };
        }

        let rows = sqlx::query("SELECT uid, hotkey FROM responses WHERE netuid = $1 AND round_index = $2")
            .bind(netuid_i)
            .bind(index)
            .fetch_all(&mut *tx)
            .await
            .map_err(query("responses", "read a round's responses"))?;
        let mut hotkeys = HashMap::with_capacity(rows.len());
        for row in &rows {
            hotkeys.insert(get_u16(row, "responses", "uid")?, get::<String>(row, "responses", "hotkey")?);
        }

        for (position, &(uid, score)) in scores.iter().enumerate() {
            let hotkey = hotkeys.get(&uid).ok_or(StoreError::NoResponse { netuid, round, uid })?;
            // −0 would come back as +0 from SQLite (it stores integral reals as integers).
            let score = score + 0.0;
            sqlx::query("INSERT INTO scores (netuid, round_index, position, uid, score) VALUES ($1, $2, $3, $4, $5)")
                .bind(netuid_i)
                .bind(index)
                .bind(position as i64)
                .bind(i64::from(uid))
                .bind(score)
                .execute(&mut *tx)
                .await
                .map_err(query("scores", "record a score"))?;
            let stored =
                sqlx::query("SELECT hotkey, score, rounds FROM moving_averages WHERE netuid = $1 AND uid = $2")
                    .bind(netuid_i)
                    .bind(i64::from(uid))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query("moving_averages", "read a moving average"))?;
            let (previous, rounds) = match &stored {
                Some(row) if get::<String>(row, "moving_averages", "hotkey")? == *hotkey => {
                    (get::<f64>(row, "moving_averages", "score")?, get_u64(row, "moving_averages", "rounds")?)
                }
                _ => (0.0, 0),
            };
            let average = alpha * score + (1.0 - alpha) * previous;
            sqlx::query(
                "INSERT INTO moving_averages (netuid, uid, hotkey, score, rounds) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (netuid, uid) DO UPDATE \
                 SET hotkey = excluded.hotkey, score = excluded.score, rounds = excluded.rounds",
            )
            .bind(netuid_i)
            .bind(i64::from(uid))
            .bind(hotkey.as_str())
            .bind(average)
            .bind(int("moving_averages.rounds", rounds.saturating_add(1))?)
            .execute(&mut *tx)
            .await
            .map_err(query("moving_averages", "update a moving average"))?;
        }
        tx.commit().await.map_err(query("rounds", "commit a settlement"))?;
        Ok(Settled::Now)
    }

    /// Rounds of the subnet recorded but not yet scored, oldest first (for delayed settlement and
    /// for crash recovery), with everything needed to score them.
    pub async fn unsettled(&self, netuid: u16) -> Result<Vec<StoredRound>, StoreError> {
        let netuid_i = i64::from(netuid);
        let rows = sqlx::query(&format!(
            "SELECT {ROUND_COLUMNS} FROM rounds WHERE netuid = $1 AND settled = 0 ORDER BY round_index"
        ))
        .bind(netuid_i)
        .fetch_all(&self.pool)
        .await
        .map_err(query("rounds", "list unsettled rounds"))?;
        let mut rounds = Vec::with_capacity(rows.len());
        for row in &rows {
            rounds.push(round_row(netuid, row)?);
        }
        let (Some(first), Some(last)) = (rounds.first(), rounds.last()) else { return Ok(rounds) };
        // Responses never change once recorded, so reading them by index range (rather than by
        // `settled`, which may change between the two statements) is consistent.
        let rows = sqlx::query(
            "SELECT round_index, uid, hotkey, outcome, body, latency_ms FROM responses \
             WHERE netuid = $1 AND round_index >= $2 AND round_index <= $3 ORDER BY round_index, position",
        )
        .bind(netuid_i)
        .bind(first.index as i64)
        .bind(last.index as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(query("responses", "read responses"))?;
        let positions: HashMap<u64, usize> = rounds.iter().enumerate().map(|(at, round)| (round.index, at)).collect();
        for row in &rows {
            let index = get_u64(row, "responses", "round_index")?;
            if let Some(&at) = positions.get(&index) {
                rounds[at].responses.push(response_row(row)?);
            }
        }
        Ok(rounds)
    }

    /// One round as stored (for replay): task, responses, scores (if settled), truth.
    pub async fn round(&self, netuid: u16, round: u64) -> Result<Option<StoredRound>, StoreError> {
        let index = int("round", round)?;
        let netuid_i = i64::from(netuid);
        let row = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE netuid = $1 AND round_index = $2"))
            .bind(netuid_i)
            .bind(index)
            .fetch_optional(&self.pool)
            .await
            .map_err(query("rounds", "read a round"))?;
        let Some(row) = row else { return Ok(None) };
        let mut stored = round_row(netuid, &row)?;
        let rows = sqlx::query(
            "SELECT uid, hotkey, outcome, body, latency_ms FROM responses \
             WHERE netuid = $1 AND round_index = $2 ORDER BY position",
        )
        .bind(netuid_i)
        .bind(index)
        .fetch_all(&self.pool)
        .await
        .map_err(query("responses", "read a round's responses"))?;
        stored.responses = rows.iter().map(response_row).collect::<Result<_, _>>()?;
        if stored.scores.is_some() {
            let rows =
                sqlx::query("SELECT uid, score FROM scores WHERE netuid = $1 AND round_index = $2 ORDER BY position")
                    .bind(netuid_i)
                    .bind(index)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query("scores", "read a round's scores"))?;
            let mut scores = Vec::with_capacity(rows.len());
            for row in &rows {
                scores.push((get_u16(row, "scores", "uid")?, get::<f64>(row, "scores", "score")?));
            }
            stored.scores = Some(scores);
        }
        Ok(Some(stored))
    }

    /// The moving averages of a subnet, by uid.
    pub async fn moving_averages(&self, netuid: u16) -> Result<Vec<MovingAverage>, StoreError> {
        let rows = sqlx::query("SELECT uid, hotkey, score, rounds FROM moving_averages WHERE netuid = $1 ORDER BY uid")
            .bind(i64::from(netuid))
            .fetch_all(&self.pool)
            .await
            .map_err(query("moving_averages", "read moving averages"))?;
        rows.iter()
            .map(|row| {
                Ok(MovingAverage {
                    uid: get_u16(row, "moving_averages", "uid")?,
                    hotkey: get(row, "moving_averages", "hotkey")?,
                    score: get(row, "moving_averages", "score")?,
                    rounds: get_u64(row, "moving_averages", "rounds")?,
                })
            })
            .collect()
    }

    /// Appends to the weights history: what was sent at which block and how it ended (`ok` or
    /// the chain's error text).
    pub async fn record_weights(
        &self,
        netuid: u16,
        block: u64,
        uids: &[u16],
        weights: &[u16],
        outcome: &str,
    ) -> Result<(), StoreError> {
        if uids.len() != weights.len() {
            return Err(StoreError::WeightsLength { uids: uids.len(), weights: weights.len() });
        }
        let block = int("block", block)?;
        text("outcome", outcome)?;
        let netuid = i64::from(netuid);
        let mut tx = self.begin().await?;
        let next: i64 = lock_subnet(&mut tx, netuid, "next_weights").await?;
        append_weights(&mut tx, netuid, next - 1, block, (uids, weights), outcome).await?;
        tx.commit().await.map_err(query("weights", "commit weights"))?;
        Ok(())
    }

    /// Stores a commit that is about to be sent, so that it is revealed even if the validator
    /// restarts before its reveal epoch. One commit per subnet and hotkey awaits its reveal at a
    /// time: a second one is refused ([`StoreError::RevealPending`]) and the first kept.
    pub async fn save_pending_reveal(&self, pending: &PendingReveal) -> Result<(), StoreError> {
        if pending.uids.len() != pending.weights.len() {
            return Err(StoreError::WeightsLength { uids: pending.uids.len(), weights: pending.weights.len() });
        }
        let mut seen = HashSet::new();
        if let Some(&uid) = pending.uids.iter().find(|&&uid| !seen.insert(uid)) {
            return Err(StoreError::DuplicateUid { field: "the committed uids", uid });
        }
        let commit_block = int("commit_block", pending.commit_block)?;
        text("hotkey", &pending.hotkey)?;
        let netuid = i64::from(pending.netuid);
        let mut tx = self.begin().await?;
        add_subnet(&mut tx, netuid).await?;
        // The subnet's lock, as every write of the subnet takes it (a write that changes nothing).
        sqlx::query("UPDATE subnets SET next_weights = next_weights WHERE netuid = $1")
            .bind(netuid)
            .execute(&mut *tx)
            .await
            .map_err(query("subnets", "lock a subnet"))?;
        let inserted = sqlx::query(
            "INSERT INTO pending_reveals (netuid, hotkey, commit_block, uids, weights, salt, version_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (netuid, hotkey) DO NOTHING",
        )
        .bind(netuid)
        .bind(pending.hotkey.as_str())
        .bind(commit_block)
        .bind(json_list(&pending.uids))
        .bind(json_list(&pending.weights))
        .bind(json_list(&pending.salt))
        .bind(pending.version_key.to_string())
        .execute(&mut *tx)
        .await
        .map_err(query("pending_reveals", "store a commit"))?;
        if inserted.rows_affected() == 0 {
            let existing = read_pending_reveal(&mut tx, pending.netuid, &pending.hotkey).await?;
            tx.rollback().await.map_err(query("pending_reveals", "roll back a commit"))?;
            return Err(StoreError::RevealPending {
                netuid: pending.netuid,
                hotkey: pending.hotkey.clone(),
                commit_block: existing.map_or(0, |existing| existing.commit_block),
            });
        }
        tx.commit().await.map_err(query("pending_reveals", "commit a commit"))?;
        Ok(())
    }

    /// The commit of `hotkey` (SS58) on the subnet that awaits its reveal, if any.
    pub async fn pending_reveal(&self, netuid: u16, hotkey: &str) -> Result<Option<PendingReveal>, StoreError> {
        let mut connection = self.pool.acquire().await.map_err(query("pending_reveals", "connect"))?;
        read_pending_reveal(&mut connection, netuid, hotkey).await
    }

    /// Ends the wait of `hotkey`'s commit on the subnet, in one transaction: removes it and
    /// appends its weights to the weights history with `outcome` (`ok (revealed)`, or the
    /// chain's error text when it is given up) at `block`. Returns false, changing nothing, when
    /// no commit was waiting.
    pub async fn close_pending_reveal(
        &self,
        netuid: u16,
        hotkey: &str,
        block: u64,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        let block = int("block", block)?;
        text("outcome", outcome)?;
        let netuid_i = i64::from(netuid);
        let mut tx = self.begin().await?;
        // The subnet's lock first, so two closes of one commit cannot both append it.
        let next: i64 = lock_subnet(&mut tx, netuid_i, "next_weights").await?;
        let Some(pending) = read_pending_reveal(&mut tx, netuid, hotkey).await? else {
            tx.rollback().await.map_err(query("pending_reveals", "roll back"))?;
            return Ok(false);
        };
        sqlx::query("DELETE FROM pending_reveals WHERE netuid = $1 AND hotkey = $2")
            .bind(netuid_i)
            .bind(hotkey)
            .execute(&mut *tx)
            .await
            .map_err(query("pending_reveals", "remove a commit"))?;
        append_weights(&mut tx, netuid_i, next - 1, block, (&pending.uids, &pending.weights), outcome).await?;
        tx.commit().await.map_err(query("pending_reveals", "close a commit"))?;
        Ok(true)
    }

    /// The `ok` answers of the subnet's last `rounds` rounds, oldest round first: what the
    /// replay guard remembers, rebuilt after a restart.
    pub async fn recent_answers(&self, netuid: u16, rounds: u64) -> Result<Vec<RoundAnswers>, StoreError> {
        let netuid_i = i64::from(netuid);
        let rows = sqlx::query(
            "SELECT round_index, task_public FROM rounds WHERE netuid = $1 ORDER BY round_index DESC LIMIT $2",
        )
        .bind(netuid_i)
        .bind(int("rounds", rounds)?)
        .fetch_all(&self.pool)
        .await
        .map_err(query("rounds", "list recent rounds"))?;
        let mut recent = Vec::with_capacity(rows.len());
        for row in rows.iter().rev() {
            recent.push(RoundAnswers {
                index: get_u64(row, "rounds", "round_index")?,
                task_public: get(row, "rounds", "task_public")?,
                answers: Vec::new(),
            });
        }
        let Some(first) = recent.first() else { return Ok(recent) };
        let rows = sqlx::query(
            "SELECT round_index, body FROM responses \
             WHERE netuid = $1 AND round_index >= $2 AND outcome = 'ok' AND body IS NOT NULL \
             ORDER BY round_index, position",
        )
        .bind(netuid_i)
        .bind(int("round", first.index)?)
        .fetch_all(&self.pool)
        .await
        .map_err(query("responses", "read recent answers"))?;
        let positions: HashMap<u64, usize> = recent.iter().enumerate().map(|(at, round)| (round.index, at)).collect();
        for row in &rows {
            let index = get_u64(row, "responses", "round_index")?;
            // Rounds recorded after the first statement are not in the list; the next restart sees them.
            if let Some(&at) = positions.get(&index) {
                recent[at].answers.push(get(row, "responses", "body")?);
            }
        }
        Ok(recent)
    }

    /// The most recent weights-history entry of the subnet.
    pub async fn last_weights(&self, netuid: u16) -> Result<Option<WeightsRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT block, uids, weights, outcome FROM weights WHERE netuid = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(i64::from(netuid))
        .fetch_optional(&self.pool)
        .await
        .map_err(query("weights", "read the last weights"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(WeightsRecord {
            block: get_u64(&row, "weights", "block")?,
            uids: parse_list(&get::<String>(&row, "weights", "uids")?, "uids")?,
            weights: parse_list(&get::<String>(&row, "weights", "weights")?, "weights")?,
            outcome: get(&row, "weights", "outcome")?,
        }))
    }

    async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        self.pool.begin().await.map_err(query("subnets", "begin a transaction"))
    }
}

/// Makes sure the subnet has a row, then increments its `counter` (`next_round` or
/// `next_weights`) and returns the new value: the id to use is one less. Being the transaction's
/// first write, it also takes the subnet's lock (PostgreSQL: the row; SQLite: the database).
async fn lock_subnet(
    tx: &mut Transaction<'static, Any>,
    netuid: i64,
    counter: &'static str,
) -> Result<i64, StoreError> {
    add_subnet(tx, netuid).await?;
    let row =
        sqlx::query(&format!("UPDATE subnets SET {counter} = {counter} + 1 WHERE netuid = $1 RETURNING {counter}"))
            .bind(netuid)
            .fetch_one(&mut **tx)
            .await
            .map_err(query("subnets", "allocate an id"))?;
    get(&row, "subnets", counter)
}

/// Makes sure the subnet has a row (the first statement of [`lock_subnet`]).
async fn add_subnet(tx: &mut Transaction<'static, Any>, netuid: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO subnets (netuid, next_round, next_weights, settled_rounds) VALUES ($1, 0, 0, 0) \
         ON CONFLICT (netuid) DO NOTHING",
    )
    .bind(netuid)
    .execute(&mut **tx)
    .await
    .map_err(query("subnets", "add a subnet"))?;
    Ok(())
}

/// Appends entry `seq` (allocated by [`lock_subnet`]) to the subnet's weights history.
async fn append_weights(
    tx: &mut Transaction<'static, Any>,
    netuid: i64,
    seq: i64,
    block: i64,
    (uids, weights): (&[u16], &[u16]),
    outcome: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO weights (netuid, seq, block, uids, weights, outcome) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(netuid)
        .bind(seq)
        .bind(block)
        .bind(json_list(uids))
        .bind(json_list(weights))
        .bind(outcome)
        .execute(&mut **tx)
        .await
        .map_err(query("weights", "record weights"))?;
    Ok(())
}

async fn read_pending_reveal(
    connection: &mut AnyConnection,
    netuid: u16,
    hotkey: &str,
) -> Result<Option<PendingReveal>, StoreError> {
    let row = sqlx::query(
        "SELECT commit_block, uids, weights, salt, version_key FROM pending_reveals WHERE netuid = $1 AND hotkey = $2",
    )
    .bind(i64::from(netuid))
    .bind(hotkey)
    .fetch_optional(&mut *connection)
    .await
    .map_err(query("pending_reveals", "read a commit"))?;
    let Some(row) = row else { return Ok(None) };
    let list = |column: &'static str| -> Result<Vec<u16>, StoreError> {
        let text: String = get(&row, "pending_reveals", column)?;
        serde_json::from_str(&text).map_err(|error| corrupt("pending_reveals", column, format!("{text:?}: {error}")))
    };
    let version_key: String = get(&row, "pending_reveals", "version_key")?;
    let version_key = version_key
        .parse()
        .map_err(|_| corrupt("pending_reveals", "version_key", format!("{version_key:?} is not a u64")))?;
    Ok(Some(PendingReveal {
        netuid,
        hotkey: hotkey.to_owned(),
        commit_block: get_u64(&row, "pending_reveals", "commit_block")?,
        uids: list("uids")?,
        weights: list("weights")?,
        salt: list("salt")?,
        version_key,
    }))
}

fn round_row(netuid: u16, row: &AnyRow) -> Result<StoredRound, StoreError> {
    let seed: String = get(row, "rounds", "seed")?;
    let seed = match u64::from_str_radix(&seed, 16) {
        Ok(value) if seed.len() == 16 => value,
        _ => return Err(corrupt("rounds", "seed", format!("{seed:?} is not 16 hex digits"))),
    };
    let settles_at_ms = get::<Option<i64>>(row, "rounds", "settles_at_ms")?
        .map(|ms| u64::try_from(ms).map_err(|_| corrupt("rounds", "settles_at_ms", format!("{ms} is negative"))))
        .transpose()?;
    let settled = match get::<i64>(row, "rounds", "settled")? {
        0 => false,
        1 => true,
        other => return Err(corrupt("rounds", "settled", format!("{other} is neither 0 nor 1"))),
    };
    Ok(StoredRound {
        netuid,
        index: get_u64(row, "rounds", "round_index")?,
        seed,
        block: get_u64(row, "rounds", "block")?,
        started_ms: get_u64(row, "rounds", "started_ms")?,
        plugin_sha256: get(row, "rounds", "plugin_sha256")?,
        task_public: get(row, "rounds", "task_public")?,
        task_private: get(row, "rounds", "task_private")?,
        settles_at_ms,
        responses: Vec::new(),
        // Filled in by the caller that reads scores; an empty list marks the round as settled.
        scores: settled.then(Vec::new),
        truth: get(row, "rounds", "truth")?,
    })
}

fn response_row(row: &AnyRow) -> Result<StoredResponse, StoreError> {
    let outcome: String = get(row, "responses", "outcome")?;
    Ok(StoredResponse {
        uid: get_u16(row, "responses", "uid")?,
        hotkey: get(row, "responses", "hotkey")?,
        outcome: ResponseOutcome::parse(&outcome)
            .ok_or_else(|| corrupt("responses", "outcome", format!("unknown outcome {outcome:?}")))?,
        body: get(row, "responses", "body")?,
        latency_ms: get_u64(row, "responses", "latency_ms")?,
    })
}

fn get<T>(row: &AnyRow, table: &'static str, column: &'static str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(|error| corrupt(table, column, error.to_string()))
}

fn get_u64(row: &AnyRow, table: &'static str, column: &'static str) -> Result<u64, StoreError> {
    let value: i64 = get(row, table, column)?;
    u64::try_from(value).map_err(|_| corrupt(table, column, format!("{value} is negative")))
}

fn get_u16(row: &AnyRow, table: &'static str, column: &'static str) -> Result<u16, StoreError> {
    let value: i64 = get(row, table, column)?;
    u16::try_from(value).map_err(|_| corrupt(table, column, format!("{value} is not a u16")))
}

fn corrupt(table: &'static str, column: &'static str, reason: String) -> StoreError {
    StoreError::Corrupt { table, column, reason }
}

fn query(table: &'static str, action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { table, action, source }
}

/// `value` as the databases' signed 64-bit integer, refusing what does not fit.
fn int(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

/// Refuses text with NUL: PostgreSQL's TEXT cannot hold it, and both databases must agree.
fn text(field: &'static str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') { Err(StoreError::Nul { field }) } else { Ok(()) }
}

fn json_list(values: &[u16]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| unreachable!("a list of integers always serialises"))
}

fn parse_list(text: &str, column: &'static str) -> Result<Vec<u16>, StoreError> {
    serde_json::from_str(text).map_err(|error| corrupt("weights", column, format!("{text:?}: {error}")))
}

/// A SQLite URL with `mode=rwc` (create the file if missing) unless it names a mode itself.
fn sqlite_create_if_missing(url: &str) -> String {
    match url.split_once('?') {
        Some((_, query)) if query.split('&').any(|pair| pair.starts_with("mode=")) => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    }
}

/// `url` with the password of `scheme://user:password@host...` replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, sqlite_create_if_missing};

    #[test]
    fn redacts_the_password_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(redact("sqlite:x.db"), "sqlite:x.db");
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(sqlite_create_if_missing("sqlite:x.db"), "sqlite:x.db?mode=rwc");
        assert_eq!(sqlite_create_if_missing("sqlite://x.db?cache=shared"), "sqlite://x.db?cache=shared&mode=rwc");
        assert_eq!(sqlite_create_if_missing("sqlite://x.db?mode=ro"), "sqlite://x.db?mode=ro");
    }
}
