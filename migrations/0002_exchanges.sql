-- Webhook deliveries as received, exchanges as reconciled, which derived
-- address each payout used, and alerts.

CREATE TABLE webhook_deliveries (
    id             INTEGER PRIMARY KEY,
    received_at    TEXT NOT NULL,
    correlation_id TEXT,
    retry_count    INTEGER,
    body           BLOB NOT NULL,               -- the raw bytes, as signed
    status         TEXT NOT NULL DEFAULT 'received'
                   CHECK (status IN ('received', 'applied', 'unchanged', 'stale', 'unprocessed')),
    event          TEXT,                        -- filled when processed
    exchange_id    TEXT,
    result         TEXT,                        -- what processing did, or why it could not
    processed_at   TEXT
) STRICT;

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (status) WHERE status = 'received';

CREATE TABLE exchanges (
    id                  TEXT PRIMARY KEY,       -- Pocket's exchange UUID
    order_id            TEXT,                   -- Pocket's order id (may be unknown here)
    known_order         INTEGER NOT NULL CHECK (known_order IN (0, 1)),
    state               TEXT NOT NULL
                        CHECK (state IN ('interrupted', 'executed', 'refunded', 'settled', 'confirmed')),
    pair                TEXT,
    fee_rate            TEXT,                   -- exact decimals as text
    cost                TEXT,
    fee                 TEXT,
    rate                TEXT,
    amount_sat          INTEGER,
    executed_on         TEXT,
    action_code         TEXT,
    action_url          TEXT,
    action_id           TEXT,
    reason_code         TEXT,
    payout_txid         TEXT,
    payout_vout         INTEGER,
    payout_address      TEXT,
    payout_path         TEXT,
    payout_amount_sat   INTEGER,
    payout_fee_sat      INTEGER,
    payout_block_height INTEGER,
    address_index       INTEGER,                -- the derived index the payout matched
    reconciliation      TEXT NOT NULL,          -- see reconcile::Reconciliation
    warnings            TEXT NOT NULL DEFAULT '[]', -- JSON array
    json                TEXT NOT NULL,          -- the exchange as last applied
    first_seen_at       TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

CREATE INDEX exchanges_order ON exchanges (order_id, executed_on);

-- Checked at commit: a payout is matched, and its address window extended,
-- in the same transaction that stores the exchange.
CREATE TABLE address_uses (
    exchange_id TEXT PRIMARY KEY REFERENCES exchanges (id) DEFERRABLE INITIALLY DEFERRED,
    order_id    TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    txid        TEXT NOT NULL,
    vout        INTEGER NOT NULL,
    used_at     TEXT NOT NULL,
    FOREIGN KEY (order_id, idx) REFERENCES addresses (order_id, idx) DEFERRABLE INITIALLY DEFERRED
) STRICT;

CREATE INDEX address_uses_address ON address_uses (order_id, idx);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    order_id        TEXT,
    exchange_id     TEXT,
    message         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    acknowledged    INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1)),
    acknowledged_at TEXT,
    dedup_key       TEXT UNIQUE                  -- one alert per fact
) STRICT;

CREATE INDEX alerts_open ON alerts (acknowledged, created_at);
