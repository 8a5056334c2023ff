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

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Fetch and store every used address again, not only those whose
    /// history changed since the last scan.
    pub full: bool,
    /// Only this order's window.
    pub order: Option<crate::pocket::OrderId>,
}

/// Electrum's status of a history: the SHA-256 of `txid:height:` for each
/// transaction, hex; `None` for an address without history. Computed from
/// the history fetched, so that an address whose history did not change
/// costs nothing more.
fn status_of(history: &[(Txid, i64)]) -> Option<String> {
    use bitcoin::hashes::{Hash, sha256};
    if history.is_empty() {
        return None;
    }
    let joined: String = history.iter().map(|(t, h)| format!("{t}:{h}:")).collect();
    Some(hex::encode(
        sha256::Hash::hash(joined.as_bytes()).to_byte_array(),
    ))
}

/// Scans every order whose payouts go to derived addresses: every
/// address's history in one batch, the transactions of the histories that
/// changed in another, then what they show stored per order, one
/// transaction each. `progress(done, orders)` follows the orders.
pub fn scan_windows(
    backend: &Backend,
    store: &mut Store,
    now: DateTime<Utc>,
    options: &ScanOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScanReport, Error> {
    let mut report = ScanReport::default();
    let orders: Vec<StoredOrder> = store
        .orders()?
        .into_iter()
        .filter(|o| o.derives())
        .filter(|o| options.order.as_ref().is_none_or(|id| *id == o.id))
        .collect();
    let mut all = Vec::new();
    for order in &orders {
        all.push(targets(store, order)?);
    }
    let scripts: Vec<ScriptBuf> = all.iter().flatten().map(|t| t.script.clone()).collect();
    let mut histories = backend.histories(&scripts)?.into_iter();
    let per_order: Vec<Vec<Vec<(Txid, i64)>>> = all
        .iter()
        .map(|targets| histories.by_ref().take(targets.len()).collect())
        .collect();
    let mut known: HashMap<String, AddressOnchain> = HashMap::new();
    for order in &orders {
        for row in store.addresses_onchain(&order.id)? {
            known.insert(row.address.clone(), row);
        }
    }
    let changed = |target: &Target, history: &[(Txid, i64)]| {
        options.full
            || known
                .get(&target.address)
                .is_none_or(|row| row.status != status_of(history))
    };
    let mut wanted: HashSet<Txid> = HashSet::new();
    for (targets, histories) in all.iter().zip(&per_order) {
        for (target, history) in targets.iter().zip(histories) {
            if changed(target, history) {
                wanted.extend(history.iter().map(|(t, _)| *t));
            }
        }
    }
    let transactions = backend.raw_transactions(&wanted.into_iter().collect::<Vec<_>>())?;
    for (done, ((order, targets), histories)) in orders.iter().zip(&all).zip(&per_order).enumerate()
    {
        let explained = explained(store, order)?;
        let fresh: Vec<bool> = targets
            .iter()
            .zip(histories)
            .map(|(t, h)| changed(t, h))
            .collect();
        let scan = Scan {
            order,
            targets,
            histories,
            fresh: &fresh,
            known: &known,
            transactions: &transactions,
            explained: &explained,
        };
        store.transaction(|store| record(store, &scan, now, &mut report))?;
        progress(done + 1, orders.len());
    }
    Ok(report)
}

/// What the chain showed of one order's addresses.
struct Scan<'a> {
    order: &'a StoredOrder,
    targets: &'a [Target],
    histories: &'a [Vec<(Txid, i64)>],
    /// Per address: whether its history changed since the last scan.
    fresh: &'a [bool],
    /// What the last scan stored, by address.
    known: &'a HashMap<String, AddressOnchain>,
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
    for ((target, history), fresh) in scan.targets.iter().zip(scan.histories).zip(scan.fresh) {
        report.addresses += 1;
        if !history.is_empty() {
            report.used += 1;
            highest_used = Some(target.index);
        }
        if !fresh {
            // The same history: only a report that arrived since may now
            // explain what was unexplained.
            if let Some(row) = scan.known.get(&target.address) {
                report.unexplained += explain_again(store, row, scan.explained, now)?;
            }
            continue;
        }
        let txids: Vec<Txid> = history.iter().map(|(t, _)| *t).collect();
        let mut row = address_row(
            order,
            target,
            &txids,
            scan.transactions,
            scan.explained,
            now,
        );
        row.status = status_of(history);
        for txid in &row.unexplained {
            report.unexplained += 1;
            let alert = coins_without_webhook(order, target, txid, &row);
            report.alerts += usize::from(store.raise_alert(&alert, now)?.is_some());
        }
        for txid in txids.iter().map(Txid::to_string) {
            if !row.unexplained.contains(&txid) {
                let key = AlertKind::ChainUnexplained.key(&format!("{}:{txid}", target.address));
                store.resolve_alert(&key, "the chain no longer shows it unexplained", now)?;
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

/// An unchanged address whose unexplained transactions a payout may now
/// explain: their alerts close and the row says so. How many remain
/// unexplained.
fn explain_again(
    store: &Store,
    row: &AddressOnchain,
    explained: &HashSet<(String, String)>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let (now_explained, still): (Vec<String>, Vec<String>) = row
        .unexplained
        .iter()
        .cloned()
        .partition(|t| explained.contains(&(row.address.clone(), t.clone())));
    let remaining = still.len();
    if now_explained.is_empty() {
        return Ok(remaining);
    }
    for txid in &now_explained {
        let key = AlertKind::ChainUnexplained.key(&format!("{}:{txid}", row.address));
        store.resolve_alert(&key, "a payout Pocket reported explains it", now)?;
    }
    store.set_address_onchain(&AddressOnchain {
        unexplained: still,
        checked_at: now,
        ..row.clone()
    })?;
    Ok(remaining)
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
        status: None,
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
