//! Alerts: raised once per fact (a dedup key), acknowledged by the user.

use rusqlite::{OptionalExtension, params};

use super::{Error, Store};

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: &'static str,
    pub severity: Severity,
    pub order_id: Option<String>,
    pub exchange_id: Option<String>,
    pub message: String,
    /// The same key is raised once; `None` always raises.
    pub dedup_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub order_id: Option<String>,
    pub exchange_id: Option<String>,
    pub message: String,
    pub created_at: String,
    pub acknowledged: bool,
}

pub(super) fn from_row(r: &rusqlite::Row) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        severity: r.get(2)?,
        order_id: r.get(3)?,
        exchange_id: r.get(4)?,
        message: r.get(5)?,
        created_at: r.get(6)?,
        acknowledged: r.get(7)?,
    })
}

impl Store {
    /// Raises an alert unless one with the same dedup key exists; the new
    /// alert's id, or `None` when it was raised before.
    pub fn raise_alert(&self, alert: &NewAlert, now: &str) -> Result<Option<i64>, Error> {
        let changed = self.conn.execute(
            "INSERT INTO alerts (kind, severity, order_id, exchange_id, message, created_at, dedup_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (dedup_key) DO NOTHING",
            params![
                alert.kind,
                alert.severity.as_str(),
                alert.order_id,
                alert.exchange_id,
                alert.message,
                now,
                alert.dedup_key
            ],
        )?;
        Ok((changed > 0).then(|| self.conn.last_insert_rowid()))
    }

    /// Open alerts (or all), newest first.
    pub fn alerts(&self, include_acknowledged: bool) -> Result<Vec<AlertRow>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, severity, order_id, exchange_id, message, created_at, acknowledged FROM alerts
             WHERE ?1 OR acknowledged = 0 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([include_acknowledged], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn alert(&self, id: i64) -> Result<Option<AlertRow>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, kind, severity, order_id, exchange_id, message, created_at, acknowledged FROM alerts WHERE id = ?1",
                [id],
                from_row,
            )
            .optional()?)
    }

    /// Acknowledges the alert raised under `dedup_key`, if any is open (a
    /// fact that stopped being true, like an interruption that resolved).
    pub fn resolve_alert(&self, dedup_key: &str, now: &str) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE alerts SET acknowledged = 1, acknowledged_at = ?2 WHERE dedup_key = ?1 AND acknowledged = 0",
            params![dedup_key, now],
        )?;
        Ok(())
    }

    /// Acknowledges an alert; false when there is no such alert.
    pub fn acknowledge_alert(&self, id: i64, now: &str) -> Result<bool, Error> {
        let changed = self.conn.execute(
            "UPDATE alerts SET acknowledged = 1, acknowledged_at = coalesce(acknowledged_at, ?2) WHERE id = ?1",
            params![id, now],
        )?;
        Ok(changed > 0)
    }
}
