//! Queries on reminders (one per order and month) and on alerts to e-mail.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::columns::{time, time_opt, time_text};
use super::db::Store;
use super::error::Error;
use crate::pocket::OrderId;

/// A reminder and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    pub order_id: OrderId,
    /// The month, `YYYY-MM`.
    pub period: String,
    pub due_at: DateTime<Utc>,
    /// pending, failing, sent or skipped.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub recipients: Vec<String>,
    pub trigger: String,
    pub note: Option<String>,
    /// Set while a pass hands it to the mail server (see [`Claim`]).
    pub sending_since: Option<DateTime<Utc>>,
}

/// Whether a pass may send a reminder now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This pass holds it: send, then record `sent` or `failed`.
    Taken,
    /// Sent, skipped, or another pass is sending it since this instant
    /// (after a crash: it may have gone out).
    Held(Option<DateTime<Utc>>),
}

const COLUMNS: &str = "order_id, period, due_at, status, attempts, next_attempt_at, last_error, sent_at, recipients, trigger, note, sending_since";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<ReminderRow> {
    let recipients: String = r.get(8)?;
    Ok(ReminderRow {
        order_id: r.get(0)?,
        period: r.get(1)?,
        due_at: time(r, 2)?,
        status: r.get(3)?,
        attempts: r.get(4)?,
        next_attempt_at: time_opt(r, 5)?,
        last_error: r.get(6)?,
        sent_at: time_opt(r, 7)?,
        recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        trigger: r.get(9)?,
        note: r.get(10)?,
        sending_since: time_opt(r, 11)?,
    })
}

impl Store {
    pub fn reminder(&self, order_id: &OrderId, period: &str) -> Result<Option<ReminderRow>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {COLUMNS} FROM reminders WHERE order_id = ?1 AND period = ?2"),
                params![order_id, period],
                from_row,
            )
            .optional()?)
    }

    /// Every reminder, newest month first.
    pub fn reminders(&self) -> Result<Vec<ReminderRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reminders ORDER BY period DESC, due_at DESC, order_id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Claims a reminder for sending, in one statement: only when it is
    /// neither sent nor skipped and no pass holds it — `force` (a manual
    /// send) takes it whatever a pass left behind. Marked in the database
    /// before the mail server sees it, so two passes, or a pass after a
    /// crash, never send it twice.
    pub fn claim_reminder(
        &self,
        order_id: &OrderId,
        period: &str,
        due_at: DateTime<Utc>,
        force: bool,
        now: DateTime<Utc>,
    ) -> Result<Claim, Error> {
        let changed = self.execute(
            "INSERT INTO reminders (order_id, period, due_at, status, sending_since)
             VALUES (?1, ?2, ?3, 'pending', ?4)
             ON CONFLICT (order_id, period) DO UPDATE SET sending_since = excluded.sending_since
             WHERE ?5 OR (status NOT IN ('sent', 'skipped') AND sending_since IS NULL)",
            params![order_id, period, time_text(&due_at), time_text(&now), force],
        )?;
        if changed > 0 {
            return Ok(Claim::Taken);
        }
        Ok(Claim::Held(
            self.reminder(order_id, period)?
                .and_then(|r| r.sending_since),
        ))
    }

    /// Records that a reminder was accepted by the mail server.
    #[allow(clippy::too_many_arguments)]
    pub fn reminder_sent(
        &self,
        order_id: &OrderId,
        period: &str,
        due_at: DateTime<Utc>,
        recipients: &[String],
        result: &str,
        trigger: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.execute(
            "INSERT INTO reminders (order_id, period, due_at, status, attempts, sent_at, recipients, message_id, trigger)
             VALUES (?1, ?2, ?3, 'sent', 1, ?4, ?5, ?6, ?7)
             ON CONFLICT (order_id, period) DO UPDATE SET status = 'sent', attempts = attempts + 1,
               sent_at = excluded.sent_at, recipients = excluded.recipients, message_id = excluded.message_id,
               trigger = excluded.trigger, last_error = NULL, next_attempt_at = NULL, note = NULL,
               sending_since = NULL",
            params![
                order_id,
                period,
                time_text(&due_at),
                time_text(&now),
                serde_json::to_string(recipients)?,
                result,
                trigger
            ],
        )?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub fn reminder_failed(
        &self,
        order_id: &OrderId,
        period: &str,
        due_at: DateTime<Utc>,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        trigger: &str,
    ) -> Result<u32, Error> {
        self.execute(
            "INSERT INTO reminders (order_id, period, due_at, status, attempts, next_attempt_at, last_error, trigger)
             VALUES (?1, ?2, ?3, 'failing', 1, ?4, ?5, ?6)
             ON CONFLICT (order_id, period) DO UPDATE SET
               status = CASE WHEN status = 'sent' THEN 'sent' ELSE 'failing' END,
               attempts = attempts + 1, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error,
               sending_since = NULL",
            params![
                order_id,
                period,
                time_text(&due_at),
                time_text(&next_attempt_at),
                error,
                trigger
            ],
        )?;
        Ok(self.query_row(
            "SELECT attempts FROM reminders WHERE order_id = ?1 AND period = ?2",
            params![order_id, period],
            |r| r.get(0),
        )?)
    }

    /// Records that no reminder is needed this month, and why.
    pub fn reminder_skipped(
        &self,
        order_id: &OrderId,
        period: &str,
        due_at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), Error> {
        self.execute(
            "INSERT INTO reminders (order_id, period, due_at, status, note) VALUES (?1, ?2, ?3, 'skipped', ?4)
             ON CONFLICT (order_id, period) DO NOTHING",
            params![order_id, period, time_text(&due_at), note],
        )?;
        Ok(())
    }
}
