-- On-chain verification: each reported payout's status on the chain, and
-- what the chain server said when it was last asked.

CREATE TABLE payout_onchain (
    exchange_id      TEXT PRIMARY KEY REFERENCES exchanges (id) ON DELETE CASCADE,
    txid             TEXT NOT NULL,               -- the txid that was checked
    status           TEXT NOT NULL CHECK (status IN ('confirmed', 'unconfirmed', 'unseen', 'mismatch', 'replaced')),
    confirmations    INTEGER NOT NULL DEFAULT 0,
    block_height     INTEGER,
    block_time       TEXT,
    detail           TEXT,                        -- what is wrong, for a mismatch; the replacement
    inputs           TEXT NOT NULL DEFAULT '[]',  -- JSON: the outpoints the transaction spent
    first_checked_at TEXT NOT NULL,               -- the first check of this txid
    checked_at       TEXT NOT NULL
) STRICT;

CREATE TABLE chain_state (
    key   TEXT PRIMARY KEY,                       -- 'server', 'tip_height', 'last_scan', 'last_error'
    value TEXT NOT NULL
) STRICT;

-- Every address of every window as the chain shows it, so that coins that
-- came without a webhook are found and a used address is never presented as
-- Pocket's next one.
CREATE TABLE address_onchain (
    address      TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    tx_count     INTEGER NOT NULL,
    received_sat INTEGER NOT NULL,
    unspent_sat  INTEGER NOT NULL,
    unexplained  TEXT NOT NULL DEFAULT '[]',     -- JSON: txids no payout explains
    status       TEXT,                           -- Electrum's status hash of its history
    checked_at   TEXT NOT NULL
) STRICT;
CREATE INDEX address_onchain_by_order ON address_onchain (order_id, idx);
