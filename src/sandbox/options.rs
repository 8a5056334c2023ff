//! The sandbox's settings and knobs: its options (defaults follow Pocket's
//! documented behaviour), its bitcoin prices, and the faults its webhook
//! delivery can be told to make.

use std::time::Duration;

use bitcoin::Network;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::pocket::{Btc, Currency};

/// The sandbox's settings; defaults follow Pocket's documented behaviour.
#[derive(Debug, Clone)]
pub struct Options {
    pub client_id: String,
    pub network: Network,
    pub webhook_url: Option<url::Url>,
    pub webhook_secret: String,
    pub challenge_ttl: Duration,
    /// Delay before the first webhook retry; it doubles after each failure.
    pub retry_base: Duration,
    /// Webhooks carry the bare exchange object instead of the envelope.
    pub bare_webhooks: bool,
    /// A payment above this (per order, until identified) is interrupted.
    pub identification_threshold: Decimal,
    /// Payments of one order and day above this are refunded.
    pub daily_limit: Decimal,
    /// Network fee of one payout output.
    pub payout_fee: Btc,
    /// A payout is held while the network fee is this share of it or more.
    pub payout_protection: Decimal,
    /// Prices of one bitcoin: eur, chf, gbp.
    pub prices: Prices,
    /// Wait this long before answering an order creation (after storing it),
    /// to try a client's timeout handling.
    pub order_create_delay: Duration,
}

impl Options {
    /// Defaults for a client id and a network.
    pub fn new(client_id: &str, network: Network) -> Options {
        Options {
            client_id: client_id.to_string(),
            network,
            webhook_url: None,
            webhook_secret: String::new(),
            challenge_ttl: Duration::from_secs(24 * 3600),
            retry_base: Duration::from_secs(300),
            bare_webhooks: false,
            identification_threshold: Decimal::new(1000, 0),
            daily_limit: Decimal::new(5000, 0),
            payout_fee: Btc::from_sat(190),
            payout_protection: Decimal::new(2, 1),
            prices: Prices::default(),
            order_create_delay: Duration::ZERO,
        }
    }
}

/// The sandbox's bitcoin prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    pub eur: Decimal,
    pub chf: Decimal,
    pub gbp: Decimal,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            eur: Decimal::new(8_500_000, 2),
            chf: Decimal::new(7_900_000, 2),
            gbp: Decimal::new(7_300_000, 2),
        }
    }
}

impl Prices {
    pub(super) fn of(&self, currency: Currency) -> Decimal {
        match currency {
            Currency::Eur => self.eur,
            Currency::Chf => self.chf,
            Currency::Gbp => self.gbp,
        }
    }
}

/// Knobs that make webhook delivery misbehave the way networks do, and
/// choose among the shapes Pocket's documents show (for the deliveries made
/// while they are set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Send every delivery twice.
    pub duplicate: bool,
    /// Drop the next N deliveries (of `drop_event` only, when set).
    pub drop_next: u32,
    pub drop_event: Option<String>,
    /// Hold each new delivery this long before sending it.
    pub delay_ms: u64,
    /// Send due deliveries newest first.
    pub reorder: bool,
    /// Hold every delivery until unpaused.
    pub paused: bool,
    /// Send the bare exchange object instead of the envelope (overrides the option when set).
    pub bare: Option<bool>,
    /// How an interruption reads: `official` (Pocket's Postman example, the
    /// default: `action` identify with a url, and `reason`
    /// identification_required) or `tutorial` (`action`
    /// identification_required with an identification_id, no reason).
    pub interruption: Option<Interruption>,
    /// The event name payouts are sent under; no document names it
    /// (default `exchange.settled`).
    pub payout_event: Option<String>,
    /// The next payouts skip this many addresses of their order (at most
    /// the order's gap limit − 1, as Pocket may).
    pub skip_addresses: u32,
    /// How `POST /v1/orders` answers once the order is created, to try a
    /// client's handling of an answer it cannot read.
    pub order_answer: OrderAnswer,
    /// The next payout batches are reported but never reach the chain
    /// (the chain server does not know their transaction).
    pub hold_payouts: bool,
    /// The next payouts are reported with the output after the one that
    /// pays them (what Pocket reports and the chain disagree).
    pub misreport_payouts: bool,
}

/// The answers `POST /v1/orders` can give after creating the order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAnswer {
    /// 201 with the order.
    #[default]
    Normal,
    /// 201 with the order's id but fields of the wrong types.
    Undecodable,
    /// 201 with a body that is not JSON.
    Garbage,
    /// 502 from a proxy in front of Pocket.
    BadGateway,
}

/// The shapes an interruption is published in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interruption {
    #[default]
    Official,
    Tutorial,
}

/// Where Pocket's official example sends a user to identify.
pub const IDENTIFY_URL: &str = "https://portal.pocketbitcoin.com/de/onboarding";

/// The event name of a payout when no knob names one (the tool's guess).
pub const PAYOUT_EVENT: &str = "exchange.settled";
