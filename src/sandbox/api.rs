//! Pocket's API as the sandbox plays it: challenges, orders (their creation
//! is in `orders`), and exchanges.

use super::engine::{Engine, random_token};
use super::error::{ApiError, Result};
use super::state::StoredOrder;
use crate::pocket::codes::sandbox as code;
use crate::pocket::{
    Challenge, Currency, Exchange, MAX_FEE_RATE, MIN_FEE_RATE, Order, PaymentMethod,
};

impl Engine {
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

    pub fn exchange(&self, id: &str) -> Result<Exchange> {
        self.state()
            .exchange(id)?
            .ok_or_else(|| ApiError::not_found(format!("exchange {id}")))
    }

    pub fn exchanges_of(&self, order_id: &str) -> Result<Vec<Exchange>> {
        self.stored_order(order_id)?;
        Ok(self.state().exchanges_of(order_id)?)
    }
}

/// Pocket's bank details, as its documented order example shows them.
pub(super) fn creditor_details(
    currency: Currency,
    debitor_iban: &str,
    reference: &str,
) -> PaymentMethod {
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
