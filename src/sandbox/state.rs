//! The sandbox's own state: challenges, orders, exchanges, the webhook
//! outbox and its clock, in SQLite (in memory, or a file with `--state`).
//! Never the tool's database.

use std::path::Path;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::pocket::{Challenge, Exchange, Order, OrderId};

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

type Result<T> = std::result::Result<T, rusqlite::Error>;

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
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

    // ------------------------------------------------------------ challenges

    pub fn insert_challenge(&self, challenge: &Challenge) -> Result<()> {
        self.conn.execute(
            "INSERT INTO challenges (id, token, json) VALUES (?1, ?2, ?3)",
            params![challenge.id, challenge.token, to_json(challenge)?],
        )?;
        Ok(())
    }

    pub fn challenge(&self, id: &str) -> Result<Option<Challenge>> {
        self.conn
            .query_row("SELECT json FROM challenges WHERE id = ?1", [id], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .map(|j| from_json(&j))
            .transpose()
    }

    /// The challenges whose token appears in brackets in `message`.
    pub fn challenges_in(&self, message: &str) -> Result<Vec<Challenge>> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM challenges WHERE instr(?1, '[' || token || ']') > 0")?;
        let rows = stmt.query_map([message], |r| r.get::<_, String>(0))?;
        rows.map(|j| j.and_then(|j| from_json(&j))).collect()
    }

    pub fn update_challenge(&self, challenge: &Challenge) -> Result<()> {
        self.conn.execute(
            "UPDATE challenges SET json = ?2 WHERE id = ?1",
            params![challenge.id, to_json(challenge)?],
        )?;
        Ok(())
    }

    // ---------------------------------------------------------------- orders

    pub fn insert_order(&self, order: &StoredOrder, reference: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO orders (id, reference, json, script_type, chain, next_index, identified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                order.order.id,
                reference,
                to_json(&order.order)?,
                order.script_type,
                order.chain,
                order.next_index,
                order.identified
            ],
        )?;
        Ok(())
    }

    fn order_row(row: &rusqlite::Row) -> Result<StoredOrder> {
        Ok(StoredOrder {
            order: from_json(&row.get::<_, String>(0)?)?,
            script_type: row.get(1)?,
            chain: row.get(2)?,
            next_index: row.get(3)?,
            identified: row.get(4)?,
        })
    }

    pub fn order(&self, id: &str) -> Result<Option<StoredOrder>> {
        self.conn
            .query_row(
                "SELECT json, script_type, chain, next_index, identified FROM orders WHERE id = ?1",
                [id],
                Self::order_row,
            )
            .optional()
    }

    /// Every order, oldest first.
    pub fn orders(&self) -> Result<Vec<Order>> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM orders ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|j| j.and_then(|j| from_json(&j))).collect()
    }

    pub fn order_by_reference(&self, reference: &str) -> Result<Option<StoredOrder>> {
        self.conn
            .query_row(
                "SELECT json, script_type, chain, next_index, identified FROM orders WHERE reference = ?1",
                [reference],
                Self::order_row,
            )
            .optional()
    }

    pub fn update_order(&self, order: &StoredOrder) -> Result<()> {
        self.conn.execute(
            "UPDATE orders SET json = ?2, next_index = ?3, identified = ?4 WHERE id = ?1",
            params![
                order.order.id,
                to_json(&order.order)?,
                order.next_index,
                order.identified
            ],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------- exchanges

    pub fn insert_exchange(&self, exchange: &Exchange, payout_pending: bool) -> Result<()> {
        let seq: i64 =
            self.conn
                .query_row("SELECT coalesce(max(seq), 0) + 1 FROM exchanges", [], |r| {
                    r.get(0)
                })?;
        self.conn.execute(
            "INSERT INTO exchanges (id, seq, order_id, json, payout_pending) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                exchange.id,
                seq,
                exchange.order_id.clone().unwrap_or_default(),
                to_json(exchange)?,
                payout_pending
            ],
        )?;
        Ok(())
    }

    pub fn exchange(&self, id: &str) -> Result<Option<Exchange>> {
        self.conn
            .query_row("SELECT json FROM exchanges WHERE id = ?1", [id], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .map(|j| from_json(&j))
            .transpose()
    }

    pub fn update_exchange(&self, exchange: &Exchange, payout_pending: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE exchanges SET json = ?2, payout_pending = ?3 WHERE id = ?1",
            params![exchange.id, to_json(exchange)?, payout_pending],
        )?;
        Ok(())
    }

    /// Exchanges of one order, oldest first.
    pub fn exchanges_of(&self, order_id: &str) -> Result<Vec<Exchange>> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM exchanges WHERE order_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([order_id], |r| r.get::<_, String>(0))?;
        rows.map(|j| j.and_then(|j| from_json(&j))).collect()
    }

    /// Executed exchanges waiting for a payout, grouped by order in order of
    /// arrival.
    pub fn pending_payouts(&self) -> Result<Vec<(OrderId, Vec<Exchange>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT order_id, json FROM exchanges WHERE payout_pending = 1 ORDER BY order_id, seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut grouped: Vec<(OrderId, Vec<Exchange>)> = Vec::new();
        for row in rows {
            let (order_id, json) = row?;
            let order_id = OrderId::from(order_id);
            let exchange: Exchange = from_json(&json)?;
            match grouped.last_mut() {
                Some((id, list)) if *id == order_id => list.push(exchange),
                _ => grouped.push((order_id, vec![exchange])),
            }
        }
        Ok(grouped)
    }

    /// Settled exchanges whose payout is not confirmed yet.
    pub fn unconfirmed_payouts(&self) -> Result<Vec<Exchange>> {
        let mut stmt = self.conn.prepare(
            "SELECT json FROM exchanges WHERE json_extract(json, '$.payout.confirmed') = 0 ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|j| j.and_then(|j| from_json(&j))).collect()
    }

    // ---------------------------------------------------------------- outbox

    pub fn enqueue(
        &self,
        correlation_id: &str,
        event: &str,
        exchange_id: &str,
        body: &str,
        due_ms: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO outbox (correlation_id, event, exchange_id, body, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![correlation_id, event, exchange_id, body, due_ms],
        )?;
        Ok(())
    }

    fn delivery_row(r: &rusqlite::Row) -> Result<Delivery> {
        Ok(Delivery {
            id: r.get(0)?,
            correlation_id: r.get(1)?,
            event: r.get(2)?,
            exchange_id: r.get(3)?,
            body: r.get(4)?,
            attempts: r.get(5)?,
            next_attempt_ms: r.get(6)?,
            last_attempt_ms: r.get(7)?,
            status: r.get(8)?,
            last_result: r.get(9)?,
        })
    }

    /// Deliveries due at `now_ms`, oldest first.
    pub fn due(&self, now_ms: i64) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, correlation_id, event, exchange_id, body, attempts, next_attempt_ms, last_attempt_ms, status, last_result
             FROM outbox WHERE status = 'pending' AND next_attempt_ms <= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([now_ms], Self::delivery_row)?;
        rows.collect()
    }

    /// The earliest time a pending delivery is due.
    pub fn next_due_ms(&self) -> Result<Option<i64>> {
        self.conn.query_row(
            "SELECT min(next_attempt_ms) FROM outbox WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
    }

    pub fn deliveries(&self) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, correlation_id, event, exchange_id, body, attempts, next_attempt_ms, last_attempt_ms, status, last_result
             FROM outbox ORDER BY id",
        )?;
        let rows = stmt.query_map([], Self::delivery_row)?;
        rows.collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_attempt(
        &self,
        id: i64,
        status: &str,
        attempts: u32,
        attempted_ms: i64,
        next_attempt_ms: i64,
        result: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = ?2, attempts = ?3, last_attempt_ms = ?4, next_attempt_ms = ?5, last_result = ?6 WHERE id = ?1",
            params![id, status, attempts, attempted_ms, next_attempt_ms, result],
        )?;
        Ok(())
    }

    /// Runs `f` in one transaction.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&State) -> Result<T>) -> Result<T> {
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
