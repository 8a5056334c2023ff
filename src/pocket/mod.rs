//! Pocket Bitcoin's REST API v1 and webhooks, as `pocket-api.md` describes
//! them: typed objects with exact money, a client with retries where they
//! are safe, the error codes and their meaning, and webhook signatures.

mod client;
pub mod codes;
mod exact;
mod ids;
pub mod lightning;
pub mod signature;
mod types;

pub use client::{Client, Error, Fetched, RetryPolicy, install_crypto_provider};
pub use ids::{ExchangeId, OrderId};
pub use types::{
    Btc, Challenge, Currency, Exchange, ExchangeAction, ExchangeReason, Order, OrderCreate,
    OrderPatch, PaymentMethod, PaymentMethodCreate, Payout, PayoutMethod, PayoutMethodCreate,
    timestamp,
};

/// The default gap limit Pocket uses when an order leaves it null.
pub const DEFAULT_GAP_LIMIT: u32 = 10;
/// Fee rates Pocket accepts: 1.2 % to 4.5 %.
pub const MIN_FEE_RATE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(12, 0, 0, false, 3);
pub const MAX_FEE_RATE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(45, 0, 0, false, 3);

/// The challenge message wallets are asked to sign.
pub fn challenge_message(token: &str) -> String {
    format!("I confirm my bitcoin wallet. [{token}]")
}
