//! Reconciliation: applies what Pocket says about an exchange — from a
//! webhook delivery, from `sync` or from `exchange fetch` — through the pure
//! rules of [`rules`], matches settled payouts to the order's addresses
//! ([`window`]), and raises the alerts the user must see. Each observation is
//! applied in one transaction.

mod error;
mod notices;
mod payout;
pub mod rules;
pub mod sync;
pub mod window;

use chrono::{DateTime, Utc};

pub use error::Error;
pub use rules::{Headroom, Reconciliation, State, Transition};
pub use window::{AddressStatus, headroom};

use crate::alerts::AlertKind;
use crate::orders::model::StoredOrder;
use crate::pocket::{Exchange, ExchangeId, OrderId};
use crate::store::{ExchangeFilter, ExchangeRow, PayoutRow, Store};

/// What applying one observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub exchange_id: ExchangeId,
    pub transition: Transition,
    /// One line for the delivery log.
    pub summary: String,
}

impl Applied {
    /// The delivery status this outcome is recorded as.
    pub fn status(&self) -> &'static str {
        match self.transition {
            Transition::New(_) | Transition::Advance { .. } => "applied",
            Transition::Same => "unchanged",
            Transition::Stale { .. } | Transition::RefundAfterSettlement { .. } => "stale",
        }
    }

    /// Whether the observation changed the stored exchange.
    pub fn changed(&self) -> bool {
        matches!(
            self.transition,
            Transition::New(_) | Transition::Advance { .. }
        )
    }
}

/// Applies an exchange object in one transaction.
pub fn apply(
    store: &mut Store,
    exchange: &Exchange,
    json: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    store.transaction(|s| apply_in(s, exchange, json, now))
}

/// Applies an exchange object inside the caller's transaction.
pub fn apply_in(
    store: &Store,
    exchange: &Exchange,
    json: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    let stored = store.exchange(&exchange.id)?;
    let observed = rules::observe(exchange);
    let transition = rules::transition(stored.as_ref().map(|r| r.state), observed);
    let applied = |summary: String| Applied {
        exchange_id: exchange.id.clone(),
        transition,
        summary,
    };
    if let Some(summary) = unchanged(store, exchange, transition, observed, now)? {
        return Ok(applied(summary));
    }
    let order = match &exchange.order_id {
        Some(order_id) => store.order(order_id)?,
        None => None,
    };
    let mut warnings = rules::check_amounts(exchange);
    let previous = stored.as_ref();
    let already_matched =
        previous.is_some_and(|p| p.payout.is_some() && p.reconciliation != "pending");
    let reconciliation = match (&order, &exchange.payout, observed) {
        (None, _, _) => Reconciliation::UnknownOrder,
        (Some(_), Some(_), State::Settled | State::Confirmed) if already_matched => {
            previous_reconciliation(previous)
        }
        (Some(order), Some(p), State::Settled | State::Confirmed) => {
            payout::reconcile(store, order, exchange, p, &mut warnings, now)?
        }
        _ => Reconciliation::Pending,
    };
    if already_matched && let Some(p) = previous {
        warnings = merge(p.warnings.clone(), warnings);
    }
    let row = exchange_row(
        exchange,
        order.is_some(),
        observed,
        &reconciliation,
        warnings,
    );
    store.save_exchange(&ExchangeRow {
        json: json.to_string(),
        first_seen_at: previous.map_or(now, |p| p.first_seen_at),
        updated_at: now,
        ..row
    })?;
    raise_state_alerts(store, exchange, observed, order.as_ref(), now)?;
    if let Transition::Advance {
        from: State::Interrupted,
        ..
    } = transition
    {
        // The user acted: the interruption is over.
        store.resolve_alert(&AlertKind::Interrupted.key(&exchange.id), now)?;
    }
    Ok(applied(summary(
        transition,
        &reconciliation,
        order.is_some(),
    )))
}

/// Handles the transitions that store nothing new: a duplicate, a stale
/// observation, a refund after settlement (an alert). The summary, or
/// `None` when the observation is to be stored.
fn unchanged(
    store: &Store,
    exchange: &Exchange,
    transition: Transition,
    observed: State,
    now: DateTime<Utc>,
) -> Result<Option<String>, Error> {
    Ok(match transition {
        Transition::Same => Some(format!("duplicate: exchange already {observed}")),
        Transition::Stale { stored, observed } => Some(format!(
            "stale: exchange is {stored}, this says {observed}; nothing changed"
        )),
        Transition::RefundAfterSettlement { stored } => {
            store.raise_alert(&notices::refund_after_settlement(exchange, stored), now)?;
            Some(format!(
                "refund after settlement: exchange stays {stored}, alert raised"
            ))
        }
        Transition::New(_) | Transition::Advance { .. } => None,
    })
}

fn summary(transition: Transition, reconciliation: &Reconciliation, known: bool) -> String {
    let what = match transition {
        Transition::New(state) => format!("new exchange, {state}"),
        Transition::Advance { from, to } => format!("{from} → {to}"),
        _ => String::new(),
    };
    let detail = match (reconciliation, known) {
        (Reconciliation::Pending, true) => String::new(),
        (Reconciliation::UnknownOrder, _) => "; order not known here".to_string(),
        (r, _) => format!("; payout {}", r.code()),
    };
    format!("{what}{detail}")
}

fn merge(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    for w in b {
        if !a.contains(&w) {
            a.push(w);
        }
    }
    a
}

fn previous_reconciliation(previous: Option<&ExchangeRow>) -> Reconciliation {
    let Some(p) = previous else {
        return Reconciliation::Pending;
    };
    let index = p.address_index.unwrap_or(0);
    match p.reconciliation.as_str() {
        "matched" => Reconciliation::Matched { index },
        "outside_window" => Reconciliation::OutsideWindow { index },
        "reused" => Reconciliation::Reused {
            index,
            previous: String::new(),
        },
        "foreign" => Reconciliation::Foreign,
        "unknown_order" => Reconciliation::UnknownOrder,
        "other_order" => Reconciliation::OtherOrder {
            order_id: OrderId::default(),
            index,
        },
        _ => Reconciliation::Pending,
    }
}

/// The row to store for an exchange object (without its JSON and times).
fn exchange_row(
    exchange: &Exchange,
    known_order: bool,
    state: State,
    reconciliation: &Reconciliation,
    warnings: Vec<String>,
) -> ExchangeRow {
    let action = exchange.action.as_ref();
    ExchangeRow {
        id: exchange.id.clone(),
        order_id: exchange.order_id.clone(),
        known_order,
        state,
        pair: exchange.pair.clone(),
        fee_rate: exchange.fee_rate,
        cost: exchange.cost,
        fee: exchange.fee,
        rate: exchange.rate,
        amount_sat: exchange.amount.map(|a| a.to_sat()),
        executed_on: exchange.executed_on,
        action_code: action.map(|a| a.code.clone()),
        action_url: action.and_then(|a| a.url.clone()),
        action_id: action.and_then(|a| a.identification_id.clone()),
        reason_code: exchange.reason.as_ref().map(|r| r.code.clone()),
        payout: exchange.payout.as_ref().map(|payout| PayoutRow {
            txid: payout.txid.clone().unwrap_or_default(),
            vout: payout.outpoint.unwrap_or(0),
            address: payout.bitcoin_address.clone().unwrap_or_default(),
            path: payout.derivation_path.clone(),
            amount_sat: payout.amount.map(|a| a.to_sat()),
            fee_sat: payout.fee.map(|a| a.to_sat()),
            block_height: payout.block_height,
        }),
        address_index: reconciliation.index(),
        reconciliation: reconciliation.code().to_string(),
        warnings,
        json: String::new(),
        first_seen_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

/// Alerts the user must act on: an interruption, a refund, an unknown order.
fn raise_state_alerts(
    store: &Store,
    exchange: &Exchange,
    state: State,
    order: Option<&StoredOrder>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let name = notices::order_name(exchange, order);
    if let Some(alert) = notices::state_alert(exchange, state, &name) {
        store.raise_alert(&alert, now)?;
    }
    if order.is_none() {
        store.raise_alert(&notices::unknown_order(exchange, &name), now)?;
    }
    Ok(())
}

/// Reconciles the exchanges stored before their order was known (flagged
/// `unknown_order`) now that it is: after `order import`. How many.
pub fn adopt(store: &mut Store, order_id: &OrderId, now: DateTime<Utc>) -> Result<usize, Error> {
    let orphans: Vec<ExchangeRow> = store
        .exchanges(&ExchangeFilter {
            order_id: Some(order_id.clone()),
            state: None,
        })?
        .into_iter()
        .filter(|e| !e.known_order)
        .collect();
    store.transaction(|s| {
        for row in &orphans {
            let Ok(exchange) = serde_json::from_str::<Exchange>(&row.json) else {
                continue;
            };
            // Seen again from the start, now with its order.
            s.forget_exchange(&row.id)?;
            apply_in(s, &exchange, &row.json, now)?;
            s.resolve_alert(&AlertKind::UnknownOrder.key(&row.id), now)?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(orphans.len())
}
