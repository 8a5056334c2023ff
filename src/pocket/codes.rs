//! Error and reason codes with their meaning in plain words. Pocket
//! documents only the codes of `PATCH /v1/exchanges/{id}` and the refund
//! reasons ([`documented`], [`refund_meaning`]); it publishes no codes for
//! challenges and orders, so those ([`sandbox`]) are the sandbox's own names.
//! Any code the tool does not know is shown as it is.

/// The codes Pocket documents, answers to lightning payout instructions
/// (`PATCH /v1/exchanges/{id}`, beta).
pub mod documented {
    pub const IN_PROGRESS: &str = "in_progress";
    pub const ALREADY_COMPLETED: &str = "already_completed";
    pub const INVOICE_AMOUNT: &str = "invoice_amount";
    pub const INVOICE_NETWORK: &str = "invoice_network";
    pub const INVOICE_EXPIRED: &str = "invoice_expired";
    pub const UNEXPECTED_NODE_PUBKEY: &str = "unexpected_node_pubkey";
    pub const INVALID_INVOICE: &str = "invalid_invoice";
    pub const CHANNEL_PAYOUT_NOT_ALLOWED: &str = "channel_payout_not_allowed";
    pub const NODE_ADDRESS_REQUIRED: &str = "node_address_required";
    pub const CONNECT: &str = "connect";

    pub const ALL: [&str; 10] = [
        IN_PROGRESS,
        ALREADY_COMPLETED,
        INVOICE_AMOUNT,
        INVOICE_NETWORK,
        INVOICE_EXPIRED,
        UNEXPECTED_NODE_PUBKEY,
        INVALID_INVOICE,
        CHANNEL_PAYOUT_NOT_ALLOWED,
        NODE_ADDRESS_REQUIRED,
        CONNECT,
    ];
}

/// The sandbox's own codes (HTTP 400 unless noted): Pocket does not publish
/// what it answers to a bad challenge or order, so these names are the
/// sandbox's, not Pocket's. The tool explains them, and shows any other code
/// as it is.
pub mod sandbox {
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
    /// A payout instruction for an exchange that has not bought yet.
    pub const NOT_EXECUTED: &str = "not_executed";

    pub const ALL: [&str; 19] = [
        INVALID_REQUEST,
        UNAUTHORIZED,
        NOT_FOUND,
        INVALID_FEE_RATE,
        UNSUPPORTED_CURRENCY,
        INVALID_IBAN,
        INVALID_BITCOIN_ADDRESS,
        INVALID_MESSAGE,
        CHALLENGE_NOT_FOUND,
        CHALLENGE_EXPIRED,
        CHALLENGE_ALREADY_USED,
        INVALID_SIGNATURE,
        INVALID_EXTENDED_PUBLIC_KEY,
        INVALID_DERIVATION_PATH,
        DERIVATION_MISMATCH,
        INVALID_GAP_LIMIT,
        INVALID_AFFILIATE_ID,
        UNSUPPORTED_PAYOUT_METHOD,
        NOT_EXECUTED,
    ];
}

/// Whether Pocket itself documents `code` (rather than only the sandbox
/// using it).
pub fn is_documented(code: &str) -> bool {
    documented::ALL.contains(&code)
}

/// What an API error code means and what to do about it.
pub fn error_meaning(code: &str) -> Option<&'static str> {
    documented_meaning(code).or_else(|| sandbox_meaning(code))
}

/// Pocket's documented codes, in plain words.
fn documented_meaning(code: &str) -> Option<&'static str> {
    use documented::*;
    Some(match code {
        IN_PROGRESS => "Pocket is already paying this exchange out; wait for its payout",
        ALREADY_COMPLETED => "this exchange was already paid out; nothing more to do",
        INVOICE_AMOUNT => {
            "the invoice's amount is not the exchange's amount; make an invoice of exactly the amount bought"
        }
        INVOICE_NETWORK => {
            "the invoice is for another network; make it on a node of the order's network"
        }
        INVOICE_EXPIRED => "the invoice expired; make a new one and send it again",
        UNEXPECTED_NODE_PUBKEY => {
            "the invoice (or node address) is not of the order's node; use the node the order pays out to"
        }
        INVALID_INVOICE => "the invoice could not be read; copy the whole BOLT11 text (lnbc…)",
        CHANNEL_PAYOUT_NOT_ALLOWED => {
            "Pocket will not open a channel for this payout (too small); send an invoice instead"
        }
        NODE_ADDRESS_REQUIRED => {
            "Pocket cannot find your node; give --node-address PUBKEY@HOST:PORT"
        }
        CONNECT => {
            "Pocket could not connect to your node; check that it is online and reachable at the address given"
        }
        _ => return None,
    })
}

/// The sandbox's own codes, in plain words.
fn sandbox_meaning(code: &str) -> Option<&'static str> {
    use sandbox::*;
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
        NOT_EXECUTED => "the exchange has not bought bitcoin yet; wait until it is executed",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_explained_and_belongs_to_one_source() {
        for code in documented::ALL.iter().chain(sandbox::ALL.iter()) {
            assert!(error_meaning(code).is_some(), "{code} has no meaning");
        }
        for code in sandbox::ALL {
            assert!(!is_documented(code), "{code} is listed twice");
        }
        assert!(is_documented("invoice_amount"));
        assert_eq!(error_meaning("made_up"), None);
    }
}
