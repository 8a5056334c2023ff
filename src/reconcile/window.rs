//! The window of expected payout addresses of an order: derived and stored
//! ahead of the last used one (persist before you reveal), searched for a
//! payout's address, listed with what paid to each, and the headroom a
//! wallet needs to see every payout.

use chrono::{DateTime, Utc};

use super::error::Error;
use super::matching::{self, Headroom, SEARCH_BEYOND};
use super::notices;
use crate::alerts::AlertKind;
use crate::orders::model::StoredOrder;
use crate::pocket::{ExchangeId, OrderId};
use crate::store::{AddressOnchain, AddressUse, ExchangeFilter, Store};
use crate::wallet::{Address, HARDENED, KeyPath, PayoutKey};

/// The index of the first address not derived yet.
fn next_index(store: &Store, order: &StoredOrder) -> Result<u32, Error> {
    Ok(store
        .highest_index(&order.id)?
        .map_or(order.start_index, |h| h + 1))
}

/// Derives and stores the order's addresses from the next underived one up
/// to `last` (nothing when `last` is already derived).
fn derive_up_to(
    store: &Store,
    order: &StoredOrder,
    key: &PayoutKey,
    last: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let from = next_index(store, order)?;
    if from > last {
        return Ok(());
    }
    let addresses = key
        .chain(&order.chain)?
        .addresses(from, last - from + 1)?
        .collect::<Result<Vec<_>, _>>()?;
    store.add_addresses(&order.id, &addresses, now)?;
    Ok(())
}

/// Stores the addresses up to one found beyond the window, before its use
/// is recorded.
pub(super) fn reach(
    store: &Store,
    order: &StoredOrder,
    index: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    derive_up_to(store, order, &order.payout_key()?, index, now)
}

/// Derives addresses so that `gap_limit` unused ones follow the highest used one.
pub(super) fn extend(
    store: &Store,
    order: &StoredOrder,
    used: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let highest_used = store
        .used_indexes(&order.id)?
        .into_iter()
        .max()
        .unwrap_or(used)
        .max(used);
    let wanted = highest_used.saturating_add(order.gap_limit);
    derive_up_to(store, order, &order.payout_key()?, wanted, now)
}

/// The chain shows history at `index`: the window reaches it and keeps
/// `gap_limit` unused addresses after it, like after a payout.
pub fn follow_chain(
    store: &Store,
    order: &StoredOrder,
    index: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    reach(store, order, index, now)?;
    extend(store, order, index, now)
}

/// How far past the derived window a payout's address is searched.
pub(super) fn search_limit(store: &Store, order: &StoredOrder) -> Result<u32, Error> {
    let highest = store.highest_index(&order.id)?.unwrap_or(order.start_index);
    Ok(highest.saturating_add(SEARCH_BEYOND).min(HARDENED - 1))
}

/// The index of `address` on the order's chain, searched from 0 to the
/// search limit; `None` when the key does not derive it there.
pub(super) fn find(
    store: &Store,
    order: &StoredOrder,
    address: &str,
) -> Result<Option<u32>, Error> {
    let limit = search_limit(store, order)?;
    let chain = order.payout_key()?.chain(&order.chain)?;
    for index in 0..=limit {
        if chain.address(index)?.address.to_string() == *address {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// One address of an order's window and what paid to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressStatus {
    pub index: u32,
    pub path: KeyPath,
    pub address: Address,
    /// `expected`, `used` (one payout output, perhaps for several
    /// exchanges), `reused` (several outputs) or `used_elsewhere` (history
    /// on the chain that no payout explains).
    pub status: &'static str,
    pub exchange_ids: Vec<ExchangeId>,
    /// The outputs (`txid:vout`) that paid to it.
    pub outputs: Vec<String>,
    /// What the payouts to it brought, as Pocket reported them.
    pub received_sat: u64,
    /// What the chain shows of it, when a chain server is configured.
    pub onchain: Option<AddressOnchain>,
}

/// The order's derived addresses, by index, with their use.
pub fn addresses(store: &Store, order_id: &OrderId) -> Result<Vec<AddressStatus>, Error> {
    let uses = store.address_uses(order_id)?;
    let exchanges = store.exchanges(&ExchangeFilter {
        order_id: Some(order_id.clone()),
        state: None,
    })?;
    let onchain = store.addresses_onchain(order_id)?;
    Ok(store
        .addresses(order_id)?
        .into_iter()
        .map(|a| {
            let used: Vec<&AddressUse> = uses.iter().filter(|u| u.index == a.index).collect();
            let mut outputs: Vec<String> = used.iter().map(|u| u.output.clone()).collect();
            outputs.sort();
            outputs.dedup();
            let exchange_ids: Vec<ExchangeId> =
                used.iter().map(|u| u.exchange_id.clone()).collect();
            let received_sat = exchanges
                .iter()
                .filter(|e| exchange_ids.contains(&e.id))
                .filter_map(|e| e.payout.as_ref().and_then(|p| p.amount_sat))
                .sum();
            let chain = onchain
                .iter()
                .find(|o| o.address == a.address.to_string())
                .cloned();
            let elsewhere = chain.as_ref().is_some_and(|c| c.tx_count > 0);
            AddressStatus {
                index: a.index,
                path: a.path,
                address: a.address,
                status: match (outputs.len(), elsewhere) {
                    (0, true) => "used_elsewhere",
                    (0, false) => "expected",
                    (1, _) => "used",
                    _ => "reused",
                },
                exchange_ids,
                outputs,
                received_sat,
                onchain: chain,
            }
        })
        .collect())
}

pub fn headroom(store: &Store, order: &StoredOrder) -> Result<Headroom, Error> {
    let gap = matching::longest_gap(order.start_index, &store.used_indexes(&order.id)?);
    Ok(Headroom {
        longest_gap: gap,
        wallet_gap_limit: order.wallet_gap_limit,
        remaining: i64::from(order.wallet_gap_limit) - i64::from(gap),
    })
}

/// Raises the headroom alert when the gap nears the wallet's gap limit, and
/// closes it when the gaps are within the limit again (after a payout, or
/// after `order set --wallet-gap-limit`).
pub fn check_headroom(store: &Store, order: &StoredOrder, now: DateTime<Utc>) -> Result<(), Error> {
    let h = headroom(store, order)?;
    if h.is_tight() {
        store.raise_alert(&notices::gap_headroom(order, &h), now)?;
    } else {
        store.resolve_alerts_of(
            AlertKind::GapHeadroom,
            &order.id,
            "the gaps between payouts are within the wallet's gap limit again",
            now,
        )?;
    }
    Ok(())
}
