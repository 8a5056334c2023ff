//! `pocket-dca remind preview`: an order's reminder, without sending it.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use crate::config::Config;
use crate::mail::Mailer;
use crate::reminders::{self, Period, Settings, compose};
use crate::store::Store;

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

pub(super) fn run(
    config: &Config,
    store: &Store,
    settings: &Settings,
    args: PreviewArgs,
) -> anyhow::Result<ExitCode> {
    let id = store.resolve_order_id(&args.order)?;
    let order = store.order(&id)?.context("the order vanished")?;
    let period = Period::named_or_current(args.period.as_deref(), Utc::now(), settings.timezone)
        .map_err(anyhow::Error::msg)?;
    let composed = compose::reminder(store, &order, period, settings.timezone)
        .context("while composing the reminder")?;
    match args.out {
        None => {
            println!("Subject: {}\n\n{}", composed.subject, composed.text);
        }
        Some(path) => {
            let is_html = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
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
            crate::files::create_private(&path)
                .and_then(|mut file| std::io::Write::write_all(&mut file, &bytes))
                .with_context(|| format!("while writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
