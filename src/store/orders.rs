//! Queries on orders and their derived addresses.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::addresses::insert_addresses;
use super::columns::{conversion, decimal, parsed, time, time_text};
use super::db::Store;
use super::error::Error;
use crate::orders::model::{Day, PayoutKind, StoredOrder};
use crate::pocket::{Currency, OrderId, PaymentMethod};
use crate::wallet::{
    DerivedAddress, KeyPath, ScriptType, network_name, parse_address, parse_network,
};

const ORDER_COLUMNS: &str = "id, label, active, currency, fee_rate, amount, day, emails, key, pocket_key, script_type, network, chain, start_index, signed_address, gap_limit, wallet_gap_limit, debitor_iban, payment_method, pocket_json, created_on, stored_at, updated_at, payout_kind, node_pubkey";

fn order_from_row(row: &rusqlite::Row) -> rusqlite::Result<StoredOrder> {
    let chain: String = row.get(12)?;
    Ok(StoredOrder {
        id: row.get(0)?,
        label: row.get(1)?,
        active: row.get(2)?,
        currency: parsed::<Currency>(row, 3)?,
        fee_rate: decimal(row, 4)?,
        amount: decimal(row, 5)?,
        day: parsed::<Day>(row, 6)?,
        emails: serde_json::from_str(&row.get::<_, String>(7)?).map_err(conversion)?,
        key: row.get(8)?,
        pocket_key: row.get(9)?,
        script_type: row
            .get::<_, Option<String>>(10)?
            .map(|t| t.parse::<ScriptType>().map_err(conversion))
            .transpose()?,
        network: parse_network(&row.get::<_, String>(11)?).map_err(conversion)?,
        chain: if chain.is_empty() {
            Vec::new()
        } else {
            chain
                .split('/')
                .map(|s| s.parse::<u32>().map_err(conversion))
                .collect::<rusqlite::Result<_>>()?
        },
        start_index: row.get(13)?,
        signed_address: row
            .get::<_, Option<String>>(14)?
            .map(|a| parse_address(&a).map_err(conversion))
            .transpose()?,
        gap_limit: row.get(15)?,
        wallet_gap_limit: row.get(16)?,
        debitor_iban: row.get(17)?,
        payment_method: serde_json::from_str::<PaymentMethod>(&row.get::<_, String>(18)?)
            .map_err(conversion)?,
        pocket_json: row.get(19)?,
        created_on: time(row, 20)?,
        stored_at: time(row, 21)?,
        updated_at: time(row, 22)?,
        payout_kind: parsed::<PayoutKind>(row, 23)?,
        node_pubkey: row.get(24)?,
    })
}

impl Store {
    /// Stores a new order and its address window in one transaction.
    pub fn insert_order(
        &mut self,
        order: &StoredOrder,
        window: &[DerivedAddress],
    ) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM orders WHERE id = ?1", [&order.id], |_| {
                Ok(true)
            })
            .optional()?
            .unwrap_or(false);
        if exists {
            return Err(Error::Duplicate {
                what: "order",
                id: order.id.to_string(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
            ),
            params![
                order.id,
                order.label,
                order.active,
                order.currency.as_str(),
                order.fee_rate.to_string(),
                order.amount.to_string(),
                order.day.to_string(),
                serde_json::to_string(&order.emails)?,
                order.key,
                order.pocket_key,
                order.script_type.map(|t| t.as_str()),
                network_name(order.network),
                KeyPath::format_chain(&order.chain),
                order.start_index,
                order.signed_address.as_ref().map(|a| a.to_string()),
                order.gap_limit,
                order.wallet_gap_limit,
                order.debitor_iban,
                serde_json::to_string(&order.payment_method)
                    ?,
                order.pocket_json,
                time_text(&order.created_on),
                time_text(&order.stored_at),
                time_text(&order.updated_at),
                order.payout_kind.as_str(),
                order.node_pubkey,
            ],
        )?;
        insert_addresses(&tx, &order.id, window, order.stored_at)?;
        tx.commit()?;
        Ok(())
    }

    pub fn order(&self, id: &OrderId) -> Result<Option<StoredOrder>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
                [id],
                order_from_row,
            )
            .optional()?)
    }

    /// All orders, oldest first.
    pub fn orders(&self) -> Result<Vec<StoredOrder>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders ORDER BY created_on, id"
        ))?;
        let rows = stmt.query_map([], order_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The full id of the order whose id starts with `prefix`.
    pub fn resolve_order_id(&self, prefix: &str) -> Result<OrderId, Error> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.is_empty() {
            return Err(Error::NoSuchOrder { id: prefix });
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM orders WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id",
        )?;
        let ids: Vec<OrderId> = stmt
            .query_map([&prefix], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::NoSuchOrder { id: prefix }),
            many => Err(Error::AmbiguousOrder {
                prefix,
                matches: many.iter().map(OrderId::to_string).collect(),
            }),
        }
    }

    /// Writes what Pocket says of an order: active, fee rate, payment details.
    pub fn update_order_from_pocket(
        &self,
        id: &OrderId,
        active: bool,
        fee_rate: rust_decimal::Decimal,
        payment_method: &PaymentMethod,
        pocket_json: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let changed = self.execute(
            "UPDATE orders SET active = ?2, fee_rate = ?3, payment_method = ?4, pocket_json = ?5, updated_at = ?6 WHERE id = ?1",
            params![
                id,
                active,
                fee_rate.to_string(),
                serde_json::to_string(payment_method)?,
                pocket_json,
                time_text(&now)
            ],
        )?;
        if changed == 0 {
            return Err(Error::NoSuchOrder { id: id.to_string() });
        }
        Ok(())
    }

    /// Writes the local plan of an order.
    pub fn update_plan(&self, order: &StoredOrder, now: DateTime<Utc>) -> Result<(), Error> {
        let changed = self.execute(
            "UPDATE orders SET label = ?2, amount = ?3, day = ?4, emails = ?5, wallet_gap_limit = ?6, updated_at = ?7 WHERE id = ?1",
            params![
                order.id,
                order.label,
                order.amount.to_string(),
                order.day.to_string(),
                serde_json::to_string(&order.emails)?,
                order.wallet_gap_limit,
                time_text(&now)
            ],
        )?;
        if changed == 0 {
            return Err(Error::NoSuchOrder {
                id: order.id.to_string(),
            });
        }
        Ok(())
    }
}
