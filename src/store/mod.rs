//! SQLite storage: the database with durable settings, the append-only
//! migrations of `migrations/` under `PRAGMA user_version`, and one function
//! per query, a file per group of tables. SQL lives only in this room. This
//! file is its front door: it only declares and re-exports.

mod addresses;
mod alerts;
mod chain;
mod columns;
mod db;
mod deliveries;
mod error;
mod exchanges;
mod migrate;
mod orders;
mod reminders;

pub use addresses::{AddressRow, AddressUse};
pub use alerts::AlertRow;
pub use chain::{AddressOnchain, OnchainRow};
pub use db::{Commit, Status, Store, TableCount};
pub use deliveries::{DeliveryRow, IntakePosition, NewDelivery};
pub use error::Error;
pub use exchanges::{ExchangeFilter, ExchangeRow, PayoutRow};
pub use migrate::{MIGRATIONS, Migration, latest_version};
pub use reminders::{Claim, ReminderRow};
