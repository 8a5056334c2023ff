//! What a banking app needs to pay an order: IBAN and creditor-reference
//! checks (ISO 13616, ISO 11649, Swiss QR reference), the EPC069-12
//! "GiroCode" payload for EUR, the Swiss QR-bill (SPC 0200) payload for CHF,
//! and QR rendering (terminal, SVG, PNG). No I/O.

mod epc;
mod error;
mod iban;
mod qr;
mod reference;
mod swiss;

pub use epc::{EpcFields, EpcTransfer, parse_epc};
pub use error::Error;
pub use iban::Iban;
pub use qr::{QrImage, render_terminal};
pub use reference::{CreditorReference, qr_reference_is_valid};
pub use swiss::{SwissAddress, SwissBill, SwissReference, parse_swiss};
