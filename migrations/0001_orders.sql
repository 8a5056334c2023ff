-- Standing orders and the payout addresses derived for them.

CREATE TABLE orders (
    id               TEXT PRIMARY KEY,           -- Pocket's order UUID
    label            TEXT,
    active           INTEGER NOT NULL CHECK (active IN (0, 1)),
    currency         TEXT NOT NULL CHECK (currency IN ('eur', 'chf', 'gbp')),
    fee_rate         TEXT NOT NULL,              -- exact decimal, e.g. '0.015'
    amount           TEXT NOT NULL,              -- monthly amount in currency, exact decimal
    day              TEXT NOT NULL,              -- day of month '1'..'28' or 'last'
    emails           TEXT NOT NULL DEFAULT '[]', -- JSON array; empty: [email] to
    key              TEXT NOT NULL,              -- key or descriptor as given (private data)
    pocket_key       TEXT NOT NULL,              -- extended_public_key sent to Pocket
    script_type      TEXT NOT NULL CHECK (script_type IN ('p2pkh', 'p2sh-p2wpkh', 'p2wpkh', 'p2tr')),
    network          TEXT NOT NULL,
    chain            TEXT NOT NULL,              -- chain steps below the key, e.g. '0' ('' for none)
    start_index      INTEGER NOT NULL CHECK (start_index >= 0),
    signed_address   TEXT NOT NULL,
    gap_limit        INTEGER NOT NULL CHECK (gap_limit > 0),
    wallet_gap_limit INTEGER NOT NULL CHECK (wallet_gap_limit > 0),
    debitor_iban     TEXT NOT NULL,
    payment_method   TEXT NOT NULL,              -- Pocket's payment_method object (JSON)
    pocket_json      TEXT NOT NULL,              -- the last order object Pocket returned (JSON)
    created_on       TEXT NOT NULL,              -- Pocket's created_on
    stored_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;

CREATE TABLE addresses (
    order_id   TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL CHECK (idx >= 0 AND idx < 2147483648),
    path       TEXT NOT NULL,                    -- path below the key, e.g. '0/5'
    address    TEXT NOT NULL UNIQUE,
    derived_at TEXT NOT NULL,
    PRIMARY KEY (order_id, idx)
) STRICT;
