//! `pocket-dca mail test`: check the e-mail setup.

use std::process::ExitCode;

use anyhow::Context as _;

use super::context::Context;
use crate::mail::Mailer;
use crate::reminders::compose;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Test(TestArgs),
}

/// Send a test e-mail through the configured transport.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  SMTP_PASSWORD=… pocket-dca mail test me@example.com")]
pub struct TestArgs {
    /// Where to send it
    address: String,
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    let Command::Test(args) = command;
    let config = ctx.config()?;
    let mailer = Mailer::from_config(&config.email)?;
    let to: lettre::message::Mailbox = args
        .address
        .parse()
        .map_err(|e| anyhow::anyhow!("`{}` is not an e-mail address: {e}", args.address))?;
    let message = compose::test(&mailer.from, &to, &mailer.describe())?;
    let result = mailer
        .send(&message)
        .await
        .context("while sending the test e-mail")?;
    println!("sent to {} via {}: {result}", to.email, mailer.describe());
    Ok(ExitCode::SUCCESS)
}
