//! The webhook outbox: deliveries queued, due, attempted.

use rusqlite::params;

use super::{Delivery, Result, State};

impl State {
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
}
