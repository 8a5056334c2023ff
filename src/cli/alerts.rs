//! `pocket-dca alerts`: what needs attention.

use std::process::ExitCode;

use anyhow::bail;
use chrono::Utc;

use super::context::{Context, print_json};

/// List open alerts (newest first), or acknowledge one.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Examples:
  pocket-dca alerts
  pocket-dca alerts --all --json
  pocket-dca alerts ack 12"
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// Include acknowledged alerts
    #[arg(long)]
    all: bool,

    /// Print JSON: [{"id", "kind", "severity", "order_id", "exchange_id", "message", "created_at", "acknowledged", "resolved_at", "resolution"}]
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Acknowledge an alert: it leaves the open list.
    Ack {
        /// The alert's number
        id: i64,
    },
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    if let Some(Command::Ack { id }) = args.command {
        if !store.acknowledge_alert(id, Utc::now())? {
            bail!("no alert {id}; `pocket-dca alerts --all` lists them");
        }
        println!("alert {id} acknowledged");
        return Ok(ExitCode::SUCCESS);
    }
    let alerts = store.alerts(args.all)?;
    if args.json {
        print_json(&alerts)?;
        return Ok(ExitCode::SUCCESS);
    }
    if alerts.is_empty() {
        println!(
            "{}",
            if args.all {
                "no alerts"
            } else {
                "no open alerts"
            }
        );
    }
    for alert in &alerts {
        let state = match (&alert.resolved_at, &alert.resolution) {
            (Some(at), why) => format!(" (resolved {at}: {})", why.as_deref().unwrap_or("")),
            (None, _) if alert.acknowledged => " (acknowledged)".into(),
            (None, _) => String::new(),
        };
        println!(
            "#{} {} {} {}{state}\n    {}",
            alert.id,
            alert.severity.to_uppercase(),
            alert.kind,
            alert.created_at,
            alert.message
        );
    }
    Ok(ExitCode::SUCCESS)
}
