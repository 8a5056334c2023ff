//! The reminder pass: which reminders are due, sending each once and
//! recording the result, retries with backoff, and the next due instant.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

use super::compose;
use super::error::Error;
use super::schedule::{Period, due_at, first_period};
use super::settings::Settings;
use crate::alerts::{AlertKind, NewAlert};
use crate::mail::{self, Mailer};
use crate::orders::model::StoredOrder;
use crate::pocket::OrderId;
use crate::store::{Claim, Store};

/// What happened to one reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent { recipients: Vec<String> },
    Skipped(String),
    Failed(String),
}

/// The wait before the next attempt after `attempts` failures: one minute,
/// doubling, at most an hour.
pub fn backoff(attempts: u32) -> ChronoDuration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(6);
    ChronoDuration::minutes(minutes.min(60))
}

/// The recipients of an order's e-mails: its own, else `[email] to`.
pub fn recipients(
    order: Option<&StoredOrder>,
    mailer: &Mailer,
) -> Result<Vec<Mailbox>, mail::Error> {
    let own: Vec<Mailbox> = order
        .map(|o| o.emails.iter().filter_map(|e| e.parse().ok()).collect())
        .unwrap_or_default();
    let list = if own.is_empty() {
        mailer.to.clone()
    } else {
        own
    };
    if list.is_empty() {
        return Err(mail::Error::NoRecipient);
    }
    Ok(list)
}

/// The first month the order is reminded for.
fn first_reminded(order: &StoredOrder, settings: &Settings) -> Period {
    first_period(
        order.created_on,
        order.day,
        settings.hour,
        settings.timezone,
    )
}

/// Whether a purchase of the order arrived in `period` (before or after the
/// reminder day): then no reminder is needed.
fn purchase_arrived(
    store: &Store,
    order: &StoredOrder,
    period: Period,
    tz: Tz,
) -> Result<bool, Error> {
    let (from, to) = (period.start(tz), period.next().start(tz));
    Ok(!store.exchange_ids_between(&order.id, from, to)?.is_empty())
}

/// Sends every reminder due at `now` and not sent yet, retries failing ones
/// whose time has come; what happened to each.
pub async fn run_due(
    store: &mut Store,
    mailer: &Mailer,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<(OrderId, Period, Outcome)>, Error> {
    let mut done = Vec::new();
    let period = Period::of(now, settings.timezone);
    for order in store.orders()? {
        if !order.active {
            continue;
        }
        let due = due_at(period, order.day, settings.hour, settings.timezone);
        if now < due || period < first_reminded(&order, settings) {
            continue;
        }
        let key = period.to_string();
        if let Some(row) = store.reminder(&order.id, &key)? {
            if let Some(since) = row.sending_since {
                // Another pass is sending it, or one stopped while it did.
                interrupted(store, &order, period, since, now)?;
                continue;
            }
            let waiting = row.next_attempt_at.is_some_and(|t| t > now);
            if row.status == "sent" || row.status == "skipped" || waiting {
                continue;
            }
        }
        if purchase_arrived(store, &order, period, settings.timezone)? {
            store.reminder_skipped(&order.id, &key, due, "the month's purchase already arrived")?;
            done.push((
                order.id.clone(),
                period,
                Outcome::Skipped("purchase arrived".into()),
            ));
            continue;
        }
        let outcome = send(store, mailer, settings, &order, period, "schedule", now).await?;
        done.push((order.id.clone(), period, outcome));
    }
    Ok(done)
}

/// Composes and sends one reminder, and records the result (`remind send`
/// uses it directly, with the trigger `manual`).
pub async fn send(
    store: &mut Store,
    mailer: &Mailer,
    settings: &Settings,
    order: &StoredOrder,
    period: Period,
    trigger: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let due = due_at(period, order.day, settings.hour, settings.timezone);
    let key = period.to_string();
    let manual = trigger == "manual";
    if let Claim::Held(_) = store.claim_reminder(&order.id, &key, due, manual, now)? {
        return Ok(Outcome::Skipped(
            "sent, or being sent by another pass".into(),
        ));
    }
    let composed = compose::reminder(store, order, period, settings.timezone);
    let attempt = async {
        let to = recipients(Some(order), mailer)?;
        let composed = composed?;
        let message = compose::message(&composed, &mailer.from, &to)?;
        let result = mailer.send(&message).await?;
        Ok::<_, Error>((to, result))
    };
    match attempt.await {
        Ok((to, result)) => {
            let to: Vec<String> = to.iter().map(|m| m.email.to_string()).collect();
            store.reminder_sent(&order.id, &key, due, &to, &result, trigger, now)?;
            for subject in alert_subjects(order, &key) {
                store.resolve_alert(
                    &AlertKind::ReminderFailed.key(&subject),
                    "the reminder was sent",
                    now,
                )?;
            }
            tracing::info!(order = %order.id, period = %key, "reminder sent");
            Ok(Outcome::Sent { recipients: to })
        }
        Err(Error::Store(e)) => Err(Error::Store(e)),
        Err(e) => {
            let error = e.to_string();
            let previous = store.reminder(&order.id, &key)?.map_or(0, |r| r.attempts);
            let next = now + backoff(previous + 1);
            let attempts = store.reminder_failed(&order.id, &key, due, &error, next, trigger)?;
            tracing::warn!(order = %order.id, period = %key, attempts, %error, "reminder not sent; will retry");
            if attempts == 1 {
                let message = format!(
                    "The payment reminder of order {} for {} could not be sent: {error}. It is retried with backoff; `pocket-dca remind list` shows it.",
                    order.name(),
                    period.name()
                );
                let [failed, _] = alert_subjects(order, &key);
                store.raise_alert(&reminder_alert(order, failed, message), now)?;
            }
            Ok(Outcome::Failed(error))
        }
    }
}

/// How long a claim may stand before the pass that holds it is taken to
/// have stopped: longer than any SMTP conversation with its timeouts.
const INTERRUPTED_AFTER: ChronoDuration = ChronoDuration::minutes(15);

/// The subjects of a reminder's two alerts: it failed, and a stop
/// interrupted its sending. The reminder that goes out closes both.
fn alert_subjects(order: &StoredOrder, key: &str) -> [String; 2] {
    [
        format!("{}:{key}", order.id),
        format!("{}:{key}:interrupted", order.id),
    ]
}

fn reminder_alert(order: &StoredOrder, subject: String, message: String) -> NewAlert {
    NewAlert {
        kind: AlertKind::ReminderFailed,
        order_id: Some(order.id.clone()),
        exchange_id: None,
        message,
        subject,
    }
}

/// A claim older than [`INTERRUPTED_AFTER`]: the pass stopped while it was
/// sending, and the reminder may or may not have gone out. It is not sent
/// again by itself (never twice); an alert asks the user.
fn interrupted(
    store: &Store,
    order: &StoredOrder,
    period: Period,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if now - since < INTERRUPTED_AFTER {
        return Ok(());
    }
    let key = period.to_string();
    let message = format!(
        "The payment reminder of order {} for {} was being sent when pocket-dca stopped; it may have gone out. Look in your inbox; if it is not there, `pocket-dca remind send {} --period {key}` sends it.",
        order.name(),
        period.name(),
        order.id.short(),
    );
    let [_, interrupted] = alert_subjects(order, &key);
    store.raise_alert(&reminder_alert(order, interrupted, message), now)?;
    Ok(())
}

/// The next due instant of an active order's reminder at or after `now`'s
/// month (for `remind list` and the dashboard).
pub fn next_due(
    store: &Store,
    order: &StoredOrder,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    if !order.active {
        return Ok(None);
    }
    let period = Period::of(now, settings.timezone);
    let this = store.reminder(&order.id, &period.to_string())?;
    let done = this.is_some_and(|r| r.status == "sent" || r.status == "skipped");
    // Done this month: next month's. Not done: this month's, which may lie
    // in the past while it is being sent. Never before the first month.
    let period = if done { period.next() } else { period };
    let period = period.max(first_reminded(order, settings));
    Ok(Some(due_at(
        period,
        order.day,
        settings.hour,
        settings.timezone,
    )))
}
