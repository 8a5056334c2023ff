//! Alerts: raised once per fact (a dedup key), acknowledged by the user.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::columns::{time, time_opt, time_text};
use super::db::Store;
use super::error::Error;
use crate::alerts::{AlertKind, NewAlert};
use crate::pocket::{ExchangeId, OrderId};

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub order_id: Option<OrderId>,
    pub exchange_id: Option<ExchangeId>,
    pub message: String,
    #[serde(with = "crate::pocket::timestamp")]
    pub created_at: DateTime<Utc>,
    pub acknowledged: bool,
    /// When a later success closed it, and which.
    #[serde(with = "crate::pocket::timestamp::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

const COLUMNS: &str = "id, kind, severity, order_id, exchange_id, message, created_at, acknowledged, resolved_at, resolution";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        order_id: r.get(3)?,
        exchange_id: r.get(4)?,
        message: r.get(5)?,
        created_at: time(r, 6)?,
        acknowledged: r.get(7)?,
        resolved_at: time_opt(r, 8)?,
        resolution: r.get(9)?,
    })
}

impl Store {
    /// Raises an alert unless one with the same dedup key exists; the new
    /// alert's id, or `None` when it was raised before.
    pub fn raise_alert(&self, alert: &NewAlert, now: DateTime<Utc>) -> Result<Option<i64>, Error> {
        let changed = self.execute(
            "INSERT INTO alerts (kind, severity, order_id, exchange_id, message, created_at, dedup_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (dedup_key) DO NOTHING",
            params![
                alert.kind.as_str(),
                alert.severity().as_str(),
                alert.order_id,
                alert.exchange_id,
                alert.message,
                time_text(&now),
                alert.dedup_key()
            ],
        )?;
        Ok((changed > 0).then(|| self.conn.last_insert_rowid()))
    }

    /// Open alerts (or all), newest first.
    pub fn alerts(&self, include_acknowledged: bool) -> Result<Vec<AlertRow>, Error> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE ?1 OR acknowledged = 0 ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([include_acknowledged], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn alert(&self, id: i64) -> Result<Option<AlertRow>, Error> {
        Ok(self
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
    }

    /// Closes the alert raised under `dedup_key`, if one is open: a fact
    /// that stopped being true (an interruption that resolved, a reminder
    /// that went out after all), with the time and `why`.
    pub fn resolve_alert(
        &self,
        dedup_key: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE alerts SET acknowledged = 1, acknowledged_at = ?2, resolved_at = ?2, resolution = ?3
             WHERE dedup_key = ?1 AND acknowledged = 0",
            params![dedup_key, time_text(&now), why],
        )?;
        Ok(())
    }

    /// Closes every open alert of `kind` about `order_id` (e.g. the gap
    /// headroom, once the gaps are small again).
    pub fn resolve_alerts_of(
        &self,
        kind: AlertKind,
        order_id: &OrderId,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        Ok(self.execute(
            "UPDATE alerts SET acknowledged = 1, acknowledged_at = ?3, resolved_at = ?3, resolution = ?4
             WHERE kind = ?1 AND order_id = ?2 AND acknowledged = 0",
            params![kind.as_str(), order_id, time_text(&now), why],
        )?)
    }

    /// Acknowledges an alert; false when there is no such alert.
    pub fn acknowledge_alert(&self, id: i64, now: DateTime<Utc>) -> Result<bool, Error> {
        let changed = self.execute(
            "UPDATE alerts SET acknowledged = 1, acknowledged_at = coalesce(acknowledged_at, ?2) WHERE id = ?1",
            params![id, time_text(&now)],
        )?;
        Ok(changed > 0)
    }

    /// Alerts of the given kinds not e-mailed yet (nor acknowledged), oldest first.
    pub fn alerts_to_email(
        &self,
        kinds: &[AlertKind],
        max_attempts: u32,
    ) -> Result<Vec<AlertRow>, Error> {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let kinds = serde_json::to_string(&names)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM alerts
             WHERE emailed_at IS NULL AND acknowledged = 0 AND email_attempts < ?2
               AND kind IN (SELECT value FROM json_each(?1))
             ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![kinds, max_attempts], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn alert_emailed(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.execute(
            "UPDATE alerts SET emailed_at = ?2, email_attempts = email_attempts + 1, email_error = NULL WHERE id = ?1",
            params![id, time_text(&now)],
        )?;
        Ok(())
    }

    pub fn alert_email_failed(&self, id: i64, error: &str) -> Result<(), Error> {
        self.execute(
            "UPDATE alerts SET email_attempts = email_attempts + 1, email_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }
}
