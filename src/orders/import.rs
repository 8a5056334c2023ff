//! Importing an order created elsewhere with the same client id, whatever
//! Pocket pays it to: an extended key (the key at the order's path must give
//! the address Pocket pays to), one address (tracked as that address), or a
//! lightning node (tracked without addresses). Exchanges that arrived before
//! the import are reconciled now.

use chrono::{DateTime, Utc};

use super::create::{Payout, derive_window, stored_order};
use super::error::Error;
use super::model::{PayoutKind, StoredOrder};
use super::plan::{Plan, validate_plan};
use crate::pocket::{self, Client, DEFAULT_GAP_LIMIT};
use crate::reconcile;
use crate::store::Store;
use crate::wallet::{
    Address, DerivedAddress, KeyPath, Network, PayoutKey, ScriptType, parse_address,
};

/// What `order import` needs.
#[derive(Debug, Clone)]
pub struct ImportOrder {
    /// Pocket's order id.
    pub id: String,
    /// The key as the user gave it, and parsed: needed for an order paid to
    /// an extended key, not for one paid to an address or over lightning.
    pub key: Option<(String, PayoutKey)>,
    /// The path of the signed address; Pocket's `derivation_path` when `None`.
    pub path: Option<KeyPath>,
    /// The configured network (an order's address must be on it).
    pub network: Network,
    pub plan: Plan,
}

/// An imported order, and how many exchanges that arrived before it were
/// reconciled now.
#[derive(Debug, Clone)]
pub struct Imported {
    pub order: StoredOrder,
    pub adopted: usize,
}

/// Imports an order created elsewhere with the same client id. Exchanges
/// stored before the order was known are reconciled with it.
pub async fn import(
    client: &Client,
    store: &mut Store,
    req: &ImportOrder,
    now: DateTime<Utc>,
) -> Result<Imported, Error> {
    validate_plan(&req.plan)?;
    let fetched = client.get_order(req.id.trim()).await?;
    let order = &fetched.value;
    let currency = order
        .payment_method
        .currency
        .ok_or_else(|| Error::UnknownCurrency {
            id: order.id.clone(),
        })?;
    let payout = &order.payout_method;
    let (payout, window) = match (
        &payout.extended_public_key,
        &payout.bitcoin_address,
        &payout.node_pubkey,
    ) {
        (Some(pocket_key), Some(address), _) => to_key(order, req, pocket_key, address)?,
        (None, Some(address), _) => to_address(order, req, address)?,
        (None, None, Some(node)) => (to_node(req, node), Vec::new()),
        _ => {
            return Err(Error::NoPayoutMethod {
                id: order.id.clone(),
            });
        }
    };
    let stored = stored_order(order, &fetched.json, currency, payout, &req.plan, now);
    store.insert_order(&stored, &window)?;
    let adopted = reconcile::adopt(store, &stored.id, now)?;
    Ok(Imported {
        order: stored,
        adopted,
    })
}

/// An order paid to an extended key: the user's key must be Pocket's, and
/// give the signed address at the order's path.
fn to_key(
    order: &pocket::Order,
    req: &ImportOrder,
    pocket_key: &str,
    pocket_address: &str,
) -> Result<(Payout, Vec<DerivedAddress>), Error> {
    let Some((key_text, key)) = &req.key else {
        return Err(Error::KeyNeeded {
            id: order.id.clone(),
        });
    };
    let payout = &order.payout_method;
    let path = match &req.path {
        Some(p) => p.clone(),
        None => match &payout.derivation_path {
            Some(p) => key.parse_path(p)?,
            None => key.default_path(),
        },
    };
    let derived = key.address_at(&path)?;
    // The key Pocket holds must be the same key data as the user's.
    let theirs = PayoutKey::parse(pocket_key, Some(key.script_type()), Some(key.network()))
        .map(|k| *k.xpub() == *key.xpub())
        .unwrap_or(false);
    if !theirs || derived.address.to_string() != *pocket_address {
        return Err(Error::KeyMismatch {
            id: order.id.clone(),
            pocket: pocket_address.to_string(),
            ours: derived.address.to_string(),
            path: path.to_string(),
        });
    }
    let window = derive_window(key, &path, payout.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT))?;
    let payout = Payout::to_key(
        key_text,
        key,
        pocket_key.to_string(),
        &path,
        &derived.address,
    );
    Ok((payout, window))
}

/// An order paid to one address: tracked with that address as its window.
fn to_address(
    order: &pocket::Order,
    req: &ImportOrder,
    text: &str,
) -> Result<(Payout, Vec<DerivedAddress>), Error> {
    let unusable = || Error::UnusableAddress {
        id: order.id.clone(),
        address: text.to_string(),
        network: crate::wallet::network_name(req.network),
    };
    let address: Address = parse_address(text)
        .ok()
        .filter(|a| a.as_unchecked().is_valid_for_network(req.network))
        .ok_or_else(unusable)?;
    let script_type = ScriptType::of_address(&address).ok_or_else(unusable)?;
    let window = vec![DerivedAddress {
        path: KeyPath::on_chain(&[], 0),
        address: address.clone(),
    }];
    let payout = Payout {
        kind: PayoutKind::Address,
        key_text: String::new(),
        pocket_key: String::new(),
        script_type: Some(script_type),
        network: req.network,
        chain: Vec::new(),
        start_index: 0,
        address: Some(address),
        node_pubkey: None,
    };
    Ok((payout, window))
}

/// An order paid over lightning: tracked without addresses.
fn to_node(req: &ImportOrder, node: &str) -> Payout {
    Payout {
        kind: PayoutKind::Lightning,
        key_text: String::new(),
        pocket_key: String::new(),
        script_type: None,
        network: req.network,
        chain: Vec::new(),
        start_index: 0,
        address: None,
        node_pubkey: Some(node.trim().to_string()),
    }
}
