//! The order as the tool keeps it: Pocket's order next to the local plan
//! (amount, day, recipients, label, the wallet's gap limit). A leaf: the
//! store reads and writes it, the domain rooms use it, it imports neither.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::pocket::{Currency, OrderId, PaymentMethod, timestamp};
use crate::wallet::{self, Address, KeyPath, Network, PayoutKey, ScriptType};

/// What BIP-44 wallets scan past the last used address.
pub const DEFAULT_WALLET_GAP_LIMIT: u32 = 20;
/// The largest gap limit Pocket accepts.
pub const MAX_GAP_LIMIT: u32 = 1000;

/// The day of the month the transfer is planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    /// 1 to 28: exists in every month.
    Of(u8),
    Last,
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Day::Of(d) => write!(f, "{d}"),
            Day::Last => f.write_str("last"),
        }
    }
}

impl FromStr for Day {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_lowercase();
        if text == "last" {
            return Ok(Day::Last);
        }
        match text.parse::<u8>() {
            Ok(d @ 1..=28) => Ok(Day::Of(d)),
            _ => Err(format!(
                "`{s}` is not a day of the month; use 1 to 28 (every month has them) or `last`"
            )),
        }
    }
}

/// Where Pocket pays an order's purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayoutKind {
    /// Fresh addresses derived from an extended key (the orders this tool
    /// creates).
    Key,
    /// Every purchase to one address.
    Address,
    /// Over lightning, to a node.
    Lightning,
}

impl PayoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutKind::Key => "key",
            PayoutKind::Address => "address",
            PayoutKind::Lightning => "lightning",
        }
    }
}

impl FromStr for PayoutKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "key" => Ok(PayoutKind::Key),
            "address" => Ok(PayoutKind::Address),
            "lightning" => Ok(PayoutKind::Lightning),
            other => Err(format!("unknown payout kind `{other}`")),
        }
    }
}

/// An order as the tool keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// Pocket's order UUID.
    pub id: OrderId,
    pub label: Option<String>,
    pub active: bool,
    pub currency: Currency,
    pub fee_rate: Decimal,
    /// The monthly amount, in `currency`.
    pub amount: Decimal,
    pub day: Day,
    /// Recipients of the reminders; empty means `[email] to`.
    pub emails: Vec<String>,
    pub payout_kind: PayoutKind,
    /// The key or descriptor as the user gave it (private data); empty
    /// unless the payout is to a key.
    pub key: String,
    /// The `extended_public_key` sent to Pocket; empty without a key.
    pub pocket_key: String,
    /// The script type of the payout addresses; `None` over lightning.
    pub script_type: Option<ScriptType>,
    pub network: Network,
    pub chain: Vec<u32>,
    /// Index of the signed address: the window starts here.
    pub start_index: u32,
    /// The address whose signature Pocket checked; `None` over lightning.
    pub signed_address: Option<Address>,
    /// The lightning node Pocket pays.
    pub node_pubkey: Option<String>,
    pub gap_limit: u32,
    pub wallet_gap_limit: u32,
    pub debitor_iban: String,
    pub payment_method: PaymentMethod,
    pub pocket_json: String,
    pub created_on: DateTime<Utc>,
    pub stored_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stable JSON of an order (`order show --json`): amounts and rates as
/// strings of exact decimals.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub label: Option<String>,
    pub active: bool,
    pub currency: Currency,
    pub fee_rate: String,
    pub amount: String,
    pub day: String,
    pub emails: Vec<String>,
    /// `key`, `address` or `lightning`.
    pub payout: PayoutKind,
    /// The key as given, and as sent to Pocket: private data (it reveals the
    /// wallet's whole history), so only with `--show-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pocket_key: Option<String>,
    pub script_type: Option<ScriptType>,
    pub network: &'static str,
    pub derivation_path: Option<String>,
    pub gap_limit: u32,
    pub wallet_gap_limit: u32,
    pub signed_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_pubkey: Option<String>,
    pub created_on: String,
    pub payment_method: PaymentMethod,
}

impl StoredOrder {
    /// The payout key, parsed again from what the user gave (an order paid
    /// to one address or over lightning has none).
    pub fn payout_key(&self) -> Result<PayoutKey, wallet::Error> {
        if self.payout_kind != PayoutKind::Key {
            return Err(wallet::Error::Empty);
        }
        PayoutKey::parse(&self.key, self.script_type, Some(self.network))
            .or_else(|_| PayoutKey::parse(&self.key, None, Some(self.network)))
    }

    /// Whether payouts go to fresh addresses derived from a key.
    pub fn derives(&self) -> bool {
        self.payout_kind == PayoutKind::Key
    }

    /// The path of the signed address (`derivation_path` at Pocket), for an
    /// order paid to a key.
    pub fn derivation_path(&self) -> Option<KeyPath> {
        self.derives()
            .then(|| KeyPath::on_chain(&self.chain, self.start_index))
    }

    /// Where the payouts go, in words: the script type, or lightning.
    pub fn payout_description(&self) -> String {
        match (self.payout_kind, self.script_type) {
            (PayoutKind::Lightning, _) => "lightning".into(),
            (PayoutKind::Address, Some(t)) => format!("{t}, one address"),
            (_, Some(t)) => t.to_string(),
            (_, None) => "-".into(),
        }
    }

    /// The order for `--json`; the key only when `show_key`.
    pub fn view(&self, show_key: bool) -> OrderView {
        OrderView {
            id: self.id.clone(),
            label: self.label.clone(),
            active: self.active,
            currency: self.currency,
            fee_rate: self.fee_rate.to_string(),
            amount: self.amount.to_string(),
            day: self.day.to_string(),
            emails: self.emails.clone(),
            payout: self.payout_kind,
            key: show_key.then(|| self.key.clone()),
            pocket_key: show_key.then(|| self.pocket_key.clone()),
            script_type: self.script_type,
            network: wallet::network_name(self.network),
            derivation_path: self.derivation_path().map(|p| p.to_string()),
            gap_limit: self.gap_limit,
            wallet_gap_limit: self.wallet_gap_limit,
            signed_address: self.signed_address.as_ref().map(Address::to_string),
            node_pubkey: self.node_pubkey.clone(),
            created_on: timestamp::format(&self.created_on),
            payment_method: self.payment_method.clone(),
        }
    }

    /// A short name for messages: the label, else the start of the id.
    pub fn name(&self) -> String {
        match &self.label {
            Some(label) if !label.is_empty() => format!("{label} ({})", self.id.short()),
            _ => self.id.short().to_string(),
        }
    }
}
