//! Exports: the exchanges as CSV (RFC 4180, for tax tools and spreadsheets)
//! and wallet labels as BIP-329 JSON lines (for Sparrow): an `addr` label per
//! used address and an `output` label per payout.

use std::collections::BTreeMap;
use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::format::{btc, grouped, money};
use crate::orders::model::StoredOrder;
use crate::pocket::{OrderId, timestamp};
use crate::portfolio::{is_purchase, rate_of};
use crate::store::{self, ExchangeFilter, ExchangeRow, OnchainRow, Store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("cannot write the export: {0}")]
    Write(String),
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        Error::Write(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Write(e.to_string())
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 22] = [
    "date",
    "order_id",
    "order_label",
    "pair",
    "state",
    "cost",
    "fee",
    "fee_rate",
    "rate",
    "amount_btc",
    "amount_sat",
    "payout_txid",
    "payout_vout",
    "payout_address",
    "address_index",
    "payout_amount_sat",
    "network_fee_sat",
    "reconciliation",
    "exchange_id",
    "onchain_status",
    "block_height",
    "block_time",
];

fn text(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes one row per exchange (of one order, or all), oldest first.
pub fn csv(store: &Store, order_id: Option<&OrderId>, out: impl Write) -> Result<usize, Error> {
    let labels: BTreeMap<OrderId, String> = store
        .orders()?
        .into_iter()
        .map(|o| (o.id.clone(), o.label.clone().unwrap_or_default()))
        .collect();
    let rows = store.exchanges(&ExchangeFilter {
        order_id: order_id.cloned(),
        state: None,
    })?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(CSV_HEADER)?;
    let onchain: BTreeMap<String, OnchainRow> = store
        .onchain_all()?
        .into_iter()
        .map(|o| (o.exchange_id.to_string(), o))
        .collect();
    for row in &rows {
        let payout = row.payout.as_ref();
        let order = row.order_id.clone().unwrap_or_default();
        // What the chain said of this payout's txid, when it was asked.
        let chain = onchain
            .get(row.id.as_str())
            .filter(|c| payout.is_some_and(|p| p.txid == c.txid));
        let record = [
            timestamp::format(&row.executed_on.unwrap_or(row.first_seen_at)),
            order.to_string(),
            labels.get(&order).cloned().unwrap_or_default(),
            row.pair.clone().unwrap_or_default(),
            row.state.as_str().to_string(),
            text(row.cost),
            text(row.fee),
            text(row.fee_rate),
            text(row.rate),
            row.amount_sat.map(btc).unwrap_or_default(),
            num(row.amount_sat),
            payout.map(|p| p.txid.clone()).unwrap_or_default(),
            num(payout.map(|p| p.vout)),
            payout.map(|p| p.address.clone()).unwrap_or_default(),
            num(row.address_index),
            num(payout.and_then(|p| p.amount_sat)),
            num(payout.and_then(|p| p.fee_sat)),
            row.reconciliation.clone(),
            row.id.to_string(),
            chain.map(|c| c.status.clone()).unwrap_or_default(),
            num(chain
                .and_then(|c| c.block_height.map(u64::from))
                .or(payout.and_then(|p| p.block_height))),
            chain
                .and_then(|c| c.block_time.as_ref())
                .map(timestamp::format)
                .unwrap_or_default(),
        ];
        writer.write_record(
            record
                .iter()
                .map(|cell| spreadsheet_safe(cell).into_owned()),
        )?;
    }
    writer.flush()?;
    Ok(rows.len())
}

/// A cell a spreadsheet would run as a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, OWASP's list) gets a leading `'`;
/// numbers stay numbers.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && crate::format::parse_decimal(cell).is_err() {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One BIP-329 record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Label {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub origin: Option<String>,
    /// For a `tx`: the block height and time the chain server confirmed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub time: Option<String>,
}

/// `DCA 2026-12 · EUR 100.00 @ 61,234.50` for the purchases paid together.
fn describe(order: Option<&StoredOrder>, rows: &[&ExchangeRow]) -> String {
    let mut months: Vec<String> = rows
        .iter()
        .filter_map(|r| r.executed_on.map(|t| t.format("%Y-%m").to_string()))
        .collect();
    months.dedup();
    let currency = order.map(|o| o.currency.code()).unwrap_or("");
    let cost: Decimal = rows.iter().filter_map(|r| r.cost).sum();
    let rate = rate_of(rows);
    let mut label = format!("DCA {} · {currency} {}", months.join(", "), money(cost));
    if let Some(rate) = rate {
        label.push_str(&format!(" @ {}", grouped(&money(rate))));
    }
    if let Some(name) = order
        .and_then(|o| o.label.as_deref())
        .filter(|l| !l.is_empty())
    {
        label.push_str(&format!(" ({name})"));
    }
    label
}

/// The key origin of an order's descriptor, e.g. `wpkh([73c5da0a/84'/0'/0'])`.
fn origin(order: &StoredOrder) -> Option<String> {
    let key = order.payout_key().ok()?;
    let (fingerprint, path) = key.origin()?;
    let inner = if path.is_empty() {
        format!("[{fingerprint}]")
    } else {
        format!("[{fingerprint}/{path}]")
    };
    Some(match order.script_type? {
        crate::wallet::ScriptType::P2pkh => format!("pkh({inner})"),
        crate::wallet::ScriptType::P2shP2wpkh => format!("sh(wpkh({inner}))"),
        crate::wallet::ScriptType::P2wpkh => format!("wpkh({inner})"),
        crate::wallet::ScriptType::P2tr => format!("tr({inner})"),
    })
}

/// The labels: an `output` per payout output (purchases paid together share
/// one), an `addr` per address that received one, and a `tx` per payout
/// transaction; each with the key's origin when the order's descriptor
/// gives it.
pub fn labels(store: &Store) -> Result<Vec<Label>, Error> {
    let orders: BTreeMap<OrderId, StoredOrder> = store
        .orders()?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let rows = store.exchanges(&ExchangeFilter::default())?;
    let mut outputs: BTreeMap<(String, u32), Vec<&ExchangeRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| is_purchase(r)) {
        // A lightning payout has no output to label.
        if let Some(p) = row.payout.as_ref().filter(|p| !p.txid.is_empty()) {
            outputs
                .entry((p.txid.clone(), p.vout))
                .or_default()
                .push(row);
        }
    }
    let mut out = Vec::new();
    let mut addresses: BTreeMap<String, Vec<&ExchangeRow>> = BTreeMap::new();
    let mut transactions: BTreeMap<String, Vec<&ExchangeRow>> = BTreeMap::new();
    for ((txid, vout), paid) in &outputs {
        transactions
            .entry(txid.clone())
            .or_default()
            .extend(paid.iter().copied());
        let order = paid[0].order_id.as_ref().and_then(|id| orders.get(id));
        out.push(Label {
            kind: "output".into(),
            reference: format!("{txid}:{vout}"),
            label: describe(order, paid),
            origin: order.and_then(origin),
            height: None,
            time: None,
        });
        if let Some(p) = &paid[0].payout {
            addresses
                .entry(p.address.clone())
                .or_default()
                .extend(paid.iter().copied());
        }
    }
    for (kind, records) in [("addr", &addresses), ("tx", &transactions)] {
        for (reference, paid) in records {
            let order = paid[0].order_id.as_ref().and_then(|id| orders.get(id));
            let one_order = paid.iter().all(|r| r.order_id == paid[0].order_id);
            let confirmed = (kind == "tx")
                .then(|| confirmed_block(store, paid, reference))
                .transpose()?
                .flatten();
            out.push(Label {
                kind: kind.into(),
                reference: reference.clone(),
                label: describe(order, paid),
                origin: order.filter(|_| one_order).and_then(origin),
                height: confirmed.as_ref().map(|(h, _)| *h),
                time: confirmed.map(|(_, t)| t),
            });
        }
    }
    Ok(out)
}

/// The block the chain server confirmed a payout transaction in.
fn confirmed_block(
    store: &Store,
    paid: &[&ExchangeRow],
    txid: &str,
) -> Result<Option<(u32, String)>, Error> {
    for row in paid {
        if let Some(chain) = store.onchain(&row.id)?.filter(|c| c.txid == txid)
            && let (Some(height), Some(time)) = (chain.block_height, chain.block_time)
        {
            return Ok(Some((height, timestamp::format(&time))));
        }
    }
    Ok(None)
}

/// Writes the labels as Electrum's own file (Wallet → Labels → Import):
/// one JSON object of address or txid → label. Electrum has no labels for
/// single outputs, so those are left out.
pub fn write_electrum_labels(labels: &[Label], mut out: impl Write) -> Result<(), Error> {
    let map: BTreeMap<&str, &str> = labels
        .iter()
        .filter(|l| l.kind == "addr" || l.kind == "tx")
        .map(|l| (l.reference.as_str(), l.label.as_str()))
        .collect();
    serde_json::to_writer_pretty(&mut out, &map).map_err(|e| Error::Write(e.to_string()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes the labels as JSON lines.
pub fn write_labels(labels: &[Label], mut out: impl Write) -> Result<(), Error> {
    for label in labels {
        serde_json::to_writer(&mut out, label).map_err(|e| Error::Write(e.to_string()))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_quoted() {
        let cases = [
            ("=1+2", "'=1+2"),
            ("+41 44 000", "'+41 44 000"),
            ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("-12.50", "-12.50"),
            ("100.00", "100.00"),
            ("bc1qxyz", "bc1qxyz"),
            ("", ""),
        ];
        for (cell, expected) in cases {
            assert_eq!(spreadsheet_safe(cell), expected, "{cell}");
        }
    }
}
