//! What the sandbox does, without HTTP: Pocket's validation of challenges and
//! orders, the bank payments that create exchanges, the end-of-day payout
//! batch, confirmations, and the webhook events each change produces. Every
//! change and its webhook are stored in one transaction before the answer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bitcoin::Network;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::market::{self, Pending};
use super::state::{State, StoredOrder};
use crate::payment::{CreditorReference, Iban};
use crate::pocket::codes::error as code;
use crate::pocket::{
    Btc, Challenge, Currency, Exchange, ExchangeAction, ExchangeReason, MAX_FEE_RATE, MIN_FEE_RATE,
    Order, OrderCreate, PaymentMethod, Payout, PayoutMethod,
};
use crate::wallet::{self, KeyPath, PayoutKey, ScriptType, parse_address, verify_message};

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
    fn of(&self, currency: Currency) -> Decimal {
        match currency {
            Currency::Eur => self.eur,
            Currency::Chf => self.chf,
            Currency::Gbp => self.gbp,
        }
    }
}

/// Knobs that make webhook delivery misbehave the way networks do.
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
}

/// An error in Pocket's shape: HTTP status and `error` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    /// For the log only; Pocket's body carries just the code.
    pub detail: String,
}

impl ApiError {
    pub fn bad(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            code: code::NOT_FOUND,
            detail: detail.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: 500,
            code: "internal_error",
            detail: e.to_string(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.detail)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

type Result<T> = std::result::Result<T, ApiError>;

/// A bank transfer to Pocket, as `POST /sandbox/payments` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub reference: String,
    pub amount: Decimal,
    pub currency: String,
    pub debitor_iban: String,
}

/// What one payout batch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchResult {
    pub txid: Option<String>,
    pub outputs: Vec<BatchOutput>,
    pub held: Vec<HeldPayout>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchOutput {
    pub order_id: String,
    pub vout: u32,
    pub address: String,
    pub derivation_path: String,
    pub value_sat: u64,
    pub exchange_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldPayout {
    pub order_id: String,
    pub amount_sat: u64,
    pub exchange_ids: Vec<String>,
}

/// The sandbox: its options, its state and the dispatcher's doorbell.
pub struct Engine {
    pub(super) options: Options,
    state: Mutex<State>,
    pub(super) wake: Notify,
}

const FAULTS: &str = "faults";
const PRICES: &str = "prices";
const HEIGHT: &str = "block_height";
const FIRST_HEIGHT: u64 = 900_000;

impl Engine {
    pub fn new(options: Options, state: State) -> Arc<Engine> {
        Arc::new(Engine {
            options,
            state: Mutex::new(state),
            wake: Notify::new(),
        })
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> Result<DateTime<Utc>> {
        Ok(self.state().now()?)
    }

    pub fn set_clock(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let state = self.state();
        state.set_now(now)?;
        Ok(state.now()?)
    }

    pub fn prices(&self) -> Result<Prices> {
        Ok(self.state().setting(PRICES)?.unwrap_or(self.options.prices))
    }

    pub fn set_prices(&self, prices: Prices) -> Result<Prices> {
        for (name, price) in [
            ("eur", prices.eur),
            ("chf", prices.chf),
            ("gbp", prices.gbp),
        ] {
            if price <= Decimal::ZERO {
                return Err(ApiError::bad(
                    "invalid_price",
                    format!("{name} price must be positive"),
                ));
            }
        }
        self.state().set_setting(PRICES, &prices)?;
        Ok(prices)
    }

    /// Webhook deliveries not delivered (or given up) yet.
    pub fn pending_webhooks(&self) -> Result<usize> {
        Ok(self
            .state()
            .deliveries()?
            .iter()
            .filter(|d| d.status == "pending")
            .count())
    }

    pub fn faults(&self) -> Result<Faults> {
        Ok(self.state().setting(FAULTS)?.unwrap_or_default())
    }

    pub fn set_faults(&self, faults: Faults) -> Result<Faults> {
        self.state().set_setting(FAULTS, &faults)?;
        self.wake.notify_one();
        Ok(faults)
    }

    // ------------------------------------------------------------ challenges

    pub fn create_challenge(&self) -> Result<Challenge> {
        let state = self.state();
        let now = state.now()?;
        let ttl =
            chrono::Duration::from_std(self.options.challenge_ttl).map_err(ApiError::internal)?;
        let challenge = Challenge {
            id: uuid::Uuid::new_v4().to_string(),
            token: random_token(8),
            expires_on: now + ttl,
            completed_on: None,
        };
        state.insert_challenge(&challenge)?;
        Ok(challenge)
    }

    pub fn challenge(&self, id: &str) -> Result<Challenge> {
        self.state()
            .challenge(id)?
            .ok_or_else(|| ApiError::not_found(format!("challenge {id}")))
    }

    // ---------------------------------------------------------------- orders

    /// Validates an order as Pocket does and stores it.
    pub fn create_order(&self, body: &[u8]) -> Result<Order> {
        let raw: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad(code::INVALID_REQUEST, format!("body is not JSON: {e}")))?;
        if raw["payout_method"].get("node_pubkey").is_some() {
            return Err(ApiError::bad(
                code::UNSUPPORTED_PAYOUT_METHOD,
                "lightning payouts are not available in the sandbox",
            ));
        }
        let request: OrderCreate = serde_json::from_value(raw)
            .map_err(|e| ApiError::bad(code::INVALID_REQUEST, e.to_string()))?;
        if request.fee_rate < MIN_FEE_RATE || request.fee_rate > MAX_FEE_RATE {
            return Err(ApiError::bad(
                code::INVALID_FEE_RATE,
                format!("fee_rate {} outside 0.012–0.045", request.fee_rate),
            ));
        }
        let currency: Currency = request
            .payment_method
            .currency
            .parse()
            .map_err(|e: String| ApiError::bad(code::UNSUPPORTED_CURRENCY, e))?;
        let debitor = Iban::parse(&request.payment_method.debitor_iban)
            .map_err(|e| ApiError::bad(code::INVALID_IBAN, e.to_string()))?;
        if let Some(affiliate) = &request.affiliate_id
            && uuid::Uuid::parse_str(affiliate).is_err()
        {
            return Err(ApiError::bad(code::INVALID_AFFILIATE_ID, affiliate.clone()));
        }
        let payout = &request.payout_method;
        if let Some(gap) = payout.gap_limit
            && !(1..=1000).contains(&gap)
        {
            return Err(ApiError::bad(code::INVALID_GAP_LIMIT, gap.to_string()));
        }
        let address = parse_address(&payout.bitcoin_address)
            .ok()
            .filter(|a| a.as_unchecked().is_valid_for_network(self.options.network))
            .ok_or_else(|| {
                ApiError::bad(
                    code::INVALID_BITCOIN_ADDRESS,
                    payout.bitcoin_address.clone(),
                )
            })?;
        let script_type = ScriptType::of_address(&address).ok_or_else(|| {
            ApiError::bad(
                code::INVALID_BITCOIN_ADDRESS,
                "not a single-key address type",
            )
        })?;

        let mut state = self.state();
        let now = state.now()?;
        let challenge = match state.challenges_in(&payout.message)?.into_iter().next() {
            Some(c) => c,
            None if payout.message.contains('[') => {
                return Err(ApiError::bad(
                    code::CHALLENGE_NOT_FOUND,
                    payout.message.clone(),
                ));
            }
            None => return Err(ApiError::bad(code::INVALID_MESSAGE, payout.message.clone())),
        };
        if challenge.completed_on.is_some() {
            return Err(ApiError::bad(code::CHALLENGE_ALREADY_USED, challenge.id));
        }
        if now > challenge.expires_on {
            return Err(ApiError::bad(code::CHALLENGE_EXPIRED, challenge.id));
        }
        verify_message(&address, &payout.message, &payout.signature)
            .map_err(|e| ApiError::bad(code::INVALID_SIGNATURE, e.to_string()))?;
        if payout.extended_public_key.contains('(') {
            return Err(ApiError::bad(
                code::INVALID_EXTENDED_PUBLIC_KEY,
                "a descriptor, not an extended public key",
            ));
        }
        let key = PayoutKey::parse(
            &payout.extended_public_key,
            Some(script_type),
            Some(self.options.network),
        )
        .map_err(|e| match e {
            wallet::Error::ScriptTypeConflict { .. } => {
                ApiError::bad(code::DERIVATION_MISMATCH, e.to_string())
            }
            _ => ApiError::bad(code::INVALID_EXTENDED_PUBLIC_KEY, e.to_string()),
        })?;
        let path: KeyPath = key
            .parse_path(&payout.derivation_path)
            .map_err(|e| ApiError::bad(code::INVALID_DERIVATION_PATH, e.to_string()))?;
        let derived = key
            .address_at(&path)
            .map_err(|e| ApiError::bad(code::INVALID_DERIVATION_PATH, e.to_string()))?;
        if derived.address.script_pubkey() != address.script_pubkey() {
            return Err(ApiError::bad(
                code::DERIVATION_MISMATCH,
                format!("the key at {path} is {}, not {address}", derived.address),
            ));
        }

        let reference = CreditorReference::create(&random_token(10)).map_err(ApiError::internal)?;
        let order = Order {
            id: uuid::Uuid::new_v4().to_string(),
            active: request.active,
            created_on: now,
            affiliate_id: request.affiliate_id.clone(),
            fee_rate: request.fee_rate,
            payment_method: creditor_details(currency, debitor.as_str(), reference.as_str()),
            payout_method: PayoutMethod {
                bitcoin_address: Some(payout.bitcoin_address.clone()),
                message: Some(payout.message.clone()),
                signature: Some(payout.signature.clone()),
                extended_public_key: Some(payout.extended_public_key.clone()),
                derivation_path: Some(path.to_string()),
                gap_limit: payout.gap_limit,
                node_pubkey: None,
            },
        };
        let stored = StoredOrder {
            order: order.clone(),
            script_type: script_type.as_str().to_string(),
            chain: KeyPath::format_chain(path.chain()),
            next_index: path.index(),
            identified: false,
        };
        let mut completed = challenge;
        completed.completed_on = Some(now);
        state.transaction(|s| {
            s.insert_order(&stored, reference.as_str())?;
            s.update_challenge(&completed)
        })?;
        tracing::info!(order = %order.id, "sandbox: order created");
        Ok(order)
    }

    pub fn order(&self, id: &str) -> Result<Order> {
        Ok(self.stored_order(id)?.order)
    }

    /// Every order (what the Pocket app would list).
    pub fn orders(&self) -> Result<Vec<Order>> {
        Ok(self.state().orders()?)
    }

    fn stored_order(&self, id: &str) -> Result<StoredOrder> {
        self.state()
            .order(id)?
            .ok_or_else(|| ApiError::not_found(format!("order {id}")))
    }

    /// Changes `active`, `fee_rate` or `affiliate_id`; any other field is refused.
    pub fn patch_order(&self, id: &str, body: &[u8]) -> Result<Order> {
        let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| {
                ApiError::bad(
                    code::INVALID_REQUEST,
                    format!("body is not a JSON object: {e}"),
                )
            })?;
        if let Some(field) = raw
            .keys()
            .find(|k| !matches!(k.as_str(), "active" | "fee_rate" | "affiliate_id"))
        {
            return Err(ApiError::bad(
                code::INVALID_REQUEST,
                format!("{field} cannot be changed; only active, fee_rate and affiliate_id"),
            ));
        }
        let patch: crate::pocket::OrderPatch =
            serde_json::from_value(serde_json::Value::Object(raw))
                .map_err(|e| ApiError::bad(code::INVALID_REQUEST, e.to_string()))?;
        let mut stored = self.stored_order(id)?;
        if let Some(rate) = patch.fee_rate {
            if rate < MIN_FEE_RATE || rate > MAX_FEE_RATE {
                return Err(ApiError::bad(code::INVALID_FEE_RATE, rate.to_string()));
            }
            stored.order.fee_rate = rate;
        }
        if let Some(active) = patch.active {
            stored.order.active = active;
        }
        if let Some(affiliate) = patch.affiliate_id {
            if uuid::Uuid::parse_str(&affiliate).is_err() {
                return Err(ApiError::bad(code::INVALID_AFFILIATE_ID, affiliate));
            }
            stored.order.affiliate_id = Some(affiliate);
        }
        self.state().update_order(&stored)?;
        Ok(stored.order)
    }

    // ------------------------------------------------------------- exchanges

    pub fn exchange(&self, id: &str) -> Result<Exchange> {
        self.state()
            .exchange(id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {id}")))
    }

    /// Lightning payout instructions: only for orders with a lightning
    /// payout method, which the sandbox does not create.
    pub fn patch_exchange(&self, id: &str) -> Result<Exchange> {
        self.exchange(id)?;
        Err(ApiError::bad(
            code::UNSUPPORTED_PAYOUT_METHOD,
            "the exchange's order has no lightning payout method",
        ))
    }

    pub fn exchanges_of(&self, order_id: &str) -> Result<Vec<Exchange>> {
        self.stored_order(order_id)?;
        Ok(self.state().exchanges_of(order_id)?)
    }

    /// A bank transfer arrives: refunded, interrupted or executed.
    pub fn payment(&self, request: &PaymentRequest) -> Result<Exchange> {
        let reference: String = request
            .reference
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let currency: Currency = request
            .currency
            .parse()
            .map_err(|e: String| ApiError::bad(code::UNSUPPORTED_CURRENCY, e))?;
        if request.amount <= Decimal::ZERO || request.amount.normalize().scale() > 2 {
            return Err(ApiError::bad(
                "invalid_amount",
                format!("{} is not a positive amount in cents", request.amount),
            ));
        }
        let debitor = Iban::parse(&request.debitor_iban)
            .map_err(|e| ApiError::bad(code::INVALID_IBAN, e.to_string()))?;
        let prices = self.prices()?;
        let mut state = self.state();
        let stored = state
            .order_by_reference(&reference)?
            .ok_or_else(|| ApiError {
                status: 404,
                code: "unknown_reference",
                detail: format!("no order has the reference {reference}"),
            })?;
        let order_currency = stored.order.payment_method.currency;
        if order_currency != Some(currency) {
            return Err(ApiError::bad(
                "currency_mismatch",
                format!("the order is paid in {order_currency:?}"),
            ));
        }
        let now = state.now()?;
        let mut exchange = Exchange {
            id: uuid::Uuid::new_v4().to_string(),
            order_id: Some(stored.order.id.clone()),
            fee_rate: Some(stored.order.fee_rate),
            pair: Some(format!("btc/{}", currency.as_str())),
            kind: Some("buy".into()),
            cost: Some(request.amount),
            ..Exchange::default()
        };
        let order_iban = stored
            .order
            .payment_method
            .debitor_iban
            .clone()
            .unwrap_or_default();
        let today_total: Decimal = state
            .exchanges_of(&stored.order.id)?
            .iter()
            .filter(|e| e.reason.is_none())
            .filter(|e| e.executed_on.unwrap_or(now).date_naive() == now.date_naive())
            .filter_map(|e| e.cost)
            .sum();
        let event = if debitor.as_str() != order_iban.replace(' ', "").to_ascii_uppercase() {
            exchange.reason = Some(ExchangeReason {
                code: "account_not_matching".into(),
            });
            "exchange.refunded"
        } else if !stored.order.active {
            exchange.reason = Some(ExchangeReason {
                code: "order_inactive".into(),
            });
            "exchange.refunded"
        } else if today_total + request.amount > self.options.daily_limit {
            exchange.reason = Some(ExchangeReason {
                code: "threshold_exceeded".into(),
            });
            "exchange.refunded"
        } else if !stored.identified && request.amount > self.options.identification_threshold {
            exchange.action = Some(ExchangeAction {
                code: "identification_required".into(),
                identification_id: Some(uuid::Uuid::new_v4().to_string()),
                url: None,
            });
            "exchange.interrupted"
        } else {
            execute(&mut exchange, prices.of(currency), now)?;
            "exchange.executed"
        };
        let pending = event == "exchange.executed";
        state.transaction(|s| {
            s.insert_exchange(&exchange, pending)?;
            self.enqueue(s, event, &exchange)
        })?;
        drop(state);
        self.wake.notify_one();
        Ok(exchange)
    }

    /// The user identified themselves: the interrupted exchange executes.
    pub fn identify(&self, exchange_id: &str) -> Result<Exchange> {
        let prices = self.prices()?;
        let mut state = self.state();
        let mut exchange = state
            .exchange(exchange_id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {exchange_id}")))?;
        if exchange.action.is_none() || exchange.reason.is_some() {
            return Err(ApiError::bad(
                "not_interrupted",
                "only an interrupted exchange waits for identification",
            ));
        }
        let order_id = exchange.order_id.clone().unwrap_or_default();
        let mut order = state
            .order(&order_id)?
            .ok_or_else(|| ApiError::not_found(format!("order {order_id}")))?;
        let currency = order
            .order
            .payment_method
            .currency
            .ok_or_else(|| ApiError::internal("order without currency"))?;
        let now = state.now()?;
        exchange.action = None;
        execute(&mut exchange, prices.of(currency), now)?;
        order.identified = true;
        state.transaction(|s| {
            s.update_order(&order)?;
            s.update_exchange(&exchange, true)?;
            self.enqueue(s, "exchange.executed", &exchange)
        })?;
        drop(state);
        self.wake.notify_one();
        Ok(exchange)
    }

    /// The end-of-day batch: one transaction, one output per order.
    pub fn run_payouts(&self) -> Result<BatchResult> {
        let mut state = self.state();
        let txid = random_hex(32);
        let mut outputs = Vec::new();
        let mut held = Vec::new();
        let mut updates: Vec<(StoredOrder, Vec<Exchange>)> = Vec::new();
        for (order_id, exchanges) in state.pending_payouts()? {
            let pending: Vec<Pending> = exchanges
                .iter()
                .map(|e| Pending {
                    exchange_id: e.id.clone(),
                    amount: e.amount.unwrap_or_default(),
                })
                .collect();
            let total: u64 = pending.iter().map(|p| p.amount.to_sat()).sum();
            let ids: Vec<String> = exchanges.iter().map(|e| e.id.clone()).collect();
            let Some(plan) = market::plan_output(
                &pending,
                self.options.payout_fee,
                self.options.payout_protection,
            ) else {
                held.push(HeldPayout {
                    order_id,
                    amount_sat: total,
                    exchange_ids: ids,
                });
                continue;
            };
            let mut order = state
                .order(&order_id)?
                .ok_or_else(|| ApiError::internal(format!("order {order_id} vanished")))?;
            let (address, path) = self.next_address(&order)?;
            let vout = outputs.len() as u32;
            let mut paid = Vec::new();
            for (exchange, (_, fee, amount)) in exchanges.into_iter().zip(plan.shares) {
                let mut exchange = exchange;
                exchange.payout = Some(Payout {
                    txid: Some(txid.clone()),
                    outpoint: Some(vout),
                    bitcoin_address: Some(address.clone()),
                    derivation_path: Some(path.clone()),
                    block_height: None,
                    confirmed: Some(false),
                    fee: Some(fee),
                    amount: Some(amount),
                });
                paid.push(exchange);
            }
            order.next_index += 1;
            outputs.push(BatchOutput {
                order_id,
                vout,
                address,
                derivation_path: path,
                value_sat: plan.value.to_sat(),
                exchange_ids: ids,
            });
            updates.push((order, paid));
        }
        state.transaction(|s| {
            for (order, exchanges) in &updates {
                s.update_order(order)?;
                for exchange in exchanges {
                    s.update_exchange(exchange, false)?;
                    self.enqueue(s, "exchange.settled", exchange)?;
                }
            }
            Ok(())
        })?;
        drop(state);
        self.wake.notify_one();
        Ok(BatchResult {
            txid: (!outputs.is_empty()).then_some(txid),
            outputs,
            held,
        })
    }

    fn next_address(&self, order: &StoredOrder) -> Result<(String, String)> {
        let payout = &order.order.payout_method;
        let script_type: ScriptType = order.script_type.parse().map_err(ApiError::internal)?;
        let key = PayoutKey::parse(
            payout.extended_public_key.as_deref().unwrap_or_default(),
            Some(script_type),
            Some(self.options.network),
        )
        .map_err(ApiError::internal)?;
        let chain: Vec<u32> = if order.chain.is_empty() {
            Vec::new()
        } else {
            order
                .chain
                .split('/')
                .map(|s| s.parse().map_err(ApiError::internal))
                .collect::<Result<_>>()?
        };
        let derived = key
            .chain(&chain)
            .and_then(|c| c.address(order.next_index))
            .map_err(ApiError::internal)?;
        Ok((derived.address.to_string(), derived.path.to_string()))
    }

    /// Mines `count` blocks: every unconfirmed payout confirms in the first.
    pub fn mine(&self, count: u64) -> Result<(u64, Vec<String>)> {
        let mut state = self.state();
        let height: u64 = state.setting(HEIGHT)?.unwrap_or(FIRST_HEIGHT);
        let mut confirmed = Vec::new();
        let mut updated = Vec::new();
        for mut exchange in state.unconfirmed_payouts()? {
            if let Some(payout) = exchange.payout.as_mut() {
                payout.confirmed = Some(true);
                payout.block_height = Some(height + 1);
            }
            confirmed.push(exchange.id.clone());
            updated.push(exchange);
        }
        let new_height = height + count.max(1);
        state.transaction(|s| {
            s.set_setting(HEIGHT, &new_height)?;
            for exchange in &updated {
                s.update_exchange(exchange, false)?;
                self.enqueue(s, "exchange.settled", exchange)?;
            }
            Ok(())
        })?;
        drop(state);
        self.wake.notify_one();
        Ok((new_height, confirmed))
    }

    /// Queues the webhook of a change, inside the change's transaction.
    fn enqueue(&self, state: &State, event: &str, exchange: &Exchange) -> rusqlite::Result<()> {
        let faults: Faults = state.setting(FAULTS)?.unwrap_or_default();
        let bare = faults.bare.unwrap_or(self.options.bare_webhooks);
        let body = webhook_body(event, exchange, bare)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let due = Utc::now().timestamp_millis() + faults.delay_ms as i64;
        state.enqueue(
            &uuid::Uuid::new_v4().to_string(),
            event,
            &exchange.id,
            &body,
            due,
        )
    }
}

fn execute(exchange: &mut Exchange, rate: Decimal, now: DateTime<Utc>) -> Result<()> {
    let cost = exchange.cost.unwrap_or_default();
    let fee_rate = exchange.fee_rate.unwrap_or_default();
    let (fee, amount) = market::execute(cost, fee_rate, rate).map_err(ApiError::internal)?;
    exchange.executed_on = Some(now);
    exchange.rate = Some(rate);
    exchange.fee = Some(fee);
    exchange.amount = Some(amount);
    Ok(())
}

/// The JSON Pocket posts: the documented envelope, or the bare exchange.
pub fn webhook_body(event: &str, exchange: &Exchange, bare: bool) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(exchange)?;
    if bare {
        return serde_json::to_string(&value);
    }
    if let Some(object) = value.as_object_mut()
        && let Some(id) = object.remove("id")
    {
        object.insert("exchange_id".into(), id);
    }
    serde_json::to_string(&serde_json::json!({"event": event, "payload": value}))
}

/// Pocket's bank details, as its documented order example shows them.
fn creditor_details(currency: Currency, debitor_iban: &str, reference: &str) -> PaymentMethod {
    let s = |v: &str| Some(v.to_string());
    PaymentMethod {
        currency: Some(currency),
        debitor_iban: s(debitor_iban),
        creditor_reference: s(reference),
        creditor_iban: s("CH9400778214768302002"),
        creditor_bank_name: s("Luzerner Kantonalbank"),
        creditor_bank_street: s("Pilatusstrasse 12"),
        creditor_bank_postal_code: s("6002"),
        creditor_bank_town: s("Luzern"),
        creditor_bank_country: s("CH"),
        creditor_bank_bic: s("LUKBCH2260A"),
        creditor_name: s("Pocket App"),
        creditor_street: s("Industriestrasse 33"),
        creditor_postal_code: s("5242"),
        creditor_town: s("Lupfig"),
        creditor_country: s("CH"),
        swiss_qr_bill_payload: None,
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    use bitcoin::secp256k1::rand::RngCore;
    let mut bytes = vec![0u8; n];
    bitcoin::secp256k1::rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

fn random_hex(n: usize) -> String {
    hex::encode(random_bytes(n))
}

/// Letters and digits, as Pocket's challenge tokens are.
fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    random_bytes(len)
        .into_iter()
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}
