//! Every address of every window, scanned on the chain: up to the window's
//! end plus the wallet's gap limit, in batches. Coins that arrived with no
//! webhook are found (an alert says where and what to do), and an address
//! with history is used: the window, the next expected address and the gap
//! headroom follow the chain. Blocking: run it off the async runtime.

use std::collections::{HashMap, HashSet};

use bitcoin::{ScriptBuf, Transaction, Txid};
use chrono::{DateTime, Utc};

use super::backend::Backend;
use super::error::Error;
use crate::alerts::{AlertKind, NewAlert};
use crate::orders::model::StoredOrder;
use crate::reconcile;
use crate::store::{AddressOnchain, ExchangeFilter, Store};

/// What one scan of the windows found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScanReport {
    pub addresses: usize,
    pub used: usize,
    /// Transactions paying a window address that no payout explains.
    pub unexplained: usize,
    pub alerts: usize,
}

/// One address to scan.
struct Target {
    index: u32,
    address: String,
    script: ScriptBuf,
}

/// The order's window (as stored: derived once) and the wallet's gap limit
/// beyond it (derived now).
fn targets(store: &Store, order: &StoredOrder) -> Result<Vec<Target>, Error> {
    let mut targets: Vec<Target> = store
        .addresses(&order.id)?
        .into_iter()
        .map(|a| Target {
            index: a.index,
            script: a.address.script_pubkey(),
            address: a.address.to_string(),
        })
        .collect();
    let next = targets.last().map_or(order.start_index, |t| t.index + 1);
    let key = order
        .payout_key()
        .map_err(|e| Error::Server(e.to_string()))?;
    let chain = key
        .chain(&order.chain)
        .map_err(|e| Error::Server(e.to_string()))?;
    let beyond = chain
        .addresses(next, order.wallet_gap_limit)
        .map_err(|e| Error::Server(e.to_string()))?;
    for derived in beyond {
        let derived = derived.map_err(|e| Error::Server(e.to_string()))?;
        targets.push(Target {
            index: derived.path.index(),
            script: derived.address.script_pubkey(),
            address: derived.address.to_string(),
        });
    }
    Ok(targets)
}

/// Scans every order whose payouts go to derived addresses: every
/// address's history in one batch, the transactions in another, then
/// what they show stored per order, one transaction each.
pub fn scan_windows(
    backend: &Backend,
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<ScanReport, Error> {
    let mut report = ScanReport::default();
    let orders: Vec<StoredOrder> = store
        .orders()?
        .into_iter()
        .filter(|o| o.derives())
        .collect();
    let mut all = Vec::new();
    for order in &orders {
        all.push(targets(store, order)?);
    }
    let scripts: Vec<ScriptBuf> = all.iter().flatten().map(|t| t.script.clone()).collect();
    let mut histories = backend.histories(&scripts)?.into_iter();
    let per_order: Vec<Vec<Vec<Txid>>> = all
        .iter()
        .map(|targets| histories.by_ref().take(targets.len()).collect())
        .collect();
    let wanted: Vec<Txid> = per_order
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let transactions = backend.raw_transactions(&wanted)?;
    for ((order, targets), histories) in orders.iter().zip(&all).zip(&per_order) {
        let explained = explained(store, order)?;
        let scan = Scan {
            order,
            targets,
            histories,
            transactions: &transactions,
            explained: &explained,
        };
        store.transaction(|store| record(store, &scan, now, &mut report))?;
    }
    Ok(report)
}

/// What the chain showed of one order's addresses.
struct Scan<'a> {
    order: &'a StoredOrder,
    targets: &'a [Target],
    histories: &'a [Vec<Txid>],
    transactions: &'a HashMap<Txid, Transaction>,
    explained: &'a HashSet<(String, String)>,
}

/// Stores what the chain shows of an order's addresses and raises (or
/// closes) the alerts; the window follows the highest used address.
fn record(
    store: &Store,
    scan: &Scan<'_>,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<(), Error> {
    let order = scan.order;
    let mut highest_used = None;
    for (target, history) in scan.targets.iter().zip(scan.histories) {
        report.addresses += 1;
        let row = address_row(
            order,
            target,
            history,
            scan.transactions,
            scan.explained,
            now,
        );
        if row.tx_count > 0 {
            report.used += 1;
            highest_used = Some(target.index);
        }
        for txid in &row.unexplained {
            report.unexplained += 1;
            let alert = coins_without_webhook(order, target, txid, &row);
            report.alerts += usize::from(store.raise_alert(&alert, now)?.is_some());
        }
        for txid in history.iter().map(Txid::to_string) {
            if !row.unexplained.contains(&txid) {
                let key = AlertKind::ChainUnexplained.key(&format!("{}:{txid}", target.address));
                store.resolve_alert(&key, now)?;
            }
        }
        if row.tx_count > 0 || store.address_location(&target.address)?.is_some() {
            store.set_address_onchain(&row)?;
        }
    }
    if let Some(index) = highest_used {
        reconcile::window::follow_chain(store, order, index, now)
            .map_err(|e| Error::Server(e.to_string()))?;
    }
    Ok(())
}

/// The (address, txid) pairs the payouts Pocket reported explain.
fn explained(store: &Store, order: &StoredOrder) -> Result<HashSet<(String, String)>, Error> {
    Ok(store
        .exchanges(&ExchangeFilter {
            order_id: Some(order.id.clone()),
            state: None,
        })?
        .into_iter()
        .filter_map(|e| e.payout)
        .map(|p| (p.address, p.txid))
        .collect())
}

/// What the chain shows of one address: its history, what it received,
/// what is unspent, and the receiving transactions no payout explains.
fn address_row(
    order: &StoredOrder,
    target: &Target,
    history: &[Txid],
    transactions: &HashMap<Txid, Transaction>,
    explained: &HashSet<(String, String)>,
    now: DateTime<Utc>,
) -> AddressOnchain {
    let spent: HashSet<bitcoin::OutPoint> = history
        .iter()
        .filter_map(|t| transactions.get(t))
        .flat_map(|tx| tx.input.iter().map(|i| i.previous_output))
        .collect();
    let (mut received, mut unspent) = (0u64, 0u64);
    let mut unexplained = Vec::new();
    for txid in history {
        let Some(tx) = transactions.get(txid) else {
            continue;
        };
        let mut pays = false;
        for (vout, output) in tx.output.iter().enumerate() {
            if output.script_pubkey != target.script {
                continue;
            }
            pays = true;
            received += output.value.to_sat();
            if !spent.contains(&bitcoin::OutPoint::new(*txid, vout as u32)) {
                unspent += output.value.to_sat();
            }
        }
        if pays && !explained.contains(&(target.address.clone(), txid.to_string())) {
            unexplained.push(txid.to_string());
        }
        // (explained ones close their alert in `scan_order`)
    }
    AddressOnchain {
        address: target.address.clone(),
        order_id: order.id.clone(),
        index: target.index,
        tx_count: history.len() as u32,
        received_sat: received,
        unspent_sat: unspent,
        unexplained,
        checked_at: now,
    }
}

fn coins_without_webhook(
    order: &StoredOrder,
    target: &Target,
    txid: &str,
    row: &AddressOnchain,
) -> NewAlert {
    NewAlert {
        kind: AlertKind::ChainUnexplained,
        order_id: Some(order.id.clone()),
        exchange_id: None,
        message: format!(
            "Order {}: your address {} (index {}) received coins in transaction {txid} ({} sat there in all), which no report from Pocket explains. Most likely it is a Pocket payout whose notifications were lost: find the exchange in the Pocket app and run `pocket-dca exchange fetch ID`. If you received a payment there yourself, acknowledge this alert. Either way the address counts as used.",
            order.name(),
            target.address,
            target.index,
            row.received_sat
        ),
        subject: format!("{}:{txid}", target.address),
    }
}
