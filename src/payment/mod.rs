//! What a banking app needs to pay an order: IBAN and creditor-reference
//! checks (ISO 13616, ISO 11649, Swiss QR reference), the EPC069-12
//! "GiroCode" payload for EUR, the Swiss QR-bill (SPC 0200) payload for CHF,
//! and QR rendering (terminal, SVG, PNG). No I/O.

mod epc;
mod iban;
mod qr;
mod reference;
mod swiss;

pub use epc::{EpcFields, EpcTransfer, parse_epc};
pub use iban::Iban;
pub use qr::{QrImage, render_terminal};
pub use reference::{CreditorReference, qr_reference_is_valid};
pub use swiss::{SwissAddress, SwissBill, SwissReference, parse_swiss};

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
