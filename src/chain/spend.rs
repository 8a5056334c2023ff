//! Optional (`[chain] alert_on_spend`): an alert when the coins a confirmed
//! payout delivered are spent, for people who keep them in cold storage.
//! Each payout is asked about until its spend was seen once (over Electrum
//! one batch of histories for all); a spend is a fact, alerted once (and
//! kept when the user acknowledges it).

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
/// was not seen yet; the new alerts.
pub fn check_spends(
    backend: &Backend,
    store: &Store,
    order: Option<&OrderId>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let confirmed: std::collections::HashSet<_> = store
        .onchain_all()?
        .into_iter()
        .filter(|o| o.status == Status::Confirmed.as_str())
        .map(|o| (o.exchange_id, o.txid))
        .collect();
    let filter = ExchangeFilter {
        order_id: order.cloned(),
        state: None,
    };
    // The payouts to ask about: confirmed, their spend not seen yet.
    let mut asked = Vec::new();
    for row in store.exchanges(&filter)? {
        let Some(payout) = row.payout.as_ref().filter(|p| p.kind.is_none()) else {
            continue;
        };
        if !confirmed.contains(&(row.id.clone(), payout.txid.clone())) {
            continue;
        }
        let (Ok(txid), Ok(address)) = (
            payout.txid.parse::<bitcoin::Txid>(),
            parse_address(&payout.address),
        ) else {
            continue;
        };
        let outpoint = bitcoin::OutPoint::new(txid, payout.vout);
        // One alert per output (several exchanges may share it).
        if !store.alert_raised(&AlertKind::PayoutSpent.key(&outpoint.to_string()))? {
            asked.push((row, (outpoint, address.script_pubkey())));
        }
    }
    let outputs: Vec<_> = asked.iter().map(|(_, output)| output.clone()).collect();
    let mut raised = 0;
    for ((row, (outpoint, _)), spender) in asked.iter().zip(backend.spenders(&outputs)?) {
        if let Some(spender) = spender {
            let alert = notice(row, outpoint, spender);
            raised += usize::from(store.raise_alert(&alert, now)?.is_some());
        }
    }
    Ok(raised)
}

/// The alert for the payout `outpoint` of `row`, spent by `spender`.
fn notice(row: &ExchangeRow, outpoint: &bitcoin::OutPoint, spender: bitcoin::Txid) -> NewAlert {
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
