//! `pocket-dca order list`: the orders, one line each.

use std::process::ExitCode;

use crate::cli::context::{Context, print_json};
use crate::format::{money, percent, short_id};

/// List the orders.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  pocket-dca order list --json\n  pocket-dca order list --json --show-key   (the keys too: keep this output private)"
)]
pub struct ListArgs {
    /// Print JSON: an array of orders as `order show --json` prints them
    #[arg(long)]
    json: bool,

    /// Include each order's extended key in the JSON; it reveals the wallet's whole history, so it is left out by default
    #[arg(long, requires = "json")]
    show_key: bool,
}

pub(super) fn run(ctx: &Context, args: ListArgs) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let orders = store.orders()?;
    if args.json {
        let views: Vec<_> = orders.iter().map(|o| o.view(args.show_key)).collect();
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if orders.is_empty() {
        println!("no orders yet; create one with `pocket-dca order create` (see --help)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<8}  {:<20}  {:<6}  {:>12}  {:<4}  {:<11}  {:>7}  REFERENCE",
        "ID", "LABEL", "STATE", "AMOUNT", "DAY", "TYPE", "FEE"
    );
    for order in &orders {
        println!(
            "{:<8}  {:<20}  {:<6}  {:>12}  {:<4}  {:<11}  {:>7}  {}",
            short_id(&order.id),
            order.label.as_deref().unwrap_or("-"),
            if order.active { "active" } else { "paused" },
            format!("{} {}", order.currency.code(), money(order.amount)),
            order.day.to_string(),
            order.payout_description(),
            percent(order.fee_rate),
            order
                .payment_method
                .creditor_reference
                .as_deref()
                .unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
