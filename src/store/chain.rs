//! What the chain said: each reported payout's on-chain status, and the
//! server's state (version, tip, last scan, last error).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::columns::{time, time_opt, time_text};
use super::db::Store;
use super::error::Error;
use crate::pocket::{ExchangeId, OrderId};

/// What the chain shows of one address of an order's window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddressOnchain {
    pub address: String,
    pub order_id: OrderId,
    pub index: u32,
    pub tx_count: u32,
    pub received_sat: u64,
    pub unspent_sat: u64,
    /// Transactions paying it that no payout Pocket reported explains.
    pub unexplained: Vec<String>,
    /// Electrum's status hash of its history: unchanged, nothing to fetch.
    pub status: Option<String>,
    #[serde(with = "crate::pocket::timestamp")]
    pub checked_at: DateTime<Utc>,
}

/// A payout's on-chain status as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnchainRow {
    pub exchange_id: ExchangeId,
    pub txid: String,
    pub status: String,
    pub confirmations: u32,
    pub block_height: Option<u32>,
    #[serde(with = "crate::pocket::timestamp::option")]
    pub block_time: Option<DateTime<Utc>>,
    pub detail: Option<String>,
    /// The outpoints (`txid:vout`) the transaction spent, once seen.
    pub inputs: Vec<String>,
    #[serde(with = "crate::pocket::timestamp")]
    pub first_checked_at: DateTime<Utc>,
    #[serde(with = "crate::pocket::timestamp")]
    pub checked_at: DateTime<Utc>,
    /// The transaction that spent the payout's output, once seen (`[chain]
    /// alert_on_spend`); kept by later checks of the same txid.
    pub spent_by: Option<String>,
}

const COLUMNS: &str = "exchange_id, txid, status, confirmations, block_height, block_time, detail, first_checked_at, checked_at, inputs, spent_by";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<OnchainRow> {
    Ok(OnchainRow {
        exchange_id: r.get(0)?,
        txid: r.get(1)?,
        status: r.get(2)?,
        confirmations: r.get(3)?,
        block_height: r.get(4)?,
        block_time: time_opt(r, 5)?,
        detail: r.get(6)?,
        first_checked_at: time(r, 7)?,
        checked_at: time(r, 8)?,
        inputs: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
        spent_by: r.get(10)?,
    })
}

impl Store {
    pub fn onchain(&self, exchange_id: &ExchangeId) -> Result<Option<OnchainRow>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {COLUMNS} FROM payout_onchain WHERE exchange_id = ?1"),
                [exchange_id],
                from_row,
            )
            .optional()?)
    }

    pub fn onchain_all(&self) -> Result<Vec<OnchainRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM payout_onchain ORDER BY checked_at"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a payout's status; `first_checked_at` stays that of the first
    /// check of the same txid.
    pub fn set_onchain(&self, row: &OnchainRow) -> Result<(), Error> {
        self.execute(
            &format!(
                "INSERT INTO payout_onchain ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (exchange_id) DO UPDATE SET
                   first_checked_at = CASE WHEN payout_onchain.txid = excluded.txid
                                           THEN payout_onchain.first_checked_at
                                           ELSE excluded.first_checked_at END,
                   txid = excluded.txid, status = excluded.status,
                   confirmations = excluded.confirmations, block_height = excluded.block_height,
                   block_time = excluded.block_time, detail = excluded.detail,
                   checked_at = excluded.checked_at,
                   inputs = CASE WHEN excluded.inputs = '[]' AND payout_onchain.txid = excluded.txid
                                 THEN payout_onchain.inputs ELSE excluded.inputs END,
                   spent_by = CASE WHEN payout_onchain.txid = excluded.txid
                                   THEN coalesce(excluded.spent_by, payout_onchain.spent_by)
                                   ELSE excluded.spent_by END"
            ),
            params![
                row.exchange_id,
                row.txid,
                row.status,
                row.confirmations,
                row.block_height,
                row.block_time.as_ref().map(time_text),
                row.detail,
                time_text(&row.first_checked_at),
                time_text(&row.checked_at),
                serde_json::to_string(&row.inputs).map_err(Error::Encode)?,
                row.spent_by,
            ],
        )?;
        Ok(())
    }

    /// Records that `spender` spent the output of the payout `txid` of
    /// `exchange_id`.
    pub fn set_spent(
        &self,
        exchange_id: &ExchangeId,
        txid: &str,
        spender: &str,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE payout_onchain SET spent_by = ?3 WHERE exchange_id = ?1 AND txid = ?2",
            params![exchange_id, txid, spender],
        )?;
        Ok(())
    }

    /// Stores what the chain shows of an address of an order's window.
    pub fn set_address_onchain(&self, row: &AddressOnchain) -> Result<(), Error> {
        self.execute(
            "INSERT INTO address_onchain (address, order_id, idx, tx_count, received_sat, unspent_sat, unexplained, checked_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (address) DO UPDATE SET tx_count = excluded.tx_count,
               received_sat = excluded.received_sat, unspent_sat = excluded.unspent_sat,
               unexplained = excluded.unexplained, checked_at = excluded.checked_at,
               status = excluded.status",
            params![
                row.address,
                row.order_id,
                row.index,
                row.tx_count,
                row.received_sat as i64,
                row.unspent_sat as i64,
                serde_json::to_string(&row.unexplained).map_err(Error::Encode)?,
                time_text(&row.checked_at),
                row.status,
            ],
        )?;
        Ok(())
    }

    /// What the chain showed of an order's addresses, by index.
    pub fn addresses_onchain(&self, order_id: &OrderId) -> Result<Vec<AddressOnchain>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT address, order_id, idx, tx_count, received_sat, unspent_sat, unexplained, checked_at, status
             FROM address_onchain WHERE order_id = ?1 ORDER BY idx",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            let unexplained: String = r.get(6)?;
            Ok(AddressOnchain {
                address: r.get(0)?,
                order_id: r.get(1)?,
                index: r.get(2)?,
                tx_count: r.get(3)?,
                received_sat: r.get::<_, i64>(4)? as u64,
                unspent_sat: r.get::<_, i64>(5)? as u64,
                unexplained: serde_json::from_str(&unexplained).unwrap_or_default(),
                checked_at: time(r, 7)?,
                status: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many on-chain payouts have no check of their current txid yet
    /// (a settled delivery just arrived, or a payout changed).
    pub fn unchecked_payouts(&self) -> Result<usize, Error> {
        let n: i64 = self.query_row(
            "SELECT count(*) FROM exchanges e LEFT JOIN payout_onchain o ON o.exchange_id = e.id
             WHERE e.payout_txid IS NOT NULL AND e.payout_kind IS NULL
               AND (o.txid IS NULL OR o.txid <> e.payout_txid)",
            [],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    pub fn chain_state(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self
            .query_row("SELECT value FROM chain_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_chain_state(&self, key: &str, value: &str) -> Result<(), Error> {
        self.execute(
            "INSERT INTO chain_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
