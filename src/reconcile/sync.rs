//! Asking Pocket again: `sync` polls every exchange that may still change
//! and every order (a lost delivery delays an update, never loses it), and
//! `exchange fetch` applies one exchange by id.

use chrono::{DateTime, Utc};

use super::error::Error;
use super::{Applied, apply};
use crate::orders;
use crate::pocket::Client;
use crate::store::Store;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub exchanges_checked: usize,
    pub exchanges_changed: usize,
    pub orders_refreshed: usize,
    pub errors: Vec<String>,
}

/// Asks Pocket about every exchange that may still change and every order,
/// and applies the answers.
pub async fn sync(
    client: &Client,
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<SyncReport, Error> {
    let mut report = SyncReport::default();
    for id in store.open_exchange_ids()? {
        report.exchanges_checked += 1;
        match client.get_exchange(&id).await {
            Ok(fetched) => {
                if apply(store, &fetched.value, None, &fetched.json, now)?.changed() {
                    report.exchanges_changed += 1;
                }
            }
            Err(e) => report.errors.push(format!("exchange {id}: {e}")),
        }
    }
    for order in store.orders()? {
        match orders::refresh(client, store, &order.id, now).await {
            Ok(_) => report.orders_refreshed += 1,
            Err(orders::Error::Store(e)) => return Err(e.into()),
            Err(e) => report.errors.push(format!("order {}: {e}", order.id)),
        }
    }
    Ok(report)
}

/// Fetches one exchange by id and applies it (`exchange fetch`).
pub async fn fetch(
    client: &Client,
    store: &mut Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    let fetched = client.get_exchange(id.trim()).await?;
    apply(store, &fetched.value, None, &fetched.json, now)
}
