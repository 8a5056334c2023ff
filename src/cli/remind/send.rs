//! `pocket-dca remind send`: an order's reminder now, recorded.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::Utc;

use crate::config::Config;
use crate::mail::Mailer;
use crate::reminders::{self, Outcome, Period, Settings};
use crate::store::Store;

/// Send an order's reminder now, and record it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca remind send 64decab6 --period 2026-12")]
pub struct SendArgs {
    /// The order id (a unique prefix is enough)
    order: String,

    /// The month, YYYY-MM [default: the current one]
    #[arg(long)]
    period: Option<String>,
}

pub(super) async fn run(
    config: &Config,
    store: &mut Store,
    settings: &Settings,
    args: SendArgs,
) -> anyhow::Result<ExitCode> {
    let id = store.resolve_order_id(&args.order)?;
    let order = store.order(&id)?.context("the order vanished")?;
    let period = Period::named_or_current(args.period.as_deref(), Utc::now(), settings.timezone)
        .map_err(anyhow::Error::msg)?;
    let mailer = Mailer::from_config(&config.email)?;
    match reminders::send(
        store,
        &mailer,
        settings,
        &order,
        period,
        "manual",
        Utc::now(),
    )
    .await?
    {
        Outcome::Sent { recipients } => {
            println!(
                "reminder for {} sent to {} via {}",
                period.name(),
                recipients.join(", "),
                mailer.describe()
            );
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed(error) => {
            bail!("the reminder was not sent: {error}; it is recorded as failing")
        }
        Outcome::Skipped(why) => {
            println!("skipped: {why}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
