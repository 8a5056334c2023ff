//! The sandbox's engine: its options, its state behind one lock, the clock,
//! the prices and fault knobs, and the webhook each change queues. What
//! Pocket's API does is in `api`, what the bank does in `bank`, what the
//! blockchain does in `chain`; every change and its webhook are stored in
//! one transaction before the answer.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio::sync::Notify;

use super::error::{ApiError, Result};
use super::ledger::Treasury;
use super::options::{Faults, Options, PAYOUT_EVENT, Prices};
use super::state::State;
use crate::pocket::Exchange;

/// The sandbox: its options, its state and the dispatcher's doorbell.
pub struct Engine {
    pub(super) options: Options,
    state: Mutex<State>,
    pub(super) wake: Notify,
    /// The key the sandbox's chain is mined to and pays out from.
    pub(super) treasury: Treasury,
}

const FAULTS: &str = "faults";
const PRICES: &str = "prices";

impl Engine {
    pub fn new(options: Options, state: State) -> Arc<Engine> {
        Arc::new(Engine {
            options,
            state: Mutex::new(state),
            wake: Notify::new(),
            treasury: Treasury::new(),
        })
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> Result<DateTime<Utc>> {
        Ok(self.state().now()?)
    }

    pub fn set_clock(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let state = self.state();
        state.set_now(now)?;
        Ok(state.now()?)
    }

    pub fn prices(&self) -> Result<Prices> {
        Ok(self.state().setting(PRICES)?.unwrap_or(self.options.prices))
    }

    pub fn set_prices(&self, prices: Prices) -> Result<Prices> {
        for (name, price) in [
            ("eur", prices.eur),
            ("chf", prices.chf),
            ("gbp", prices.gbp),
        ] {
            if price <= Decimal::ZERO {
                return Err(ApiError::bad(
                    "invalid_price",
                    format!("{name} price must be positive"),
                ));
            }
        }
        self.state().set_setting(PRICES, &prices)?;
        Ok(prices)
    }

    /// Webhook deliveries not delivered (or given up) yet.
    pub fn pending_webhooks(&self) -> Result<usize> {
        Ok(self
            .state()
            .deliveries()?
            .iter()
            .filter(|d| d.status == "pending")
            .count())
    }

    pub fn faults(&self) -> Result<Faults> {
        Ok(self.state().setting(FAULTS)?.unwrap_or_default())
    }

    pub fn set_faults(&self, faults: Faults) -> Result<Faults> {
        self.state().set_setting(FAULTS, &faults)?;
        self.wake.notify_one();
        Ok(faults)
    }

    /// Stores a change (and the webhooks it queues) in one transaction,
    /// releases the state and wakes the webhook dispatcher.
    pub(super) fn commit<T, E: From<rusqlite::Error> + Into<ApiError>>(
        &self,
        mut state: MutexGuard<'_, State>,
        change: impl FnOnce(&State) -> std::result::Result<T, E>,
    ) -> Result<T> {
        let value = state.transaction(change).map_err(Into::into)?;
        drop(state);
        self.wake.notify_one();
        Ok(value)
    }

    /// The knobs in effect.
    pub(super) fn faults_in(&self, state: &State) -> rusqlite::Result<Faults> {
        Ok(state.setting(FAULTS)?.unwrap_or_default())
    }

    /// The event name payouts go out under now.
    pub(super) fn payout_event(&self, state: &State) -> rusqlite::Result<String> {
        Ok(self
            .faults_in(state)?
            .payout_event
            .unwrap_or_else(|| PAYOUT_EVENT.to_string()))
    }

    /// Queues the webhook of a change, inside the change's transaction.
    pub(super) fn enqueue(
        &self,
        state: &State,
        event: &str,
        exchange: &Exchange,
    ) -> rusqlite::Result<()> {
        let faults = self.faults_in(state)?;
        let bare = faults.bare.unwrap_or(self.options.bare_webhooks);
        let body = webhook_body(event, exchange, bare)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let due = Utc::now().timestamp_millis() + faults.delay_ms as i64;
        state.enqueue(
            &uuid::Uuid::new_v4().to_string(),
            event,
            &exchange.id,
            &body,
            due,
        )
    }
}

/// The JSON Pocket posts: the documented envelope (its payload names the
/// exchange `exchange_id` and carries `welcomeReward`, as Pocket's Postman
/// examples do), or the bare exchange object of the tutorial.
pub fn webhook_body(event: &str, exchange: &Exchange, bare: bool) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(exchange)?;
    if bare {
        return serde_json::to_string(&value);
    }
    if let Some(object) = value.as_object_mut() {
        if let Some(id) = object.remove("id") {
            object.insert("exchange_id".into(), id);
        }
        object
            .entry("welcomeReward")
            .or_insert(serde_json::Value::Null);
    }
    serde_json::to_string(&serde_json::json!({"event": event, "payload": value}))
}

/// Letters and digits, as Pocket's challenge tokens are.
pub(super) fn random_token(len: usize) -> String {
    crate::random::token(
        len,
        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
    )
}
