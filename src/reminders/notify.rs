//! Alert e-mails, and the missed-standing-order check: an active order with
//! no exchange by a number of days after its reminder day.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use chrono_tz::Tz;

use super::compose;
use super::due::recipients;
use super::error::Error;
use super::schedule::{Period, due_at};
use super::settings::Settings;
use crate::alerts::{AlertKind, NewAlert};
use crate::format::money;
use crate::mail::Mailer;
use crate::store::Store;

/// Attempts to e-mail one alert before giving up on it.
const MAX_EMAIL_ATTEMPTS: u32 = 20;

/// E-mails the alerts not e-mailed yet; how many went out.
pub async fn mail_alerts(
    store: &mut Store,
    mailer: &Mailer,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let mut sent = 0;
    for alert in store.alerts_to_email(&AlertKind::mailed_kinds(), MAX_EMAIL_ATTEMPTS)? {
        let order = match &alert.order_id {
            Some(id) => store.order(id)?,
            None => None,
        };
        let attempt = async {
            let to = recipients(order.as_ref(), mailer)?;
            let composed = compose::alert(&alert, tz)?;
            let message = compose::message(&composed, &mailer.from, &to)?;
            mailer.send(&message).await?;
            Ok::<_, Error>(())
        };
        match attempt.await {
            Ok(()) => {
                store.alert_emailed(alert.id, now)?;
                sent += 1;
            }
            Err(Error::Store(e)) => return Err(Error::Store(e)),
            Err(e) => {
                tracing::warn!(alert = alert.id, error = %e, "alert e-mail not sent; will retry");
                store.alert_email_failed(alert.id, &e.to_string())?;
                // The same failure would repeat for the next alerts now.
                break;
            }
        }
    }
    Ok(sent)
}

/// Raises `missed_order` for each active order with no exchange between the
/// start of the month and `missed_after_days` after its reminder day (for
/// this month and the last); how many were raised. A purchase that arrives
/// later, before the next month's reminder day, closes the alert.
pub fn detect_missed_orders(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let this = Period::of(now, settings.timezone);
    let mut raised = 0;
    for order in store.orders()? {
        if !order.active {
            continue;
        }
        for period in [this.previous(), this] {
            let due = due_at(period, order.day, settings.hour, settings.timezone);
            let deadline = due + ChronoDuration::days(i64::from(settings.missed_after_days));
            // Only months the order existed in before its reminder day.
            if now < deadline || order.created_on >= due {
                continue;
            }
            let from = period.start(settings.timezone);
            let arrived = store.exchange_ids_between(&order.id, from, deadline)?;
            if !arrived.is_empty() {
                continue;
            }
            let subject = format!("{}:{period}", order.id);
            // A purchase after the deadline but before the next month's
            // reminder day is this month's, late: it closes the alert.
            let next_due = due_at(period.next(), order.day, settings.hour, settings.timezone);
            if let Some(late) = store
                .exchange_ids_between(&order.id, deadline, next_due)?
                .first()
            {
                let why = format!("a purchase arrived late (exchange {late})");
                store.resolve_alert(&AlertKind::MissedOrder.key(&subject), &why, now)?;
                continue;
            }
            let new = store.raise_alert(
                &NewAlert {
                    kind: AlertKind::MissedOrder,
                    order_id: Some(order.id.clone()),
                    exchange_id: None,
                    message: format!(
                        "Order {}: no purchase arrived for {} within {} days of the reminder day ({}). Check that the transfer of {} {} left your account {} with the reference, or look in the Pocket app.",
                        order.name(),
                        period.name(),
                        settings.missed_after_days,
                        due.with_timezone(&settings.timezone).format("%-d %B"),
                        order.currency.code(),
                        money(order.amount),
                        crate::payment::Iban::parse(&order.debitor_iban)
                            .map(|i| i.formatted())
                            .unwrap_or_else(|_| order.debitor_iban.clone())
                    ),
                    subject,
                },
                now,
            )?;
            raised += usize::from(new.is_some());
        }
    }
    Ok(raised)
}
