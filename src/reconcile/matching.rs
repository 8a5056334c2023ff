//! The payout matching, as pure functions over what the store knows: where
//! a payout landed (or what an exchange without one waits for), and how far
//! apart the used addresses are against the wallet's gap limit.

use super::rules::State;
use crate::pocket::OrderId;

/// Where a settled payout landed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Reconciliation {
    /// Bought, not paid out yet: the payout is awaited.
    Pending,
    /// Interrupted: the purchase waits for the user to identify.
    AwaitingIdentification,
    /// Refunded: no bitcoin, nothing to match.
    NotApplicable,
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
    /// Derived from the order's key, but not where Pocket should pay: at
    /// Pocket's `derivation_path`, on the change chain, or as another script
    /// type. `place` says which, for the alert and the dashboard.
    Elsewhere { place: String },
    /// Paid over lightning: nothing on chain to match.
    Lightning,
    /// Not derivable from the order's key within the search range.
    Foreign,
}

impl Reconciliation {
    /// The short name stored and shown.
    pub fn code(&self) -> &'static str {
        match self {
            Reconciliation::Pending => "pending",
            Reconciliation::AwaitingIdentification => "awaiting_identification",
            Reconciliation::NotApplicable => "not_applicable",
            Reconciliation::UnknownOrder => "unknown_order",
            Reconciliation::Matched { .. } => "matched",
            Reconciliation::OutsideWindow { .. } => "outside_window",
            Reconciliation::Reused { .. } => "reused",
            Reconciliation::OtherOrder { .. } => "other_order",
            Reconciliation::Elsewhere { .. } => "elsewhere",
            Reconciliation::Lightning => "lightning",
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

/// What an exchange without a payout waits for: its payout when executed,
/// the user's identification when interrupted, nothing when refunded.
pub fn without_payout(state: State) -> Reconciliation {
    match state {
        State::Interrupted => Reconciliation::AwaitingIdentification,
        State::Refunded => Reconciliation::NotApplicable,
        State::Executed | State::Settled | State::Confirmed => Reconciliation::Pending,
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
    /// Derived from the order's key elsewhere: on another chain or as another
    /// script type (`place` in words, like "your change address 1/4").
    Elsewhere { place: String },
    /// Not derivable from the order's key within the search range.
    NotFound,
}

/// Matches a payout (`txid:vout`) against what is known of its address.
/// Several exchanges paid in one output (payout protection) are one payout;
/// an order with a single payout address is paid there every time.
pub fn match_payout(fact: &AddressFact, outpoint: &str, single_address: bool) -> Reconciliation {
    match fact {
        AddressFact::Ours { index, .. } if single_address => {
            Reconciliation::Matched { index: *index }
        }
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
        AddressFact::Elsewhere { place } => Reconciliation::Elsewhere {
            place: place.clone(),
        },
        AddressFact::NotFound => Reconciliation::Foreign,
    }
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

    #[test]
    fn an_exchange_without_a_payout_says_what_it_waits_for() {
        let cases = [
            (State::Executed, "pending"),
            (State::Interrupted, "awaiting_identification"),
            (State::Refunded, "not_applicable"),
        ];
        for (state, code) in cases {
            assert_eq!(without_payout(state).code(), code, "{state}");
        }
    }

    #[test]
    fn one_output_to_one_address_is_one_payout() {
        let fact = AddressFact::Ours {
            index: 3,
            used_by: vec!["t:1".into()],
        };
        assert_eq!(
            match_payout(&fact, "t:1", false),
            Reconciliation::Matched { index: 3 }
        );
        assert_eq!(
            match_payout(&fact, "u:0", false),
            Reconciliation::Reused {
                index: 3,
                previous: "t:1".into()
            }
        );
        // An order paid to one address is paid there every time.
        assert_eq!(
            match_payout(&fact, "u:0", true),
            Reconciliation::Matched { index: 3 }
        );
        let elsewhere = AddressFact::Elsewhere {
            place: "your change address 1/4".into(),
        };
        assert_eq!(match_payout(&elsewhere, "u:0", false).code(), "elsewhere");
        assert_eq!(
            match_payout(&AddressFact::NotFound, "u:0", false),
            Reconciliation::Foreign
        );
    }

    #[test]
    fn longest_gap_counts_unused_runs_below_used_addresses() {
        assert_eq!(longest_gap(0, &[]), 0);
        assert_eq!(longest_gap(0, &[0, 1, 2]), 0);
        assert_eq!(longest_gap(0, &[0, 5]), 4);
        assert_eq!(longest_gap(2, &[3, 10, 11]), 6);
    }
}
