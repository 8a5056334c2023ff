//! Changing an order: pause, resume and the fee rate at Pocket, the plan
//! locally, and refreshing what Pocket says of it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::error::Error;
use super::model::{Day, StoredOrder};
use super::plan::{Plan, validate_fee_rate, validate_plan};
use crate::pocket::{self, Client, OrderId, OrderPatch};
use crate::store::{self, Store};

/// Fetches an order from Pocket and stores what changed.
pub async fn refresh(
    client: &Client,
    store: &mut Store,
    id: &OrderId,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let fetched = client.get_order(id).await?;
    apply_pocket(store, &fetched.value, &fetched.json, now)
}

fn apply_pocket(
    store: &Store,
    order: &pocket::Order,
    json: &str,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    store.update_order_from_pocket(
        &order.id,
        order.active,
        order.fee_rate,
        &order.payment_method,
        json,
        now,
    )?;
    Ok(store
        .order(&order.id)?
        .ok_or_else(|| store::Error::NoSuchOrder {
            id: order.id.to_string(),
        })?)
}

/// Pauses or resumes an order at Pocket.
pub async fn set_active(
    client: &Client,
    store: &Store,
    id: &OrderId,
    active: bool,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let patch = OrderPatch {
        active: Some(active),
        ..OrderPatch::default()
    };
    let fetched = client.patch_order(id, &patch).await?;
    apply_pocket(store, &fetched.value, &fetched.json, now)
}

/// Changes to an order: the fee rate at Pocket, the rest locally.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub fee_rate: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub day: Option<Day>,
    pub emails: Option<Vec<String>>,
    pub label: Option<String>,
    pub wallet_gap_limit: Option<u32>,
}

/// Applies changes: everything is validated before anything is sent or written.
pub async fn change(
    client: &Client,
    store: &Store,
    id: &OrderId,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let mut order = store
        .order(id)?
        .ok_or_else(|| store::Error::NoSuchOrder { id: id.to_string() })?;
    if let Some(rate) = changes.fee_rate {
        validate_fee_rate(rate)?;
    }
    let plan = Plan {
        amount: changes.amount.unwrap_or(order.amount),
        day: changes.day.unwrap_or(order.day),
        emails: changes
            .emails
            .clone()
            .unwrap_or_else(|| order.emails.clone()),
        label: changes.label.clone().or_else(|| order.label.clone()),
        wallet_gap_limit: changes.wallet_gap_limit.unwrap_or(order.wallet_gap_limit),
    };
    validate_plan(&plan)?;
    if let Some(rate) = changes.fee_rate
        && rate != order.fee_rate
    {
        let patch = OrderPatch {
            fee_rate: Some(rate),
            ..OrderPatch::default()
        };
        let fetched = client.patch_order(id, &patch).await?;
        order = apply_pocket(store, &fetched.value, &fetched.json, now)?;
    }
    order.amount = plan.amount;
    order.day = plan.day;
    order.emails = plan.emails;
    order.label = plan.label.filter(|l| !l.is_empty());
    order.wallet_gap_limit = plan.wallet_gap_limit;
    store.update_plan(&order, now)?;
    Ok(store
        .order(id)?
        .ok_or_else(|| store::Error::NoSuchOrder { id: id.to_string() })?)
}
