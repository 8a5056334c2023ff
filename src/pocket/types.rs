//! The objects of Pocket's API. Money is exact: fiat as `Decimal` parsed from
//! the JSON number as written, bitcoin as satoshis ([`Btc`]). Unknown fields
//! are ignored (the raw JSON is kept by the caller) and unknown codes are
//! kept as strings.

use std::fmt;
use std::str::FromStr;

use bitcoin::Amount;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ids::{ExchangeId, OrderId};

/// Timestamps as Pocket writes them: ISO-8601 UTC with milliseconds.
pub mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option`, null for `None`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(text) => DateTime::parse_from_rfc3339(&text)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(serde::de::Error::custom),
            }
        }
    }
}

/// A bitcoin amount written as a JSON number of BTC (`0.00197000`), held as
/// satoshis. Pocket's number is read exactly; one that is not a whole,
/// non-negative number of satoshis (more than eight decimals, or negative)
/// is kept as written next to the satoshis it rounds to, so that the rules
/// can warn about it instead of refusing the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Btc {
    amount: Amount,
    written: Option<Decimal>,
}

impl Btc {
    pub fn from_sat(sat: u64) -> Btc {
        Btc {
            amount: Amount::from_sat(sat),
            written: None,
        }
    }

    pub fn to_sat(self) -> u64 {
        self.amount.to_sat()
    }

    /// The amount as an exact decimal of BTC with eight decimals.
    pub fn to_decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(self.amount.to_sat()), 8)
    }

    /// What Pocket wrote, when it was not a whole, non-negative number of
    /// satoshis (then [`to_sat`](Btc::to_sat) is the nearest one, or 0).
    pub fn written(self) -> Option<Decimal> {
        self.written
    }

    /// Converts an exact BTC decimal; errors if it is negative or has
    /// fractions of a satoshi.
    pub fn from_decimal(value: Decimal) -> Result<Btc, String> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(format!("{value} BTC is negative"));
        }
        let sats = value
            .checked_mul(Decimal::from(100_000_000u64))
            .ok_or_else(|| format!("{value} BTC is out of range"))?;
        if sats.fract() != Decimal::ZERO {
            return Err(format!("{value} BTC is not a whole number of satoshis"));
        }
        Ok(Btc::from_sat(whole_sats(sats)?))
    }

    /// Reads Pocket's number leniently: rounded to the nearest satoshi, a
    /// negative one as 0, both remembered as written.
    pub fn from_written(value: Decimal) -> Result<Btc, String> {
        if let Ok(exact) = Btc::from_decimal(value) {
            return Ok(exact);
        }
        let sats = if value.is_sign_negative() {
            0
        } else {
            let rounded = value
                .checked_mul(Decimal::from(100_000_000u64))
                .ok_or_else(|| format!("{value} BTC is out of range"))?
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            whole_sats(rounded)?
        };
        Ok(Btc {
            amount: Amount::from_sat(sats),
            written: Some(value),
        })
    }
}

/// At most the 21 million bitcoin there will ever be: a larger number is no
/// amount, and sums of real ones never overflow.
fn whole_sats(sats: Decimal) -> Result<u64, String> {
    sats.trunc()
        .to_string()
        .parse()
        .ok()
        .filter(|s| *s <= Amount::MAX_MONEY.to_sat())
        .ok_or_else(|| format!("{sats} satoshis is out of range (more than 21 million BTC)"))
}

impl fmt::Display for Btc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

impl Serialize for Btc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Serialize::serialize(&self.written.unwrap_or_else(|| self.to_decimal()), s)
    }
}

impl<'de> Deserialize<'de> for Btc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Btc, D::Error> {
        let value = super::exact::decimal(d)?;
        Btc::from_written(value).map_err(serde::de::Error::custom)
    }
}

/// The order currencies Pocket supports. Accepted in upper case on input,
/// written in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    Eur,
    Chf,
    Gbp,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Eur => "eur",
            Currency::Chf => "chf",
            Currency::Gbp => "gbp",
        }
    }

    /// The ISO code in upper case, as bank forms write it.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Chf => "CHF",
            Currency::Gbp => "GBP",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "eur" => Ok(Currency::Eur),
            "chf" => Ok(Currency::Chf),
            "gbp" => Ok(Currency::Gbp),
            _ => Err(format!(
                "unsupported currency `{s}`; Pocket takes eur, chf or gbp"
            )),
        }
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `POST /v1/challenges` and `GET /v1/challenges/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub id: String,
    pub token: String,
    #[serde(with = "timestamp")]
    pub expires_on: DateTime<Utc>,
    #[serde(default, with = "timestamp::option")]
    pub completed_on: Option<DateTime<Utc>>,
}

/// The body of `POST /v1/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreate {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<String>,
    #[serde(deserialize_with = "super::exact::decimal")]
    pub fee_rate: Decimal,
    pub payment_method: PaymentMethodCreate,
    pub payout_method: PayoutMethodCreate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodCreate {
    pub currency: String,
    pub debitor_iban: String,
}

/// The payout of a new order: an extended key (with the signed address and
/// its path), one address, or a lightning node — with the signed message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutMethodCreate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitcoin_address: Option<String>,
    pub message: String,
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation_path: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub gap_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pubkey: Option<String>,
}

/// The body of `PATCH /v1/orders/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::exact::option"
    )]
    pub fee_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<String>,
}

/// An order, as create, get and patch answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub active: bool,
    /// When Pocket created the order (`null` is read as not known).
    #[serde(default, with = "timestamp::option")]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub affiliate_id: Option<String>,
    #[serde(deserialize_with = "super::exact::decimal")]
    pub fee_rate: Decimal,
    pub payment_method: PaymentMethod,
    pub payout_method: PayoutMethod,
}

/// How the user pays: the account paid from, and Pocket's bank details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// The order's currency; one the tool does not know is read as `None`
    /// (the order's JSON is kept as Pocket wrote it).
    #[serde(default, deserialize_with = "known_currency")]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub debitor_iban: Option<String>,
    #[serde(default)]
    pub creditor_reference: Option<String>,
    #[serde(default)]
    pub creditor_iban: Option<String>,
    #[serde(default)]
    pub creditor_bank_name: Option<String>,
    #[serde(default)]
    pub creditor_bank_street: Option<String>,
    #[serde(default)]
    pub creditor_bank_postal_code: Option<String>,
    #[serde(default)]
    pub creditor_bank_town: Option<String>,
    #[serde(default)]
    pub creditor_bank_country: Option<String>,
    #[serde(default)]
    pub creditor_bank_bic: Option<String>,
    #[serde(default)]
    pub creditor_name: Option<String>,
    #[serde(default)]
    pub creditor_street: Option<String>,
    #[serde(default)]
    pub creditor_postal_code: Option<String>,
    #[serde(default)]
    pub creditor_town: Option<String>,
    #[serde(default)]
    pub creditor_country: Option<String>,
    #[serde(default)]
    pub swiss_qr_bill_payload: Option<String>,
}

/// Where Pocket pays out: an xpub payout (address, message, signature,
/// key, path, gap limit) or a lightning node (beta; parsed, not used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutMethod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitcoin_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation_path: Option<String>,
    /// A number, or a string as a community OpenAPI description types it.
    #[serde(default, deserialize_with = "number_or_string")]
    pub gap_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pubkey: Option<String>,
}

/// A currency, or `None` for one the tool does not know.
fn known_currency<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Currency>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(|text| text.parse().ok()))
}

/// A count written as a JSON number or a string (`10`, `"10"`), or null.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(None),
        Some(Either::Number(n)) => u32::try_from(n).map(Some).map_err(serde::de::Error::custom),
        Some(Either::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Either::Text(t)) => t.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// An exchange: what Pocket bought (or refunded) for one payment. The state
/// is read from which of `reason`, `action` and `payout` are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// `id` in the API; webhook envelopes write `exchange_id`.
    #[serde(alias = "exchange_id")]
    pub id: ExchangeId,
    #[serde(default)]
    pub order_id: Option<OrderId>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub fee_rate: Option<Decimal>,
    #[serde(default)]
    pub pair: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub cost: Option<Decimal>,
    #[serde(default, with = "timestamp::option")]
    pub executed_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub amount: Option<Btc>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub rate: Option<Decimal>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub fee: Option<Decimal>,
    #[serde(default)]
    pub action: Option<ExchangeAction>,
    #[serde(default)]
    pub reason: Option<ExchangeReason>,
    #[serde(default)]
    pub payout: Option<Payout>,
}

/// What the user must do before an interrupted exchange can go on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeAction {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Why an exchange was refunded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeReason {
    pub code: String,
}

/// The payout of a settled exchange: on chain (txid, output, address), or
/// over lightning (`type` and `status`, beta).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// `lightning` for a lightning payout; absent on chain.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A lightning payout's progress (`pending`, `completed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub txid: Option<String>,
    /// The output index (vout) in `txid`.
    #[serde(default)]
    pub outpoint: Option<u32>,
    #[serde(default)]
    pub bitcoin_address: Option<String>,
    #[serde(default)]
    pub derivation_path: Option<String>,
    #[serde(default)]
    pub block_height: Option<u64>,
    #[serde(default)]
    pub confirmed: Option<bool>,
    /// The network fee deducted from this exchange's bitcoin.
    #[serde(default)]
    pub fee: Option<Btc>,
    /// What arrived: `amount − fee` of the exchange.
    #[serde(default)]
    pub amount: Option<Btc>,
}

impl Payout {
    /// Whether the payout goes over lightning rather than on chain.
    pub fn is_lightning(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("lightning"))
    }

    /// Whether a lightning payout reached the node (Pocket's status).
    pub fn is_completed(&self) -> bool {
        self.status.as_deref().is_some_and(|s| {
            ["completed", "complete", "succeeded", "paid", "settled"]
                .iter()
                .any(|done| s.eq_ignore_ascii_case(done))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_exactly_from_the_documented_example() {
        let json = r#"{
          "id": "a2d75998-5ee5-4501-a4cf-4e3788732b7a",
          "order_id": "64decab6-4129-4fe7-9f6e-1db68283f5ce",
          "fee_rate": 0.015, "pair": "btc/chf", "type": "buy", "cost": 100.00,
          "executed_on": "2021-09-15T14:35:10.122Z", "amount": 0.00197000,
          "rate": 50000.00, "fee": 1.50, "action": null, "reason": null,
          "payout": {
            "txid": "c01c7a0fd270aa3876119098c0e2d51687a795efab99787e214d8a93ab9f8342",
            "outpoint": 1, "bitcoin_address": "bc1q5vvayqt3n4alhjaxy6ql4w2fs6r0y83rmvh3tg",
            "derivation_path": null, "block_height": null, "confirmed": false,
            "fee": 0.00000190, "amount": 0.0019681, "something_new": 1
          }
        }"#;
        let ex: Exchange = serde_json::from_str(json).unwrap();
        assert_eq!(ex.cost.unwrap().to_string(), "100.00");
        assert_eq!(ex.fee.unwrap().to_string(), "1.50");
        assert_eq!(ex.amount.unwrap().to_sat(), 197_000);
        let payout = ex.payout.unwrap();
        assert_eq!(payout.fee.unwrap().to_sat(), 190);
        assert_eq!(payout.amount.unwrap().to_sat(), 196_810);
        assert_eq!(payout.outpoint, Some(1));
    }

    #[test]
    fn pockets_fractions_of_a_satoshi_are_rounded_and_remembered() {
        // Issue 10: a ninth decimal no longer fails the whole exchange.
        let ex: Exchange = serde_json::from_str(
            r#"{"id": "x", "amount": 0.001970005, "payout": {"amount": -0.1}}"#,
        )
        .unwrap();
        let amount = ex.amount.unwrap();
        assert_eq!(amount.to_sat(), 197_001);
        assert_eq!(amount.written().unwrap().to_string(), "0.001970005");
        let negative = ex.payout.unwrap().amount.unwrap();
        assert_eq!(
            (negative.to_sat(), negative.written().unwrap().to_string()),
            (0, "-0.1".into())
        );
        // What the tool itself reads (a user's input) stays strict.
        let err = Btc::from_decimal("0.000000001".parse().unwrap()).unwrap_err();
        assert!(err.contains("satoshi"), "{err}");
        assert_eq!(Btc::from_sat(5).written(), None);
    }

    #[test]
    fn an_order_is_read_tolerantly() {
        let text = r#"{"id": "o1", "active": true, "created_on": null, "fee_rate": 0.015,
            "payment_method": {"currency": "usd", "debitor_iban": "DE75512108001245126199", "new": {}},
            "payout_method": {"bitcoin_address": "tb1q", "gap_limit": "20", "extra": [1]},
            "surprise": true}"#;
        let order: Order = serde_json::from_str(text).unwrap();
        assert_eq!(order.created_on, None);
        assert_eq!(order.payment_method.currency, None);
        assert_eq!(order.payout_method.gap_limit, Some(20));
        for gap in ["10", "\"10\"", "null"] {
            let text = format!(
                r#"{{"id": "o", "active": true, "fee_rate": 0.02, "payment_method": {{}}, "payout_method": {{"gap_limit": {gap}}}}}"#
            );
            let order: Order = serde_json::from_str(&text).unwrap();
            assert_eq!(
                order.payout_method.gap_limit,
                (gap != "null").then_some(10),
                "{gap}"
            );
        }
    }

    #[test]
    fn envelope_payload_uses_exchange_id() {
        let ex: Exchange = serde_json::from_str(
            r#"{"exchange_id": "e1", "order_id": "o1", "welcomeReward": true}"#,
        )
        .unwrap();
        assert_eq!(ex.id, "e1");
    }

    #[test]
    fn currency_accepts_upper_case_and_writes_lower_case() {
        let c: Currency = serde_json::from_str("\"CHF\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"chf\"");
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        let c: Challenge = serde_json::from_str(
            r#"{"id": "95ab94f0-bd8d-410c-bfc8-b1f27d43b0c0", "token": "7v7t4Fmb", "expires_on": "2022-01-10T00:25:11.123Z", "completed_on": null}"#,
        )
        .unwrap();
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["expires_on"], "2022-01-10T00:25:11.123Z");
        assert!(back["completed_on"].is_null());
    }
}
