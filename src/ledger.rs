//! Applies what Pocket says about exchanges — from a webhook delivery, from
//! `sync` or from `exchange fetch` — through the state machine of
//! `reconcile`, matching settled payouts to derived addresses, keeping the
//! address window ahead, and raising alerts. Each observation is applied in
//! one transaction.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::orders::{StoredOrder, short_id};
use crate::pocket::codes::{action_meaning, refund_meaning};
use crate::pocket::{self, Client, Exchange, timestamp};
use crate::reconcile::{
    self, AddressFact, HEADROOM_MARGIN, Reconciliation, SEARCH_BEYOND, State, Transition,
};
use crate::store::{self, DeliveryRow, ExchangeRow, NewAlert, PayoutRow, Severity, Store};
use crate::wallet;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Wallet(#[from] wallet::Error),
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
    #[error("no delivery {0} in the database; `pocket-dca webhooks` lists them")]
    NoSuchDelivery(i64),
}

/// The webhook events Pocket documents.
pub const KNOWN_EVENTS: [&str; 4] = [
    "exchange.executed",
    "exchange.interrupted",
    "exchange.refunded",
    "exchange.settled",
];

/// What applying one observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub exchange_id: String,
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
    let now_text = timestamp::format(&now);
    let stored = store.exchange(&exchange.id)?;
    let observed = reconcile::observe(exchange);
    let transition = reconcile::transition(stored.as_ref().map(|r| r.state), observed);
    let id = exchange.id.clone();
    let applied = |summary: String| Applied {
        exchange_id: id.clone(),
        transition,
        summary,
    };
    match transition {
        Transition::Same => {
            return Ok(applied(format!("duplicate: exchange already {observed}")));
        }
        Transition::Stale { stored, observed } => {
            return Ok(applied(format!(
                "stale: exchange is {stored}, this says {observed}; nothing changed"
            )));
        }
        Transition::RefundAfterSettlement { stored } => {
            store.raise_alert(
                &NewAlert {
                    kind: "refund_after_settlement",
                    severity: Severity::Critical,
                    order_id: exchange.order_id.clone(),
                    exchange_id: Some(exchange.id.clone()),
                    message: format!(
                        "Pocket reports exchange {} as refunded ({}), but it was already {stored}; the stored payout is kept. Check the exchange in the Pocket app.",
                        short_id(&exchange.id),
                        exchange.reason.as_ref().map(|r| r.code.as_str()).unwrap_or("no reason")
                    ),
                    dedup_key: Some(format!("refund_after_settlement:{}", exchange.id)),
                },
                &now_text,
            )?;
            return Ok(applied(format!(
                "refund after settlement: exchange stays {stored}, alert raised"
            )));
        }
        Transition::New(_) | Transition::Advance { .. } => {}
    }

    let order = match &exchange.order_id {
        Some(order_id) => store.order(order_id)?,
        None => None,
    };
    let mut warnings = reconcile::check_amounts(exchange);
    let previous = stored.as_ref();
    let already_matched =
        previous.is_some_and(|p| p.payout.is_some() && p.reconciliation != "pending");
    let reconciliation = match (&order, &exchange.payout, observed) {
        (None, _, _) => Reconciliation::UnknownOrder,
        (Some(_), Some(_), State::Settled | State::Confirmed) if already_matched => {
            previous_reconciliation(previous)
        }
        (Some(order), Some(payout), State::Settled | State::Confirmed) => {
            reconcile_payout(store, order, exchange, payout, &mut warnings, now)?
        }
        _ => Reconciliation::Pending,
    };

    let row = ExchangeRow {
        id: exchange.id.clone(),
        order_id: exchange.order_id.clone(),
        known_order: order.is_some(),
        state: observed,
        pair: exchange.pair.clone(),
        fee_rate: exchange.fee_rate,
        cost: exchange.cost,
        fee: exchange.fee,
        rate: exchange.rate,
        amount_sat: exchange.amount.map(|a| a.to_sat()),
        executed_on: exchange.executed_on.map(|t| timestamp::format(&t)),
        action_code: exchange.action.as_ref().map(|a| a.code.clone()),
        action_url: exchange.action.as_ref().and_then(|a| a.url.clone()),
        action_id: exchange
            .action
            .as_ref()
            .and_then(|a| a.identification_id.clone()),
        reason_code: exchange.reason.as_ref().map(|r| r.code.clone()),
        payout: payout_row(exchange),
        address_index: reconciliation.index(),
        reconciliation: reconciliation.code().to_string(),
        warnings: if already_matched {
            merge(
                previous.map(|p| p.warnings.clone()).unwrap_or_default(),
                warnings,
            )
        } else {
            warnings
        },
        json: json.to_string(),
        first_seen_at: previous
            .map(|p| p.first_seen_at.clone())
            .unwrap_or_else(|| now_text.clone()),
        updated_at: now_text.clone(),
    };
    store.save_exchange(&row)?;
    raise_state_alerts(store, exchange, observed, order.as_ref(), &now_text)?;
    if let Transition::Advance {
        from: State::Interrupted,
        ..
    } = transition
    {
        // The user acted: the interruption is over.
        store.resolve_alert(&format!("interrupted:{}", exchange.id), &now_text)?;
    }

    let summary = match transition {
        Transition::New(state) => format!("new exchange, {state}"),
        Transition::Advance { from, to } => format!("{from} → {to}"),
        _ => String::new(),
    };
    let detail = match (&reconciliation, order.is_some()) {
        (Reconciliation::Pending, true) => String::new(),
        (Reconciliation::UnknownOrder, _) => "; order not known here".to_string(),
        (r, _) => format!("; payout {}", r.code()),
    };
    Ok(applied(format!("{summary}{detail}")))
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
            order_id: String::new(),
            index,
        },
        _ => Reconciliation::Pending,
    }
}

fn payout_row(exchange: &Exchange) -> Option<PayoutRow> {
    let payout = exchange.payout.as_ref()?;
    Some(PayoutRow {
        txid: payout.txid.clone().unwrap_or_default(),
        vout: payout.outpoint.unwrap_or(0),
        address: payout.bitcoin_address.clone().unwrap_or_default(),
        path: payout.derivation_path.clone(),
        amount_sat: payout.amount.map(|a| a.to_sat()),
        fee_sat: payout.fee.map(|a| a.to_sat()),
        block_height: payout.block_height,
    })
}

/// Matches a settled payout to the order's addresses and records the use.
fn reconcile_payout(
    store: &Store,
    order: &StoredOrder,
    exchange: &Exchange,
    payout: &pocket::Payout,
    warnings: &mut Vec<String>,
    now: DateTime<Utc>,
) -> Result<Reconciliation, Error> {
    let now_text = timestamp::format(&now);
    let (Some(address), Some(txid)) = (&payout.bitcoin_address, &payout.txid) else {
        warnings.push("the payout has no address or transaction id".into());
        return Ok(Reconciliation::Pending);
    };
    let vout = payout.outpoint.unwrap_or(0);
    let outpoint = format!("{txid}:{vout}");
    let key = order.payout_key()?;
    let fact = match store.address_location(address)? {
        Some((owner, index)) if owner == order.id => AddressFact::Ours {
            index,
            used_by: store.outputs_paid_to(&owner, index, &exchange.id)?,
        },
        Some((owner, index)) => AddressFact::Others {
            order_id: owner,
            index,
        },
        None => {
            let highest = store.highest_index(&order.id)?.unwrap_or(order.start_index);
            let limit = highest.saturating_add(SEARCH_BEYOND).min((1 << 31) - 1);
            let chain = key.chain(&order.chain)?;
            let mut found = None;
            for index in 0..=limit {
                if chain.address(index)?.address.to_string() == *address {
                    found = Some(index);
                    break;
                }
            }
            match found {
                Some(index) => AddressFact::Found { index },
                None => AddressFact::NotFound,
            }
        }
    };
    let reconciliation = reconcile::match_payout(&fact, &outpoint);
    let name = order.name();
    match &reconciliation {
        Reconciliation::Matched { index }
        | Reconciliation::OutsideWindow { index }
        | Reconciliation::Reused { index, .. } => {
            if let Reconciliation::OutsideWindow { index } = reconciliation {
                // Persist the addresses up to the one found before recording its use.
                let chain = key.chain(&order.chain)?;
                let from = store
                    .highest_index(&order.id)?
                    .map_or(order.start_index, |h| h + 1);
                let missing = chain
                    .addresses(from.min(index), index.saturating_sub(from.min(index)) + 1)?
                    .collect::<Result<Vec<_>, _>>()?;
                store.add_addresses(&order.id, &missing, now)?;
                store.raise_alert(
                    &NewAlert {
                        kind: "outside_window",
                        severity: Severity::Warning,
                        order_id: Some(order.id.clone()),
                        exchange_id: Some(exchange.id.clone()),
                        message: format!(
                            "Order {name}: exchange {} was paid to {address}, your address at index {index}, outside the expected window. A wallet that scans fewer addresses may not show it; raise the wallet's gap limit if it is missing.",
                            short_id(&exchange.id)
                        ),
                        dedup_key: Some(format!("outside_window:{}", exchange.id)),
                    },
                    &now_text,
                )?;
            }
            if let Reconciliation::Reused { previous, .. } = &reconciliation {
                store.raise_alert(
                    &NewAlert {
                        kind: "address_reuse",
                        severity: Severity::Critical,
                        order_id: Some(order.id.clone()),
                        exchange_id: Some(exchange.id.clone()),
                        message: format!(
                            "Order {name}: exchange {} was paid to {address} (index {index}), which output {previous} already paid to: address reuse harms your privacy. Ask Pocket why it did not use a fresh address.",
                            short_id(&exchange.id)
                        ),
                        dedup_key: Some(format!("address_reuse:{}", exchange.id)),
                    },
                    &now_text,
                )?;
            }
            store.record_use(&exchange.id, &order.id, *index, txid, vout, &now_text)?;
            let expected_path = wallet::KeyPath::on_chain(&order.chain, *index).to_string();
            if let Some(path) = &payout.derivation_path
                && path.trim() != expected_path
            {
                warnings.push(format!(
                    "Pocket reports derivation path {path} for {address}, which is at {expected_path}"
                ));
            }
            extend_window(store, order, *index, now)?;
            check_headroom(store, order, &now_text)?;
        }
        Reconciliation::OtherOrder { order_id, index } => {
            store.record_use(&exchange.id, order_id, *index, txid, vout, &now_text)?;
            store.raise_alert(
                &NewAlert {
                    kind: "other_order_address",
                    severity: Severity::Warning,
                    order_id: Some(order.id.clone()),
                    exchange_id: Some(exchange.id.clone()),
                    message: format!(
                        "Order {name}: exchange {} was paid to {address}, an address of order {} (index {index}). The coins are yours, but the two orders now share addresses.",
                        short_id(&exchange.id),
                        short_id(order_id)
                    ),
                    dedup_key: Some(format!("other_order_address:{}", exchange.id)),
                },
                &now_text,
            )?;
        }
        Reconciliation::Foreign => {
            store.raise_alert(
                &NewAlert {
                    kind: "foreign_address",
                    severity: Severity::Critical,
                    order_id: Some(order.id.clone()),
                    exchange_id: Some(exchange.id.clone()),
                    message: format!(
                        "Order {name}: exchange {} was paid to {address}, which your key does not derive (searched {} addresses of chain {}): the coins went to an address that is not yours. Contact Pocket now with the exchange id {}.",
                        short_id(&exchange.id),
                        store.highest_index(&order.id)?.unwrap_or(order.start_index).saturating_add(SEARCH_BEYOND) + 1,
                        wallet::KeyPath::format_chain(&order.chain),
                        exchange.id
                    ),
                    dedup_key: Some(format!("foreign_address:{}", exchange.id)),
                },
                &now_text,
            )?;
        }
        Reconciliation::Pending | Reconciliation::UnknownOrder => {}
    }
    Ok(reconciliation)
}

/// Derives addresses so that `gap_limit` unused ones follow the highest used one.
fn extend_window(
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
    let from = store
        .highest_index(&order.id)?
        .map_or(order.start_index, |h| h + 1);
    if from > wanted {
        return Ok(());
    }
    let key = order.payout_key()?;
    let addresses = key
        .chain(&order.chain)?
        .addresses(from, wanted - from + 1)?
        .collect::<Result<Vec<_>, _>>()?;
    store.add_addresses(&order.id, &addresses, now)?;
    Ok(())
}

/// Reconciles the exchanges stored before their order was known (flagged
/// `unknown_order`) now that it is: after `order import`. How many.
pub fn adopt(store: &mut Store, order_id: &str, now: DateTime<Utc>) -> Result<usize, Error> {
    let orphans: Vec<ExchangeRow> = store
        .exchanges(&store::ExchangeFilter {
            order_id: Some(order_id.to_string()),
            state: None,
        })?
        .into_iter()
        .filter(|e| !e.known_order)
        .collect();
    let now_text = timestamp::format(&now);
    store.transaction(|s| {
        for row in &orphans {
            let Ok(exchange) = serde_json::from_str::<Exchange>(&row.json) else {
                continue;
            };
            // Seen again from the start, now with its order.
            s.forget_exchange(&row.id)?;
            apply_in(s, &exchange, &row.json, now)?;
            s.resolve_alert(&format!("unknown_order:{}", row.id), &now_text)?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(orphans.len())
}

/// One address of an order's window and what paid to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddressStatus {
    pub index: u32,
    pub path: String,
    pub address: String,
    /// `expected`, `used` (one payout output, perhaps for several
    /// exchanges) or `reused` (several outputs).
    pub status: &'static str,
    pub exchange_ids: Vec<String>,
    /// The outputs (`txid:vout`) that paid to it.
    pub outputs: Vec<String>,
}

/// The order's derived addresses, by index, with their use.
pub fn address_window(store: &Store, order_id: &str) -> Result<Vec<AddressStatus>, Error> {
    let uses = store.uses_by_index(order_id)?;
    Ok(store
        .addresses(order_id)?
        .into_iter()
        .map(|a| {
            let used: Vec<&(u32, String, String)> =
                uses.iter().filter(|u| u.0 == a.index).collect();
            let mut outputs: Vec<String> = used.iter().map(|u| u.2.clone()).collect();
            outputs.sort();
            outputs.dedup();
            AddressStatus {
                index: a.index,
                path: a.path,
                address: a.address,
                status: match outputs.len() {
                    0 => "expected",
                    1 => "used",
                    _ => "reused",
                },
                exchange_ids: used.iter().map(|u| u.1.clone()).collect(),
                outputs,
            }
        })
        .collect())
}

/// The gap a wallet must scan past to see every payout of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Headroom {
    /// The longest run of unused addresses below a used one.
    pub longest_gap: u32,
    pub wallet_gap_limit: u32,
    /// How many more unused addresses in a row the wallet tolerates.
    pub remaining: i64,
}

pub fn headroom(store: &Store, order: &StoredOrder) -> Result<Headroom, Error> {
    let gap = reconcile::longest_gap(order.start_index, &store.used_indexes(&order.id)?);
    Ok(Headroom {
        longest_gap: gap,
        wallet_gap_limit: order.wallet_gap_limit,
        remaining: i64::from(order.wallet_gap_limit) - i64::from(gap),
    })
}

fn check_headroom(store: &Store, order: &StoredOrder, now: &str) -> Result<(), Error> {
    let h = headroom(store, order)?;
    if h.longest_gap + HEADROOM_MARGIN < h.wallet_gap_limit {
        return Ok(());
    }
    store.raise_alert(
        &NewAlert {
            kind: "gap_headroom",
            severity: Severity::Warning,
            order_id: Some(order.id.clone()),
            exchange_id: None,
            message: format!(
                "Order {}: {} unused addresses lie between payouts, close to your wallet's gap limit of {}; the wallet may stop finding later payouts. Raise the gap limit — Sparrow: Settings → Advanced → Gap limit; Electrum: Console → wallet.change_gap_limit(100) — then `pocket-dca order set {} --wallet-gap-limit 100`.",
                order.name(),
                h.longest_gap,
                h.wallet_gap_limit,
                short_id(&order.id)
            ),
            dedup_key: Some(format!("gap_headroom:{}:{}:{}", order.id, h.wallet_gap_limit, h.longest_gap)),
        },
        now,
    )?;
    Ok(())
}

/// Alerts the user must act on: an interruption, a refund, an unknown order.
fn raise_state_alerts(
    store: &Store,
    exchange: &Exchange,
    state: State,
    order: Option<&StoredOrder>,
    now: &str,
) -> Result<(), Error> {
    let name = order.map(StoredOrder::name).unwrap_or_else(|| {
        exchange
            .order_id
            .as_deref()
            .map(|id| short_id(id).to_string())
            .unwrap_or_else(|| "?".into())
    });
    let amount = match (exchange.cost, &exchange.pair) {
        (Some(cost), Some(pair)) => format!(
            " of {} {cost}",
            pair.rsplit('/').next().unwrap_or("").to_ascii_uppercase()
        ),
        _ => String::new(),
    };
    let alert = match state {
        State::Interrupted => {
            let action = exchange.action.clone().unwrap_or_default();
            let what =
                action_meaning(&action.code).unwrap_or("Pocket needs you to act before it buys");
            let how = match (&action.url, &action.identification_id) {
                (Some(url), _) => format!(" Open {url}."),
                (None, Some(id)) => format!(" Identification id: {id}."),
                _ => String::new(),
            };
            Some(NewAlert {
                kind: "interrupted",
                severity: Severity::Warning,
                order_id: exchange.order_id.clone(),
                exchange_id: Some(exchange.id.clone()),
                message: format!(
                    "Order {name}: the purchase{amount} is on hold ({}): {what}.{how}",
                    action.code
                ),
                dedup_key: Some(format!("interrupted:{}", exchange.id)),
            })
        }
        State::Refunded => {
            let code = exchange
                .reason
                .as_ref()
                .map(|r| r.code.clone())
                .unwrap_or_default();
            let why = refund_meaning(&code).unwrap_or("Pocket gave no reason it knows");
            Some(NewAlert {
                kind: "refunded",
                severity: Severity::Warning,
                order_id: exchange.order_id.clone(),
                exchange_id: Some(exchange.id.clone()),
                message: format!("Order {name}: the payment{amount} was refunded ({code}): {why}."),
                dedup_key: Some(format!("refunded:{}", exchange.id)),
            })
        }
        _ => None,
    };
    if let Some(alert) = alert {
        store.raise_alert(&alert, now)?;
    }
    if order.is_none() {
        store.raise_alert(
            &NewAlert {
                kind: "unknown_order",
                severity: Severity::Warning,
                order_id: exchange.order_id.clone(),
                exchange_id: Some(exchange.id.clone()),
                message: format!(
                    "Exchange {} belongs to order {name}, which is not in this database; it is stored and flagged. If it is yours, run `pocket-dca order import {}` with its key.",
                    short_id(&exchange.id),
                    exchange.order_id.as_deref().unwrap_or("ID")
                ),
                dedup_key: Some(format!("unknown_order:{}", exchange.id)),
            },
            now,
        )?;
    }
    Ok(())
}

/// A webhook body read as an exchange event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `None` for the bare exchange object.
    pub event: Option<String>,
    pub exchange: Exchange,
    pub json: String,
}

/// Reads the documented envelope `{"event", "payload"}` or the bare exchange
/// object; an error says why the body is neither.
pub fn parse_delivery(body: &[u8]) -> Result<Parsed, (Option<String>, String)> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| (None, format!("the body is not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err((None, "the body is not a JSON object".into()));
    };
    if let Some(event) = object.get("event") {
        let event = event.as_str().map(str::to_string);
        let Some(name) = event.clone() else {
            return Err((None, "`event` is not a string".into()));
        };
        if !KNOWN_EVENTS.contains(&name.as_str()) {
            return Err((event, format!("unknown event `{name}`; kept unprocessed")));
        }
        let Some(payload) = object.get("payload") else {
            return Err((event, "the envelope has no payload".into()));
        };
        let exchange: Exchange = serde_json::from_value(payload.clone()).map_err(|e| {
            (
                event.clone(),
                format!("the payload is not an exchange: {e}"),
            )
        })?;
        return Ok(Parsed {
            event,
            exchange,
            json: payload.to_string(),
        });
    }
    if object.contains_key("id") {
        let exchange: Exchange = serde_json::from_value(value.clone())
            .map_err(|e| (None, format!("the body is not an exchange: {e}")))?;
        return Ok(Parsed {
            event: None,
            exchange,
            json: value.to_string(),
        });
    }
    Err((
        None,
        "neither an {\"event\", \"payload\"} envelope nor an exchange object".into(),
    ))
}

/// Processes one stored delivery: applies it, or keeps it unprocessed with
/// the reason and an alert. Never fails for the delivery's content, only for
/// storage errors (then it stays `received` and is tried again).
pub fn process_delivery(
    store: &mut Store,
    delivery: &DeliveryRow,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    store.transaction(|s| process_in(s, delivery, now))
}

/// Processes one delivery inside the caller's transaction, in a savepoint:
/// a failure other than storage undoes its changes and keeps it unprocessed.
fn process_in(store: &Store, delivery: &DeliveryRow, now: DateTime<Utc>) -> Result<String, Error> {
    let now_text = timestamp::format(&now);
    let (event, reason) = match parse_delivery(&delivery.body) {
        Ok(parsed) => {
            let outcome = store.savepoint(|s| {
                let applied = apply_in(s, &parsed.exchange, &parsed.json, now)?;
                let event = parsed.event.as_deref().unwrap_or("bare exchange");
                s.mark_delivery(
                    delivery.id,
                    applied.status(),
                    Some(event),
                    Some(&applied.exchange_id),
                    &applied.summary,
                    &now_text,
                )?;
                Ok(applied.status().to_string())
            });
            match outcome {
                Ok(status) => return Ok(status),
                // Storage trouble: stay `received`, try again later.
                Err(e @ Error::Store(_)) => return Err(e),
                // Anything else would fail again: keep it with the reason.
                Err(other) => (parsed.event, format!("could not be applied: {other}")),
            }
        }
        Err(unparsable) => unparsable,
    };
    store.mark_delivery(
        delivery.id,
        "unprocessed",
        event.as_deref(),
        None,
        &reason,
        &now_text,
    )?;
    store.raise_alert(
        &NewAlert {
            kind: "unprocessed_webhook",
            severity: Severity::Warning,
            order_id: None,
            exchange_id: None,
            message: format!(
                "Webhook delivery {} could not be processed: {reason}. It is stored; `pocket-dca webhooks replay {}` tries again.",
                delivery.id, delivery.id
            ),
            dedup_key: Some(format!("unprocessed_webhook:{}", delivery.id)),
        },
        &now_text,
    )?;
    Ok("unprocessed".to_string())
}

/// Processes every delivery waiting, oldest first, a batch per transaction
/// (one commit for many deliveries); how many.
pub fn process_pending(store: &mut Store, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut done = 0;
    loop {
        let batch = store.pending_deliveries(64)?;
        if batch.is_empty() {
            return Ok(done);
        }
        store.transaction(|s| {
            for delivery in &batch {
                process_in(s, delivery, now)?;
            }
            Ok::<_, Error>(())
        })?;
        done += batch.len();
    }
}

/// Processes a stored delivery again (`webhooks replay`).
pub fn replay(store: &mut Store, id: i64, now: DateTime<Utc>) -> Result<String, Error> {
    let delivery = store.delivery(id)?.ok_or(Error::NoSuchDelivery(id))?;
    process_delivery(store, &delivery, now)
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub exchanges_checked: usize,
    pub exchanges_changed: usize,
    pub orders_refreshed: usize,
    pub errors: Vec<String>,
}

/// Asks Pocket about every exchange that may still change and every order,
/// and applies the answers: a lost delivery delays an update, never loses it.
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
                let applied = apply(store, &fetched.value, &fetched.json, now)?;
                if matches!(
                    applied.transition,
                    Transition::Advance { .. } | Transition::New(_)
                ) {
                    report.exchanges_changed += 1;
                }
            }
            Err(e) => report.errors.push(format!("exchange {id}: {e}")),
        }
    }
    for order in store.orders()? {
        match client.get_order(&order.id).await {
            Ok(fetched) => {
                store.update_order_from_pocket(
                    &order.id,
                    fetched.value.active,
                    fetched.value.fee_rate,
                    &fetched.value.payment_method,
                    &fetched.json,
                    now,
                )?;
                report.orders_refreshed += 1;
            }
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
    apply(store, &fetched.value, &fetched.json, now)
}
