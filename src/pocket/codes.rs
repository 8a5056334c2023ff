//! Error and reason codes with their meaning in plain words. Pocket documents
//! few codes; unknown ones are shown as they are.

/// `{"error": code}` answers to API calls (HTTP 400).
pub mod error {
    pub const INVALID_REQUEST: &str = "invalid_request";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const NOT_FOUND: &str = "not_found";
    pub const INVALID_FEE_RATE: &str = "invalid_fee_rate";
    pub const UNSUPPORTED_CURRENCY: &str = "unsupported_currency";
    pub const INVALID_IBAN: &str = "invalid_iban";
    pub const INVALID_BITCOIN_ADDRESS: &str = "invalid_bitcoin_address";
    pub const INVALID_MESSAGE: &str = "invalid_message";
    pub const CHALLENGE_NOT_FOUND: &str = "challenge_not_found";
    pub const CHALLENGE_EXPIRED: &str = "challenge_expired";
    pub const CHALLENGE_ALREADY_USED: &str = "challenge_already_used";
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    pub const INVALID_EXTENDED_PUBLIC_KEY: &str = "invalid_extended_public_key";
    pub const INVALID_DERIVATION_PATH: &str = "invalid_derivation_path";
    pub const DERIVATION_MISMATCH: &str = "derivation_mismatch";
    pub const INVALID_GAP_LIMIT: &str = "invalid_gap_limit";
    pub const INVALID_AFFILIATE_ID: &str = "invalid_affiliate_id";
    pub const UNSUPPORTED_PAYOUT_METHOD: &str = "unsupported_payout_method";
}

/// What an API error code means and what to do about it.
pub fn error_meaning(code: &str) -> Option<&'static str> {
    use error::*;
    Some(match code {
        INVALID_REQUEST => "the request was malformed or changed a field that cannot be changed",
        UNAUTHORIZED => "the client id was rejected",
        NOT_FOUND => "no such object for this client id",
        INVALID_FEE_RATE => "the fee rate must be between 0.012 and 0.045 (1.2 % to 4.5 %)",
        UNSUPPORTED_CURRENCY => "the currency must be eur, chf or gbp",
        INVALID_IBAN => "the debitor IBAN is not valid",
        INVALID_BITCOIN_ADDRESS => "the bitcoin address is not valid for this network",
        INVALID_MESSAGE => "the signed message must contain the challenge token in brackets",
        CHALLENGE_NOT_FOUND => {
            "the token in the message belongs to no challenge; create a new one with `order challenge`"
        }
        CHALLENGE_EXPIRED => {
            "the challenge expired; create a new one with `order challenge` and sign again"
        }
        CHALLENGE_ALREADY_USED => {
            "the challenge was already used for an order; create a new one with `order challenge`"
        }
        INVALID_SIGNATURE => "the signature does not prove control of the bitcoin address",
        INVALID_EXTENDED_PUBLIC_KEY => "the extended public key could not be read",
        INVALID_DERIVATION_PATH => "the derivation path must be non-hardened steps like 0/0",
        DERIVATION_MISMATCH => {
            "the extended public key at the derivation path is not the signed address"
        }
        INVALID_GAP_LIMIT => "the gap limit must be between 1 and 1000",
        INVALID_AFFILIATE_ID => "the affiliate id is not a UUID",
        UNSUPPORTED_PAYOUT_METHOD => "this payout method is not available",
        _ => return None,
    })
}

/// Refund reasons of an exchange (`reason.code`), in plain words.
pub fn refund_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "threshold_exceeded" => "the payment exceeded Pocket's limit; Pocket sent it back",
        "order_inactive" => "the order was paused when the payment arrived",
        "companies_unsupported" => "Pocket does not accept payments from company accounts",
        "country_unsupported" => "Pocket does not accept payments from this country",
        "other_risk_detected" => "Pocket's risk checks refused the payment",
        "customer_requested" => "you asked Pocket to refund it",
        "account_not_matching" => {
            "the transfer came from another account than the order's debitor IBAN"
        }
        "payout_expired" => "the payout could not be made in time and the money was returned",
        _ => return None,
    })
}

/// Actions of an interrupted exchange (`action.code`), in plain words.
pub fn action_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "identification_required" | "identify" => {
            "Pocket needs you to identify yourself before it buys; follow the link in the Pocket app"
        }
        _ => return None,
    })
}
