//! The reminders as `remind list` shows them: those recorded (sent,
//! failing, skipped) and, per active order, the next one scheduled.

use chrono::{DateTime, Utc};

use super::due::next_due;
use super::error::Error;
use super::schedule::Period;
use super::settings::Settings;
use crate::pocket::{OrderId, timestamp};
use crate::store::Store;

/// One reminder: recorded, or scheduled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    pub order_id: OrderId,
    pub period: String,
    /// `scheduled`, or the recorded status: pending, failing, sent, skipped.
    pub status: String,
    pub due_at: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub recipients: Vec<String>,
    /// `schedule` or `manual`; none for a scheduled one.
    pub trigger: Option<String>,
    pub note: Option<String>,
}

/// Every recorded reminder, newest month first, after the next scheduled
/// one of each active order that is not recorded yet.
pub fn list(store: &Store, settings: &Settings, now: DateTime<Utc>) -> Result<Vec<Listed>, Error> {
    let mut rows: Vec<Listed> = store
        .reminders()?
        .into_iter()
        .map(|r| Listed {
            order_id: r.order_id,
            period: r.period,
            status: r.status,
            due_at: timestamp::format(&r.due_at),
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at.as_ref().map(timestamp::format),
            sent_at: r.sent_at.as_ref().map(timestamp::format),
            recipients: r.recipients,
            trigger: Some(r.trigger),
            note: r.note,
        })
        .collect();
    for order in store.orders()? {
        let Some(due) = next_due(store, &order, settings, now)? else {
            continue;
        };
        let period = Period::of(due, settings.timezone).to_string();
        if rows
            .iter()
            .any(|r| r.order_id == order.id && r.period == period)
        {
            continue;
        }
        rows.insert(
            0,
            Listed {
                order_id: order.id.clone(),
                period,
                status: "scheduled".into(),
                due_at: timestamp::format(&due),
                attempts: 0,
                last_error: None,
                next_attempt_at: None,
                sent_at: None,
                recipients: Vec::new(),
                trigger: None,
                note: None,
            },
        );
    }
    Ok(rows)
}
