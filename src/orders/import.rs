//! Importing an order created elsewhere with the same client id: the key at
//! the order's path must give the address Pocket pays to; exchanges that
//! arrived before the import are reconciled now.

use chrono::{DateTime, Utc};

use super::create::{derive_window, stored_order};
use super::error::Error;
use super::model::StoredOrder;
use super::plan::{Plan, validate_plan};
use crate::pocket::{Client, DEFAULT_GAP_LIMIT};
use crate::reconcile;
use crate::store::Store;
use crate::wallet::{KeyPath, PayoutKey};

/// What `order import` needs.
#[derive(Debug, Clone)]
pub struct ImportOrder {
    /// Pocket's order id.
    pub id: String,
    pub key_text: String,
    pub key: PayoutKey,
    /// The path of the signed address; Pocket's `derivation_path` when `None`.
    pub path: Option<KeyPath>,
    pub plan: Plan,
}

/// An imported order, and how many exchanges that arrived before it were
/// reconciled now.
#[derive(Debug, Clone)]
pub struct Imported {
    pub order: StoredOrder,
    pub adopted: usize,
}

/// Imports an order created elsewhere with the same client id: its key at
/// its path must give the address Pocket pays to. Exchanges stored before
/// the order was known are reconciled with it.
pub async fn import(
    client: &Client,
    store: &mut Store,
    req: &ImportOrder,
    now: DateTime<Utc>,
) -> Result<Imported, Error> {
    let (key_text, key, plan) = (&req.key_text, &req.key, &req.plan);
    validate_plan(plan)?;
    let fetched = client.get_order(req.id.trim()).await?;
    let order = &fetched.value;
    let payout = &order.payout_method;
    let (Some(pocket_key), Some(pocket_address)) =
        (&payout.extended_public_key, &payout.bitcoin_address)
    else {
        return Err(Error::NotAnXpubOrder {
            id: order.id.clone(),
        });
    };
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
            pocket: pocket_address.clone(),
            ours: derived.address.to_string(),
            path: path.to_string(),
        });
    }
    let window = derive_window(key, &path, payout.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT))?;
    let stored = stored_order(
        order,
        &fetched.json,
        key_text,
        key,
        &path,
        &derived.address,
        plan,
        now,
    );
    store.insert_order(&stored, &window)?;
    let adopted = reconcile::adopt(store, &stored.id, now)?;
    Ok(Imported {
        order: stored,
        adopted,
    })
}
