//! What several `order` subcommands share: the flags for the key and path
//! of the signed address and for the local plan, and how their errors read.

use rust_decimal::Decimal;

use crate::cli::context;
use crate::orders::Plan;
use crate::orders::model::{DEFAULT_WALLET_GAP_LIMIT, Day};
use crate::wallet::{KeyPath, Network, PayoutKey};

/// The key and the path of the signed address.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Extended public key (xpub/ypub/zpub, tpub/upub/vpub) or descriptor; `-` reads it from stdin
    #[arg(long, value_name = "KEY|DESCRIPTOR")]
    pub key: String,

    /// Script type for a plain xpub/tpub (ypub/zpub and descriptors fix it) [default: p2pkh]
    #[arg(long, value_name = "TYPE", value_parser = ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"])]
    pub script_type: Option<String>,

    /// Path of the address that signs, below the key [default: 0/0]
    #[arg(long, value_name = "CHAIN/INDEX")]
    pub path: Option<String>,
}

/// The local plan: what the reminders say.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Monthly amount to transfer, in the order's currency (e.g. 100 or 250.50)
    #[arg(long, allow_negative_numbers = true, value_parser = crate::format::parse_decimal)]
    amount: Decimal,

    /// Day of the month of the transfer: 1 to 28, or `last`
    #[arg(long, allow_negative_numbers = true)]
    day: String,

    /// Reminder recipient (repeat for several) [default: [email] to]
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Vec<String>,

    /// A name for the order
    #[arg(long)]
    label: Option<String>,

    /// The gap limit your wallet scans with (Sparrow/Electrum: 20)
    #[arg(long, default_value_t = DEFAULT_WALLET_GAP_LIMIT, allow_negative_numbers = true, value_parser = crate::cli::context::whole_number)]
    wallet_gap_limit: u32,
}

impl PlanArgs {
    pub fn plan(&self) -> anyhow::Result<Plan> {
        Ok(Plan {
            amount: self.amount,
            day: self.day.parse::<Day>().map_err(anyhow::Error::msg)?,
            emails: self.emails.clone(),
            label: self.label.clone(),
            wallet_gap_limit: self.wallet_gap_limit,
        })
    }
}

/// Reads the key (or `-`), parsed on the network, and the path of the
/// signed address.
pub(super) fn parse_key(
    args: &KeyArgs,
    network: Network,
) -> anyhow::Result<(String, PayoutKey, KeyPath)> {
    context::parse_key(
        &args.key,
        args.script_type.as_deref(),
        args.path.as_deref(),
        Some(network),
    )
}

/// An order error, with `doing` as context only when it came from talking
/// to Pocket: a check made on this machine speaks for itself.
pub(super) fn at_pocket(e: crate::orders::Error, doing: &'static str) -> anyhow::Error {
    if e.reached_pocket() {
        anyhow::Error::new(e).context(doing)
    } else {
        anyhow::Error::new(e)
    }
}
