//! Matching a settled payout to the order's addresses: where its address
//! lies (the window, beyond it, another order, nowhere), recording the use,
//! extending the window, and the alerts for what is not as expected.

use chrono::{DateTime, Utc};

use super::error::Error;
use super::matching::{self, AddressFact, Reconciliation};
use super::notices;
use super::search;
use super::window;
use crate::orders::model::{PayoutKind, StoredOrder};
use crate::pocket::{Exchange, ExchangeId, Payout};
use crate::store::Store;
use crate::wallet::KeyPath;

/// Where an exchange's payout went, recorded with the alerts it calls for;
/// problems with the payout's own fields go to `warnings`.
pub(super) fn reconcile(
    store: &Store,
    order: &StoredOrder,
    exchange: &Exchange,
    payout: &Payout,
    warnings: &mut Vec<String>,
    now: DateTime<Utc>,
) -> Result<Reconciliation, Error> {
    let (Some(address), Some(txid)) = (&payout.bitcoin_address, &payout.txid) else {
        warnings.push("the payout has no address or transaction id".into());
        return Ok(Reconciliation::Pending);
    };
    let vout = payout.outpoint.unwrap_or(0);
    let fact = locate(store, order, &exchange.id, payout, address)?;
    let single = order.payout_kind == PayoutKind::Address;
    let reconciliation = matching::match_payout(&fact, &format!("{txid}:{vout}"), single);
    let id = &exchange.id;
    match &reconciliation {
        Reconciliation::Matched { index }
        | Reconciliation::OutsideWindow { index }
        | Reconciliation::Reused { index, .. } => {
            if let Reconciliation::OutsideWindow { index } = reconciliation {
                window::reach(store, order, index, now)?;
                store.raise_alert(&notices::outside_window(order, id, address, index), now)?;
            }
            if let Reconciliation::Reused { previous, .. } = &reconciliation {
                let alert = notices::address_reuse(order, id, address, *index, previous);
                store.raise_alert(&alert, now)?;
            }
            store.record_use(id, &order.id, *index, (txid, vout), now)?;
            if order.derives() {
                check_path(order, payout, address, *index, warnings);
                window::extend(store, order, *index, now)?;
                window::check_headroom(store, order, now)?;
            }
        }
        Reconciliation::OtherOrder { order_id, index } => {
            store.record_use(id, order_id, *index, (txid, vout), now)?;
            let alert = notices::other_order(order, id, address, order_id, *index);
            store.raise_alert(&alert, now)?;
        }
        Reconciliation::Elsewhere { place } => {
            let alert = notices::payout_elsewhere(order, id, address, place);
            store.raise_alert(&alert, now)?;
            warnings.push(format!("paid to {place}"));
        }
        Reconciliation::Foreign => {
            let searched = window::search_limit(store, order)? + 1;
            store.raise_alert(&notices::foreign(order, id, address, searched), now)?;
        }
        Reconciliation::Pending
        | Reconciliation::AwaitingIdentification
        | Reconciliation::NotApplicable
        | Reconciliation::UnknownOrder
        | Reconciliation::Lightning => {}
    }
    Ok(reconciliation)
}

/// What the store knows of a payout's address, searching the order's chain
/// when it is not derived yet.
fn locate(
    store: &Store,
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    payout: &Payout,
    address: &str,
) -> Result<AddressFact, Error> {
    Ok(match store.address_location(address)? {
        Some((owner, index)) if owner == order.id => AddressFact::Ours {
            index,
            used_by: store.outputs_paid_to(&owner, index, exchange_id)?,
        },
        Some((owner, index)) => AddressFact::Others {
            order_id: owner,
            index,
        },
        None if !order.derives() => AddressFact::NotFound,
        None => match window::find(store, order, address)? {
            Some(index) => AddressFact::Found { index },
            None => {
                let limit = window::search_limit(store, order)?;
                let path = payout.derivation_path.as_deref();
                match search::find_elsewhere(order, path, address, limit)? {
                    Some(search::Found::OnChain { index }) => AddressFact::Found { index },
                    Some(search::Found::Elsewhere(place)) => AddressFact::Elsewhere { place },
                    None => AddressFact::NotFound,
                }
            }
        },
    })
}

/// Warns when Pocket's `derivation_path` is not where the address lies.
fn check_path(
    order: &StoredOrder,
    payout: &Payout,
    address: &str,
    index: u32,
    warnings: &mut Vec<String>,
) {
    let expected = KeyPath::on_chain(&order.chain, index).to_string();
    if let Some(path) = &payout.derivation_path
        && path.trim() != expected
    {
        warnings.push(format!(
            "Pocket reports derivation path {path} for {address}, which is at {expected}"
        ));
    }
}
