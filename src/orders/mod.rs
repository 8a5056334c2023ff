//! Standing orders: the local plan (amount, day, recipients, label, the
//! wallet's gap limit) next to Pocket's order, and the operations on them —
//! challenge, create (validated locally first), import, refresh, pause,
//! resume, change. Talks to Pocket through `pocket::Client` and persists
//! through `store`; knows nothing of the terminal.

mod change;
mod create;
mod error;
mod import;
pub mod instructions;
pub mod model;
mod plan;

pub use change::{Changes, change, refresh, set_active};
pub use create::{ChallengeInfo, CreateOrder, challenge, create, derive_window};
pub use error::Error;
pub use import::{ImportOrder, Imported, import};
pub use plan::{Plan, validate_fee_rate, validate_plan};
