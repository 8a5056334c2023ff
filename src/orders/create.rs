//! Creating an order: the challenge to sign, every local check (IBAN, fee
//! rate, the signature against the address, the challenge, keys already in
//! use), then Pocket's `POST /orders` — never retried blindly: when the
//! answer is lost, the challenge tells whether the order exists.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::error::Error;
use super::model::{MAX_GAP_LIMIT, PayoutKind, StoredOrder};
use super::plan::{Plan, validate_fee_rate, validate_plan};
use crate::payment::Iban;
use crate::pocket::{
    self, Challenge, Client, Currency, DEFAULT_GAP_LIMIT, OrderCreate, PaymentMethodCreate,
    PayoutMethodCreate, challenge_message, timestamp,
};
use crate::store::Store;
use crate::wallet::{
    Address, DerivedAddress, KeyPath, Network, PayoutKey, ScriptType, VerifyError, verify_message,
};

/// A fresh challenge and what to sign for it.
#[derive(Debug, Clone)]
pub struct ChallengeInfo {
    pub challenge: Challenge,
    pub address: Address,
    pub path: KeyPath,
    pub message: String,
}

/// Creates a challenge at Pocket and derives the address to sign with —
/// after checking that no stored order uses the key's addresses, so that the
/// user signs nothing for an order that cannot be created.
pub async fn challenge(
    client: &Client,
    store: &Store,
    key: &PayoutKey,
    path: &KeyPath,
) -> Result<ChallengeInfo, Error> {
    let derived = key.address_at(path)?;
    ensure_unused(store, &derive_window(key, path, DEFAULT_GAP_LIMIT)?)?;
    let challenge = client.create_challenge().await?.value;
    let message = challenge_message(&challenge.token);
    Ok(ChallengeInfo {
        challenge,
        address: derived.address,
        path: path.clone(),
        message,
    })
}

/// Everything `order create` needs.
#[derive(Debug, Clone)]
pub struct CreateOrder {
    /// The key as the user gave it, stored as is.
    pub key_text: String,
    pub key: PayoutKey,
    pub path: KeyPath,
    pub currency: Currency,
    pub debitor_iban: Iban,
    pub fee_rate: Decimal,
    /// Pocket's gap limit; `None` is Pocket's default (10).
    pub gap_limit: Option<u32>,
    pub affiliate_id: Option<String>,
    pub plan: Plan,
    pub challenge_id: String,
    pub signature: String,
}

/// What a created order needs of the local checks.
struct Checked {
    derived: DerivedAddress,
    window: Vec<DerivedAddress>,
    message: String,
}

/// Validates everything that can be checked before calling Pocket.
async fn check_create(
    client: &Client,
    store: &Store,
    req: &CreateOrder,
    now: DateTime<Utc>,
) -> Result<Checked, Error> {
    validate_fee_rate(req.fee_rate)?;
    validate_plan(&req.plan)?;
    if let Some(gap) = req.gap_limit
        && (gap == 0 || gap > MAX_GAP_LIMIT)
    {
        return Err(Error::GapLimit(gap));
    }
    if let Some(affiliate) = &req.affiliate_id
        && uuid::Uuid::parse_str(affiliate).is_err()
    {
        return Err(Error::AffiliateId(affiliate.clone()));
    }
    let derived = req.key.address_at(&req.path)?;
    let window = derive_window(
        &req.key,
        &req.path,
        req.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT),
    )?;
    ensure_unused(store, &window)?;
    let challenge = client.get_challenge(&req.challenge_id).await?.value;
    if challenge.completed_on.is_some() {
        return Err(Error::ChallengeUsed { id: challenge.id });
    }
    if now > challenge.expires_on {
        return Err(Error::ChallengeExpired {
            id: challenge.id,
            expired: timestamp::format(&challenge.expires_on),
        });
    }
    let message = challenge_message(&challenge.token);
    verify_message(&derived.address, &message, &req.signature)
        .map_err(|cause| signature_error(&req.key, &req.path, &derived, cause))?;
    Ok(Checked {
        derived,
        window,
        message,
    })
}

/// Refuses addresses another stored order already expects.
fn ensure_unused(store: &Store, window: &[DerivedAddress]) -> Result<(), Error> {
    for candidate in window {
        if let Some((order, _)) = store.address_location(&candidate.address.to_string())? {
            return Err(Error::AddressTaken {
                address: candidate.address.to_string(),
                path: candidate.path.to_string(),
                order,
            });
        }
    }
    Ok(())
}

/// How far along the receive and change chains a signer is looked for.
const SIGNER_SEARCH: u32 = 200;

/// Why the signature does not fit: when the key it recovers is one of the
/// user's own addresses, the message was right and the wallet signed with
/// another address — say which; else the verifier's reason.
fn signature_error(
    key: &PayoutKey,
    path: &KeyPath,
    derived: &DerivedAddress,
    cause: VerifyError,
) -> Error {
    if let VerifyError::NoMatch { recovered, .. } = &cause {
        let chains = [path.chain().to_vec(), sibling_chain(path.chain())];
        for chain in chains.iter().filter(|c| !c.is_empty()) {
            let found = key.chain(chain).ok().and_then(|c| {
                (0..SIGNER_SEARCH).find_map(|i| {
                    c.address(i)
                        .ok()
                        .filter(|d| d.address.to_string() == *recovered)
                })
            });
            if let Some(signer) = found {
                return Error::SignedWithOtherAddress {
                    address: derived.address.to_string(),
                    path: path.to_string(),
                    signer: signer.address.to_string(),
                    signer_path: signer.path.to_string(),
                };
            }
        }
    }
    Error::Signature {
        address: derived.address.to_string(),
        path: path.to_string(),
        cause,
    }
}

/// The change chain of a receive chain and back (`…/0` ↔ `…/1`).
fn sibling_chain(chain: &[u32]) -> Vec<u32> {
    match chain.split_last() {
        Some((0, rest)) => rest.iter().copied().chain([1]).collect(),
        Some((1, rest)) => rest.iter().copied().chain([0]).collect(),
        _ => Vec::new(),
    }
}

/// The window of expected payout addresses: `count` from the path's index.
pub fn derive_window(
    key: &PayoutKey,
    path: &KeyPath,
    count: u32,
) -> Result<Vec<DerivedAddress>, Error> {
    let chain = key.chain(path.chain())?;
    Ok(chain
        .addresses(path.index(), count)?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Creates the order at Pocket after the local checks, then stores it with
/// its address window. Pocket's `POST /orders` is not retried: when it does
/// not answer, the challenge tells whether the order exists.
pub async fn create(
    client: &Client,
    store: &mut Store,
    req: &CreateOrder,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let checked = check_create(client, store, req, now).await?;
    let pocket_key = req.key.slip132_string();
    let body = OrderCreate {
        active: true,
        affiliate_id: req.affiliate_id.clone(),
        fee_rate: req.fee_rate,
        payment_method: PaymentMethodCreate {
            currency: req.currency.as_str().to_string(),
            debitor_iban: req.debitor_iban.as_str().to_string(),
        },
        payout_method: PayoutMethodCreate {
            bitcoin_address: Some(checked.derived.address.to_string()),
            message: checked.message.clone(),
            signature: req.signature.trim().to_string(),
            extended_public_key: Some(pocket_key.clone()),
            derivation_path: Some(req.path.to_string()),
            gap_limit: req.gap_limit,
            node_pubkey: None,
        },
    };
    // Anything but a readable 201 or a refusal leaves the outcome open:
    // the challenge tells whether the order exists.
    let created = match client.create_order(&body).await {
        Ok(created) => created,
        Err(e @ (pocket::Error::Rejected { .. } | pocket::Error::Unauthorized)) => {
            return Err(e.into());
        }
        Err(e) => {
            let id = match &e {
                pocket::Error::Decode { id, .. } => id.clone(),
                _ => None,
            };
            return Err(after_lost_answer(client, &req.challenge_id, e.to_string(), id).await);
        }
    };
    let pocket_key = created
        .value
        .payout_method
        .extended_public_key
        .clone()
        .unwrap_or(pocket_key);
    let payout = Payout::to_key(
        &req.key_text,
        &req.key,
        pocket_key,
        &req.path,
        &checked.derived.address,
    );
    let order = stored_order(
        &created.value,
        &created.json,
        req.currency,
        payout,
        &req.plan,
        now,
    );
    store.insert_order(&order, &checked.window)?;
    Ok(order)
}

/// What to tell the user when `POST /orders` gave no readable answer:
/// whether the order exists (and its id, when the answer named one).
async fn after_lost_answer(
    client: &Client,
    challenge_id: &str,
    cause: String,
    id: Option<String>,
) -> Error {
    match client.get_challenge(challenge_id).await {
        Ok(c) if c.value.completed_on.is_some() => Error::CreatedWithoutAnswer {
            challenge_id: challenge_id.to_string(),
            cause,
            import: match id {
                Some(id) => format!("run `pocket-dca order import {id} --key …` with the same key and plan flags"),
                None => "find its id in the Pocket app, then run `pocket-dca order import ID --key …` with the same key and plan flags".into(),
            },
        },
        Ok(_) => Error::NotCreated {
            challenge_id: challenge_id.to_string(),
            cause,
        },
        Err(check) => Error::OutcomeUnknown {
            cause,
            check: check.to_string(),
        },
    }
}

/// The order as stored, from Pocket's answer and the local plan, paid to
/// `payout` (set by the caller for a key, one address or lightning).
pub(super) fn stored_order(
    order: &pocket::Order,
    json: &str,
    currency: Currency,
    payout: Payout,
    plan: &Plan,
    now: DateTime<Utc>,
) -> StoredOrder {
    StoredOrder {
        id: order.id.clone(),
        label: plan.label.clone(),
        active: order.active,
        currency,
        fee_rate: order.fee_rate,
        amount: plan.amount,
        day: plan.day,
        emails: plan.emails.clone(),
        payout_kind: payout.kind,
        key: payout.key_text,
        pocket_key: payout.pocket_key,
        script_type: payout.script_type,
        network: payout.network,
        chain: payout.chain,
        start_index: payout.start_index,
        signed_address: payout.address,
        node_pubkey: payout.node_pubkey,
        gap_limit: order.payout_method.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT),
        wallet_gap_limit: plan.wallet_gap_limit,
        debitor_iban: order
            .payment_method
            .debitor_iban
            .clone()
            .unwrap_or_default(),
        payment_method: order.payment_method.clone(),
        pocket_json: json.to_string(),
        created_on: order.created_on.unwrap_or(now),
        stored_at: now,
        updated_at: now,
    }
}

/// Where an order's payouts go, as stored.
pub(super) struct Payout {
    pub kind: PayoutKind,
    pub key_text: String,
    pub pocket_key: String,
    pub script_type: Option<ScriptType>,
    pub network: Network,
    pub chain: Vec<u32>,
    pub start_index: u32,
    pub address: Option<Address>,
    pub node_pubkey: Option<String>,
}

impl Payout {
    /// Fresh addresses from `key` along `path`'s chain, starting at the
    /// signed `address`.
    pub fn to_key(
        key_text: &str,
        key: &PayoutKey,
        pocket_key: String,
        path: &KeyPath,
        address: &Address,
    ) -> Payout {
        Payout {
            kind: PayoutKind::Key,
            key_text: key_text.to_string(),
            pocket_key,
            script_type: Some(key.script_type()),
            network: key.network(),
            chain: path.chain().to_vec(),
            start_index: path.index(),
            address: Some(address.clone()),
            node_pubkey: None,
        }
    }
}
