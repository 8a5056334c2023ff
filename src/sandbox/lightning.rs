//! Lightning payouts as the sandbox plays them (Pocket's beta): an executed
//! exchange of a lightning order waits for the user's instruction — an
//! invoice or a channel — which `PATCH /v1/exchanges/{id}` checks with the
//! codes Pocket documents; the next payout run completes it.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::engine::Engine;
use super::error::{ApiError, Result};
use crate::pocket::codes::{documented, sandbox as code};
use crate::pocket::lightning::{self, Instruction, NodeAddress};
use crate::pocket::{Btc, Exchange, Payout};

/// The smallest payout Pocket would open a channel for (the sandbox's
/// choice: LND's default minimum channel size).
pub const MIN_CHANNEL_SAT: u64 = 20_000;

/// How long the sandbox tries to reach a node given for a channel.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

impl Engine {
    /// `PATCH /v1/exchanges/{id}`: a payout instruction for an executed
    /// exchange of a lightning order. Blocking: a channel's node address is
    /// tried over TCP (before the state is locked).
    pub fn patch_exchange(&self, id: &str, body: &[u8]) -> Result<Exchange> {
        let instruction = Instruction::from_body(body)
            .map_err(|why| ApiError::bad(code::INVALID_REQUEST, why))?;
        let node_address = match &instruction {
            Instruction::Channel {
                node_address: Some(address),
                ..
            } => Some(
                address
                    .parse::<NodeAddress>()
                    .map_err(|why| ApiError::bad(code::INVALID_REQUEST, why))?,
            ),
            _ => None,
        };
        let reachable = node_address.as_ref().map(reach);
        let state = self.state();
        let mut exchange = state
            .exchange(id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {id}")))?;
        let order_id = exchange.order_id.clone().unwrap_or_default();
        let order = state
            .order(order_id.as_str())?
            .ok_or_else(|| ApiError::not_found(format!("order {order_id}")))?;
        let Some(node) = order.order.payout_method.node_pubkey.clone() else {
            return Err(ApiError::bad(
                code::UNSUPPORTED_PAYOUT_METHOD,
                "the exchange's order has no lightning payout method",
            ));
        };
        if let Some(payout) = &exchange.payout {
            return Err(if payout.is_completed() {
                ApiError::bad(documented::ALREADY_COMPLETED, "the payout is done")
            } else {
                ApiError::bad(documented::IN_PROGRESS, "the payout is under way")
            });
        }
        let amount = match exchange.amount {
            Some(amount) if exchange.action.is_none() && exchange.reason.is_none() => amount,
            _ => {
                return Err(ApiError::bad(
                    code::NOT_EXECUTED,
                    "the exchange has not bought bitcoin (sandbox code)",
                ));
            }
        };
        let now = state.now()?;
        match &instruction {
            Instruction::Invoice(text) => {
                lightning::check_invoice(text, amount.to_sat(), self.options.network, &node, now)
                    .map_err(|e| ApiError::bad(e.pocket_code(), e.to_string()))?;
            }
            Instruction::Channel { .. } => {
                check_channel(amount, &node, node_address.as_ref(), reachable)?;
            }
        }
        exchange.payout = Some(Payout {
            kind: Some("lightning".into()),
            status: Some("pending".into()),
            fee: Some(Btc::from_sat(0)),
            amount: Some(amount),
            ..Payout::default()
        });
        self.commit(state, |s| {
            s.update_exchange(&exchange, true)?;
            let event = self.payout_event(s)?;
            self.enqueue(s, &event, &exchange)
        })?;
        Ok(exchange)
    }
}

/// A channel is opened for a payout big enough, to the order's node, at an
/// address the sandbox can reach.
fn check_channel(
    amount: Btc,
    node: &str,
    address: Option<&NodeAddress>,
    reachable: Option<std::io::Result<()>>,
) -> Result<()> {
    if amount.to_sat() < MIN_CHANNEL_SAT {
        return Err(ApiError::bad(
            documented::CHANNEL_PAYOUT_NOT_ALLOWED,
            format!(
                "{} sat is below the sandbox's smallest channel of {MIN_CHANNEL_SAT} sat",
                amount.to_sat()
            ),
        ));
    }
    let Some(address) = address else {
        return Err(ApiError::bad(
            documented::NODE_ADDRESS_REQUIRED,
            "the sandbox knows no node addresses (it has no gossip)",
        ));
    };
    if !address.pubkey.eq_ignore_ascii_case(node) {
        return Err(ApiError::bad(
            documented::UNEXPECTED_NODE_PUBKEY,
            format!("{} is not the order's node {node}", address.pubkey),
        ));
    }
    if let Some(Err(e)) = reachable {
        return Err(ApiError::bad(
            documented::CONNECT,
            format!("{}:{}: {e}", address.host, address.port),
        ));
    }
    Ok(())
}

/// Tries a TCP connection to the node, as Pocket's node would.
fn reach(address: &NodeAddress) -> std::io::Result<()> {
    let mut last = std::io::Error::other("the host resolves to no address");
    for socket in (address.host.as_str(), address.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Completes pending lightning payouts: the node received the payment.
pub(super) fn complete(exchanges: Vec<Exchange>) -> Vec<Exchange> {
    exchanges
        .into_iter()
        .map(|mut exchange| {
            if let Some(payout) = exchange.payout.as_mut() {
                payout.status = Some("completed".into());
            }
            exchange
        })
        .collect()
}
