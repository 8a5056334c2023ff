//! `pocket-dca webhooks`: the stored deliveries.

use std::process::ExitCode;

use chrono::Utc;

use super::context::{Context, print_json};
use crate::deliveries;

/// List stored webhook deliveries with their processing result, or replay one.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Examples:
  pocket-dca webhooks
  pocket-dca webhooks --json
  pocket-dca webhooks replay 42"
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// How many of the newest to show (text output)
    #[arg(long, default_value_t = 50)]
    limit: usize,

    /// Print JSON: every delivery [{"id", "received_at", "correlation_id", "retry_count", "status", "event", "exchange_id", "result", "processed_at"}]
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Process a stored delivery again.
    Replay {
        /// The delivery's number
        id: i64,
    },
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, mut store) = ctx.store()?;
    if let Some(Command::Replay { id }) = args.command {
        let status = deliveries::replay(&mut store, id, Utc::now())?;
        let delivery = store.delivery(id)?;
        println!(
            "delivery {id}: {status}{}",
            delivery
                .and_then(|d| d.result)
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        print_json(&store.deliveries(None)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let deliveries = store.deliveries(Some(args.limit))?;
    if deliveries.is_empty() {
        println!("no webhook deliveries yet");
    }
    for d in &deliveries {
        println!(
            "#{:<6} {}  {:<11} {:<22} {}  {}",
            d.id,
            d.received_at,
            d.status,
            d.event.as_deref().unwrap_or("-"),
            d.correlation_id.as_deref().unwrap_or("-"),
            d.result.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
