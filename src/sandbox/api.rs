//! Pocket's API as the sandbox plays it: challenges, orders validated as
//! Pocket validates them, and exchanges.

use super::engine::{Engine, random_token};
use super::error::{ApiError, Result};
use super::state::StoredOrder;
use crate::payment::{CreditorReference, Iban};
use crate::pocket::codes::error as code;
use crate::pocket::{
    Challenge, Currency, Exchange, MAX_FEE_RATE, MIN_FEE_RATE, Order, OrderCreate, OrderId,
    PaymentMethod, PayoutMethod, PayoutMethodCreate,
};
use crate::wallet::{self, Address, KeyPath, PayoutKey, ScriptType, parse_address, verify_message};

/// An order creation whose fields passed their checks.
struct CheckedOrder {
    request: OrderCreate,
    currency: Currency,
    debitor: Iban,
    address: Address,
    script_type: ScriptType,
}

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

    /// Validates an order as Pocket does and stores it.
    pub fn create_order(&self, body: &[u8]) -> Result<Order> {
        let checked = self.read_order(body)?;
        let (request, address) = (&checked.request, &checked.address);
        let payout = &request.payout_method;
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
        verify_message(address, &payout.message, &payout.signature)
            .map_err(|e| ApiError::bad(code::INVALID_SIGNATURE, e.to_string()))?;
        let path = self.payout_path(payout, address, checked.script_type)?;
        let reference = CreditorReference::create(&random_token(10)).map_err(ApiError::internal)?;
        let order = Order {
            id: OrderId::new(uuid::Uuid::new_v4().to_string()),
            active: request.active,
            created_on: Some(now),
            affiliate_id: request.affiliate_id.clone(),
            fee_rate: request.fee_rate,
            payment_method: creditor_details(
                checked.currency,
                checked.debitor.as_str(),
                reference.as_str(),
            ),
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
            script_type: checked.script_type.as_str().to_string(),
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

    /// Reads an order creation and checks its fields one by one.
    fn read_order(&self, body: &[u8]) -> Result<CheckedOrder> {
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
        let invalid_address = |why: String| ApiError::bad(code::INVALID_BITCOIN_ADDRESS, why);
        let address = parse_address(&payout.bitcoin_address)
            .ok()
            .filter(|a| a.as_unchecked().is_valid_for_network(self.options.network))
            .ok_or_else(|| invalid_address(payout.bitcoin_address.clone()))?;
        let script_type = ScriptType::of_address(&address)
            .ok_or_else(|| invalid_address("not a single-key address type".into()))?;
        Ok(CheckedOrder {
            request,
            currency,
            debitor,
            address,
            script_type,
        })
    }

    /// The path of the signed address below the order's key: the key at
    /// `derivation_path` must be that address.
    fn payout_path(
        &self,
        payout: &PayoutMethodCreate,
        address: &Address,
        script_type: ScriptType,
    ) -> Result<KeyPath> {
        if payout.extended_public_key.contains('(') {
            return Err(ApiError::bad(
                code::INVALID_EXTENDED_PUBLIC_KEY,
                "a descriptor, not an extended public key",
            ));
        }
        let network = Some(self.options.network);
        let key = PayoutKey::parse(&payout.extended_public_key, Some(script_type), network)
            .map_err(|e| match e {
                wallet::Error::ScriptTypeConflict { .. } => {
                    ApiError::bad(code::DERIVATION_MISMATCH, e.to_string())
                }
                _ => ApiError::bad(code::INVALID_EXTENDED_PUBLIC_KEY, e.to_string()),
            })?;
        let path_error =
            |e: wallet::Error| ApiError::bad(code::INVALID_DERIVATION_PATH, e.to_string());
        let path: KeyPath = key
            .parse_path(&payout.derivation_path)
            .map_err(path_error)?;
        let derived = key.address_at(&path).map_err(path_error)?;
        if derived.address.script_pubkey() != address.script_pubkey() {
            return Err(ApiError::bad(
                code::DERIVATION_MISMATCH,
                format!("the key at {path} is {}, not {address}", derived.address),
            ));
        }
        Ok(path)
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
