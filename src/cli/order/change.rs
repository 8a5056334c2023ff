//! `pocket-dca order pause|resume|set`: changes at Pocket and to the plan.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use rust_decimal::Decimal;

use super::print::print_brief;
use crate::cli::context::Context;
use crate::orders::model::Day;
use crate::orders::{self, Changes};

/// An order id.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca order pause 64decab6")]
pub struct IdArgs {
    /// The order id (a unique prefix is enough)
    pub id: String,

    /// Print the order as JSON
    #[arg(long)]
    pub json: bool,
}

/// Change an order: the fee rate at Pocket, the rest locally.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  pocket-dca order set 64decab6 --fee-rate 0.012 --amount 150 --day last"
)]
pub struct SetArgs {
    /// The order id (a unique prefix is enough)
    id: String,

    /// New fee rate, 0.012 to 0.045 (changed at Pocket)
    #[arg(long, allow_negative_numbers = true, value_parser = crate::format::parse_decimal)]
    fee_rate: Option<Decimal>,

    /// New monthly amount
    #[arg(long, allow_negative_numbers = true, value_parser = crate::format::parse_decimal)]
    amount: Option<Decimal>,

    /// New day of the month: 1 to 28, or `last`
    #[arg(long, allow_negative_numbers = true)]
    day: Option<String>,

    /// Reminder recipients (repeat for several; replaces the list; "" clears it)
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Option<Vec<String>>,

    /// New name
    #[arg(long)]
    label: Option<String>,

    /// The gap limit your wallet scans with
    #[arg(long, allow_negative_numbers = true, value_parser = crate::cli::context::whole_number)]
    wallet_gap_limit: Option<u32>,

    /// Print the order as JSON
    #[arg(long)]
    json: bool,
}

pub(super) async fn set_active(
    ctx: &Context<'_>,
    args: IdArgs,
    active: bool,
) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let client = ctx.pocket_client(&config)?;
    let order = orders::set_active(&client, &store, &id, active, Utc::now())
        .await
        .with_context(|| {
            format!(
                "while {} order {id}",
                if active { "resuming" } else { "pausing" }
            )
        })?;
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn set(ctx: &Context<'_>, args: SetArgs) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let changes = Changes {
        fee_rate: args.fee_rate,
        amount: args.amount,
        day: args
            .day
            .as_deref()
            .map(str::parse::<Day>)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        emails: args
            .emails
            .map(|list| list.into_iter().filter(|e| !e.trim().is_empty()).collect()),
        label: args.label,
        wallet_gap_limit: args.wallet_gap_limit,
    };
    let client = ctx.pocket_client(&config)?;
    let order = orders::change(&client, &store, &id, &changes, Utc::now())
        .await
        .with_context(|| format!("while changing order {id}"))?;
    if args.wallet_gap_limit.is_some() {
        // A higher limit may make the headroom alert moot.
        crate::reconcile::check_headroom(&store, &order, Utc::now())?;
    }
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}
