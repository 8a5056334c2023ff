//! Pocket's lightning payouts (beta), as its reference describes them: the
//! body of `PATCH /v1/exchanges/{id}` (an invoice, or a channel to the
//! node), and the checks its documented codes name — an invoice's amount,
//! network, expiry and payee (`invoice_amount`, `invoice_network`,
//! `invoice_expired`, `unexpected_node_pubkey`, `invalid_invoice`). The tool
//! runs them before it sends an instruction; the sandbox runs them to answer.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lightning_invoice::Bolt11Invoice;
use serde::{Deserialize, Serialize};

use super::codes::documented;
use super::types::timestamp;
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
            InvoiceError::Invalid(_) => documented::INVALID_INVOICE,
            InvoiceError::Amount { .. } => documented::INVOICE_AMOUNT,
            InvoiceError::Network { .. } => documented::INVOICE_NETWORK,
            InvoiceError::Expired { .. } => documented::INVOICE_EXPIRED,
            InvoiceError::Payee { .. } => documented::UNEXPECTED_NODE_PUBKEY,
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
            .map_or_else(|| "an unknown time".into(), |t| timestamp::format(&t));
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

/// The body of `PATCH /v1/exchanges/{id}` as the tool sends it and the
/// sandbox reads it. The beta's body is not in the public documents; this is
/// the tool's reading of Pocket's reference (`type`, `method`, and the
/// invoice or the channel's node address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    payout: BodyPayout,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyPayout {
    #[serde(rename = "type")]
    kind: String,
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invoice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_address: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    private: bool,
}

impl Instruction {
    /// The request body.
    pub fn body(&self) -> serde_json::Value {
        let payout = match self {
            Instruction::Invoice(invoice) => BodyPayout {
                kind: "lightning".into(),
                method: "invoice".into(),
                invoice: Some(invoice.trim().to_string()),
                node_address: None,
                private: false,
            },
            Instruction::Channel {
                node_address,
                private,
            } => BodyPayout {
                kind: "lightning".into(),
                method: "channel".into(),
                invoice: None,
                node_address: node_address.clone(),
                private: *private,
            },
        };
        serde_json::to_value(Body { payout }).unwrap_or_default()
    }

    /// Reads a request body; the error says what is wrong with it.
    pub fn from_body(body: &[u8]) -> Result<Instruction, String> {
        let body: Body = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let payout = body.payout;
        if payout.kind != "lightning" {
            return Err(format!("payout type {:?} is not lightning", payout.kind));
        }
        match (payout.method.as_str(), payout.invoice) {
            ("invoice", Some(invoice)) => Ok(Instruction::Invoice(invoice)),
            ("invoice", None) => Err("the invoice method needs an invoice".into()),
            ("channel", None) => Ok(Instruction::Channel {
                node_address: payout.node_address,
                private: payout.private,
            }),
            ("channel", Some(_)) => Err("the channel method takes no invoice".into()),
            (other, _) => Err(format!(
                "payout method {other:?} is neither invoice nor channel"
            )),
        }
    }
}

/// A node's address as `PUBKEY@HOST:PORT`, the form every lightning node
/// prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    pub pubkey: String,
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for NodeAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wrong = || {
            format!(
                "{s:?} is not PUBKEY@HOST:PORT (as `lncli getinfo` or `lightning-cli getinfo` shows it)"
            )
        };
        let (pubkey, socket) = s.trim().split_once('@').ok_or_else(wrong)?;
        let (host, port) = socket.rsplit_once(':').ok_or_else(wrong)?;
        let is_key = pubkey.len() == 66 && pubkey.bytes().all(|b| b.is_ascii_hexdigit());
        let port: u16 = port.parse().map_err(|_| wrong())?;
        if !is_key || host.is_empty() || port == 0 {
            return Err(wrong());
        }
        Ok(NodeAddress {
            pubkey: pubkey.to_ascii_lowercase(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bitcoin::hashes::{Hash, sha256};
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};

    pub(crate) const NOW: i64 = 1_800_000_000;

    pub(crate) fn node(secret: u8) -> (SecretKey, String) {
        let secret = SecretKey::from_slice(&[secret; 32]).unwrap();
        let public = secret.public_key(&Secp256k1::signing_only());
        (secret, public.to_string())
    }

    pub(crate) fn invoice(
        secret: &SecretKey,
        currency: Currency,
        msat: Option<u64>,
        made: i64,
    ) -> String {
        let builder = InvoiceBuilder::new(currency)
            .description("pocket-dca payout".into())
            .payment_hash(sha256::Hash::hash(b"preimage"))
            .payment_secret(PaymentSecret([7; 32]))
            .duration_since_epoch(Duration::from_secs(made as u64))
            .expiry_time(Duration::from_secs(3600))
            .min_final_cltv_expiry_delta(144);
        let builder = match msat {
            Some(msat) => builder.amount_milli_satoshis(msat),
            None => builder,
        };
        builder
            .build_signed(|hash| Secp256k1::signing_only().sign_ecdsa_recoverable(hash, secret))
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_invoice_is_checked_for_amount_network_expiry_and_payee() {
        let (secret, pubkey) = node(1);
        let (other, _) = node(2);
        let now = DateTime::from_timestamp(NOW, 0).unwrap();
        let cases: [(&str, String, Network, Option<&str>); 8] = [
            (
                "valid",
                invoice(
                    &secret,
                    Currency::BitcoinTestnet,
                    Some(196_810_000),
                    NOW - 60,
                ),
                Network::Testnet,
                None,
            ),
            (
                "valid on testnet4",
                invoice(&secret, Currency::BitcoinTestnet, Some(196_810_000), NOW),
                Network::Testnet4,
                None,
            ),
            (
                "one sat short",
                invoice(&secret, Currency::BitcoinTestnet, Some(196_809_000), NOW),
                Network::Testnet,
                Some("invoice_amount"),
            ),
            (
                "any amount",
                invoice(&secret, Currency::BitcoinTestnet, None, NOW),
                Network::Testnet,
                Some("invoice_amount"),
            ),
            (
                "mainnet invoice",
                invoice(&secret, Currency::Bitcoin, Some(196_810_000), NOW),
                Network::Testnet,
                Some("invoice_network"),
            ),
            (
                "expired",
                invoice(
                    &secret,
                    Currency::BitcoinTestnet,
                    Some(196_810_000),
                    NOW - 3601,
                ),
                Network::Testnet,
                Some("invoice_expired"),
            ),
            (
                "another node",
                invoice(&other, Currency::BitcoinTestnet, Some(196_810_000), NOW),
                Network::Testnet,
                Some("unexpected_node_pubkey"),
            ),
            (
                "not an invoice",
                "lntb1garbage".into(),
                Network::Testnet,
                Some("invalid_invoice"),
            ),
        ];
        for (what, text, network, expected) in cases {
            let got = check_invoice(&text, 196_810, network, &pubkey, now);
            assert_eq!(got.err().map(|e| e.pocket_code()), expected, "{what}");
        }
    }

    #[test]
    fn the_instruction_body_reads_back_and_bad_bodies_say_why() {
        let instructions = [
            Instruction::Invoice("lntb1…".into()),
            Instruction::Channel {
                node_address: Some("02ab@host:9735".into()),
                private: true,
            },
            Instruction::Channel {
                node_address: None,
                private: false,
            },
        ];
        for instruction in instructions {
            let body = serde_json::to_vec(&instruction.body()).unwrap();
            assert_eq!(Instruction::from_body(&body), Ok(instruction));
        }
        let bad = [
            r#"{"payout": {"type": "onchain", "method": "invoice", "invoice": "x"}}"#,
            r#"{"payout": {"type": "lightning", "method": "invoice"}}"#,
            r#"{"payout": {"type": "lightning", "method": "keysend"}}"#,
            r#"{"payout": {"type": "lightning", "method": "channel", "invoice": "x"}}"#,
            r#"{"payout": {"type": "lightning", "method": "invoice", "invoice": "x", "tip": 1}}"#,
            r#"{}"#,
        ];
        for body in bad {
            assert!(Instruction::from_body(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn node_addresses_are_pubkey_at_host_port() {
        let (_, key) = node(3);
        let good: NodeAddress = format!("{key}@127.0.0.1:9735").parse().unwrap();
        assert_eq!((good.host.as_str(), good.port), ("127.0.0.1", 9735));
        let v6: NodeAddress = format!("{key}@[::1]:9735").parse().unwrap();
        assert_eq!(v6.host, "::1");
        for bad in [
            format!("{key}@127.0.0.1"),
            format!("{key}127.0.0.1:9735"),
            "02ab@127.0.0.1:9735".to_string(),
            format!("{key}@:9735"),
            format!("{key}@host:0"),
        ] {
            assert!(bad.parse::<NodeAddress>().is_err(), "{bad}");
        }
    }
}
