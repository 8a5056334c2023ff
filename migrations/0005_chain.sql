-- On-chain verification: each reported payout's status on the chain, and
-- what the chain server said when it was last asked.

CREATE TABLE payout_onchain (
    exchange_id      TEXT PRIMARY KEY REFERENCES exchanges (id) ON DELETE CASCADE,
    txid             TEXT NOT NULL,               -- the txid that was checked
    status           TEXT NOT NULL CHECK (status IN ('confirmed', 'unconfirmed', 'unseen', 'mismatch')),
    confirmations    INTEGER NOT NULL DEFAULT 0,
    block_height     INTEGER,
    block_time       TEXT,
    detail           TEXT,                        -- what is wrong, for a mismatch
    first_checked_at TEXT NOT NULL,               -- the first check of this txid
    checked_at       TEXT NOT NULL
) STRICT;

CREATE TABLE chain_state (
    key   TEXT PRIMARY KEY,                       -- 'server', 'tip_height', 'last_scan', 'last_error'
    value TEXT NOT NULL
) STRICT;
