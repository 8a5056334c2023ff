//! Every payout Pocket reported, checked on the chain: the facts from the
//! server (proofs checked), the verdict from `rules`, stored with the
//! alerts it calls for. Blocking: run it off the async runtime.

use chrono::{DateTime, Duration, Utc};

use super::backend::{Backend, TxFacts};
use super::error::Error;
use super::rules::{self, ChainAlert, Reported, Seen, Status, Verdict};
use crate::alerts::{AlertKind, NewAlert};
use crate::config::ChainConfig;
use crate::reconcile::State;
use crate::store::{ExchangeFilter, ExchangeRow, OnchainRow, Store};
use crate::wallet::parse_address;

/// How many transactions one round of requests asks about.
const CHUNK: usize = 100;

/// What one check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub tip_height: u32,
    pub checked: usize,
    pub confirmed: usize,
    pub unconfirmed: usize,
    pub unseen: usize,
    pub mismatch: usize,
    pub replaced: usize,
    pub alerts: usize,
}

/// How patient the checks are, from `[chain]`.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub min_confirmations: u32,
    pub unseen_after: Duration,
}

impl Patience {
    pub fn of(config: &ChainConfig) -> Patience {
        Patience {
            min_confirmations: config.min_confirmations,
            unseen_after: Duration::hours(i64::from(config.unseen_after_hours)),
        }
    }
}

/// A payout to check: its exchange and what Pocket reported.
struct Candidate {
    row: ExchangeRow,
    txid: bitcoin::Txid,
    script: bitcoin::ScriptBuf,
    reported: Reported,
}

fn candidates(store: &Store) -> Result<Vec<Candidate>, Error> {
    let rows = store.exchanges(&ExchangeFilter::default())?;
    Ok(rows
        .into_iter()
        .filter(|r| matches!(r.state, State::Settled | State::Confirmed))
        .filter_map(|row| {
            let payout = row.payout.as_ref().filter(|p| p.kind.is_none())?;
            let txid = payout.txid.parse().ok()?;
            let script = parse_address(&payout.address).ok()?.script_pubkey();
            let reported = Reported {
                vout: payout.vout,
                script: script.to_hex_string(),
                amount_sat: payout.amount_sat,
            };
            Some(Candidate {
                row,
                txid,
                script,
                reported,
            })
        })
        .collect())
}

/// Checks every reported on-chain payout.
pub fn check_payouts(
    backend: &Backend,
    store: &mut Store,
    patience: Patience,
    order: Option<&crate::pocket::OrderId>,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    let (tip, _) = backend.tip()?;
    let mut report = Report {
        tip_height: tip,
        ..Report::default()
    };
    let all: Vec<Candidate> = candidates(store)?
        .into_iter()
        .filter(|c| order.is_none_or(|id| c.row.order_id.as_ref() == Some(id)))
        .collect();
    for chunk in all.chunks(CHUNK) {
        let wanted: Vec<_> = chunk.iter().map(|c| (c.txid, c.script.clone())).collect();
        let facts = backend.transactions(&wanted)?;
        let mut judged = Vec::with_capacity(chunk.len());
        for (candidate, facts) in chunk.iter().zip(facts) {
            let inputs: Vec<String> = facts
                .as_ref()
                .map(|f| f.inputs.iter().map(|o| o.to_string()).collect())
                .unwrap_or_default();
            let seen = match facts {
                Some(facts) => seen(facts),
                None => replacement(backend, store, candidate)?,
            };
            let verdict = rules::judge(&candidate.reported, &seen, tip, patience.min_confirmations);
            judged.push((candidate, verdict, inputs));
        }
        store.transaction(|store| {
            for (candidate, verdict, inputs) in &judged {
                report.alerts += record(store, candidate, verdict, inputs, patience, now)?;
                report.checked += 1;
                match verdict.status {
                    Status::Confirmed => report.confirmed += 1,
                    Status::Unconfirmed => report.unconfirmed += 1,
                    Status::Unseen => report.unseen += 1,
                    Status::Mismatch => report.mismatch += 1,
                    Status::Replaced => report.replaced += 1,
                }
            }
            Ok::<_, Error>(())
        })?;
    }
    store.set_chain_state("tip_height", &tip.to_string())?;
    store.set_chain_state("last_check", &crate::pocket::timestamp::format(&now))?;
    Ok(report)
}

fn seen(facts: TxFacts) -> Seen {
    Seen::Found {
        outputs: facts.outputs,
        block: facts.block.map(|(height, header)| rules::Block {
            height,
            time: DateTime::from_timestamp(i64::from(header.time), 0).unwrap_or_default(),
        }),
    }
}

/// A transaction the server does not know: replaced, when it was seen
/// before and another now spends what it spent; else unknown.
fn replacement(backend: &Backend, store: &Store, candidate: &Candidate) -> Result<Seen, Error> {
    let txid = candidate.txid.to_string();
    let known = store.onchain(&candidate.row.id)?.filter(|o| o.txid == txid);
    let Some(input) = known
        .as_ref()
        .and_then(|o| o.inputs.first())
        .and_then(|i| i.parse::<bitcoin::OutPoint>().ok())
    else {
        return Ok(Seen::Unknown);
    };
    Ok(match backend.spender(input)? {
        Some((by, tx)) if by != candidate.txid => {
            let pays = tx.output.iter().any(|o| {
                o.script_pubkey.to_hex_string() == candidate.reported.script
                    && candidate
                        .reported
                        .amount_sat
                        .is_none_or(|a| o.value.to_sat() == a)
            });
            Seen::Replaced {
                by: by.to_string(),
                pays,
            }
        }
        _ => Seen::Unknown,
    })
}

/// Stores the verdict and raises (or closes) its alerts; how many were new.
fn record(
    store: &Store,
    candidate: &Candidate,
    verdict: &Verdict,
    inputs: &[String],
    patience: Patience,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let id = &candidate.row.id;
    let txid = candidate.txid.to_string();
    let previous = store.onchain(id)?.filter(|p| p.txid == txid);
    let first_checked = previous.as_ref().map_or(now, |p| p.first_checked_at);
    let previous_status = previous.as_ref().and_then(|p| Status::parse(&p.status));
    let raised = rules::alerts(
        previous_status,
        verdict,
        first_checked,
        now,
        patience.unseen_after,
    );
    let mut new = 0;
    for alert in &raised {
        let notice = notice(&candidate.row, &txid, *alert, verdict);
        new += usize::from(store.raise_alert(&notice, now)?.is_some());
    }
    if verdict.status == Status::Confirmed {
        for kind in [AlertKind::ChainUnseen, AlertKind::ChainReorganised] {
            store.resolve_alert(
                &kind.key(&format!("{id}:{txid}")),
                "the payout is confirmed on the chain",
                now,
            )?;
        }
    }
    store.set_onchain(&OnchainRow {
        exchange_id: id.clone(),
        txid,
        status: verdict.status.as_str().to_string(),
        confirmations: verdict.confirmations,
        block_height: verdict.block.map(|b| b.height),
        block_time: verdict.block.map(|b| b.time),
        detail: verdict.detail.clone(),
        inputs: inputs.to_vec(),
        first_checked_at: first_checked,
        checked_at: now,
        spent_by: None,
    })?;
    Ok(new)
}

/// The alert for a payout, in words.
fn notice(row: &ExchangeRow, txid: &str, alert: ChainAlert, verdict: &Verdict) -> NewAlert {
    let payout = row
        .payout
        .as_ref()
        .map(|p| format!("{txid}:{} to {}", p.vout, p.address))
        .unwrap_or_default();
    let (kind, message) = match alert {
        ChainAlert::Mismatch => (
            AlertKind::ChainMismatch,
            format!(
                "Exchange {}: Pocket reported the payout {payout}, but on the chain {}. Check the transaction in your wallet and ask Pocket about it.",
                row.id.short(),
                verdict.detail.as_deref().unwrap_or("it is different")
            ),
        ),
        ChainAlert::Unseen => (
            AlertKind::ChainUnseen,
            format!(
                "Exchange {}: Pocket reported the payout {payout}, but your chain server does not know the transaction. It may still be on its way; if it stays away, ask Pocket.",
                row.id.short()
            ),
        ),
        ChainAlert::Replaced => (
            AlertKind::ChainReplaced,
            format!(
                "Exchange {}: the payout transaction {payout} was replaced on the chain ({}); Pocket has not reported the new one yet. If the new one does not pay you, ask Pocket.",
                row.id.short(),
                verdict
                    .detail
                    .as_deref()
                    .unwrap_or("by another transaction")
            ),
        ),
        ChainAlert::Reorganised => (
            AlertKind::ChainReorganised,
            format!(
                "Exchange {}: the payout {payout} lost its confirmations (a reorganisation of the chain); it is {} now. It usually confirms again soon.",
                row.id.short(),
                verdict.status.as_str()
            ),
        ),
    };
    NewAlert {
        kind,
        order_id: row.order_id.clone(),
        exchange_id: Some(row.id.clone()),
        message,
        subject: format!("{}:{txid}", row.id),
    }
}
