//! `pocket-dca serve`: the long-running service.

use std::io::Write as _;
use std::process::ExitCode;

use super::context::{Context, shutdown_signal};
use crate::service;

/// Run the service: the webhook listener, the dashboard and the scheduler.
///
/// POST /webhooks/pocket receives Pocket's signed webhooks (put it behind a
/// TLS reverse proxy Pocket can reach); every delivery is on disk before it
/// is answered (in the intake journal next to the database, moved into the
/// database as soon as the writer is free), then reconciled. The scheduler
/// syncs with Pocket every [sync] interval_minutes. Ctrl-C or SIGTERM stops
/// it gracefully. Prints `webhooks: URL` and `dashboard: URL` once
/// listening.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  POCKET_CLIENT_ID=… POCKET_WEBHOOK_SECRET=… pocket-dca --config /etc/pocket-dca.toml serve")]
pub struct Args {}

pub(super) async fn run(ctx: &Context<'_>, _args: Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    service::serve(&config, shutdown_signal(), |running| {
        // A closed stdout (`serve | head -1`) must not stop the service.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "webhooks: http://{}/webhooks/pocket",
            running.webhook_addr
        );
        let _ = writeln!(out, "dashboard: http://{}", running.dashboard_addr);
        let _ = out.flush();
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
