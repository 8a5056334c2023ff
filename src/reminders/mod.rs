//! Monthly payment reminders and alert e-mails.
//!
//! A reminder for (order, month) is due at `[reminders] hour` on the order's
//! day in `[reminders] timezone`. Once due, it is sent (and recorded) once:
//! after the mail server accepted it, it is not sent again; a failure is
//! retried with backoff and stays visible as failing; a reminder missed while
//! the service was down goes out as soon as it runs again, if its month is
//! still the current one. Paused orders get none, nor an order whose purchase
//! for the month already arrived. Time is an input: nothing here reads the
//! clock.

pub mod compose;
mod notify;
pub mod schedule;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

pub use notify::{MAILED_ALERTS, detect_missed_orders, mail_alerts};
pub use schedule::{Period, due_at};

use crate::config::Config;
use crate::mail::{self, Mailer};
use crate::orders::StoredOrder;
use crate::pocket::timestamp;
use crate::store::{self, NewAlert, Severity, Store};

/// When reminders are due and when a missing purchase is reported.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub timezone: Tz,
    pub hour: u8,
    /// Days after the reminder day without an exchange before the
    /// missed-standing-order alert.
    pub missed_after_days: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            timezone: config.reminders.timezone,
            hour: config.reminders.hour,
            missed_after_days: config.reminders.missed_after_days,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Payment(#[from] crate::payment::Error),
    #[error(transparent)]
    Mail(#[from] mail::Error),
    #[error("cannot render the e-mail: {0}")]
    Template(String),
}

impl From<askama::Error> for Error {
    fn from(e: askama::Error) -> Self {
        Error::Template(e.to_string())
    }
}

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

/// Whether a purchase of the order arrived in `period` (before or after the
/// reminder day): then no reminder is needed.
fn purchase_arrived(
    store: &Store,
    order: &StoredOrder,
    period: Period,
    tz: Tz,
) -> Result<bool, Error> {
    let from = timestamp::format(&period.start(tz));
    let to = timestamp::format(&period.next().start(tz));
    Ok(!store
        .exchange_ids_between(&order.id, &from, &to)?
        .is_empty())
}

/// Sends every reminder due at `now` and not sent yet, retries failing ones
/// whose time has come; what happened to each.
pub async fn run_due(
    store: &mut Store,
    mailer: &Mailer,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Period, Outcome)>, Error> {
    let mut done = Vec::new();
    let period = Period::of(now, settings.timezone);
    for order in store.orders()? {
        if !order.active {
            continue;
        }
        let due = due_at(period, order.day, settings.hour, settings.timezone);
        if now < due {
            continue;
        }
        let key = period.to_string();
        if let Some(row) = store.reminder(&order.id, &key)? {
            let waiting = row
                .next_attempt_at
                .as_deref()
                .is_some_and(|t| t > timestamp::format(&now).as_str());
            if row.status == "sent" || row.status == "skipped" || waiting {
                continue;
            }
        }
        if purchase_arrived(store, &order, period, settings.timezone)? {
            store.reminder_skipped(
                &order.id,
                &key,
                &timestamp::format(&due),
                "the month's purchase already arrived",
            )?;
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
    let now_text = timestamp::format(&now);
    let due = timestamp::format(&due_at(period, order.day, settings.hour, settings.timezone));
    let key = period.to_string();
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
            store.reminder_sent(&order.id, &key, &due, &to, &result, trigger, &now_text)?;
            tracing::info!(order = %order.id, period = %key, "reminder sent");
            Ok(Outcome::Sent { recipients: to })
        }
        Err(Error::Store(e)) => Err(Error::Store(e)),
        Err(e) => {
            let error = e.to_string();
            let previous = store.reminder(&order.id, &key)?.map_or(0, |r| r.attempts);
            let next = timestamp::format(&(now + backoff(previous + 1)));
            let attempts = store.reminder_failed(&order.id, &key, &due, &error, &next, trigger)?;
            tracing::warn!(order = %order.id, period = %key, attempts, %error, "reminder not sent; will retry");
            if attempts == 1 {
                store.raise_alert(
                    &NewAlert {
                        kind: "reminder_failed",
                        severity: Severity::Warning,
                        order_id: Some(order.id.clone()),
                        exchange_id: None,
                        message: format!(
                            "The payment reminder of order {} for {} could not be sent: {error}. It is retried with backoff; `pocket-dca remind list` shows it.",
                            order.name(),
                            period.name()
                        ),
                        dedup_key: Some(format!("reminder_failed:{}:{key}", order.id)),
                    },
                    &now_text,
                )?;
            }
            Ok(Outcome::Failed(error))
        }
    }
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
    // in the past while it is being sent.
    let period = if done { period.next() } else { period };
    Ok(Some(due_at(
        period,
        order.day,
        settings.hour,
        settings.timezone,
    )))
}
