//! `pocket-dca remind list`: reminders sent, failing, skipped, and the next
//! one due per order.

use std::process::ExitCode;

use chrono::Utc;

use crate::cli::context::print_json;
use crate::format::short_id;
use crate::reminders::{self, Settings};
use crate::store::Store;

/// List reminders: sent, failing, skipped, and the next one due per order.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca remind list --json")]
pub struct ListArgs {
    /// Print JSON: [{"order_id", "period", "status", "due_at", "attempts", "last_error", "next_attempt_at", "sent_at", "recipients", "trigger", "note"}]
    #[arg(long)]
    json: bool,
}

pub(super) fn run(store: &Store, settings: &Settings, args: ListArgs) -> anyhow::Result<ExitCode> {
    let rows = reminders::list(store, settings, Utc::now())?;
    if args.json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no reminders: no active order");
    }
    // Times in the reminders' zone, as the e-mails and the dashboard show them.
    let local = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| crate::format::local(t.to_utc(), settings.timezone))
            .unwrap_or_else(|_| t.to_string())
    };
    for r in &rows {
        println!(
            "{:<8}  {}  {:<9}  due {}{}{}",
            short_id(&r.order_id),
            r.period,
            r.status,
            local(&r.due_at),
            r.sent_at
                .as_deref()
                .map(|s| format!(", sent {}", local(s)))
                .unwrap_or_default(),
            r.last_error
                .as_deref()
                .map(|e| format!(", {} attempts, last error: {e}", r.attempts))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
