//! `pocket-dca remind …`: monthly payment reminders, one subcommand per
//! file; this file only dispatches.

mod list;
mod preview;
mod send;

use std::process::ExitCode;

use super::context::Context;
use crate::reminders::Settings;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Preview(preview::PreviewArgs),
    Send(send::SendArgs),
    List(list::ListArgs),
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let settings = Settings::from_config(&config);
    match command {
        Command::Preview(args) => preview::run(&config, &store, &settings, args),
        Command::Send(args) => send::run(&config, &mut store, &settings, args).await,
        Command::List(args) => list::run(&store, &settings, args),
    }
}
