//! Standing orders: the local plan (amount, day, recipients, label, the
//! wallet's gap limit) next to Pocket's order, and the operations on them —
//! challenge, create (validated locally first), import, refresh, pause,
//! resume, change. Talks to Pocket through `pocket::Client` and persists
//! through `store`; knows nothing of the terminal.

pub mod instructions;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::payment::{self, Iban};
use crate::pocket::{
    self, Challenge, Client, Currency, DEFAULT_GAP_LIMIT, MAX_FEE_RATE, MIN_FEE_RATE, OrderCreate,
    OrderPatch, PaymentMethod, PaymentMethodCreate, PayoutMethodCreate, challenge_message,
    timestamp,
};
use crate::store::{self, Store};
use crate::wallet::{
    self, Address, DerivedAddress, KeyPath, Network, PayoutKey, ScriptType, VerifyError,
    verify_message,
};

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

/// An order as the tool keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// Pocket's order UUID.
    pub id: String,
    pub label: Option<String>,
    pub active: bool,
    pub currency: Currency,
    pub fee_rate: Decimal,
    /// The monthly amount, in `currency`.
    pub amount: Decimal,
    pub day: Day,
    /// Recipients of the reminders; empty means `[email] to`.
    pub emails: Vec<String>,
    /// The key or descriptor as the user gave it (private data).
    pub key: String,
    /// The `extended_public_key` sent to Pocket.
    pub pocket_key: String,
    pub script_type: ScriptType,
    pub network: Network,
    pub chain: Vec<u32>,
    /// Index of the signed address: the window starts here.
    pub start_index: u32,
    pub signed_address: String,
    pub gap_limit: u32,
    pub wallet_gap_limit: u32,
    pub debitor_iban: String,
    pub payment_method: PaymentMethod,
    pub pocket_json: String,
    pub created_on: String,
    pub stored_at: String,
    pub updated_at: String,
}

/// The stable JSON of an order (`order show --json`): amounts and rates as
/// strings of exact decimals.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: String,
    pub label: Option<String>,
    pub active: bool,
    pub currency: Currency,
    pub fee_rate: String,
    pub amount: String,
    pub day: String,
    pub emails: Vec<String>,
    pub key: String,
    pub pocket_key: String,
    pub script_type: ScriptType,
    pub network: &'static str,
    pub derivation_path: String,
    pub gap_limit: u32,
    pub wallet_gap_limit: u32,
    pub signed_address: String,
    pub created_on: String,
    pub payment_method: PaymentMethod,
}

impl StoredOrder {
    /// The payout key, parsed again from what the user gave.
    pub fn payout_key(&self) -> Result<PayoutKey, wallet::Error> {
        PayoutKey::parse(&self.key, Some(self.script_type), Some(self.network))
            .or_else(|_| PayoutKey::parse(&self.key, None, Some(self.network)))
    }

    /// The path of the signed address (`derivation_path` at Pocket).
    pub fn derivation_path(&self) -> KeyPath {
        KeyPath::on_chain(&self.chain, self.start_index)
    }

    pub fn view(&self) -> OrderView {
        OrderView {
            id: self.id.clone(),
            label: self.label.clone(),
            active: self.active,
            currency: self.currency,
            fee_rate: self.fee_rate.to_string(),
            amount: self.amount.to_string(),
            day: self.day.to_string(),
            emails: self.emails.clone(),
            key: self.key.clone(),
            pocket_key: self.pocket_key.clone(),
            script_type: self.script_type,
            network: wallet::network_name(self.network),
            derivation_path: self.derivation_path().to_string(),
            gap_limit: self.gap_limit,
            wallet_gap_limit: self.wallet_gap_limit,
            signed_address: self.signed_address.clone(),
            created_on: self.created_on.clone(),
            payment_method: self.payment_method.clone(),
        }
    }

    /// A short name for messages: the label, else the start of the id.
    pub fn name(&self) -> String {
        match &self.label {
            Some(label) if !label.is_empty() => format!("{label} ({})", short_id(&self.id)),
            _ => short_id(&self.id).to_string(),
        }
    }
}

/// The first 8 characters of a UUID, as the CLI shows ids.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The local plan of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub amount: Decimal,
    pub day: Day,
    pub emails: Vec<String>,
    pub label: Option<String>,
    pub wallet_gap_limit: u32,
}

/// Why an order operation failed; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("fee rate {0} is outside Pocket's range; use 0.012 to 0.045 (1.2 % to 4.5 %)")]
    FeeRate(Decimal),
    #[error(
        "amount {0} is not valid: use a positive amount with at most two decimals, like 100 or 250.50"
    )]
    Amount(Decimal),
    #[error("gap limit {0} is not valid; use 1 to {MAX_GAP_LIMIT}")]
    GapLimit(u32),
    #[error("`{0}` is not an e-mail address")]
    Email(String),
    #[error("affiliate id `{0}` is not a UUID")]
    AffiliateId(String),
    #[error(transparent)]
    Payment(#[from] payment::Error),
    #[error(transparent)]
    Wallet(#[from] wallet::Error),
    #[error("the signature does not fit the order's address {address} (path {path}): {cause}")]
    Signature {
        address: String,
        path: String,
        cause: VerifyError,
    },
    #[error(
        "challenge {id} expired at {expired}; run `pocket-dca order challenge` again and sign the new message"
    )]
    ChallengeExpired { id: String, expired: String },
    #[error(
        "challenge {id} was already used for an order; run `pocket-dca order challenge` again and sign the new message"
    )]
    ChallengeUsed { id: String },
    #[error(
        "address {address} at {path} already belongs to order {order}: two orders on the same key and chain would be paid to the same addresses; use another account (another xpub) for this order"
    )]
    AddressTaken {
        address: String,
        path: String,
        order: String,
    },
    #[error(
        "Pocket did not answer ({cause}), but challenge {challenge_id} is now used: the order WAS created. \
         Find its id in the Pocket app, then run `pocket-dca order import ID --key …` with the same key and plan flags"
    )]
    CreatedWithoutAnswer { challenge_id: String, cause: String },
    #[error(
        "Pocket did not answer ({cause}) and challenge {challenge_id} is still unused: the order was NOT created; run the same command again"
    )]
    NotCreated { challenge_id: String, cause: String },
    #[error(
        "Pocket did not answer ({cause}) and the challenge could not be checked ({check}): the order may exist; look in the Pocket app before trying again"
    )]
    OutcomeUnknown { cause: String, check: String },
    #[error(
        "the key does not match order {id} at Pocket: Pocket pays to {pocket}, but your key gives {ours} at {path}; pass the key (and --path) the order was created with"
    )]
    KeyMismatch {
        id: String,
        pocket: String,
        ours: String,
        path: String,
    },
    #[error(
        "order {id} at Pocket has no xpub payout (it pays out over lightning or to one address); only xpub orders can be imported"
    )]
    NotAnXpubOrder { id: String },
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Checks a plan's values.
pub fn validate_plan(plan: &Plan) -> Result<(), Error> {
    validate_amount(plan.amount)?;
    if plan.wallet_gap_limit == 0 || plan.wallet_gap_limit > MAX_GAP_LIMIT {
        return Err(Error::GapLimit(plan.wallet_gap_limit));
    }
    for email in &plan.emails {
        email
            .parse::<lettre::message::Mailbox>()
            .map_err(|_| Error::Email(email.clone()))?;
    }
    Ok(())
}

fn validate_amount(amount: Decimal) -> Result<(), Error> {
    if amount <= Decimal::ZERO
        || amount.normalize().scale() > 2
        || amount > Decimal::new(99_999_999_999, 2)
    {
        return Err(Error::Amount(amount));
    }
    Ok(())
}

pub fn validate_fee_rate(rate: Decimal) -> Result<(), Error> {
    if rate < MIN_FEE_RATE || rate > MAX_FEE_RATE {
        return Err(Error::FeeRate(rate));
    }
    Ok(())
}

/// A fresh challenge and what to sign for it.
#[derive(Debug, Clone)]
pub struct ChallengeInfo {
    pub challenge: Challenge,
    pub address: Address,
    pub path: KeyPath,
    pub message: String,
}

/// Creates a challenge at Pocket and derives the address to sign with.
pub async fn challenge(
    client: &Client,
    key: &PayoutKey,
    path: &KeyPath,
) -> Result<ChallengeInfo, Error> {
    let derived = key.address_at(path)?;
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
    for candidate in &window {
        if let Some(order) = store.address_owner(&candidate.address.to_string())? {
            return Err(Error::AddressTaken {
                address: candidate.address.to_string(),
                path: candidate.path.to_string(),
                order,
            });
        }
    }
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
    verify_message(&derived.address, &message, &req.signature).map_err(|cause| {
        Error::Signature {
            address: derived.address.to_string(),
            path: req.path.to_string(),
            cause,
        }
    })?;
    Ok(Checked {
        derived,
        window,
        message,
    })
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
            bitcoin_address: checked.derived.address.to_string(),
            message: checked.message.clone(),
            signature: req.signature.trim().to_string(),
            extended_public_key: pocket_key.clone(),
            derivation_path: req.path.to_string(),
            gap_limit: req.gap_limit,
        },
    };
    let created = match client.create_order(&body).await {
        Ok(created) => created,
        Err(e @ (pocket::Error::Timeout { .. } | pocket::Error::Connect { .. })) => {
            return Err(after_lost_answer(client, &req.challenge_id, e.to_string()).await);
        }
        Err(e @ pocket::Error::Http { status, .. }) if status >= 500 => {
            return Err(after_lost_answer(client, &req.challenge_id, e.to_string()).await);
        }
        Err(e) => return Err(e.into()),
    };
    let order = stored_order(
        &created.value,
        &created.json,
        &req.key_text,
        &req.key,
        &req.path,
        &checked.derived.address.to_string(),
        &req.plan,
        now,
    );
    store.insert_order(&order, &checked.window)?;
    Ok(order)
}

async fn after_lost_answer(client: &Client, challenge_id: &str, cause: String) -> Error {
    match client.get_challenge(challenge_id).await {
        Ok(c) if c.value.completed_on.is_some() => Error::CreatedWithoutAnswer {
            challenge_id: challenge_id.to_string(),
            cause,
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

#[allow(clippy::too_many_arguments)]
fn stored_order(
    order: &pocket::Order,
    json: &str,
    key_text: &str,
    key: &PayoutKey,
    path: &KeyPath,
    signed_address: &str,
    plan: &Plan,
    now: DateTime<Utc>,
) -> StoredOrder {
    let now = timestamp::format(&now);
    StoredOrder {
        id: order.id.clone(),
        label: plan.label.clone(),
        active: order.active,
        currency: order.payment_method.currency.unwrap_or(Currency::Eur),
        fee_rate: order.fee_rate,
        amount: plan.amount,
        day: plan.day,
        emails: plan.emails.clone(),
        key: key_text.to_string(),
        pocket_key: order
            .payout_method
            .extended_public_key
            .clone()
            .unwrap_or_else(|| key.slip132_string()),
        script_type: key.script_type(),
        network: key.network(),
        chain: path.chain().to_vec(),
        start_index: path.index(),
        signed_address: signed_address.to_string(),
        gap_limit: order.payout_method.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT),
        wallet_gap_limit: plan.wallet_gap_limit,
        debitor_iban: order
            .payment_method
            .debitor_iban
            .clone()
            .unwrap_or_default(),
        payment_method: order.payment_method.clone(),
        pocket_json: json.to_string(),
        created_on: timestamp::format(&order.created_on),
        stored_at: now.clone(),
        updated_at: now,
    }
}

/// What `order import` needs.
#[derive(Debug, Clone)]
pub struct ImportOrder {
    /// Pocket's order id.
    pub id: String,
    pub key_text: String,
    pub key: PayoutKey,
    /// The path of the signed address; Pocket's `derivation_path` when `None`.
    pub path: Option<KeyPath>,
    pub plan: Plan,
}

/// Imports an order created elsewhere with the same client id: its key at
/// its path must give the address Pocket pays to.
pub async fn import(
    client: &Client,
    store: &mut Store,
    req: &ImportOrder,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let (key_text, key, plan) = (&req.key_text, &req.key, &req.plan);
    validate_plan(plan)?;
    let fetched = client.get_order(req.id.trim()).await?;
    let order = &fetched.value;
    let payout = &order.payout_method;
    let (Some(pocket_key), Some(pocket_address)) =
        (&payout.extended_public_key, &payout.bitcoin_address)
    else {
        return Err(Error::NotAnXpubOrder {
            id: order.id.clone(),
        });
    };
    let path = match &req.path {
        Some(p) => p.clone(),
        None => match &payout.derivation_path {
            Some(p) => key.parse_path(p)?,
            None => key.default_path(),
        },
    };
    let derived = key.address_at(&path)?;
    // The key Pocket holds must be the same key data as the user's.
    let theirs = PayoutKey::parse(pocket_key, Some(key.script_type()), Some(key.network()))
        .map(|k| *k.xpub() == *key.xpub())
        .unwrap_or(false);
    if !theirs || derived.address.to_string() != *pocket_address {
        return Err(Error::KeyMismatch {
            id: order.id.clone(),
            pocket: pocket_address.clone(),
            ours: derived.address.to_string(),
            path: path.to_string(),
        });
    }
    let window = derive_window(key, &path, payout.gap_limit.unwrap_or(DEFAULT_GAP_LIMIT))?;
    let stored = stored_order(
        order,
        &fetched.json,
        key_text,
        key,
        &path,
        pocket_address,
        plan,
        now,
    );
    store.insert_order(&stored, &window)?;
    Ok(stored)
}

/// Fetches an order from Pocket and stores what changed.
pub async fn refresh(
    client: &Client,
    store: &Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let fetched = client.get_order(id).await?;
    apply_pocket(store, &fetched.value, &fetched.json, now)
}

fn apply_pocket(
    store: &Store,
    order: &pocket::Order,
    json: &str,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    store.update_order_from_pocket(
        &order.id,
        order.active,
        order.fee_rate,
        &order.payment_method,
        json,
        now,
    )?;
    Ok(store
        .order(&order.id)?
        .ok_or_else(|| store::Error::NoSuchOrder {
            id: order.id.clone(),
        })?)
}

/// Pauses or resumes an order at Pocket.
pub async fn set_active(
    client: &Client,
    store: &Store,
    id: &str,
    active: bool,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let patch = OrderPatch {
        active: Some(active),
        ..OrderPatch::default()
    };
    let fetched = client.patch_order(id, &patch).await?;
    apply_pocket(store, &fetched.value, &fetched.json, now)
}

/// Changes to an order: the fee rate at Pocket, the rest locally.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub fee_rate: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub day: Option<Day>,
    pub emails: Option<Vec<String>>,
    pub label: Option<String>,
    pub wallet_gap_limit: Option<u32>,
}

/// Applies changes: everything is validated before anything is sent or written.
pub async fn change(
    client: &Client,
    store: &Store,
    id: &str,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<StoredOrder, Error> {
    let mut order = store
        .order(id)?
        .ok_or_else(|| store::Error::NoSuchOrder { id: id.to_string() })?;
    if let Some(rate) = changes.fee_rate {
        validate_fee_rate(rate)?;
    }
    let plan = Plan {
        amount: changes.amount.unwrap_or(order.amount),
        day: changes.day.unwrap_or(order.day),
        emails: changes
            .emails
            .clone()
            .unwrap_or_else(|| order.emails.clone()),
        label: changes.label.clone().or_else(|| order.label.clone()),
        wallet_gap_limit: changes.wallet_gap_limit.unwrap_or(order.wallet_gap_limit),
    };
    validate_plan(&plan)?;
    if let Some(rate) = changes.fee_rate
        && rate != order.fee_rate
    {
        let patch = OrderPatch {
            fee_rate: Some(rate),
            ..OrderPatch::default()
        };
        let fetched = client.patch_order(id, &patch).await?;
        order = apply_pocket(store, &fetched.value, &fetched.json, now)?;
    }
    order.amount = plan.amount;
    order.day = plan.day;
    order.emails = plan.emails;
    order.label = plan.label.filter(|l| !l.is_empty());
    order.wallet_gap_limit = plan.wallet_gap_limit;
    store.update_plan(&order, now)?;
    Ok(store
        .order(id)?
        .ok_or_else(|| store::Error::NoSuchOrder { id: id.to_string() })?)
}
