-- The local chain's state. Amounts are rao in INTEGER (i64): total issuance stays far below 2^63.
-- Keys are 32-byte account ids (BLOBs). Hyperparameters, axons and weight rows are JSON text.

CREATE TABLE chain (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    block              INTEGER NOT NULL,
    -- The account requests must be bound to (btauth/1 receiver).
    identity           BLOB    NOT NULL,
    sudo               BLOB    NOT NULL,
    -- Everything ever created: genesis balances plus emission. Conserved against
    -- balances + stakes + pending emission + burned.
    issued             INTEGER NOT NULL,
    burned             INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE accounts (
    coldkey            BLOB    PRIMARY KEY,
    balance            INTEGER NOT NULL CHECK (balance >= 0)
);

CREATE TABLE subnets (
    netuid             INTEGER PRIMARY KEY,
    owner_coldkey      BLOB    NOT NULL,
    owner_hotkey       BLOB    NOT NULL,
    hyperparams        TEXT    NOT NULL,
    emission_per_block INTEGER NOT NULL,
    last_step_block    INTEGER NOT NULL DEFAULT 0,
    pending_server     INTEGER NOT NULL DEFAULT 0,
    pending_validator  INTEGER NOT NULL DEFAULT 0
);

-- Which coldkey owns a hotkey: set by its first registration.
CREATE TABLE hotkeys (
    hotkey             BLOB    PRIMARY KEY,
    coldkey            BLOB    NOT NULL
);

CREATE TABLE neurons (
    netuid             INTEGER NOT NULL REFERENCES subnets (netuid),
    uid                INTEGER NOT NULL,
    hotkey             BLOB    NOT NULL,
    registered_at      INTEGER NOT NULL,
    last_update        INTEGER NOT NULL,
    validator_permit   INTEGER NOT NULL DEFAULT 0,
    active             INTEGER NOT NULL DEFAULT 0,
    consensus          INTEGER NOT NULL DEFAULT 0,
    incentive          INTEGER NOT NULL DEFAULT 0,
    dividends          INTEGER NOT NULL DEFAULT 0,
    validator_trust    INTEGER NOT NULL DEFAULT 0,
    emission           INTEGER NOT NULL DEFAULT 0,
    axon               TEXT,
    axon_block         INTEGER,
    -- `[[target, value], ...]` exactly as stored on chain (order and zeros kept).
    weights            TEXT    NOT NULL DEFAULT '[]',
    bonds              TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (netuid, uid),
    UNIQUE (netuid, hotkey)
);

CREATE TABLE stakes (
    netuid             INTEGER NOT NULL,
    hotkey             BLOB    NOT NULL,
    coldkey            BLOB    NOT NULL,
    amount             INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (netuid, hotkey, coldkey)
);

CREATE TABLE commits (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    netuid             INTEGER NOT NULL,
    hotkey             BLOB    NOT NULL,
    hash               BLOB    NOT NULL,
    commit_block       INTEGER NOT NULL
);
CREATE INDEX commits_by_neuron ON commits (netuid, hotkey);

-- btauth/1 nonces already applied, kept until they would be refused as stale anyway: a request
-- replayed after a restart is refused too.
CREATE TABLE nonces (
    account            BLOB    NOT NULL,
    nonce_ns           INTEGER NOT NULL,
    expires_ns         INTEGER NOT NULL,
    PRIMARY KEY (account, nonce_ns)
);

-- Each epoch's input in the Yuma vector format and what it produced, for inspection and replay.
CREATE TABLE epochs (
    netuid             INTEGER NOT NULL,
    block              INTEGER NOT NULL,
    input              TEXT    NOT NULL,
    output             TEXT    NOT NULL,
    PRIMARY KEY (netuid, block)
);
