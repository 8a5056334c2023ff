//! The sandbox's own state in SQLite (in memory, or a file with `--state`),
//! never the tool's database: its schema, clock and settings here; Pocket's
//! objects in `pocket`, the webhook outbox in `outbox`, the blockchain in
//! `ledger`. The only SQL of the sandbox lives in this room.

pub mod ledger;
mod outbox;
mod pocket;

use std::path::Path;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::pocket::Order;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS challenges (
    id           TEXT PRIMARY KEY,
    token        TEXT NOT NULL UNIQUE,
    json         TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS orders (
    id           TEXT PRIMARY KEY,
    reference    TEXT NOT NULL UNIQUE,
    json         TEXT NOT NULL,
    script_type  TEXT NOT NULL,
    chain        TEXT NOT NULL,
    next_index   INTEGER NOT NULL,
    identified   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS exchanges (
    id             TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL UNIQUE,
    order_id       TEXT NOT NULL REFERENCES orders (id),
    json           TEXT NOT NULL,
    payout_pending INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    correlation_id  TEXT NOT NULL,
    event           TEXT NOT NULL,
    exchange_id     TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_attempt_ms INTEGER,
    status          TEXT NOT NULL DEFAULT 'pending',
    last_result     TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS blocks (
    height  INTEGER PRIMARY KEY,
    hash    TEXT NOT NULL UNIQUE,
    header  TEXT NOT NULL,
    txids   TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS transactions (
    txid    TEXT PRIMARY KEY,
    raw     TEXT NOT NULL,
    height  INTEGER,
    seq     INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS outputs (
    txid      TEXT NOT NULL REFERENCES transactions (txid) ON DELETE CASCADE,
    vout      INTEGER NOT NULL,
    script    TEXT NOT NULL,
    scripthash TEXT NOT NULL,
    value     INTEGER NOT NULL,
    spent_by  TEXT,
    PRIMARY KEY (txid, vout)
) STRICT;
CREATE INDEX IF NOT EXISTS outputs_by_scripthash ON outputs (scripthash);
";

/// A stored order with what the sandbox needs to pay it out.
#[derive(Debug, Clone)]
pub struct StoredOrder {
    pub order: Order,
    pub script_type: String,
    pub chain: String,
    pub next_index: u32,
    pub identified: bool,
}

impl StoredOrder {
    /// Whether the order's purchases are paid out over lightning.
    pub fn pays_over_lightning(&self) -> bool {
        self.order.payout_method.node_pubkey.is_some()
    }
}

/// One webhook delivery waiting or done.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub correlation_id: String,
    pub event: String,
    pub exchange_id: String,
    #[serde(skip)]
    pub body: String,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    /// When the last attempt was made (ms since the epoch, real time).
    pub last_attempt_ms: Option<i64>,
    pub status: String,
    pub last_result: Option<String>,
}

pub struct State {
    conn: Connection,
}

pub(super) type Result<T> = std::result::Result<T, rusqlite::Error>;

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl State {
    /// In memory (`None`) or in its own SQLite file.
    pub fn open(path: Option<&Path>) -> Result<State> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        if path.is_some() {
            let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(State { conn })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The sandbox's clock: real time shifted by the offset set through
    /// `/sandbox/clock`.
    pub fn now(&self) -> Result<DateTime<Utc>> {
        let offset: i64 = self
            .meta("clock_offset_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Utc::now() + ChronoDuration::milliseconds(offset))
    }

    pub fn set_now(&self, now: DateTime<Utc>) -> Result<()> {
        let offset = (now - Utc::now()).num_milliseconds();
        self.set_meta("clock_offset_ms", &offset.to_string())
    }

    /// A stored setting (prices, block height, faults) as JSON.
    pub fn setting<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.meta(key)?.map(|v| from_json(&v)).transpose()
    }

    pub fn set_setting<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.set_meta(key, &to_json(value)?)
    }

    /// Runs `f` in one transaction.
    pub fn transaction<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&State) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
