//! The addresses derived for each order and which exchange's payout used
//! each of them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::columns::{address, parsed, time_text};
use super::db::Store;
use super::error::Error;
use crate::pocket::{ExchangeId, OrderId};
use crate::wallet::{Address, DerivedAddress, KeyPath};

/// One derived address of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRow {
    pub index: u32,
    pub path: KeyPath,
    pub address: Address,
}

/// A payout's use of an order's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressUse {
    pub index: u32,
    pub exchange_id: ExchangeId,
    /// The output that paid it, `txid:vout`.
    pub output: String,
}

impl Store {
    /// Adds derived addresses to an order's window (existing ones are
    /// kept); inside the caller's transaction.
    pub fn add_addresses(
        &self,
        order_id: &OrderId,
        addresses: &[DerivedAddress],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        insert_addresses(&self.conn, order_id, addresses, now)
    }

    /// The derived addresses of an order, by index.
    pub fn addresses(&self, order_id: &OrderId) -> Result<Vec<AddressRow>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, path, address FROM addresses WHERE order_id = ?1 ORDER BY idx",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            Ok(AddressRow {
                index: r.get(0)?,
                path: parsed(r, 1)?,
                address: address(r, 2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The order and index an address was derived for.
    pub fn address_location(&self, address: &str) -> Result<Option<(OrderId, u32)>, Error> {
        Ok(self
            .query_row(
                "SELECT order_id, idx FROM addresses WHERE address = ?1",
                [address],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The outputs (`txid:vout`) that paid to an address, other than `exchange_id`'s.
    pub fn outputs_paid_to(
        &self,
        order_id: &OrderId,
        index: u32,
        exchange_id: &ExchangeId,
    ) -> Result<Vec<String>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT txid || ':' || vout FROM address_uses WHERE order_id = ?1 AND idx = ?2 AND exchange_id <> ?3",
        )?;
        let rows = stmt.query_map(params![order_id, index, exchange_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records which address an exchange's payout used.
    pub fn record_use(
        &self,
        exchange_id: &ExchangeId,
        order_id: &OrderId,
        index: u32,
        output: (&str, u32),
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let (txid, vout) = output;
        self.execute(
            "INSERT INTO address_uses (exchange_id, order_id, idx, txid, vout, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (exchange_id) DO UPDATE SET order_id = excluded.order_id, idx = excluded.idx, txid = excluded.txid, vout = excluded.vout",
            params![exchange_id, order_id, index, txid, vout, time_text(&now)],
        )?;
        Ok(())
    }

    /// Undoes the record of which address an exchange's payout used (the
    /// payout changed).
    pub fn forget_use(&self, exchange_id: &ExchangeId) -> Result<(), Error> {
        self.execute(
            "DELETE FROM address_uses WHERE exchange_id = ?1",
            [exchange_id],
        )?;
        Ok(())
    }

    /// The used indexes of an order's addresses: paid by a payout Pocket
    /// reported, or with history on the chain.
    pub fn used_indexes(&self, order_id: &OrderId) -> Result<Vec<u32>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx FROM address_uses WHERE order_id = ?1
             UNION SELECT idx FROM address_onchain WHERE order_id = ?1 AND tx_count > 0
             ORDER BY idx",
        )?;
        let rows = stmt.query_map([order_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every use of an order's addresses, by index.
    pub fn address_uses(&self, order_id: &OrderId) -> Result<Vec<AddressUse>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, exchange_id, txid || ':' || vout FROM address_uses WHERE order_id = ?1 ORDER BY idx, used_at, exchange_id",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            Ok(AddressUse {
                index: r.get(0)?,
                exchange_id: r.get(1)?,
                output: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The highest derived index of an order.
    pub fn highest_index(&self, order_id: &OrderId) -> Result<Option<u32>, Error> {
        Ok(self.query_row(
            "SELECT max(idx) FROM addresses WHERE order_id = ?1",
            [order_id],
            |r| r.get(0),
        )?)
    }
}

pub(super) fn insert_addresses(
    tx: &rusqlite::Connection,
    order_id: &OrderId,
    addresses: &[DerivedAddress],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO addresses (order_id, idx, path, address, derived_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (order_id, idx) DO NOTHING",
    )?;
    for derived in addresses {
        stmt.execute(params![
            order_id,
            derived.index(),
            derived.path.to_string(),
            derived.address.to_string(),
            time_text(&now)
        ])?;
    }
    Ok(())
}
