//! The kinds of alert the tool raises, in one place: each kind's severity,
//! whether it is e-mailed, and its dedup key (one alert per fact). The rooms
//! that find a fact word its message; this leaf says what kind it is.

use std::fmt;

use crate::pocket::{ExchangeId, OrderId};

/// How urgent an alert is.
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

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A purchase is on hold until the user acts (identification).
    Interrupted,
    /// A payment was sent back.
    Refunded,
    /// Pocket reports a refund for an exchange already paid out.
    RefundAfterSettlement,
    /// An exchange of an order this database does not know.
    UnknownOrder,
    /// A payout to an address the order's key does not derive.
    ForeignAddress,
    /// A payout to an address an earlier output already paid.
    AddressReuse,
    /// A payout to an address of another order.
    OtherOrderAddress,
    /// A payout to the order's chain, beyond the expected window.
    OutsideWindow,
    /// The gap between payouts nears the wallet's gap limit.
    GapHeadroom,
    /// A webhook delivery that could not be processed.
    UnprocessedWebhook,
    /// No purchase arrived for an order's month.
    MissedOrder,
    /// A payment reminder could not be sent.
    ReminderFailed,
    /// A webhook event name the tool has not seen before (once per name).
    UnknownEvent,
    /// An exchange field that is not as Pocket documents it.
    ExchangeFields,
    /// A settled exchange's payout names another transaction output.
    PayoutChanged,
    /// A payout arrived for an exchange stored as refunded.
    PayoutAfterRefund,
    /// A payout to the order's key, but not where Pocket should pay.
    PayoutElsewhere,
    /// An executed exchange of a lightning order waits for an invoice.
    LightningPayout,
    /// The chain does not show what Pocket reported (critical).
    ChainMismatch,
    /// A reported payout is still not on the chain.
    ChainUnseen,
    /// A confirmed payout lost its confirmations.
    ChainReorganised,
    /// Coins arrived at a window address with no payout reported.
    ChainUnexplained,
    /// A payout's transaction was replaced by another, not reported.
    ChainReplaced,
    /// The coins a confirmed payout delivered were spent (`[chain]
    /// alert_on_spend`).
    PayoutSpent,
}

impl AlertKind {
    pub const ALL: [AlertKind; 24] = [
        AlertKind::Interrupted,
        AlertKind::Refunded,
        AlertKind::RefundAfterSettlement,
        AlertKind::UnknownOrder,
        AlertKind::ForeignAddress,
        AlertKind::AddressReuse,
        AlertKind::OtherOrderAddress,
        AlertKind::OutsideWindow,
        AlertKind::GapHeadroom,
        AlertKind::UnprocessedWebhook,
        AlertKind::MissedOrder,
        AlertKind::ReminderFailed,
        AlertKind::UnknownEvent,
        AlertKind::ExchangeFields,
        AlertKind::PayoutChanged,
        AlertKind::PayoutAfterRefund,
        AlertKind::PayoutElsewhere,
        AlertKind::LightningPayout,
        AlertKind::ChainMismatch,
        AlertKind::ChainUnseen,
        AlertKind::ChainReorganised,
        AlertKind::ChainUnexplained,
        AlertKind::ChainReplaced,
        AlertKind::PayoutSpent,
    ];

    /// The name stored, shown and used in dedup keys.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Interrupted => "interrupted",
            AlertKind::Refunded => "refunded",
            AlertKind::RefundAfterSettlement => "refund_after_settlement",
            AlertKind::UnknownOrder => "unknown_order",
            AlertKind::ForeignAddress => "foreign_address",
            AlertKind::AddressReuse => "address_reuse",
            AlertKind::OtherOrderAddress => "other_order_address",
            AlertKind::OutsideWindow => "outside_window",
            AlertKind::GapHeadroom => "gap_headroom",
            AlertKind::UnprocessedWebhook => "unprocessed_webhook",
            AlertKind::MissedOrder => "missed_order",
            AlertKind::ReminderFailed => "reminder_failed",
            AlertKind::UnknownEvent => "unknown_event",
            AlertKind::ExchangeFields => "exchange_fields",
            AlertKind::PayoutChanged => "payout_changed",
            AlertKind::PayoutAfterRefund => "payout_after_refund",
            AlertKind::PayoutElsewhere => "payout_elsewhere",
            AlertKind::LightningPayout => "lightning_payout",
            AlertKind::ChainMismatch => "chain_mismatch",
            AlertKind::ChainUnseen => "chain_unseen",
            AlertKind::ChainReorganised => "chain_reorganised",
            AlertKind::ChainUnexplained => "coins_without_webhook",
            AlertKind::ChainReplaced => "chain_replaced",
            AlertKind::PayoutSpent => "payout_spent",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::RefundAfterSettlement
            | AlertKind::ForeignAddress
            | AlertKind::AddressReuse
            | AlertKind::ChainMismatch => Severity::Critical,
            AlertKind::UnknownEvent => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// Whether the alert is e-mailed: what the user must act on.
    pub fn mailed(self) -> bool {
        matches!(
            self,
            AlertKind::Interrupted
                | AlertKind::Refunded
                | AlertKind::ForeignAddress
                | AlertKind::AddressReuse
                | AlertKind::RefundAfterSettlement
                | AlertKind::GapHeadroom
                | AlertKind::MissedOrder
                | AlertKind::ReminderFailed
                | AlertKind::PayoutAfterRefund
                | AlertKind::PayoutChanged
                | AlertKind::PayoutElsewhere
                | AlertKind::LightningPayout
                | AlertKind::ChainMismatch
                | AlertKind::ChainUnseen
                | AlertKind::ChainReorganised
                | AlertKind::ChainUnexplained
                | AlertKind::ChainReplaced
                | AlertKind::PayoutSpent
        )
    }

    /// The kinds that are e-mailed.
    pub fn mailed_kinds() -> Vec<AlertKind> {
        AlertKind::ALL.into_iter().filter(|k| k.mailed()).collect()
    }

    /// The dedup key of the fact `subject` (an exchange id, a delivery id,
    /// an order and a month…): the same key is raised once.
    pub fn key(self, subject: &str) -> String {
        format!("{}:{subject}", self.as_str())
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert to raise: a kind, what it is about, and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub order_id: Option<OrderId>,
    pub exchange_id: Option<ExchangeId>,
    pub message: String,
    /// What the fact is about (see [`AlertKind::key`]).
    pub subject: String,
}

impl NewAlert {
    pub fn dedup_key(&self) -> String {
        self.kind.key(&self.subject)
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_name_and_key() {
        let names: std::collections::BTreeSet<&str> =
            AlertKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), AlertKind::ALL.len());
        assert_eq!(AlertKind::Interrupted.key("e1"), "interrupted:e1");
        assert_eq!(AlertKind::ForeignAddress.severity(), Severity::Critical);
        assert!(!AlertKind::UnknownOrder.mailed());
        assert_eq!(AlertKind::mailed_kinds().len(), 18);
        assert_eq!(AlertKind::UnknownEvent.severity(), Severity::Info);
    }
}
