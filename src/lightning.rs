//! Lightning payouts (Pocket's beta): for an executed exchange of an order
//! paid over lightning, the user sends Pocket a BOLT11 invoice, or asks for
//! a channel. The invoice is checked here first — its amount against the
//! exchange's, its network, its expiry, its payee against the order's node —
//! so that a mistake is caught before Pocket's `invoice_amount`,
//! `invoice_network`, `invoice_expired` or `unexpected_node_pubkey`. The
//! sandbox runs the same checks to answer with those codes.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lightning_invoice::Bolt11Invoice;

use crate::orders::model::PayoutKind;
use crate::pocket::{self, Client, ExchangeId};
use crate::reconcile::{self, Applied, State};
use crate::store::{self, Store};
use crate::wallet::{Network, network_name};

/// What is wrong with an invoice for a payout, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("the invoice cannot be read ({0}); copy the whole lnbc…/lntb… text from your node")]
    Invalid(String),
    #[error(
        "the invoice asks for {invoice}, but the exchange bought {expected} sat; make an invoice of exactly {expected} sat"
    )]
    Amount { invoice: String, expected: u64 },
    #[error(
        "the invoice is for {invoice}, but the tool runs on {expected}; make the invoice on your {expected} node"
    )]
    Network {
        invoice: &'static str,
        expected: &'static str,
    },
    #[error("the invoice expired at {at}; make a new one")]
    Expired { at: String },
    #[error(
        "the invoice pays node {invoice}, but the order pays out to node {expected}; make the invoice on the order's node"
    )]
    Payee { invoice: String, expected: String },
}

impl InvoiceError {
    /// The error code Pocket documents for the same refusal.
    pub fn pocket_code(&self) -> &'static str {
        match self {
            InvoiceError::Invalid(_) => "invalid_invoice",
            InvoiceError::Amount { .. } => "invoice_amount",
            InvoiceError::Network { .. } => "invoice_network",
            InvoiceError::Expired { .. } => "invoice_expired",
            InvoiceError::Payee { .. } => "unexpected_node_pubkey",
        }
    }
}

/// The test networks share one invoice prefix (`lntb`).
fn family(network: Network) -> Network {
    match network {
        Network::Testnet4 => Network::Testnet,
        other => other,
    }
}

/// Checks that `text` is an invoice of exactly `expected_sat` on `network`,
/// unexpired at `now`, paying `node` (hex public key).
pub fn check_invoice(
    text: &str,
    expected_sat: u64,
    network: Network,
    node: &str,
    now: DateTime<Utc>,
) -> Result<Bolt11Invoice, InvoiceError> {
    let invoice =
        Bolt11Invoice::from_str(text.trim()).map_err(|e| InvoiceError::Invalid(e.to_string()))?;
    if family(invoice.network()) != family(network) {
        return Err(InvoiceError::Network {
            invoice: network_name(invoice.network()),
            expected: network_name(network),
        });
    }
    let msat = invoice.amount_milli_satoshis();
    if msat != Some(expected_sat.saturating_mul(1000)) {
        return Err(InvoiceError::Amount {
            invoice: msat.map_or("any amount".into(), |m| format!("{} sat", m / 1000)),
            expected: expected_sat,
        });
    }
    let at = Duration::from_secs(u64::try_from(now.timestamp()).unwrap_or_default());
    if invoice.would_expire(at) {
        let expires = invoice.duration_since_epoch() + invoice.expiry_time();
        let at = DateTime::from_timestamp(i64::try_from(expires.as_secs()).unwrap_or(i64::MAX), 0)
            .map_or_else(
                || "an unknown time".into(),
                |t| pocket::timestamp::format(&t),
            );
        return Err(InvoiceError::Expired { at });
    }
    let payee = invoice.get_payee_pub_key().to_string();
    if !payee.eq_ignore_ascii_case(node.trim()) {
        return Err(InvoiceError::Payee {
            invoice: payee,
            expected: node.trim().to_string(),
        });
    }
    Ok(invoice)
}

/// How the user wants the exchange paid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// Pay this BOLT11 invoice.
    Invoice(String),
    /// Open a channel to the node (at `node_address`, when Pocket cannot
    /// find it), public or private.
    Channel {
        node_address: Option<String>,
        private: bool,
    },
}

impl Instruction {
    /// The body of `PATCH /v1/exchanges/{id}`, as the tool sends it (the
    /// beta's body is not in the public documents; this is the tool's
    /// reading, and the sandbox's).
    pub fn body(&self) -> serde_json::Value {
        match self {
            Instruction::Invoice(invoice) => serde_json::json!({
                "payout": {"type": "lightning", "method": "invoice", "invoice": invoice.trim()}
            }),
            Instruction::Channel {
                node_address,
                private,
            } => serde_json::json!({
                "payout": {"type": "lightning", "method": "channel", "node_address": node_address, "private": private}
            }),
        }
    }
}

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
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
}

/// Checks the instruction against what the store knows, sends it to
/// Pocket, and applies Pocket's answer (the exchange with its payout).
pub async fn pay_out(
    client: &Client,
    store: &mut Store,
    id: &ExchangeId,
    instruction: &Instruction,
    network: Network,
    now: DateTime<Utc>,
) -> Result<Applied, Error> {
    let row = store
        .exchange(id)?
        .ok_or_else(|| Error::NoSuchExchange(id.clone()))?;
    let order = match &row.order_id {
        Some(order_id) => store.order(order_id)?,
        None => None,
    };
    let node = order
        .filter(|o| o.payout_kind == PayoutKind::Lightning)
        .and_then(|o| o.node_pubkey)
        .ok_or_else(|| Error::NotLightning { id: id.clone() })?;
    if row.state != State::Executed {
        return Err(Error::NotExecuted {
            id: id.clone(),
            state: row.state,
        });
    }
    let amount = row
        .amount_sat
        .ok_or_else(|| Error::NoAmount { id: id.clone() })?;
    match instruction {
        Instruction::Invoice(text) => {
            check_invoice(text, amount, network, &node, now)?;
        }
        Instruction::Channel {
            node_address: Some(address),
            ..
        } => {
            let pubkey = address.split('@').next().unwrap_or_default();
            if !pubkey.eq_ignore_ascii_case(&node) {
                return Err(Error::OtherNode {
                    given: address.clone(),
                    expected: node,
                });
            }
        }
        Instruction::Channel { .. } => {}
    }
    let fetched = client.patch_exchange(id, &instruction.body()).await?;
    Ok(reconcile::apply(
        store,
        &fetched.value,
        None,
        &fetched.json,
        now,
    )?)
}
