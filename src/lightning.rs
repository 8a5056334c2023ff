//! Lightning payouts (Pocket's beta) from the tool's side: for an executed
//! exchange of an order paid over lightning, the user sends Pocket a BOLT11
//! invoice or asks for a channel. The instruction is checked against what
//! the store knows (and the invoice by `pocket::lightning`) before it is
//! sent, so a mistake is caught before Pocket refuses it; Pocket's answer is
//! applied like any observation of the exchange.

use chrono::{DateTime, Utc};

use crate::orders::model::PayoutKind;
use crate::pocket::codes::documented::{ALREADY_COMPLETED, IN_PROGRESS};
use crate::pocket::lightning::{Instruction, InvoiceError, NodeAddress, check_invoice};
use crate::pocket::{self, Client, ExchangeId};
use crate::reconcile::{self, Applied, State};
use crate::store::{self, Store};
use crate::wallet::Network;

/// Why a payout instruction was not sent, or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no exchange {0} in the database; `pocket-dca exchange fetch {0}` gets it from Pocket")]
    NoSuchExchange(ExchangeId),
    #[error(
        "exchange {id} belongs to an order that is not paid out over lightning; Pocket pays it on chain by itself"
    )]
    NotLightning { id: ExchangeId },
    #[error(
        "exchange {id} is {state}; only an executed exchange is paid out (wait for its purchase, or look at it in the Pocket app)"
    )]
    NotExecuted { id: ExchangeId, state: State },
    #[error("exchange {id} bought no bitcoin yet; wait until Pocket reports its amount")]
    NoAmount { id: ExchangeId },
    #[error(
        "the node address {given} is not the order's node {expected}; give PUBKEY@HOST:PORT of the order's node"
    )]
    OtherNode { given: String, expected: String },
    #[error("{0}")]
    NodeAddress(String),
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
}

/// What the tool knows of an exchange it is asked to pay out.
#[derive(Debug, Clone)]
pub struct Payable<'a> {
    pub id: &'a ExchangeId,
    pub state: State,
    pub amount_sat: Option<u64>,
    /// The order's node, when the order is paid out over lightning.
    pub node: Option<&'a str>,
}

/// Checks an instruction before it is sent: a lightning order's executed
/// exchange, an invoice of its amount for its node, or a channel to its
/// node.
pub fn check(
    exchange: &Payable<'_>,
    instruction: &Instruction,
    network: Network,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let id = exchange.id.clone();
    let node = exchange
        .node
        .ok_or(Error::NotLightning { id: id.clone() })?;
    if exchange.state != State::Executed {
        return Err(Error::NotExecuted {
            id,
            state: exchange.state,
        });
    }
    let amount = exchange.amount_sat.ok_or(Error::NoAmount { id })?;
    match instruction {
        Instruction::Invoice(text) => {
            check_invoice(text, amount, network, node, now)?;
        }
        Instruction::Channel {
            node_address: Some(address),
            ..
        } => {
            let parsed: NodeAddress = address.parse().map_err(Error::NodeAddress)?;
            if !parsed.pubkey.eq_ignore_ascii_case(node.trim()) {
                return Err(Error::OtherNode {
                    given: address.clone(),
                    expected: node.to_string(),
                });
            }
        }
        Instruction::Channel { .. } => {}
    }
    Ok(())
}

/// What `pay_out` did.
#[derive(Debug)]
pub struct PaidOut {
    pub applied: Applied,
    /// Pocket said the payout was already under way or done (the answer to
    /// an earlier instruction was lost): the exchange was fetched instead.
    pub already: Option<String>,
}

/// Checks the instruction against what the store knows, sends it to
/// Pocket, and applies Pocket's answer (the exchange with its payout). When
/// Pocket answers `in_progress` or `already_completed`, the exchange is
/// fetched and applied, so a retried instruction ends in the same place.
pub async fn pay_out(
    client: &Client,
    store: &mut Store,
    id: &ExchangeId,
    instruction: &Instruction,
    network: Network,
    now: DateTime<Utc>,
) -> Result<PaidOut, Error> {
    let row = store
        .exchange(id)?
        .ok_or_else(|| Error::NoSuchExchange(id.clone()))?;
    let order = match &row.order_id {
        Some(order_id) => store.order(order_id)?,
        None => None,
    };
    let node = order
        .filter(|o| o.payout_kind == PayoutKind::Lightning)
        .and_then(|o| o.node_pubkey);
    let payable = Payable {
        id,
        state: row.state,
        amount_sat: row.amount_sat,
        node: node.as_deref(),
    };
    check(&payable, instruction, network, now)?;
    let (fetched, already) = match client.patch_exchange(id, &instruction.body()).await {
        Ok(fetched) => (fetched, None),
        Err(e) if matches!(e.code(), Some(IN_PROGRESS | ALREADY_COMPLETED)) => {
            let code = e.code().unwrap_or_default().to_string();
            (client.get_exchange(id.as_str()).await?, Some(code))
        }
        Err(e) => return Err(e.into()),
    };
    let applied = reconcile::apply(store, &fetched.value, None, &fetched.json, now)?;
    Ok(PaidOut { applied, already })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pocket::lightning::tests::{NOW, invoice, node};
    use lightning_invoice::Currency;

    #[test]
    fn only_an_executed_exchange_of_a_lightning_order_is_paid_out() {
        let (secret, pubkey) = node(1);
        let id = ExchangeId::new("a2d75998-5ee5-4501-a4cf-4e3788732b7a");
        let now = DateTime::from_timestamp(NOW, 0).unwrap();
        let valid = Instruction::Invoice(invoice(
            &secret,
            Currency::BitcoinTestnet,
            Some(196_810_000),
            NOW,
        ));
        let channel = |address: String| Instruction::Channel {
            node_address: Some(address),
            private: false,
        };
        let (_, other_key) = node(2);
        let payable = |state, amount_sat, node| Payable {
            id: &id,
            state,
            amount_sat,
            node,
        };
        let cases = [
            (
                "valid",
                payable(State::Executed, Some(196_810), Some(pubkey.as_str())),
                valid.clone(),
                "ok",
            ),
            (
                "on-chain order",
                payable(State::Executed, Some(196_810), None),
                valid.clone(),
                "not paid out over lightning",
            ),
            (
                "interrupted",
                payable(State::Interrupted, None, Some(pubkey.as_str())),
                valid.clone(),
                "interrupted",
            ),
            (
                "paid out",
                payable(State::Settled, Some(196_810), Some(pubkey.as_str())),
                valid.clone(),
                "settled",
            ),
            (
                "no amount",
                payable(State::Executed, None, Some(pubkey.as_str())),
                valid.clone(),
                "no bitcoin",
            ),
            (
                "channel",
                payable(State::Executed, Some(196_810), Some(pubkey.as_str())),
                channel(format!("{pubkey}@127.0.0.1:9735")),
                "ok",
            ),
            (
                "channel to another node",
                payable(State::Executed, Some(196_810), Some(pubkey.as_str())),
                channel(format!("{other_key}@127.0.0.1:9735")),
                "not the order's node",
            ),
            (
                "channel address garbled",
                payable(State::Executed, Some(196_810), Some(pubkey.as_str())),
                channel("somewhere".into()),
                "PUBKEY@HOST:PORT",
            ),
        ];
        for (what, exchange, instruction, expected) in cases {
            let got = check(&exchange, &instruction, Network::Testnet, now)
                .map_or_else(|e| e.to_string(), |()| "ok".into());
            assert!(got.contains(expected), "{what}: {got}");
        }
    }
}
