//! Webhook deliveries: stored raw before they are acknowledged, processed
//! afterwards.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::columns::{time, time_opt, time_text};
use super::db::{Commit, Store};
use super::error::Error;
use crate::pocket::ExchangeId;

/// A delivery as it arrived.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub received_at: DateTime<Utc>,
    pub correlation_id: Option<String>,
    pub retry_count: Option<i64>,
    pub body: Vec<u8>,
}

/// A record of the webhook intake journal: its generation and sequence
/// number (see `deliveries::journal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakePosition {
    pub generation: i64,
    pub seq: i64,
}

/// A stored delivery and what processing made of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    #[serde(with = "crate::pocket::timestamp")]
    pub received_at: DateTime<Utc>,
    pub correlation_id: Option<String>,
    pub retry_count: Option<i64>,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub status: String,
    pub event: Option<String>,
    pub exchange_id: Option<ExchangeId>,
    pub result: Option<String>,
    #[serde(with = "crate::pocket::timestamp::option")]
    pub processed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, received_at, correlation_id, retry_count, body, status, event, exchange_id, result, processed_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        received_at: time(r, 1)?,
        correlation_id: r.get(2)?,
        retry_count: r.get(3)?,
        body: r.get(4)?,
        status: r.get(5)?,
        event: r.get(6)?,
        exchange_id: r.get(7)?,
        result: r.get(8)?,
        processed_at: time_opt(r, 9)?,
    })
}

impl Store {
    /// Stores `batch` and, in the same transaction, the journal position
    /// it brings the database to. A [`Commit::Buffered`] commit does not
    /// wait for the disk (the journal already holds the batch durably); a
    /// [`Commit::Durable`] one also makes every buffered commit before it
    /// durable. The connection keeps its own default after.
    pub fn insert_deliveries(
        &mut self,
        batch: &[NewDelivery],
        position: IntakePosition,
        commit: Commit,
    ) -> Result<(), Error> {
        let default = self.commits;
        self.set_commits(commit)?;
        let stored = self.insert_in_transaction(batch, position);
        let restored = self.set_commits(default);
        stored.and(restored)
    }

    fn insert_in_transaction(
        &mut self,
        batch: &[NewDelivery],
        position: IntakePosition,
    ) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO webhook_deliveries (received_at, correlation_id, retry_count, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for d in batch {
                stmt.execute(params![
                    time_text(&d.received_at),
                    d.correlation_id,
                    d.retry_count,
                    d.body
                ])?;
            }
            tx.prepare_cached(
                "INSERT INTO intake_position (id, generation, seq) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, seq = excluded.seq",
            )?
            .execute([position.generation, position.seq])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The last intake journal record the database holds, if any.
    pub fn intake_position(&self) -> Result<Option<IntakePosition>, Error> {
        Ok(self
            .query_row(
                "SELECT generation, seq FROM intake_position WHERE id = 1",
                [],
                |row| {
                    Ok(IntakePosition {
                        generation: row.get(0)?,
                        seq: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Deliveries not processed yet, oldest first.
    pub fn pending_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE status = 'received' ORDER BY id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    /// The newest deliveries first; all of them when `limit` is `None`.
    pub fn deliveries(&self, limit: Option<usize>) -> Result<Vec<DeliveryRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT ?1"
        ))?;
        let limit = limit.map_or(-1, |l| l as i64);
        let rows = stmt.query_map([limit], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what processing made of a delivery.
    pub fn mark_delivery(
        &self,
        id: i64,
        status: &str,
        event: Option<&str>,
        exchange_id: Option<&ExchangeId>,
        result: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE webhook_deliveries SET status = ?2, event = ?3, exchange_id = ?4, result = ?5, processed_at = ?6 WHERE id = ?1",
            params![id, status, event, exchange_id, result, time_text(&now)],
        )?;
        Ok(())
    }

    /// How many deliveries are stored.
    pub fn delivery_count(&self) -> Result<i64, Error> {
        Ok(self.query_row("SELECT count(*) FROM webhook_deliveries", [], |r| r.get(0))?)
    }
}
