//! `pocket-dca remind …`: monthly payment reminders.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::Utc;
use serde::Serialize;

use super::context::{Context, print_json};
use crate::format::short_id;
use crate::mail::Mailer;
use crate::pocket::timestamp;
use crate::reminders::{self, Outcome, Period, Settings, compose};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Preview(PreviewArgs),
    Send(SendArgs),
    List(ListArgs),
}

/// Show the reminder of an order without sending it.
///
/// Prints the subject and the text part; --out writes the whole e-mail
/// (FILE.eml) or its HTML part with the QR code embedded (FILE.html).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca remind preview 64decab6
  pocket-dca remind preview 64decab6 --period 2026-12 --out december.html")]
pub struct PreviewArgs {
    /// The order id (a unique prefix is enough)
    order: String,

    /// The month, YYYY-MM [default: the current one]
    #[arg(long)]
    period: Option<String>,

    /// Write the e-mail to FILE.eml, or its HTML part to FILE.html
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
}

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

/// List reminders: sent, failing, skipped, and the next one due per order.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca remind list --json")]
pub struct ListArgs {
    /// Print JSON: [{"order_id", "period", "status", "due_at", "attempts", "last_error", "next_attempt_at", "sent_at", "recipients", "trigger", "note"}]
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    order_id: String,
    period: String,
    status: String,
    due_at: String,
    attempts: u32,
    last_error: Option<String>,
    next_attempt_at: Option<String>,
    sent_at: Option<String>,
    recipients: Vec<String>,
    trigger: Option<String>,
    note: Option<String>,
}

fn period_arg(arg: Option<&str>, settings: &Settings) -> anyhow::Result<Period> {
    match arg {
        Some(p) => p.parse::<Period>().map_err(anyhow::Error::msg),
        None => Ok(Period::of(Utc::now(), settings.timezone)),
    }
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let settings = Settings::from_config(&config);
    match command {
        Command::Preview(args) => {
            let id = store.resolve_order_id(&args.order)?;
            let order = store.order(&id)?.context("the order vanished")?;
            let period = period_arg(args.period.as_deref(), &settings)?;
            let composed = compose::reminder(&store, &order, period, settings.timezone)
                .context("while composing the reminder")?;
            match args.out {
                None => {
                    println!("Subject: {}\n\n{}", composed.subject, composed.text);
                }
                Some(path) => {
                    let is_html = path.extension().is_some_and(|e| {
                        e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm")
                    });
                    let bytes = if is_html {
                        compose::standalone_html(&composed).into_bytes()
                    } else {
                        let (from, to) = match Mailer::from_config(&config.email) {
                            Ok(mailer) => {
                                let to = reminders::recipients(Some(&order), &mailer)
                                    .unwrap_or_else(|_| vec![mailer.from.clone()]);
                                (mailer.from, to)
                            }
                            Err(_) => {
                                let placeholder: lettre::message::Mailbox =
                                    "pocket-dca <pocket-dca@localhost>".parse()?;
                                (placeholder.clone(), vec![placeholder])
                            }
                        };
                        compose::message(&composed, &from, &to)?.formatted()
                    };
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("while writing {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Send(args) => {
            let id = store.resolve_order_id(&args.order)?;
            let order = store.order(&id)?.context("the order vanished")?;
            let period = period_arg(args.period.as_deref(), &settings)?;
            let mailer = Mailer::from_config(&config.email)?;
            match reminders::send(
                &mut store,
                &mailer,
                &settings,
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
        Command::List(args) => {
            let now = Utc::now();
            let mut rows: Vec<Row> = store
                .reminders()?
                .into_iter()
                .map(|r| Row {
                    order_id: r.order_id,
                    period: r.period,
                    status: r.status,
                    due_at: r.due_at,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    next_attempt_at: r.next_attempt_at,
                    sent_at: r.sent_at,
                    recipients: r.recipients,
                    trigger: Some(r.trigger),
                    note: r.note,
                })
                .collect();
            for order in store.orders()? {
                if let Some(due) = reminders::next_due(&store, &order, &settings, now)? {
                    let period = Period::of(due, settings.timezone).to_string();
                    if !rows
                        .iter()
                        .any(|r| r.order_id == order.id && r.period == period)
                    {
                        rows.insert(
                            0,
                            Row {
                                order_id: order.id.clone(),
                                period,
                                status: "scheduled".into(),
                                due_at: timestamp::format(&due),
                                attempts: 0,
                                last_error: None,
                                next_attempt_at: None,
                                sent_at: None,
                                recipients: Vec::new(),
                                trigger: None,
                                note: None,
                            },
                        );
                    }
                }
            }
            if args.json {
                print_json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            if rows.is_empty() {
                println!("no reminders: no active order");
            }
            for r in &rows {
                println!(
                    "{:<8}  {}  {:<9}  due {}{}{}",
                    short_id(&r.order_id),
                    r.period,
                    r.status,
                    r.due_at,
                    r.sent_at
                        .as_deref()
                        .map(|s| format!(", sent {s}"))
                        .unwrap_or_default(),
                    r.last_error
                        .as_deref()
                        .map(|e| format!(", {} attempts, last error: {e}", r.attempts))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
