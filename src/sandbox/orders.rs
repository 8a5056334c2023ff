//! Order creation as Pocket validates it: the request's fields, the
//! challenge, and the payout — an extended key whose address at
//! `derivation_path` signed the message, one address that signed it, or a
//! lightning node that signed it (LND's signature scheme).

use super::api::creditor_details;
use super::engine::{Engine, random_token};
use super::error::{ApiError, Result};
use super::state::{State, StoredOrder};
use crate::payment::{CreditorReference, Iban};
use crate::pocket::codes::sandbox as code;
use crate::pocket::{
    Challenge, Currency, MAX_FEE_RATE, MIN_FEE_RATE, Order, OrderCreate, OrderId, PayoutMethod,
    PayoutMethodCreate,
};
use crate::wallet::message::lightning::verify_node_signature;
use crate::wallet::{self, Address, KeyPath, PayoutKey, ScriptType, parse_address, verify_message};

/// What a new order pays to, checked.
enum Target {
    Key {
        script_type: ScriptType,
        path: KeyPath,
    },
    Address {
        script_type: ScriptType,
    },
    Node,
}

impl Engine {
    /// Validates an order as Pocket does and stores it.
    pub fn create_order(&self, body: &[u8]) -> Result<Order> {
        let (request, currency, debitor) = read_request(body)?;
        let payout = &request.payout_method;
        let mut state = self.state();
        let now = state.now()?;
        let challenge = open_challenge(&state, &payout.message, now)?;
        let target = self.check_payout(payout)?;
        let reference = CreditorReference::create(&random_token(10)).map_err(ApiError::internal)?;
        let (script_type, chain, next_index, derivation_path) = match &target {
            Target::Key { script_type, path } => (
                script_type.as_str(),
                KeyPath::format_chain(path.chain()),
                path.index(),
                Some(path.to_string()),
            ),
            Target::Address { script_type } => (script_type.as_str(), String::new(), 0, None),
            Target::Node => ("", String::new(), 0, None),
        };
        let order = Order {
            id: OrderId::new(uuid::Uuid::new_v4().to_string()),
            active: request.active,
            created_on: Some(now),
            affiliate_id: request.affiliate_id.clone(),
            fee_rate: request.fee_rate,
            payment_method: creditor_details(currency, debitor.as_str(), reference.as_str()),
            payout_method: PayoutMethod {
                bitcoin_address: payout.bitcoin_address.clone(),
                message: Some(payout.message.clone()),
                signature: Some(payout.signature.clone()),
                extended_public_key: payout.extended_public_key.clone(),
                derivation_path,
                gap_limit: payout.gap_limit,
                node_pubkey: payout.node_pubkey.clone(),
            },
        };
        let stored = StoredOrder {
            order: order.clone(),
            script_type: script_type.to_string(),
            chain,
            next_index,
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

    /// Checks the payout and its signature over the message.
    fn check_payout(&self, payout: &PayoutMethodCreate) -> Result<Target> {
        let invalid_signature =
            |e: wallet::VerifyError| ApiError::bad(code::INVALID_SIGNATURE, e.to_string());
        if let Some(node) = &payout.node_pubkey {
            if payout.bitcoin_address.is_some() || payout.extended_public_key.is_some() {
                return Err(ApiError::bad(
                    code::INVALID_REQUEST,
                    "a lightning payout names a node, not an address or a key",
                ));
            }
            verify_node_signature(node, &payout.message, &payout.signature)
                .map_err(invalid_signature)?;
            return Ok(Target::Node);
        }
        let Some(text) = &payout.bitcoin_address else {
            return Err(ApiError::bad(
                code::INVALID_BITCOIN_ADDRESS,
                "the payout names no bitcoin_address (nor a lightning node_pubkey)",
            ));
        };
        let invalid_address = |why: String| ApiError::bad(code::INVALID_BITCOIN_ADDRESS, why);
        let address = parse_address(text)
            .ok()
            .filter(|a| a.as_unchecked().is_valid_for_network(self.options.network))
            .ok_or_else(|| invalid_address(text.clone()))?;
        let script_type = ScriptType::of_address(&address)
            .ok_or_else(|| invalid_address("not a single-key address type".into()))?;
        verify_message(&address, &payout.message, &payout.signature).map_err(invalid_signature)?;
        match &payout.extended_public_key {
            Some(key) => {
                let path = self.payout_path(
                    key,
                    payout.derivation_path.as_deref(),
                    &address,
                    script_type,
                )?;
                Ok(Target::Key { script_type, path })
            }
            None => Ok(Target::Address { script_type }),
        }
    }

    /// The path of the signed address below the order's key: the key at
    /// `derivation_path` must be that address.
    fn payout_path(
        &self,
        key: &str,
        derivation_path: Option<&str>,
        address: &Address,
        script_type: ScriptType,
    ) -> Result<KeyPath> {
        if key.contains('(') {
            return Err(ApiError::bad(
                code::INVALID_EXTENDED_PUBLIC_KEY,
                "a descriptor, not an extended public key",
            ));
        }
        let network = Some(self.options.network);
        let key = PayoutKey::parse(key, Some(script_type), network).map_err(|e| match e {
            wallet::Error::ScriptTypeConflict { .. } => {
                ApiError::bad(code::DERIVATION_MISMATCH, e.to_string())
            }
            _ => ApiError::bad(code::INVALID_EXTENDED_PUBLIC_KEY, e.to_string()),
        })?;
        let path_error =
            |e: wallet::Error| ApiError::bad(code::INVALID_DERIVATION_PATH, e.to_string());
        let text = derivation_path.ok_or_else(|| {
            ApiError::bad(
                code::INVALID_DERIVATION_PATH,
                "an extended public key needs the derivation_path of the signed address",
            )
        })?;
        let path: KeyPath = key.parse_path(text).map_err(path_error)?;
        let derived = key.address_at(&path).map_err(path_error)?;
        if derived.address.script_pubkey() != address.script_pubkey() {
            return Err(ApiError::bad(
                code::DERIVATION_MISMATCH,
                format!("the key at {path} is {}, not {address}", derived.address),
            ));
        }
        Ok(path)
    }
}

/// Reads an order creation and checks its fields one by one.
fn read_request(body: &[u8]) -> Result<(OrderCreate, Currency, Iban)> {
    let request: OrderCreate = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(code::INVALID_REQUEST, format!("body is not an order: {e}")))?;
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
    if let Some(gap) = request.payout_method.gap_limit
        && !(1..=1000).contains(&gap)
    {
        return Err(ApiError::bad(code::INVALID_GAP_LIMIT, gap.to_string()));
    }
    Ok((request, currency, debitor))
}

/// The challenge whose token the message carries, still open.
fn open_challenge(
    state: &State,
    message: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Challenge> {
    let challenge = match state.challenges_in(message)?.into_iter().next() {
        Some(c) => c,
        None if message.contains('[') => {
            return Err(ApiError::bad(
                code::CHALLENGE_NOT_FOUND,
                message.to_string(),
            ));
        }
        None => return Err(ApiError::bad(code::INVALID_MESSAGE, message.to_string())),
    };
    if challenge.completed_on.is_some() {
        return Err(ApiError::bad(code::CHALLENGE_ALREADY_USED, challenge.id));
    }
    if now > challenge.expires_on {
        return Err(ApiError::bad(code::CHALLENGE_EXPIRED, challenge.id));
    }
    Ok(challenge)
}
