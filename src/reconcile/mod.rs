//! Reconciliation: applies what Pocket says about an exchange — from a
//! webhook delivery, from `sync` or from `exchange fetch` — through the pure
//! rules of [`rules`], matches settled payouts to the order's addresses
//! ([`window`]), and raises the alerts the user must see. Each observation is
//! applied in one transaction.

pub mod checks;
mod error;
pub mod matching;
mod notices;
mod payout;
pub mod rules;
mod search;
pub mod sync;
pub mod window;

use chrono::{DateTime, Utc};

pub use error::Error;
pub use matching::{Headroom, Reconciliation};
pub use rules::{State, Transition};

use rules::{PayoutFacts, Seen};
pub use window::{AddressStatus, check_headroom, headroom};

use crate::alerts::{AlertKind, NewAlert};
use crate::orders::model::{PayoutKind, StoredOrder};
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
            Transition::Same => "unchanged",
            Transition::Stale { .. } | Transition::RefundAfterSettlement { .. } => "stale",
            _ => "applied",
        }
    }

    /// Whether the observation changed the stored exchange.
    pub fn changed(&self) -> bool {
        self.transition.stores()
    }
}

/// Applies an exchange object in one transaction; `event` is the name of
/// the envelope it came in, if any.
pub fn apply(
    store: &mut Store,
    exchange: &Exchange,
    event: Option<&str>,
    json: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    store.transaction(|s| apply_in(s, exchange, event, json, now))
}

/// Applies an exchange object inside the caller's transaction.
pub fn apply_in(
    store: &Store,
    exchange: &Exchange,
    event: Option<&str>,
    json: &str,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    let stored = store.exchange(&exchange.id)?;
    let observed = rules::observe(exchange, event);
    let transition = transition_of(stored.as_ref(), exchange, observed);
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
    let mut warnings = checks::check_amounts(exchange);
    let problems = checks::check_fields(exchange, order.as_ref().map(|o| o.currency));
    if !problems.is_empty() {
        store.raise_alert(&notices::exchange_fields(exchange, &problems), now)?;
    }
    warnings.extend(problems);
    let previous = stored.as_ref();
    let reconciliation = reconcile_payout(
        store,
        order.as_ref(),
        exchange,
        previous,
        transition,
        observed,
        &mut warnings,
        now,
    )?;
    if let Some(p) = previous.filter(|_| !matches!(transition, Transition::PayoutChanged { .. })) {
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
        last_event: event.map(str::to_string),
        first_seen_at: previous.map_or(now, |p| p.first_seen_at),
        updated_at: now,
        ..row
    })?;
    raise_state_alerts(store, exchange, transition, observed, order.as_ref(), now)?;
    Ok(applied(summary(
        transition,
        &reconciliation,
        order.is_some(),
    )))
}

/// How the observation moves what is stored.
fn transition_of(stored: Option<&ExchangeRow>, exchange: &Exchange, observed: State) -> Transition {
    let stored_payout = stored.and_then(|r| r.payout.as_ref()).map(payout_facts);
    let observed_payout = exchange.payout.as_ref().map(PayoutFacts::of);
    rules::transition(
        stored.map(|r| Seen {
            state: r.state,
            payout: stored_payout.as_ref(),
        }),
        Seen {
            state: observed,
            payout: observed_payout.as_ref(),
        },
    )
}

fn payout_facts(p: &PayoutRow) -> PayoutFacts {
    PayoutFacts {
        txid: p.txid.clone(),
        vout: p.vout,
        address: p.address.clone(),
        amount_sat: p.amount_sat,
        block_height: p.block_height,
    }
}

/// Where the exchange's payout landed: matched anew when it is new or
/// changed (the old match undone), else as it was matched before.
#[allow(clippy::too_many_arguments)]
fn reconcile_payout(
    store: &Store,
    order: Option<&StoredOrder>,
    exchange: &Exchange,
    previous: Option<&ExchangeRow>,
    transition: Transition,
    observed: State,
    warnings: &mut Vec<String>,
    now: DateTime<Utc>,
) -> Result<Reconciliation, Error> {
    let Some(order) = order else {
        return Ok(Reconciliation::UnknownOrder);
    };
    let Some(payout) = &exchange.payout else {
        return Ok(matching::without_payout(observed));
    };
    if payout.is_lightning() {
        return Ok(Reconciliation::Lightning);
    }
    if !matches!(observed, State::Settled | State::Confirmed) {
        return Ok(Reconciliation::Pending);
    }
    let changed = matches!(transition, Transition::PayoutChanged { .. });
    let matched = previous.filter(|p| p.payout.is_some() && p.reconciliation != "pending");
    if let (Some(p), false) = (matched, changed) {
        return Ok(previous_reconciliation(p));
    }
    if changed {
        store.forget_use(&exchange.id)?;
    }
    payout::reconcile(store, order, exchange, payout, warnings, now)
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
        _ => None,
    })
}

fn summary(transition: Transition, reconciliation: &Reconciliation, known: bool) -> String {
    let what = match transition {
        Transition::New(state) => format!("new exchange, {state}"),
        Transition::Advance { from, to } => format!("{from} → {to}"),
        Transition::PayoutAfterRefund { to } => {
            format!("refunded → {to}: a payout after the refund")
        }
        Transition::PayoutChanged { from, to } => format!("{from} → {to}: the payout changed"),
        Transition::PayoutUpdated { from, to } => format!("{from} → {to}: block height stored"),
        _ => String::new(),
    };
    let detail = match (reconciliation, known) {
        (
            Reconciliation::Pending
            | Reconciliation::AwaitingIdentification
            | Reconciliation::NotApplicable,
            true,
        ) => String::new(),
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

fn previous_reconciliation(p: &ExchangeRow) -> Reconciliation {
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
        "elsewhere" => Reconciliation::Elsewhere {
            place: String::new(),
        },
        "lightning" => Reconciliation::Lightning,
        "awaiting_identification" => Reconciliation::AwaitingIdentification,
        "not_applicable" => Reconciliation::NotApplicable,
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
            kind: payout.kind.clone(),
            status: payout.status.clone(),
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
        last_event: None,
        first_seen_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

/// Alerts the user must act on: an interruption, a refund, an unknown
/// order, a payout after a refund or changed, a lightning payout to ask for;
/// an interruption that is over is closed.
fn raise_state_alerts(
    store: &Store,
    exchange: &Exchange,
    transition: Transition,
    state: State,
    order: Option<&StoredOrder>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let name = notices::order_name(exchange, order);
    let mut alerts: Vec<NewAlert> = notices::state_alert(exchange, state, &name)
        .into_iter()
        .collect();
    if order.is_none() {
        alerts.push(notices::unknown_order(exchange, &name));
    }
    match transition {
        Transition::PayoutAfterRefund { .. } => {
            alerts.push(notices::payout_after_refund(exchange, &name))
        }
        Transition::PayoutChanged { .. } => alerts.push(notices::payout_changed(exchange, &name)),
        _ => {}
    }
    if let Some(order) = order.filter(|o| o.payout_kind == PayoutKind::Lightning)
        && state == State::Executed
        && exchange.payout.is_none()
    {
        alerts.push(notices::lightning_payout(order, exchange));
    }
    for alert in &alerts {
        store.raise_alert(alert, now)?;
    }
    if let Transition::Advance {
        from: State::Interrupted,
        ..
    } = transition
    {
        // The user acted: the interruption is over.
        store.resolve_alert(
            &AlertKind::Interrupted.key(&exchange.id),
            "the purchase went on",
            now,
        )?;
    }
    if exchange.payout.is_some() {
        store.resolve_alert(
            &AlertKind::LightningPayout.key(&exchange.id),
            "the payout arrived",
            now,
        )?;
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
            apply_in(s, &exchange, row.last_event.as_deref(), &row.json, now)?;
            s.resolve_alert(
                &AlertKind::UnknownOrder.key(&row.id),
                "the order was imported",
                now,
            )?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(orphans.len())
}
