//! The exchange state machine and the payout checks, as pure functions over
//! what the store knows: which state an exchange object shows, whether it
//! moves the stored state forward, where its payout landed, whether its
//! amounts add up, and how far apart the used addresses are.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::pocket::{Exchange, OrderId};

/// The state of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Interrupted,
    Executed,
    Refunded,
    Settled,
    /// Settled, and the payout reported confirmed.
    Confirmed,
}

impl State {
    /// Every state, in the order lists show them.
    pub const ALL: [State; 5] = [
        State::Interrupted,
        State::Executed,
        State::Refunded,
        State::Settled,
        State::Confirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Interrupted => "interrupted",
            State::Executed => "executed",
            State::Refunded => "refunded",
            State::Settled => "settled",
            State::Confirmed => "confirmed",
        }
    }

    /// Nothing more will happen to the exchange: `sync` stops asking.
    pub fn is_final(self) -> bool {
        matches!(self, State::Refunded | State::Confirmed)
    }

    /// Position on the forward path interrupted → executed → settled → confirmed.
    fn rank(self) -> u8 {
        match self {
            State::Interrupted => 0,
            State::Executed => 1,
            State::Settled => 2,
            State::Confirmed => 3,
            State::Refunded => 4,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "interrupted" => State::Interrupted,
            "executed" => State::Executed,
            "refunded" => State::Refunded,
            "settled" => State::Settled,
            "confirmed" => State::Confirmed,
            other => {
                return Err(format!(
                    "unknown state `{other}`; use interrupted, executed, refunded, settled or confirmed"
                ));
            }
        })
    }
}

/// The state an exchange object shows: refunded if `reason` is set, else
/// interrupted if `action` is, else settled (confirmed) if `payout` is, else
/// executed.
pub fn observe(exchange: &Exchange) -> State {
    if exchange.reason.is_some() {
        State::Refunded
    } else if exchange.action.is_some() {
        State::Interrupted
    } else if let Some(payout) = &exchange.payout {
        if payout.confirmed == Some(true) {
            State::Confirmed
        } else {
            State::Settled
        }
    } else {
        State::Executed
    }
}

/// What an observation does to the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The first time this exchange is seen.
    New(State),
    /// The stored state moves forward.
    Advance { from: State, to: State },
    /// The same state again: a duplicate.
    Same,
    /// An older state arriving late: recorded, nothing changes.
    Stale { stored: State, observed: State },
    /// A refund reported for a settled exchange: an alert, not an overwrite.
    RefundAfterSettlement { stored: State },
}

/// Decides how `observed` changes `stored`: only forward along
/// interrupted → executed → settled → confirmed, or to refunded from
/// interrupted or executed.
pub fn transition(stored: Option<State>, observed: State) -> Transition {
    let Some(stored) = stored else {
        return Transition::New(observed);
    };
    if stored == observed {
        return Transition::Same;
    }
    match (stored, observed) {
        (State::Settled | State::Confirmed, State::Refunded) => {
            Transition::RefundAfterSettlement { stored }
        }
        (State::Interrupted | State::Executed, State::Refunded) => Transition::Advance {
            from: stored,
            to: observed,
        },
        (State::Refunded, _) => Transition::Stale { stored, observed },
        _ if observed.rank() > stored.rank() => Transition::Advance {
            from: stored,
            to: observed,
        },
        _ => Transition::Stale { stored, observed },
    }
}

/// Where a settled payout landed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Reconciliation {
    /// Not settled yet: nothing to match.
    Pending,
    /// The exchange's order is not known here.
    UnknownOrder,
    /// An expected address of the order, unused or used by the same output.
    Matched { index: u32 },
    /// On the order's chain but beyond the stored window.
    OutsideWindow { index: u32 },
    /// Already used by another transaction output.
    Reused { index: u32, previous: String },
    /// An address of another order.
    OtherOrder { order_id: OrderId, index: u32 },
    /// Not derivable from the order's key within the search range.
    Foreign,
}

impl Reconciliation {
    /// The short name stored and shown.
    pub fn code(&self) -> &'static str {
        match self {
            Reconciliation::Pending => "pending",
            Reconciliation::UnknownOrder => "unknown_order",
            Reconciliation::Matched { .. } => "matched",
            Reconciliation::OutsideWindow { .. } => "outside_window",
            Reconciliation::Reused { .. } => "reused",
            Reconciliation::OtherOrder { .. } => "other_order",
            Reconciliation::Foreign => "foreign",
        }
    }

    /// The derived index the payout went to, when it is one of the order's.
    pub fn index(&self) -> Option<u32> {
        match self {
            Reconciliation::Matched { index }
            | Reconciliation::OutsideWindow { index }
            | Reconciliation::Reused { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// How many addresses past the highest derived one a payout is searched for.
pub const SEARCH_BEYOND: u32 = 1000;

/// What the store knows about a payout's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressFact {
    /// A derived address of the exchange's order, with the outputs
    /// (`txid:vout`) that already paid to it.
    Ours { index: u32, used_by: Vec<String> },
    /// A derived address of another order.
    Others { order_id: OrderId, index: u32 },
    /// Not derived yet; found on the order's chain at this index by the search.
    Found { index: u32 },
    /// Not derivable from the order's key within the search range.
    NotFound,
}

/// Matches a payout (`txid:vout`) against what is known of its address.
/// Several exchanges paid in one output (payout protection) are one payout.
pub fn match_payout(fact: &AddressFact, outpoint: &str) -> Reconciliation {
    match fact {
        AddressFact::Ours { index, used_by } => match used_by.iter().find(|o| *o != outpoint) {
            Some(previous) => Reconciliation::Reused {
                index: *index,
                previous: previous.clone(),
            },
            None => Reconciliation::Matched { index: *index },
        },
        AddressFact::Others { order_id, index } => Reconciliation::OtherOrder {
            order_id: order_id.clone(),
            index: *index,
        },
        AddressFact::Found { index } => Reconciliation::OutsideWindow { index: *index },
        AddressFact::NotFound => Reconciliation::Foreign,
    }
}

/// The amount checks of an exchange, with its own fee rate: each mismatch
/// as a sentence.
pub fn check_amounts(exchange: &Exchange) -> Vec<String> {
    let mut warnings = Vec::new();
    let cent = Decimal::new(1, 2);
    if let (Some(cost), Some(fee), Some(fee_rate)) =
        (exchange.cost, exchange.fee, exchange.fee_rate)
    {
        let expected = cost * fee_rate;
        if (expected - fee).abs() > cent {
            warnings.push(format!(
                "fee {fee} is not cost × fee rate ({cost} × {fee_rate} = {})",
                expected.normalize()
            ));
        }
    }
    if let (Some(cost), Some(fee), Some(rate), Some(amount)) =
        (exchange.cost, exchange.fee, exchange.rate, exchange.amount)
    {
        let value = amount.to_decimal() * rate + fee;
        let one_sat = rate / Decimal::from(100_000_000u64);
        if (value - cost).abs() > cent + one_sat {
            warnings.push(format!(
                "amount × rate + fee is {}, not the cost {cost}",
                value.round_dp(2)
            ));
        }
    }
    if let (Some(amount), Some(payout)) = (exchange.amount, &exchange.payout)
        && let (Some(paid), Some(fee)) = (payout.amount, payout.fee)
        && paid.to_sat() + fee.to_sat() != amount.to_sat()
    {
        warnings.push(format!(
            "payout {} sat + network fee {} sat is not the amount bought, {} sat",
            paid.to_sat(),
            fee.to_sat(),
            amount.to_sat()
        ));
    }
    warnings
}

/// The longest run of unused addresses below a used one, counted from the
/// window's start: how far past the last used address a wallet must look.
pub fn longest_gap(start: u32, used: &[u32]) -> u32 {
    let mut sorted: Vec<u32> = used.iter().copied().filter(|i| *i >= start).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut previous = None;
    let mut longest = 0;
    for index in sorted {
        let gap = match previous {
            None => index - start,
            Some(p) => index - p - 1,
        };
        longest = longest.max(gap);
        previous = Some(index);
    }
    longest
}

/// How close to the wallet's gap limit the gap may come before an alert.
pub const HEADROOM_MARGIN: u32 = 5;

/// The gap a wallet must scan past to see every payout of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Headroom {
    /// The longest run of unused addresses below a used one.
    pub longest_gap: u32,
    pub wallet_gap_limit: u32,
    /// How many more unused addresses in a row the wallet tolerates.
    pub remaining: i64,
}

impl Headroom {
    /// Whether the gap came close enough to the wallet's limit to warn.
    pub fn is_tight(&self) -> bool {
        self.remaining <= i64::from(HEADROOM_MARGIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pocket::{Btc, ExchangeAction, ExchangeReason, Payout};

    fn ex() -> Exchange {
        Exchange {
            id: "e".into(),
            ..Exchange::default()
        }
    }

    #[test]
    fn observed_state_reads_the_fields_in_order() {
        let mut e = ex();
        assert_eq!(observe(&e), State::Executed);
        e.payout = Some(Payout::default());
        assert_eq!(observe(&e), State::Settled);
        e.payout.as_mut().unwrap().confirmed = Some(true);
        assert_eq!(observe(&e), State::Confirmed);
        e.action = Some(ExchangeAction::default());
        assert_eq!(observe(&e), State::Interrupted);
        e.reason = Some(ExchangeReason::default());
        assert_eq!(observe(&e), State::Refunded);
    }

    #[test]
    fn state_only_moves_forward() {
        use State::*;
        assert_eq!(transition(None, Settled), Transition::New(Settled));
        assert_eq!(
            transition(Some(Interrupted), Executed),
            Transition::Advance {
                from: Interrupted,
                to: Executed
            }
        );
        assert_eq!(
            transition(Some(Executed), Confirmed),
            Transition::Advance {
                from: Executed,
                to: Confirmed
            }
        );
        assert_eq!(
            transition(Some(Settled), Executed),
            Transition::Stale {
                stored: Settled,
                observed: Executed
            }
        );
        assert_eq!(
            transition(Some(Executed), Interrupted),
            Transition::Stale {
                stored: Executed,
                observed: Interrupted
            }
        );
        assert_eq!(
            transition(Some(Executed), Refunded),
            Transition::Advance {
                from: Executed,
                to: Refunded
            }
        );
        assert_eq!(
            transition(Some(Refunded), Executed),
            Transition::Stale {
                stored: Refunded,
                observed: Executed
            }
        );
        assert_eq!(
            transition(Some(Settled), Refunded),
            Transition::RefundAfterSettlement { stored: Settled }
        );
        assert_eq!(transition(Some(Settled), Settled), Transition::Same);
    }

    #[test]
    fn one_output_to_one_address_is_one_payout() {
        let fact = AddressFact::Ours {
            index: 3,
            used_by: vec!["t:1".into()],
        };
        assert_eq!(
            match_payout(&fact, "t:1"),
            Reconciliation::Matched { index: 3 }
        );
        assert_eq!(
            match_payout(&fact, "u:0"),
            Reconciliation::Reused {
                index: 3,
                previous: "t:1".into()
            }
        );
    }

    #[test]
    fn documented_example_amounts_add_up() {
        let e: Exchange = serde_json::from_str(
            r#"{"id": "a", "fee_rate": 0.015, "cost": 100.00, "amount": 0.00197000, "rate": 50000.00, "fee": 1.50,
                "payout": {"fee": 0.00000190, "amount": 0.0019681}}"#,
        )
        .unwrap();
        assert!(check_amounts(&e).is_empty(), "{:?}", check_amounts(&e));
        let mut wrong = e.clone();
        wrong.payout.as_mut().unwrap().amount = Some(Btc::from_sat(196_000));
        wrong.fee = Some("2.50".parse().unwrap());
        assert_eq!(check_amounts(&wrong).len(), 3);
    }

    #[test]
    fn longest_gap_counts_unused_runs_below_used_addresses() {
        assert_eq!(longest_gap(0, &[]), 0);
        assert_eq!(longest_gap(0, &[0, 1, 2]), 0);
        assert_eq!(longest_gap(0, &[0, 5]), 4);
        assert_eq!(longest_gap(2, &[3, 10, 11]), 6);
    }
}
