//! Why a payment detail or payload is refused.

/// Why a payment detail or payload is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("`{iban}` is not a valid IBAN: {reason}")]
    InvalidIban { iban: String, reason: String },
    #[error("`{reference}` is not a valid creditor reference: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("invalid amount {amount}: {reason}")]
    InvalidAmount { amount: String, reason: String },
    #[error("the {field} `{value}` is too long for the payment code (at most {max} characters)")]
    TooLong {
        field: &'static str,
        value: String,
        max: usize,
    },
    #[error("{0}")]
    InvalidPayload(String),
    #[error("the payment code could not be drawn: {0}")]
    Qr(String),
}
