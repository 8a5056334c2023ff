//! Pocket's objects as the sandbox keeps them: challenges, orders and
//! exchanges.

use rusqlite::{OptionalExtension, params};

use super::{Result, State, StoredOrder, from_json, to_json};
use crate::pocket::{Challenge, Exchange, Order, OrderId};

impl State {
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
}
