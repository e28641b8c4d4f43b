-- Weights committed (commit-reveal) and not yet revealed, so a restart between the commit and its
-- reveal epoch still reveals them. Same rules as 0001: BIGINT integers, TEXT for lists (JSON
-- arrays of integers) and for the version key (decimal text: a u64 may exceed BIGINT).

-- At most one commit awaits its reveal per subnet and hotkey.
CREATE TABLE pending_reveals (
    netuid BIGINT NOT NULL REFERENCES subnets (netuid),
    -- The hotkey that committed (SS58): the commit hash is bound to it.
    hotkey TEXT NOT NULL,
    -- The block the commit was sent at.
    commit_block BIGINT NOT NULL,
    -- JSON arrays of integers: target uids, one value per uid, the salt hashed into the commit.
    uids TEXT NOT NULL,
    weights TEXT NOT NULL,
    salt TEXT NOT NULL,
    -- The weights version key hashed into the commit, in decimal.
    version_key TEXT NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
