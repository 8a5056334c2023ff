//! Optional (`[chain] alert_on_spend`): an alert when the coins a confirmed
//! payout delivered are spent, for people who keep them in cold storage.
//! Each payout is asked about until its spend was seen once (over Electrum
//! one batch of histories for all); the spend is recorded with the payout's
//! on-chain status (`spent_by`) and alerted once.

use std::collections::{BTreeMap, HashSet};

use bitcoin::{OutPoint, ScriptBuf};
use chrono::{DateTime, Utc};

use super::backend::Backend;
use super::error::Error;
use super::rules::Status;
use crate::alerts::{AlertKind, NewAlert};
use crate::format::btc;
use crate::pocket::OrderId;
use crate::store::{ExchangeFilter, ExchangeRow, Store};
use crate::wallet::parse_address;

/// Asks the server about every confirmed payout (of `order`) whose spend
/// was not seen yet, once per output (several exchanges may share one);
/// records each spend and alerts it. The new alerts.
pub fn check_spends(
    backend: &Backend,
    store: &Store,
    order: Option<&OrderId>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let unspent: HashSet<_> = store
        .onchain_all()?
        .into_iter()
        .filter(|o| o.status == Status::Confirmed.as_str() && o.spent_by.is_none())
        .map(|o| (o.exchange_id, o.txid))
        .collect();
    let filter = ExchangeFilter {
        order_id: order.cloned(),
        state: None,
    };
    let mut outputs: BTreeMap<OutPoint, (ScriptBuf, Vec<ExchangeRow>)> = BTreeMap::new();
    for row in store.exchanges(&filter)? {
        let Some(payout) = row.payout.as_ref().filter(|p| p.kind.is_none()) else {
            continue;
        };
        if !unspent.contains(&(row.id.clone(), payout.txid.clone())) {
            continue;
        }
        let (Ok(txid), Ok(address)) = (payout.txid.parse(), parse_address(&payout.address)) else {
            continue;
        };
        let output = outputs
            .entry(OutPoint::new(txid, payout.vout))
            .or_insert_with(|| (address.script_pubkey(), Vec::new()));
        output.1.push(row);
    }
    let asked: Vec<(OutPoint, ScriptBuf)> = outputs
        .iter()
        .map(|(outpoint, (script, _))| (*outpoint, script.clone()))
        .collect();
    let spenders = backend.spenders(&asked)?;
    let mut raised = 0;
    for ((outpoint, (_, rows)), spender) in outputs.iter().zip(spenders) {
        let Some((spender, _)) = spender else {
            continue;
        };
        for row in rows {
            store.set_spent(&row.id, &outpoint.txid.to_string(), &spender.to_string())?;
        }
        let alert = notice(&rows[0], outpoint, spender);
        raised += usize::from(store.raise_alert(&alert, now)?.is_some());
    }
    Ok(raised)
}

/// The alert for the payout `outpoint` of `row`, spent by `spender`.
fn notice(row: &ExchangeRow, outpoint: &OutPoint, spender: bitcoin::Txid) -> NewAlert {
    let (address, amount) = row
        .payout
        .as_ref()
        .map_or((String::new(), String::new()), |p| {
            (
                p.address.clone(),
                p.amount_sat
                    .map(|a| format!("{} BTC", btc(a)))
                    .unwrap_or_default(),
            )
        });
    NewAlert {
        kind: AlertKind::PayoutSpent,
        order_id: row.order_id.clone(),
        exchange_id: Some(row.id.clone()),
        message: format!(
            "Exchange {}: the coins of the payout {outpoint} ({amount} to {address}) were spent by transaction {spender}. If you did not spend them yourself, someone else has your wallet's keys: move what is left now.",
            row.id.short()
        ),
        subject: outpoint.to_string(),
    }
}
