//! What several pages show the same way: alerts, exchanges, an order's
//! next reminder and average price.

use std::collections::HashMap;

use chrono::Utc;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::format::{currency_of_pair, grouped, local, money};
use crate::orders::model::StoredOrder;
use crate::pocket::OrderId;
use crate::portfolio::OrderStats;
use crate::reminders::{self, Settings};
use crate::store::{AlertRow, ExchangeRow, OnchainRow, Store};

pub struct AlertView {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub message: String,
    pub created_at: String,
    pub acknowledged: bool,
    /// "resolved 3 Dec 10:00: the reminder was sent", when a success closed it.
    pub resolved: Option<String>,
}

pub fn alert_view(a: AlertRow, tz: Tz) -> AlertView {
    AlertView {
        id: a.id,
        kind: a.kind,
        severity: a.severity,
        message: a.message,
        created_at: local(a.created_at, tz),
        acknowledged: a.acknowledged,
        resolved: a.resolved_at.map(|at| {
            format!(
                "resolved {}: {}",
                local(at, tz),
                a.resolution.as_deref().unwrap_or("")
            )
        }),
    }
}

/// A long identifier — an address, a txid — shown shortened in the middle
/// on a narrow screen (`tb1q5hde…fgvq`) and whole in the page: selecting it
/// copies all of it, and `title` shows it.
pub struct Clip {
    pub full: String,
    pub head: String,
    pub tail: String,
}

impl Clip {
    /// The last characters that stay visible.
    const TAIL: usize = 6;

    pub fn new(full: &str) -> Clip {
        let split = full
            .char_indices()
            .rev()
            .nth(Self::TAIL - 1)
            .map_or(0, |(i, _)| i);
        Clip {
            full: full.to_string(),
            head: full[..split].to_string(),
            tail: full[split..].to_string(),
        }
    }
}

/// An exchange's payout cell: the output (clipped) and what follows it,
/// and what the chain says of it.
pub struct PayoutCell {
    pub output: Option<Clip>,
    pub text: String,
    /// (status, badge text): `confirmed · 3`, `unseen`, `confirmed · 3 ·
    /// spent`…
    pub onchain: Option<(String, String)>,
}

/// The chain's word on a payout, as a badge.
fn onchain_badge(row: &OnchainRow) -> (String, String) {
    let text = match row.status.as_str() {
        "confirmed" | "unconfirmed" if row.confirmations > 0 => {
            format!("{} · {}", row.status, row.confirmations)
        }
        other => other.to_string(),
    };
    let text = match row.spent_by {
        Some(_) => format!("{text} · spent"),
        None => text,
    };
    (format!("chain-{}", row.status), text)
}

pub struct ExchangeView {
    pub id: String,
    pub executed: String,
    pub order: Option<String>,
    pub order_name: String,
    pub state: &'static str,
    pub note: Option<String>,
    pub cost: String,
    pub fee: String,
    pub rate: String,
    pub sats: String,
    pub payout: Option<PayoutCell>,
    pub reconciliation: String,
    /// The reconciliation in words (`not applicable`).
    pub reconciliation_text: String,
    pub warnings: Vec<String>,
}

pub fn exchange_view(
    e: &ExchangeRow,
    names: &HashMap<OrderId, String>,
    onchain: Option<&OnchainRow>,
    tz: Tz,
) -> ExchangeView {
    let currency = e.pair.as_deref().map(currency_of_pair).unwrap_or_default();
    let amount = |d: Option<Decimal>| {
        d.map(|d| format!("{currency} {}", grouped(&money(d))))
            .unwrap_or_else(|| "–".into())
    };
    let known = e.order_id.as_ref().filter(|id| names.contains_key(*id));
    ExchangeView {
        id: e.id.to_string(),
        executed: e
            .executed_on
            .map(|t| local(t, tz))
            .unwrap_or_else(|| format!("seen {}", local(e.first_seen_at, tz))),
        order: known.map(OrderId::to_string),
        order_name: known
            .and_then(|id| names.get(id))
            .cloned()
            .unwrap_or_default(),
        state: e.state.as_str(),
        note: e.action_code.clone().or_else(|| e.reason_code.clone()),
        cost: amount(e.cost),
        fee: amount(e.fee),
        rate: amount(e.rate),
        sats: e
            .amount_sat
            .map(|s| grouped(&s.to_string()))
            .unwrap_or_else(|| "–".into()),
        payout: e.payout.as_ref().map(|p| match p.kind.as_deref() {
            Some(kind) => PayoutCell {
                onchain: None,
                output: None,
                text: format!(
                    "{kind} {}{}",
                    p.status.as_deref().unwrap_or("-"),
                    p.amount_sat
                        .map(|a| format!(", {} sat", grouped(&a.to_string())))
                        .unwrap_or_default()
                ),
            },
            None => PayoutCell {
                onchain: onchain.filter(|o| o.txid == p.txid).map(onchain_badge),
                output: Some(Clip::new(&format!("{}:{}", p.txid, p.vout))),
                text: e
                    .address_index
                    .map(|i| format!(" → #{i}"))
                    .unwrap_or_default(),
            },
        }),
        reconciliation: e.reconciliation.clone(),
        reconciliation_text: e.reconciliation.replace('_', " "),
        warnings: e.warnings.clone(),
    }
}

/// Every payout's on-chain status, by exchange.
pub fn onchain_by_exchange(
    store: &Store,
) -> Result<HashMap<crate::pocket::ExchangeId, OnchainRow>, crate::store::Error> {
    Ok(store
        .onchain_all()?
        .into_iter()
        .map(|o| (o.exchange_id.clone(), o))
        .collect())
}

/// Every order's id and short name.
pub fn order_names(store: &Store) -> Result<HashMap<OrderId, String>, crate::store::Error> {
    Ok(store
        .orders()?
        .into_iter()
        .map(|o| (o.id.clone(), o.name()))
        .collect())
}

/// The average price paid per bitcoin, with its currency.
pub fn average(stats: &OrderStats, currency: &str) -> String {
    stats
        .average_price
        .map(|p| format!("{currency} {}/BTC", grouped(&money(p))))
        .unwrap_or_else(|| "–".into())
}

/// When the order's next reminder is due, in words.
pub fn next_reminder(store: &Store, order: &StoredOrder, settings: &Settings) -> String {
    let now = Utc::now();
    match reminders::next_due(store, order, settings, now) {
        Ok(Some(at)) if at <= now => format!("{} (due, being sent)", local(at, settings.timezone)),
        Ok(Some(at)) => local(at, settings.timezone),
        Ok(None) => "none (paused)".into(),
        Err(_) => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_badge_says_status_depth_and_spend() {
        let row = |status: &str, confirmations: u32, spent: bool| OnchainRow {
            exchange_id: "e".into(),
            txid: "t".into(),
            status: status.into(),
            confirmations,
            block_height: None,
            block_time: None,
            detail: None,
            inputs: Vec::new(),
            first_checked_at: chrono::DateTime::UNIX_EPOCH,
            checked_at: chrono::DateTime::UNIX_EPOCH,
            spent_by: spent.then(|| "s".into()),
        };
        for (status, confirmations, spent, class, text) in [
            ("confirmed", 3, false, "chain-confirmed", "confirmed · 3"),
            (
                "confirmed",
                3,
                true,
                "chain-confirmed",
                "confirmed · 3 · spent",
            ),
            (
                "unconfirmed",
                1,
                false,
                "chain-unconfirmed",
                "unconfirmed · 1",
            ),
            ("unconfirmed", 0, false, "chain-unconfirmed", "unconfirmed"),
            ("unseen", 0, false, "chain-unseen", "unseen"),
            ("mismatch", 2, false, "chain-mismatch", "mismatch"),
        ] {
            assert_eq!(
                onchain_badge(&row(status, confirmations, spent)),
                (class.to_string(), text.to_string()),
                "{status} {confirmations} {spent}"
            );
        }
    }
}
