//! The chain's verdict on a payout, as pure functions: what Pocket reported
//! against what the chain shows, and the alerts that follow. The adapters
//! gather the facts (with their proofs checked); nothing here does I/O.

use chrono::{DateTime, Duration, Utc};

/// Where a payout stands on the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In a block with at least `min_confirmations`.
    Confirmed,
    /// In the mempool, or in a block with fewer confirmations.
    Unconfirmed,
    /// The server does not know the transaction.
    Unseen,
    /// The transaction exists but its output is not what Pocket reported.
    Mismatch,
    /// The transaction is gone and another spends its inputs.
    Replaced,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Unconfirmed => "unconfirmed",
            Status::Unseen => "unseen",
            Status::Mismatch => "mismatch",
            Status::Replaced => "replaced",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "confirmed" => Status::Confirmed,
            "unconfirmed" => Status::Unconfirmed,
            "unseen" => Status::Unseen,
            "mismatch" => Status::Mismatch,
            "replaced" => Status::Replaced,
            _ => return None,
        })
    }
}

/// What Pocket reported of a payout: the output and what it pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub vout: u32,
    /// The payout address's script, hex.
    pub script: String,
    pub amount_sat: Option<u64>,
}

/// What the chain shows of the payout's transaction (proofs checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The server does not know it.
    Unknown,
    /// Gone, and `by` spends its inputs; `pays` says whether that one pays
    /// the reported output's address the reported amount.
    Replaced { by: String, pays: bool },
    /// Its outputs (script hex, value) and, once in a block, the block.
    Found {
        outputs: Vec<(String, u64)>,
        block: Option<Block>,
    },
}

/// The block a transaction is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub height: u32,
    pub time: DateTime<Utc>,
}

/// The verdict on one payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub confirmations: u32,
    pub block: Option<Block>,
    /// What is wrong, for a mismatch.
    pub detail: Option<String>,
}

/// Judges a payout: its output must pay the reported script the reported
/// amount; then its confirmations decide.
pub fn judge(reported: &Reported, seen: &Seen, tip: u32, min_confirmations: u32) -> Verdict {
    let (outputs, block) = match seen {
        Seen::Unknown => {
            return Verdict {
                status: Status::Unseen,
                confirmations: 0,
                block: None,
                detail: None,
            };
        }
        Seen::Replaced { by, pays } => {
            return Verdict {
                status: Status::Replaced,
                confirmations: 0,
                block: None,
                detail: Some(format!(
                    "replaced by {by}, which {} the reported address the reported amount",
                    if *pays { "pays" } else { "does not pay" }
                )),
            };
        }
        Seen::Found { outputs, block } => (outputs, *block),
    };
    let confirmations = block.map_or(0, |b| tip.saturating_sub(b.height) + 1);
    let mismatch = |detail: String| Verdict {
        status: Status::Mismatch,
        confirmations,
        block,
        detail: Some(detail),
    };
    let Some((script, value)) = outputs.get(reported.vout as usize) else {
        return mismatch(format!(
            "the transaction has no output {} ({} outputs)",
            reported.vout,
            outputs.len()
        ));
    };
    if *script != reported.script {
        return mismatch(format!(
            "output {} pays another address than the one Pocket reported",
            reported.vout
        ));
    }
    if let Some(amount) = reported.amount_sat
        && *value != amount
    {
        return mismatch(format!(
            "output {} pays {value} sat, Pocket reported {amount} sat",
            reported.vout
        ));
    }
    let status = if block.is_some() && confirmations >= min_confirmations.max(1) {
        Status::Confirmed
    } else {
        Status::Unconfirmed
    };
    Verdict {
        status,
        confirmations,
        block,
        detail: None,
    }
}

/// An alert the chain's verdict calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainAlert {
    /// Pocket's report and the chain disagree (critical).
    Mismatch,
    /// Not on the chain this long after Pocket reported it (warning).
    Unseen,
    /// It lost its confirmations in a reorganisation (warning).
    Reorganised,
    /// Another transaction replaced it, which Pocket has not reported.
    Replaced,
}

/// The alerts for a payout judged `now`, given its previous verdict and
/// when it was first checked.
pub fn alerts(
    previous: Option<Status>,
    verdict: &Verdict,
    first_checked: DateTime<Utc>,
    now: DateTime<Utc>,
    unseen_after: Duration,
) -> Vec<ChainAlert> {
    let mut out = Vec::new();
    match verdict.status {
        Status::Mismatch => out.push(ChainAlert::Mismatch),
        Status::Replaced => out.push(ChainAlert::Replaced),
        Status::Unseen if now - first_checked >= unseen_after => out.push(ChainAlert::Unseen),
        _ => {}
    }
    if previous == Some(Status::Confirmed) && verdict.status != Status::Confirmed {
        out.push(ChainAlert::Reorganised);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "0014aabbccdd";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn found(value: u64, height: Option<u32>) -> Seen {
        Seen::Found {
            outputs: vec![("0014ffff".into(), 5_000), (SCRIPT.into(), value)],
            block: height.map(|height| Block {
                height,
                time: at("2026-11-30T22:00:00Z"),
            }),
        }
    }

    #[test]
    fn a_payout_is_judged_by_its_output_then_its_confirmations() {
        let reported = Reported {
            vout: 1,
            script: SCRIPT.into(),
            amount_sat: Some(196_810),
        };
        let elsewhere = Reported {
            vout: 0,
            ..reported.clone()
        };
        let beyond = Reported {
            vout: 2,
            ..reported.clone()
        };
        // (what, reported, seen, tip, min_confirmations, status, confirmations)
        let cases = [
            (
                "unknown",
                &reported,
                Seen::Unknown,
                100,
                1,
                Status::Unseen,
                0,
            ),
            (
                "in the mempool",
                &reported,
                found(196_810, None),
                100,
                1,
                Status::Unconfirmed,
                0,
            ),
            (
                "one block",
                &reported,
                found(196_810, Some(100)),
                100,
                1,
                Status::Confirmed,
                1,
            ),
            (
                "below the threshold",
                &reported,
                found(196_810, Some(99)),
                100,
                3,
                Status::Unconfirmed,
                2,
            ),
            (
                "at the threshold",
                &reported,
                found(196_810, Some(98)),
                100,
                3,
                Status::Confirmed,
                3,
            ),
            (
                "another amount",
                &reported,
                found(196_000, Some(90)),
                100,
                1,
                Status::Mismatch,
                11,
            ),
            (
                "another address",
                &elsewhere,
                found(196_810, Some(90)),
                100,
                1,
                Status::Mismatch,
                11,
            ),
            (
                "no such output",
                &beyond,
                found(196_810, None),
                100,
                1,
                Status::Mismatch,
                0,
            ),
        ];
        for (what, reported, seen, tip, min, status, confirmations) in cases {
            let verdict = judge(reported, &seen, tip, min);
            assert_eq!(
                (verdict.status, verdict.confirmations),
                (status, confirmations),
                "{what}"
            );
            assert_eq!(
                verdict.detail.is_some(),
                status == Status::Mismatch,
                "{what}"
            );
        }
        let replaced = judge(
            &reported,
            &Seen::Replaced {
                by: "ab".repeat(32),
                pays: true,
            },
            100,
            1,
        );
        assert_eq!(replaced.status, Status::Replaced);
        assert!(replaced.detail.unwrap().contains("which pays"));
    }

    #[test]
    fn alerts_follow_the_verdict_and_its_history() {
        let verdict = |status| Verdict {
            status,
            confirmations: 0,
            block: None,
            detail: None,
        };
        let first = at("2026-11-30T10:00:00Z");
        let twelve = Duration::hours(12);
        let cases = [
            (
                "mismatch",
                None,
                Status::Mismatch,
                "2026-11-30T10:00:00Z",
                vec![ChainAlert::Mismatch],
            ),
            (
                "unseen, early",
                None,
                Status::Unseen,
                "2026-11-30T21:59:00Z",
                vec![],
            ),
            (
                "unseen, late",
                None,
                Status::Unseen,
                "2026-11-30T22:00:00Z",
                vec![ChainAlert::Unseen],
            ),
            (
                "confirmed",
                Some(Status::Unconfirmed),
                Status::Confirmed,
                "2026-11-30T11:00:00Z",
                vec![],
            ),
            (
                "reorganised",
                Some(Status::Confirmed),
                Status::Unconfirmed,
                "2026-11-30T11:00:00Z",
                vec![ChainAlert::Reorganised],
            ),
            (
                "reorganised away",
                Some(Status::Confirmed),
                Status::Unseen,
                "2026-12-01T11:00:00Z",
                vec![ChainAlert::Unseen, ChainAlert::Reorganised],
            ),
        ];
        for (what, previous, status, now, expected) in cases {
            assert_eq!(
                alerts(previous, &verdict(status), first, at(now), twelve),
                expected,
                "{what}"
            );
        }
    }
}
