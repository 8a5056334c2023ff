//! `pocket-dca demo`: the whole tool on this machine, with one command.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::context::shutdown_signal;
use crate::service::demo;

/// Run the whole tool locally: sandbox, service and a year of purchases.
///
/// Starts the Pocket sandbox and `serve` on free loopback ports with a fresh
/// database in DIR, creates two orders (EUR to P2WPKH, CHF to taproot) from a
/// wallet generated in memory, and plays twelve months (and this one up to
/// today) of reminders, payments, an identification, a refund and payout
/// batches through them.
/// Then prints `dashboard: URL`, `config: PATH` and `outbox: PATH` and keeps
/// serving until Ctrl-C. Running it again recreates DIR.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca demo
  pocket-dca demo --dir /tmp/dca-demo
  pocket-dca --config ./pocket-dca-demo/pocket-dca.toml exchanges   # in another terminal")]
pub struct Args {
    /// The demo's folder (recreated when it holds an earlier demo)
    #[arg(long, default_value = "pocket-dca-demo")]
    dir: PathBuf,
}

pub(super) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Installed first: Ctrl-C during the replay, or right after the URL
    // is printed, stops the demo cleanly.
    let stop = shutdown_signal();
    let bar = indicatif::ProgressBar::new(u64::from(demo::MONTHS)).with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:24} {pos}/{len} months")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("replaying a year of purchases");
    tokio::pin!(stop);
    let running = tokio::select! {
        running = demo::run(&args.dir, |month| bar.set_position(u64::from(month))) => running?,
        () = &mut stop => {
            bar.abandon_with_message("stopped during the replay");
            return Ok(ExitCode::SUCCESS);
        }
    };
    bar.finish_and_clear();
    {
        // A closed stdout must not stop the demo.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "dashboard: {}", running.dashboard);
        let _ = writeln!(out, "config: {}", running.config.display());
        let _ = writeln!(out, "outbox: {}", running.outbox.display());
        let _ = writeln!(out, "Ctrl-C stops the demo.");
        let _ = out.flush();
    }
    stop.await;
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}
