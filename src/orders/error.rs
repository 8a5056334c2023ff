//! Why an order operation failed; each says what to do next.

use rust_decimal::Decimal;

use super::model::MAX_GAP_LIMIT;
use crate::payment;
use crate::pocket::{self, OrderId};
use crate::reconcile;
use crate::store;
use crate::wallet::{self, VerifyError};

/// Why an order operation failed; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("fee rate {0} is outside Pocket's range; use 0.012 to 0.045 (1.2 % to 4.5 %)")]
    FeeRate(Decimal),
    #[error(
        "amount {0} is not valid: the amount must be positive, with at most two decimals, like 100 or 250.50"
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
    #[error(
        "the message was signed with your address {signer} (path {signer_path}), not with {address} (path {path}): sign it with the address at {path}, or start again with `order challenge --path {signer_path}`"
    )]
    SignedWithOtherAddress {
        address: String,
        path: String,
        signer: String,
        signer_path: String,
    },
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
        order: OrderId,
    },
    #[error(
        "Pocket did not answer ({cause}), but challenge {challenge_id} is now used: the order WAS created. \
         {import}; do not create it again"
    )]
    CreatedWithoutAnswer {
        challenge_id: String,
        cause: String,
        /// The next step: the import command.
        import: String,
    },
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
        id: OrderId,
        pocket: String,
        ours: String,
        path: String,
    },
    #[error(
        "order {id} at Pocket pays to an extended key: pass the key it was created with (--key, or --key - to paste it)"
    )]
    KeyNeeded { id: OrderId },
    #[error(
        "order {id} at Pocket pays to {address}, which is not an address of the configured network {network}; check [bitcoin] network"
    )]
    UnusableAddress {
        id: OrderId,
        address: String,
        network: &'static str,
    },
    #[error(
        "order {id} at Pocket names no payout (no key, address or lightning node): it cannot be tracked; look at it in the Pocket app"
    )]
    NoPayoutMethod { id: OrderId },
    #[error(
        "order {id} at Pocket is in a currency this tool does not know (reminders need eur, chf or gbp); it was not imported"
    )]
    UnknownCurrency { id: OrderId },
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the order is stored, but its earlier exchanges could not be reconciled: {0}")]
    Adopt(#[from] reconcile::Error),
}

impl Error {
    /// Whether the failure came from talking to Pocket (then "while …"
    /// context helps); a check made on this machine speaks for itself.
    pub fn reached_pocket(&self) -> bool {
        matches!(
            self,
            Error::Pocket(_)
                | Error::CreatedWithoutAnswer { .. }
                | Error::NotCreated { .. }
                | Error::OutcomeUnknown { .. }
        )
    }
}
