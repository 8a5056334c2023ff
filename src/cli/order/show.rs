//! `pocket-dca order show`: an order with its payment instructions.

use std::process::ExitCode;

use super::print::{print_instructions, print_order};
use crate::cli::context::{Context, print_json};

/// Show an order with its payment instructions.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca order show 64decab6")]
pub struct ShowArgs {
    /// The order id (a unique prefix is enough)
    id: String,

    /// Print JSON: {"id", "label", "active", "currency", "fee_rate", "amount", "day", "payout", "script_type", "derivation_path", "gap_limit", "payment_method", …}
    #[arg(long)]
    json: bool,

    /// Include the extended key in the JSON ("key", "pocket_key"); it reveals the wallet's whole history, so it is left out by default
    #[arg(long, requires = "json")]
    show_key: bool,
}

pub(super) fn run(ctx: &Context, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let order = store
        .order(&id)?
        .ok_or_else(|| anyhow::anyhow!("order {id} vanished"))?;
    if args.json {
        print_json(&order.view(args.show_key))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_order(&order);
    println!();
    print_instructions(&order)?;
    Ok(ExitCode::SUCCESS)
}
