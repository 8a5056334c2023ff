//! Queries on exchanges and the derived addresses their payouts used.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::columns::{
    conversion, decimal_opt, parsed, sats, sats_column, time, time_opt, time_text,
};
use super::db::Store;
use super::error::Error;
use crate::pocket::{ExchangeId, OrderId};
use crate::reconcile::rules::State;

/// The payout of a settled exchange, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PayoutRow {
    /// `lightning`, or `None` on chain.
    pub kind: Option<String>,
    /// A lightning payout's status.
    pub status: Option<String>,
    pub txid: String,
    pub vout: u32,
    pub address: String,
    pub path: Option<String>,
    pub amount_sat: Option<u64>,
    pub fee_sat: Option<u64>,
    pub block_height: Option<u64>,
}

/// An exchange as reconciled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    pub id: ExchangeId,
    pub order_id: Option<OrderId>,
    pub known_order: bool,
    pub state: State,
    pub pair: Option<String>,
    pub fee_rate: Option<Decimal>,
    pub cost: Option<Decimal>,
    pub fee: Option<Decimal>,
    pub rate: Option<Decimal>,
    pub amount_sat: Option<u64>,
    pub executed_on: Option<DateTime<Utc>>,
    pub action_code: Option<String>,
    pub action_url: Option<String>,
    pub action_id: Option<String>,
    pub reason_code: Option<String>,
    pub payout: Option<PayoutRow>,
    pub address_index: Option<u32>,
    pub reconciliation: String,
    pub warnings: Vec<String>,
    pub json: String,
    /// The event name of the last delivery applied (`None` for a bare
    /// exchange or a fetch).
    pub last_event: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, order_id, known_order, state, pair, fee_rate, cost, fee, rate, amount_sat, executed_on, action_code, action_url, action_id, reason_code, payout_txid, payout_vout, payout_address, payout_path, payout_amount_sat, payout_fee_sat, payout_block_height, address_index, reconciliation, warnings, json, first_seen_at, updated_at, last_event, payout_kind, payout_status";

fn from_row(row: &rusqlite::Row) -> rusqlite::Result<ExchangeRow> {
    let txid: Option<String> = row.get(15)?;
    let payout = match txid {
        Some(txid) => Some(PayoutRow {
            kind: row.get(29)?,
            status: row.get(30)?,
            txid,
            vout: row.get(16)?,
            address: row.get(17)?,
            path: row.get(18)?,
            amount_sat: sats(row, 19)?,
            fee_sat: sats(row, 20)?,
            block_height: sats(row, 21)?,
        }),
        None => None,
    };
    Ok(ExchangeRow {
        id: row.get(0)?,
        order_id: row.get(1)?,
        known_order: row.get(2)?,
        state: parsed::<State>(row, 3)?,
        pair: row.get(4)?,
        fee_rate: decimal_opt(row, 5)?,
        cost: decimal_opt(row, 6)?,
        fee: decimal_opt(row, 7)?,
        rate: decimal_opt(row, 8)?,
        amount_sat: sats(row, 9)?,
        executed_on: time_opt(row, 10)?,
        action_code: row.get(11)?,
        action_url: row.get(12)?,
        action_id: row.get(13)?,
        reason_code: row.get(14)?,
        payout,
        address_index: row.get(22)?,
        reconciliation: row.get(23)?,
        warnings: serde_json::from_str(&row.get::<_, String>(24)?).map_err(conversion)?,
        json: row.get(25)?,
        first_seen_at: time(row, 26)?,
        updated_at: time(row, 27)?,
        last_event: row.get(28)?,
    })
}

/// A filter for listing exchanges.
#[derive(Debug, Clone, Default)]
pub struct ExchangeFilter {
    pub order_id: Option<OrderId>,
    pub state: Option<State>,
}

impl Store {
    pub fn exchange(&self, id: &ExchangeId) -> Result<Option<ExchangeRow>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {COLUMNS} FROM exchanges WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    /// The one exchange whose id starts with `prefix`.
    pub fn resolve_exchange_id(&self, prefix: &str) -> Result<ExchangeId, Error> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.is_empty() {
            return Err(Error::NoSuchExchange { id: prefix });
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM exchanges WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 6",
        )?;
        let ids: Vec<ExchangeId> = stmt
            .query_map([&prefix], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::NoSuchExchange { id: prefix }),
            many => Err(Error::AmbiguousExchange {
                prefix,
                matches: many.iter().map(ExchangeId::to_string).collect(),
            }),
        }
    }

    /// Exchanges by time of execution (then of first sight), oldest first.
    pub fn exchanges(&self, filter: &ExchangeFilter) -> Result<Vec<ExchangeRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM exchanges
             WHERE (?1 IS NULL OR order_id = ?1) AND (?2 IS NULL OR state = ?2)
             ORDER BY coalesce(executed_on, first_seen_at), first_seen_at, id"
        ))?;
        let rows = stmt.query_map(
            params![filter.order_id, filter.state.map(State::as_str)],
            from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids of the exchanges that may still change (not refunded or confirmed).
    pub fn open_exchange_ids(&self) -> Result<Vec<ExchangeId>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM exchanges WHERE state NOT IN ('refunded', 'confirmed') ORDER BY first_seen_at, id",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Inserts or replaces an exchange row.
    pub fn save_exchange(&self, row: &ExchangeRow) -> Result<(), Error> {
        let payout = row.payout.as_ref();
        self.execute(
            &format!(
                "INSERT INTO exchanges ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)
                 ON CONFLICT (id) DO UPDATE SET
                   order_id = excluded.order_id, known_order = excluded.known_order, state = excluded.state,
                   pair = excluded.pair, fee_rate = excluded.fee_rate, cost = excluded.cost, fee = excluded.fee,
                   rate = excluded.rate, amount_sat = excluded.amount_sat, executed_on = excluded.executed_on,
                   action_code = excluded.action_code, action_url = excluded.action_url, action_id = excluded.action_id,
                   reason_code = excluded.reason_code, payout_txid = excluded.payout_txid, payout_vout = excluded.payout_vout,
                   payout_address = excluded.payout_address, payout_path = excluded.payout_path,
                   payout_amount_sat = excluded.payout_amount_sat, payout_fee_sat = excluded.payout_fee_sat,
                   payout_block_height = excluded.payout_block_height, address_index = excluded.address_index,
                   reconciliation = excluded.reconciliation, warnings = excluded.warnings, json = excluded.json,
                   updated_at = excluded.updated_at, last_event = excluded.last_event,
                   payout_kind = excluded.payout_kind, payout_status = excluded.payout_status"
            ),
            params![
                row.id,
                row.order_id,
                row.known_order,
                row.state.as_str(),
                row.pair,
                row.fee_rate.map(|d| d.to_string()),
                row.cost.map(|d| d.to_string()),
                row.fee.map(|d| d.to_string()),
                row.rate.map(|d| d.to_string()),
                sats_column(row.amount_sat),
                row.executed_on.as_ref().map(time_text),
                row.action_code,
                row.action_url,
                row.action_id,
                row.reason_code,
                payout.map(|p| p.txid.clone()),
                payout.map(|p| p.vout),
                payout.map(|p| p.address.clone()),
                payout.and_then(|p| p.path.clone()),
                sats_column(payout.and_then(|p| p.amount_sat)),
                sats_column(payout.and_then(|p| p.fee_sat)),
                sats_column(payout.and_then(|p| p.block_height)),
                row.address_index,
                row.reconciliation,
                serde_json::to_string(&row.warnings)?,
                row.json,
                time_text(&row.first_seen_at),
                time_text(&row.updated_at),
                row.last_event,
                payout.and_then(|p| p.kind.clone()),
                payout.and_then(|p| p.status.clone()),
            ],
        )?;
        Ok(())
    }

    /// Removes an exchange row and its address use (to apply it again).
    pub fn forget_exchange(&self, id: &ExchangeId) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM address_uses WHERE exchange_id = ?1", [id])?;
        self.conn
            .execute("DELETE FROM exchanges WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Exchanges of an order first seen or executed in `[from, to)` that are
    /// not refunded.
    pub fn exchange_ids_between(
        &self,
        order_id: &OrderId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExchangeId>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM exchanges WHERE order_id = ?1 AND state <> 'refunded'
               AND coalesce(executed_on, first_seen_at) >= ?2 AND coalesce(executed_on, first_seen_at) < ?3
             ORDER BY coalesce(executed_on, first_seen_at)",
        )?;
        let rows = stmt.query_map(params![order_id, time_text(&from), time_text(&to)], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
