//! The webhook event log: deliveries are stored raw and durably before they
//! are acknowledged ([`writer`]), then processed on a thread of their own
//! ([`processor`]): parsed, applied through reconciliation, and marked with
//! what came of them. Content that cannot be processed is kept with the
//! reason and an alert; `webhooks replay` processes a delivery again.

pub mod journal;
pub mod processor;
pub mod writer;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::alerts::{AlertKind, NewAlert};
use crate::pocket::Exchange;
use crate::reconcile;
use crate::store::{self, DeliveryRow, Store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
    #[error("no delivery {0} in the database; `pocket-dca webhooks` lists them")]
    NoSuchDelivery(i64),
    #[error(transparent)]
    Journal(#[from] journal::Error),
    #[error("cannot start the {name} thread: {cause}")]
    Thread {
        name: &'static str,
        cause: std::io::Error,
    },
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        Error::Reconcile(reconcile::Error::Store(e))
    }
}

/// The webhook events `pocket-api.md` names (the payout event's name is
/// not published; `exchange.settled` is the tool's guess). Any other name
/// is applied by its fields too, with one informational alert per name.
pub const KNOWN_EVENTS: [&str; 4] = [
    "exchange.executed",
    "exchange.interrupted",
    "exchange.refunded",
    "exchange.settled",
];

/// A webhook body read as an exchange event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `None` for the bare exchange object.
    pub event: Option<String>,
    pub exchange: Exchange,
    pub json: String,
}

/// Whether a JSON object carries an exchange: its id, as the API
/// (`id`) or an envelope's payload (`exchange_id`) writes it.
fn is_exchange(object: &serde_json::Map<String, Value>) -> bool {
    ["id", "exchange_id"]
        .iter()
        .any(|k| object.get(*k).is_some_and(Value::is_string))
}

/// Reads the documented envelope `{"event", "payload"}` under any event
/// name, or the bare exchange object; an error says why the body carries no
/// exchange.
pub fn parse(body: &[u8]) -> Result<Parsed, (Option<String>, String)> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| (None, format!("the body is not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err((None, "the body is not a JSON object".into()));
    };
    let (event, payload) = match object.get("event") {
        Some(Value::String(name)) => match object.get("payload") {
            Some(payload) => (Some(name.clone()), payload),
            None => return Err((Some(name.clone()), "the envelope has no payload".into())),
        },
        Some(_) => return Err((None, "`event` is not a string".into())),
        None => (None, &value),
    };
    if !payload.as_object().is_some_and(is_exchange) {
        let what = match &event {
            Some(name) => format!("the `{name}` event carries no exchange (no exchange_id)"),
            None => "neither an {\"event\", \"payload\"} envelope nor an exchange object".into(),
        };
        return Err((event, what));
    }
    let exchange: Exchange = serde_json::from_value(payload.clone())
        .map_err(|e| (event.clone(), format!("the exchange cannot be read: {e}")))?;
    Ok(Parsed {
        event,
        exchange,
        json: payload.to_string(),
    })
}

/// An event name not in [`KNOWN_EVENTS`]: information, once per name.
fn unknown_event(name: &str) -> NewAlert {
    NewAlert {
        kind: AlertKind::UnknownEvent,
        order_id: None,
        exchange_id: None,
        message: format!(
            "Pocket sent a webhook event named `{name}`, which its documents do not name; it was applied by its fields. Nothing to do unless its exchanges look wrong."
        ),
        subject: name.to_string(),
    }
}

/// Processes one stored delivery: applies it, or keeps it unprocessed with
/// the reason and an alert. Never fails for the delivery's content, only for
/// storage errors (then it stays `received` and is tried again).
pub fn process(
    store: &mut Store,
    delivery: &DeliveryRow,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    store.transaction(|s| process_in(s, delivery, now))
}

/// Processes one delivery inside the caller's transaction, in a savepoint:
/// a failure other than storage undoes its changes and keeps it unprocessed.
fn process_in(store: &Store, delivery: &DeliveryRow, now: DateTime<Utc>) -> Result<String, Error> {
    let (event, reason) = match parse(&delivery.body) {
        Ok(parsed) => {
            let outcome = store.savepoint(|s| {
                let applied = reconcile::apply_in(
                    s,
                    &parsed.exchange,
                    parsed.event.as_deref(),
                    &parsed.json,
                    now,
                )?;
                if let Some(name) = parsed.event.as_deref()
                    && !KNOWN_EVENTS.contains(&name)
                {
                    s.raise_alert(&unknown_event(name), now)?;
                }
                let event = parsed.event.as_deref().unwrap_or("bare exchange");
                s.mark_delivery(
                    delivery.id,
                    applied.status(),
                    Some(event),
                    Some(&applied.exchange_id),
                    &applied.summary,
                    now,
                )?;
                if delivery.status == "unprocessed" {
                    // A replay that worked: its alert is moot.
                    s.resolve_alert(
                        &AlertKind::UnprocessedWebhook.key(&delivery.id.to_string()),
                        "replayed and processed",
                        now,
                    )?;
                }
                Ok::<_, reconcile::Error>(applied.status().to_string())
            });
            match outcome {
                Ok(status) => return Ok(status),
                // Storage trouble: stay `received`, try again later.
                Err(e @ reconcile::Error::Store(_)) => return Err(e.into()),
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
        now,
    )?;
    store.raise_alert(
        &NewAlert {
            kind: AlertKind::UnprocessedWebhook,
            order_id: None,
            exchange_id: None,
            message: format!(
                "Webhook delivery {} could not be processed: {reason}. It is stored; `pocket-dca webhooks replay {}` tries again.",
                delivery.id, delivery.id
            ),
            subject: delivery.id.to_string(),
        },
        now,
    )?;
    Ok("unprocessed".to_string())
}

/// Processes every delivery waiting, oldest first, a batch per transaction
/// (one commit for many deliveries); how many.
pub fn process_pending(store: &mut Store, now: DateTime<Utc>) -> Result<usize, Error> {
    process_pending_in(store, now, 64, || {})
}

/// [`process_pending`] in transactions of `size` deliveries, calling
/// `before` ahead of each (the processor waits there for the writer).
pub fn process_pending_in(
    store: &mut Store,
    now: DateTime<Utc>,
    size: usize,
    mut before: impl FnMut(),
) -> Result<usize, Error> {
    let mut done = 0;
    loop {
        before();
        let batch = store.pending_deliveries(size)?;
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
    process(store, &delivery, now)
}
