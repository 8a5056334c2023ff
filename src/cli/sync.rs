//! `pocket-dca sync`: ask Pocket about open exchanges and every order.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::context::{Context, print_json};
use crate::reconcile;

/// Fetch every exchange that may still change, and every order, from Pocket.
///
/// Applies the answers through the same state machine as webhooks, so a lost
/// delivery (a settlement, a confirmation) delays an update and never loses
/// it. `serve` runs this every [sync] interval_minutes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca sync --json")]
pub struct Args {
    /// Print JSON: {"exchanges_checked", "exchanges_changed", "orders_refreshed", "errors"}
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let report = reconcile::sync::sync(&client, &mut store, Utc::now())
        .await
        .context("while syncing with Pocket")?;
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "checked {} exchanges ({} changed) and {} orders",
            report.exchanges_checked, report.exchanges_changed, report.orders_refreshed
        );
        for error in &report.errors {
            eprintln!("warning: {error}");
        }
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
