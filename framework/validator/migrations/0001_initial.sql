-- The validator's state. The same file runs on SQLite and PostgreSQL, so it keeps to what both
-- read alike: BIGINT for integers (u64 values up to i64::MAX), DOUBLE PRECISION for f64 (8-byte
-- IEEE on both; PostgreSQL's REAL would be 4 bytes), TEXT for strings, JSON and hex; no BOOLEAN
-- (0/1 BIGINT), no BLOB/BYTEA, no AUTOINCREMENT/SERIAL: ids are allocated in the transaction
-- from the counters of `subnets`, whose row also serialises writers of one subnet.

-- One row per subnet that has recorded anything.
CREATE TABLE subnets (
    netuid BIGINT PRIMARY KEY,
    -- The index the next recorded round gets (0, 1, 2...).
    next_round BIGINT NOT NULL,
    -- The sequence number the next weights-history entry gets.
    next_weights BIGINT NOT NULL,
    -- How many rounds were scored.
    settled_rounds BIGINT NOT NULL
);

CREATE TABLE rounds (
    netuid BIGINT NOT NULL REFERENCES subnets (netuid),
    round_index BIGINT NOT NULL,
    -- 16 lowercase hex digits: a u64 seed often exceeds BIGINT.
    seed TEXT NOT NULL,
    block BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    plugin_sha256 TEXT NOT NULL,
    task_public TEXT NOT NULL,
    task_private TEXT NOT NULL,
    settles_at_ms BIGINT,
    settled BIGINT NOT NULL CHECK (settled IN (0, 1)),
    -- The delayed truth it was scored against (JSON), if any.
    truth TEXT,
    PRIMARY KEY (netuid, round_index)
);

CREATE INDEX rounds_unsettled ON rounds (netuid, settled, round_index);

-- Every response of a round, in the order recorded.
CREATE TABLE responses (
    netuid BIGINT NOT NULL,
    round_index BIGINT NOT NULL,
    position BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    hotkey TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'timeout', 'transport', 'invalid')),
    -- The body as received (JSON text), if any.
    body TEXT,
    latency_ms BIGINT NOT NULL,
    PRIMARY KEY (netuid, round_index, position),
    UNIQUE (netuid, round_index, uid),
    FOREIGN KEY (netuid, round_index) REFERENCES rounds (netuid, round_index)
);

-- The scores of a settled round, in the order given.
CREATE TABLE scores (
    netuid BIGINT NOT NULL,
    round_index BIGINT NOT NULL,
    position BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (netuid, round_index, position),
    UNIQUE (netuid, round_index, uid),
    FOREIGN KEY (netuid, round_index) REFERENCES rounds (netuid, round_index)
);

-- The exponential moving average of each uid's scores, for the hotkey that earned them.
CREATE TABLE moving_averages (
    netuid BIGINT NOT NULL REFERENCES subnets (netuid),
    uid BIGINT NOT NULL,
    hotkey TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    -- How many scores were folded in (since the hotkey last changed).
    rounds BIGINT NOT NULL,
    PRIMARY KEY (netuid, uid)
);

-- Every set_weights sent, and how it ended.
CREATE TABLE weights (
    netuid BIGINT NOT NULL REFERENCES subnets (netuid),
    seq BIGINT NOT NULL,
    block BIGINT NOT NULL,
    -- JSON arrays of integers.
    uids TEXT NOT NULL,
    weights TEXT NOT NULL,
    -- "ok" or the chain's error text.
    outcome TEXT NOT NULL,
    PRIMARY KEY (netuid, seq)
);
