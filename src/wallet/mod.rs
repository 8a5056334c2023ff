//! Watch-only keys: parsing extended public keys (xpub/ypub/zpub/tpub/upub/vpub)
//! and output descriptors, deriving payout addresses, and verifying signed
//! messages (legacy, BIP-137, Electrum-style and BIP-322).
//!
//! No I/O happens here, and no private key is ever accepted or held: a
//! private key given as input is refused by name, and signing (for the demo's
//! in-memory wallet) lives in `sandbox::wallet`, outside this room. This file
//! is the room's front door: it only declares and re-exports.

mod derive;
mod descriptor;
mod error;
mod key;
pub mod message;
mod path;
mod script;
mod slip132;

pub use bitcoin::{Address, Network};
pub use derive::{Chain, DerivedAddress};
pub use error::Error;
pub use key::{KeyForm, PayoutKey};
pub use message::{SignatureFormat, VerifyError, bip322, parse_address, verify_message};
pub use path::{HARDENED, KeyPath};
pub use script::{NameError, ScriptType, network_name, parse_network};
