//! The bank as the sandbox plays it: a transfer to Pocket arrives and is
//! refunded, interrupted or executed at the sandbox's price; an
//! identification lets an interrupted exchange execute.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::engine::Engine;
use super::error::{ApiError, Result};
use super::market;
use super::options::{IDENTIFY_URL, Interruption};
use crate::payment::Iban;
use crate::pocket::codes::sandbox as code;
use crate::pocket::{Currency, Exchange, ExchangeAction, ExchangeId, ExchangeReason};

/// A bank transfer to Pocket, as `POST /sandbox/payments` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub reference: String,
    pub amount: Decimal,
    pub currency: String,
    pub debitor_iban: String,
}

impl Engine {
    /// A bank transfer arrives: refunded, interrupted or executed.
    pub fn payment(&self, request: &PaymentRequest) -> Result<Exchange> {
        let (reference, currency, debitor) = read_payment(request)?;
        let prices = self.prices()?;
        let state = self.state();
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
            id: ExchangeId::new(uuid::Uuid::new_v4().to_string()),
            order_id: Some(stored.order.id.clone()),
            fee_rate: Some(stored.order.fee_rate),
            pair: Some(format!("btc/{}", currency.as_str())),
            kind: Some("buy".into()),
            cost: Some(request.amount),
            ..Exchange::default()
        };
        let today_total: Decimal = state
            .exchanges_of(&stored.order.id)?
            .iter()
            .filter(|e| e.reason.is_none())
            .filter(|e| e.executed_on.unwrap_or(now).date_naive() == now.date_naive())
            .filter_map(|e| e.cost)
            .sum();
        let order_iban = stored.order.payment_method.debitor_iban.as_deref();
        let from_order_account =
            order_iban.is_some_and(|i| i.replace(' ', "").to_ascii_uppercase() == debitor.as_str());
        let refund = if !from_order_account {
            Some("account_not_matching")
        } else if !stored.order.active {
            Some("order_inactive")
        } else if today_total + request.amount > self.options.daily_limit {
            Some("threshold_exceeded")
        } else {
            None
        };
        let event = if let Some(code) = refund {
            exchange.reason = Some(ExchangeReason { code: code.into() });
            "exchange.refunded"
        } else if !stored.identified && request.amount > self.options.identification_threshold {
            interrupt(
                &mut exchange,
                self.faults_in(&state)?.interruption.unwrap_or_default(),
            );
            "exchange.interrupted"
        } else {
            execute(&mut exchange, prices.of(currency), now)?;
            "exchange.executed"
        };
        // A lightning order's purchase waits for the user's invoice instead.
        let pending = event == "exchange.executed" && !stored.pays_over_lightning();
        self.commit(state, |s| {
            s.insert_exchange(&exchange, pending)?;
            self.enqueue(s, event, &exchange)
        })?;
        Ok(exchange)
    }

    /// The user identified themselves: the interrupted exchange executes.
    pub fn identify(&self, exchange_id: &str) -> Result<Exchange> {
        let prices = self.prices()?;
        let state = self.state();
        let mut exchange = state
            .exchange(exchange_id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {exchange_id}")))?;
        if exchange.action.is_none() {
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
        exchange.reason = None;
        execute(&mut exchange, prices.of(currency), now)?;
        order.identified = true;
        let pending = !order.pays_over_lightning();
        self.commit(state, |s| {
            s.update_order(&order)?;
            s.update_exchange(&exchange, pending)?;
            self.enqueue(s, "exchange.executed", &exchange)
        })?;
        Ok(exchange)
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

/// A transfer's reference (as the bank reads it: no spaces, upper case),
/// currency and sending account, each checked.
fn read_payment(request: &PaymentRequest) -> Result<(String, Currency, Iban)> {
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
    Ok((reference, currency, debitor))
}

/// Holds an exchange for identification, in the shape chosen.
fn interrupt(exchange: &mut Exchange, shape: Interruption) {
    match shape {
        Interruption::Official => {
            exchange.action = Some(ExchangeAction {
                code: "identify".into(),
                identification_id: None,
                url: Some(IDENTIFY_URL.into()),
            });
            exchange.reason = Some(ExchangeReason {
                code: "identification_required".into(),
            });
        }
        Interruption::Tutorial => {
            exchange.action = Some(ExchangeAction {
                code: "identification_required".into(),
                identification_id: Some(uuid::Uuid::new_v4().to_string()),
                url: None,
            });
        }
    }
}
