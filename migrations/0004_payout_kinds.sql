-- Orders that Pocket pays to one address or over lightning, next to the
-- extended-key orders; the event name each exchange was last reported
-- under; lightning payouts (type, status). The orders table is rebuilt
-- (SQLite cannot relax a column): the migration runs with foreign keys off
-- and is checked with foreign_key_check before it commits.

CREATE TABLE orders_new (
    id               TEXT PRIMARY KEY,           -- Pocket's order UUID
    label            TEXT,
    active           INTEGER NOT NULL CHECK (active IN (0, 1)),
    currency         TEXT NOT NULL CHECK (currency IN ('eur', 'chf', 'gbp')),
    fee_rate         TEXT NOT NULL,              -- exact decimal, e.g. '0.015'
    amount           TEXT NOT NULL,              -- monthly amount in currency, exact decimal
    day              TEXT NOT NULL,              -- day of month '1'..'28' or 'last'
    emails           TEXT NOT NULL DEFAULT '[]', -- JSON array; empty: [email] to
    payout_kind      TEXT NOT NULL DEFAULT 'key' CHECK (payout_kind IN ('key', 'address', 'lightning')),
    key              TEXT NOT NULL,              -- key or descriptor as given (private data); '' without one
    pocket_key       TEXT NOT NULL,              -- extended_public_key sent to Pocket; '' without one
    script_type      TEXT CHECK (script_type IN ('p2pkh', 'p2sh-p2wpkh', 'p2wpkh', 'p2tr')), -- NULL for lightning
    network          TEXT NOT NULL,
    chain            TEXT NOT NULL,              -- chain steps below the key, e.g. '0' ('' for none)
    start_index      INTEGER NOT NULL CHECK (start_index >= 0),
    signed_address   TEXT,                       -- NULL for lightning
    node_pubkey      TEXT,                       -- the lightning node Pocket pays
    gap_limit        INTEGER NOT NULL CHECK (gap_limit > 0),
    wallet_gap_limit INTEGER NOT NULL CHECK (wallet_gap_limit > 0),
    debitor_iban     TEXT NOT NULL,
    payment_method   TEXT NOT NULL,              -- Pocket's payment_method object (JSON)
    pocket_json      TEXT NOT NULL,              -- the last order object Pocket returned (JSON)
    created_on       TEXT NOT NULL,              -- Pocket's created_on
    stored_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;

INSERT INTO orders_new (id, label, active, currency, fee_rate, amount, day, emails, payout_kind,
    key, pocket_key, script_type, network, chain, start_index, signed_address, node_pubkey,
    gap_limit, wallet_gap_limit, debitor_iban, payment_method, pocket_json, created_on, stored_at,
    updated_at)
SELECT id, label, active, currency, fee_rate, amount, day, emails, 'key',
    key, pocket_key, script_type, network, chain, start_index, signed_address, NULL,
    gap_limit, wallet_gap_limit, debitor_iban, payment_method, pocket_json, created_on, stored_at,
    updated_at
FROM orders;

DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;

ALTER TABLE exchanges ADD COLUMN last_event TEXT;     -- the event name of the last delivery applied
ALTER TABLE exchanges ADD COLUMN payout_kind TEXT;    -- Pocket's payout.type ('lightning'), NULL on chain
ALTER TABLE exchanges ADD COLUMN payout_status TEXT;  -- a lightning payout's status
