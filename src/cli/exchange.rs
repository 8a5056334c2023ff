//! `pocket-dca exchange …`: one exchange.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::context::Context;
use crate::reconcile;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Fetch(FetchArgs),
}

/// Fetch an exchange from Pocket by id and apply it.
///
/// For an exchange whose every webhook was lost: Pocket has no list
/// endpoint, so use the id the Pocket app shows.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  pocket-dca exchange fetch a2d75998-5ee5-4501-a4cf-4e3788732b7a"
)]
pub struct FetchArgs {
    /// Pocket's exchange id
    id: String,
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    let Command::Fetch(args) = command;
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let applied = reconcile::sync::fetch(&client, &mut store, &args.id, Utc::now())
        .await
        .with_context(|| format!("while fetching exchange {}", args.id))?;
    println!("exchange {}: {}", applied.exchange_id, applied.summary);
    Ok(ExitCode::SUCCESS)
}
