//! The exchange state machine, as pure functions over what the store knows:
//! which state an exchange object shows and whether it moves the stored
//! state forward. (Where a payout landed is `matching`; the field checks are
//! `checks`.)

use std::fmt;
use std::str::FromStr;

use crate::pocket::Exchange;

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

    /// The later of two states on the forward path.
    fn max_rank(self, other: State) -> State {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
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

/// The reason codes that name an interruption, not a refund: the user must
/// act (identify), then the purchase goes on.
pub const INTERRUPTION_REASONS: [&str; 1] = ["identification_required"];

/// The state an exchange object shows, read as `pocket-api.md` says: an
/// envelope whose event name says interrupted or refunded decides; else
/// interrupted if `action` is set (whatever `reason` says: Pocket's official
/// example sets both), or if `reason` names an interruption; refunded if
/// `reason` alone is set; settled (confirmed) if `payout` is; else executed.
pub fn observe(exchange: &Exchange, event: Option<&str>) -> State {
    let named = event.map(|e| e.to_ascii_lowercase()).unwrap_or_default();
    let interruption_reason = exchange
        .reason
        .as_ref()
        .is_some_and(|r| INTERRUPTION_REASONS.contains(&r.code.as_str()));
    if named.ends_with("interrupted") {
        State::Interrupted
    } else if named.ends_with("refunded") {
        State::Refunded
    } else if exchange.action.is_some() || interruption_reason {
        State::Interrupted
    } else if exchange.reason.is_some() {
        State::Refunded
    } else if let Some(payout) = &exchange.payout {
        // A lightning payout that reached the node is as final as a
        // confirmed transaction.
        if payout.confirmed == Some(true) || (payout.is_lightning() && payout.is_completed()) {
            State::Confirmed
        } else {
            State::Settled
        }
    } else {
        State::Executed
    }
}

/// What identifies a payout and where it stands on the chain, as Pocket
/// reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutFacts {
    pub txid: String,
    pub vout: u32,
    pub address: String,
    pub amount_sat: Option<u64>,
    pub block_height: Option<u64>,
}

impl PayoutFacts {
    pub fn of(payout: &crate::pocket::Payout) -> PayoutFacts {
        PayoutFacts {
            txid: payout.txid.clone().unwrap_or_default(),
            vout: payout.outpoint.unwrap_or(0),
            address: payout.bitcoin_address.clone().unwrap_or_default(),
            amount_sat: payout.amount.map(|a| a.to_sat()),
            block_height: payout.block_height,
        }
    }

    /// Whether both name the same output paying the same amount.
    fn same_output(&self, other: &PayoutFacts) -> bool {
        (&self.txid, self.vout, &self.address, self.amount_sat)
            == (&other.txid, other.vout, &other.address, other.amount_sat)
    }
}

/// An exchange as stored or as observed: its state and its payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'a> {
    pub state: State,
    pub payout: Option<&'a PayoutFacts>,
}

/// What an observation does to the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The first time this exchange is seen.
    New(State),
    /// The stored state moves forward.
    Advance { from: State, to: State },
    /// The same state and payout again: a duplicate.
    Same,
    /// An older state arriving late: recorded, nothing changes.
    Stale { stored: State, observed: State },
    /// A refund reported for a settled exchange: an alert, not an overwrite.
    RefundAfterSettlement { stored: State },
    /// A payout for an exchange stored as refunded: applied and reconciled,
    /// with an alert.
    PayoutAfterRefund { to: State },
    /// A settled exchange whose payout names another output, address or
    /// amount (a replaced transaction, a correction): the old match is
    /// undone, the new payout reconciled, with an alert.
    PayoutChanged { from: State, to: State },
    /// The same payout with a new block height or confirmation: stored.
    PayoutUpdated { from: State, to: State },
}

impl Transition {
    /// Whether the observation is stored (the rest only log it).
    pub fn stores(self) -> bool {
        !matches!(
            self,
            Transition::Same | Transition::Stale { .. } | Transition::RefundAfterSettlement { .. }
        )
    }
}

/// Decides how `observed` changes `stored`. The state moves only forward
/// along interrupted → executed → settled → confirmed, or to refunded from
/// interrupted or executed — except for what Pocket's retries and
/// corrections make real: a payout after a refund, a payout that changed,
/// and a payout's block height or confirmation filling in.
pub fn transition(stored: Option<Seen>, observed: Seen) -> Transition {
    let Some(stored) = stored else {
        return Transition::New(observed.state);
    };
    let (from, to) = (stored.state, observed.state);
    let settled = |s: State| matches!(s, State::Settled | State::Confirmed);
    if settled(from) && settled(to) {
        return match (stored.payout, observed.payout) {
            (Some(old), Some(new)) if !old.same_output(new) => {
                Transition::PayoutChanged { from, to }
            }
            (Some(old), Some(new))
                if old.block_height != new.block_height && new.block_height.is_some() =>
            {
                Transition::PayoutUpdated {
                    from,
                    to: from.max_rank(to),
                }
            }
            _ if to.rank() > from.rank() => Transition::Advance { from, to },
            _ if from == to => Transition::Same,
            _ => Transition::Stale {
                stored: from,
                observed: to,
            },
        };
    }
    if from == to {
        return Transition::Same;
    }
    match (from, to) {
        (State::Settled | State::Confirmed, State::Refunded) => {
            Transition::RefundAfterSettlement { stored: from }
        }
        (State::Refunded, State::Settled | State::Confirmed) => {
            Transition::PayoutAfterRefund { to }
        }
        (State::Interrupted | State::Executed, State::Refunded) => Transition::Advance { from, to },
        (State::Refunded, _) => Transition::Stale {
            stored: from,
            observed: to,
        },
        _ if to.rank() > from.rank() => Transition::Advance { from, to },
        _ => Transition::Stale {
            stored: from,
            observed: to,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pocket::{ExchangeAction, ExchangeReason, Payout};

    fn ex() -> Exchange {
        Exchange {
            id: "e".into(),
            ..Exchange::default()
        }
    }

    fn with(action: Option<&str>, reason: Option<&str>, payout: Option<bool>) -> Exchange {
        Exchange {
            action: action.map(|code| ExchangeAction {
                code: code.into(),
                ..ExchangeAction::default()
            }),
            reason: reason.map(|code| ExchangeReason { code: code.into() }),
            payout: payout.map(|confirmed| Payout {
                confirmed: Some(confirmed),
                ..Payout::default()
            }),
            ..ex()
        }
    }

    /// One row per rule of `pocket-api.md`'s state reading.
    #[test]
    fn the_state_is_read_from_what_pocket_sends() {
        use State::*;
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<bool>,
            Option<&'a str>,
            State,
        );
        let cases: &[Case] = &[
            ("nothing set", None, None, None, None, Executed),
            ("a payout", None, None, Some(false), None, Settled),
            (
                "a confirmed payout",
                None,
                None,
                Some(true),
                None,
                Confirmed,
            ),
            (
                "the tutorial's interruption",
                Some("identification_required"),
                None,
                None,
                None,
                Interrupted,
            ),
            // Pocket's official Postman example sets both: action decides.
            (
                "action and reason (Postman)",
                Some("identify"),
                Some("identification_required"),
                None,
                None,
                Interrupted,
            ),
            (
                "action and a refund reason",
                Some("identify"),
                Some("threshold_exceeded"),
                None,
                None,
                Interrupted,
            ),
            (
                "an interruption reason alone",
                None,
                Some("identification_required"),
                None,
                None,
                Interrupted,
            ),
            (
                "a refund reason alone",
                None,
                Some("threshold_exceeded"),
                None,
                None,
                Refunded,
            ),
            (
                "a refund reason with a payout",
                None,
                Some("other_risk_detected"),
                Some(false),
                None,
                Refunded,
            ),
            // The envelope's name decides when it says interrupted or refunded.
            (
                "named interrupted",
                None,
                None,
                None,
                Some("exchange.interrupted"),
                Interrupted,
            ),
            (
                "named refunded",
                None,
                None,
                Some(false),
                Some("exchange.refunded"),
                Refunded,
            ),
            (
                "any other name: the fields",
                None,
                None,
                Some(false),
                Some("exchange.paid_out"),
                Settled,
            ),
            (
                "named executed but refunded",
                None,
                Some("order_inactive"),
                None,
                Some("exchange.executed"),
                Refunded,
            ),
        ];
        for (what, action, reason, payout, event, expected) in cases {
            let e = with(*action, *reason, *payout);
            assert_eq!(observe(&e, *event), *expected, "{what}");
        }
    }

    #[test]
    fn a_lightning_payout_is_settled_while_pending_and_final_once_completed() {
        use crate::pocket::Payout;
        use State::*;
        let cases = [
            ("pending", Settled),
            ("in_flight", Settled),
            ("completed", Confirmed),
            ("succeeded", Confirmed),
        ];
        for (status, expected) in cases {
            let e = Exchange {
                payout: Some(Payout {
                    kind: Some("lightning".into()),
                    status: Some(status.into()),
                    ..Payout::default()
                }),
                ..Exchange::default()
            };
            assert_eq!(observe(&e, None), expected, "{status}");
        }
    }

    fn facts(txid: &str, vout: u32, height: Option<u64>) -> PayoutFacts {
        PayoutFacts {
            txid: txid.into(),
            vout,
            address: "tb1qaddress".into(),
            amount_sat: Some(196_810),
            block_height: height,
        }
    }

    /// One row per transition rule, including the exceptions Pocket's
    /// retries and corrections make real.
    #[test]
    fn the_stored_state_moves_forward_with_the_documented_exceptions() {
        use State::*;
        let a = facts("aa", 0, None);
        let moved = facts("bb", 1, None);
        let mined = facts("aa", 0, Some(900_001));
        let remined = facts("aa", 0, Some(900_002));
        let seen = |state, payout| Seen { state, payout };
        let cases: Vec<(&str, Option<Seen>, Seen, Transition)> = vec![
            (
                "first sight",
                None,
                seen(Settled, Some(&a)),
                Transition::New(Settled),
            ),
            (
                "forward",
                Some(seen(Interrupted, None)),
                seen(Executed, None),
                Transition::Advance {
                    from: Interrupted,
                    to: Executed,
                },
            ),
            (
                "forward past a step",
                Some(seen(Executed, None)),
                seen(Confirmed, Some(&a)),
                Transition::Advance {
                    from: Executed,
                    to: Confirmed,
                },
            ),
            (
                "interrupted to settled",
                Some(seen(Interrupted, None)),
                seen(Settled, Some(&a)),
                Transition::Advance {
                    from: Interrupted,
                    to: Settled,
                },
            ),
            (
                "a duplicate",
                Some(seen(Executed, None)),
                seen(Executed, None),
                Transition::Same,
            ),
            (
                "a duplicate payout",
                Some(seen(Settled, Some(&a))),
                seen(Settled, Some(&a)),
                Transition::Same,
            ),
            (
                "late executed",
                Some(seen(Settled, Some(&a))),
                seen(Executed, None),
                Transition::Stale {
                    stored: Settled,
                    observed: Executed,
                },
            ),
            (
                "late interruption",
                Some(seen(Executed, None)),
                seen(Interrupted, None),
                Transition::Stale {
                    stored: Executed,
                    observed: Interrupted,
                },
            ),
            (
                "refund before payout",
                Some(seen(Executed, None)),
                seen(Refunded, None),
                Transition::Advance {
                    from: Executed,
                    to: Refunded,
                },
            ),
            (
                "refund after settlement",
                Some(seen(Settled, Some(&a))),
                seen(Refunded, None),
                Transition::RefundAfterSettlement { stored: Settled },
            ),
            (
                "executed after refund",
                Some(seen(Refunded, None)),
                seen(Executed, None),
                Transition::Stale {
                    stored: Refunded,
                    observed: Executed,
                },
            ),
            (
                "payout after refund",
                Some(seen(Refunded, None)),
                seen(Settled, Some(&a)),
                Transition::PayoutAfterRefund { to: Settled },
            ),
            (
                "replaced payout",
                Some(seen(Settled, Some(&a))),
                seen(Settled, Some(&moved)),
                Transition::PayoutChanged {
                    from: Settled,
                    to: Settled,
                },
            ),
            (
                "replaced after confirmation",
                Some(seen(Confirmed, Some(&a))),
                seen(Settled, Some(&moved)),
                Transition::PayoutChanged {
                    from: Confirmed,
                    to: Settled,
                },
            ),
            (
                "block height fills in",
                Some(seen(Settled, Some(&a))),
                seen(Settled, Some(&mined)),
                Transition::PayoutUpdated {
                    from: Settled,
                    to: Settled,
                },
            ),
            (
                "block height moves (reorg)",
                Some(seen(Confirmed, Some(&mined))),
                seen(Confirmed, Some(&remined)),
                Transition::PayoutUpdated {
                    from: Confirmed,
                    to: Confirmed,
                },
            ),
            (
                "confirmed with its height",
                Some(seen(Settled, Some(&a))),
                seen(Confirmed, Some(&mined)),
                Transition::PayoutUpdated {
                    from: Settled,
                    to: Confirmed,
                },
            ),
            (
                "confirmed, same height",
                Some(seen(Settled, Some(&mined))),
                seen(Confirmed, Some(&mined)),
                Transition::Advance {
                    from: Settled,
                    to: Confirmed,
                },
            ),
            (
                "unconfirmed again, same payout",
                Some(seen(Confirmed, Some(&mined))),
                seen(Settled, Some(&mined)),
                Transition::Stale {
                    stored: Confirmed,
                    observed: Settled,
                },
            ),
        ];
        for (what, stored, observed, expected) in cases {
            assert_eq!(transition(stored, observed), expected, "{what}");
        }
    }
}
