//! `pocket-dca order …`: create and administer standing orders, one
//! subcommand per file; this file only dispatches.

mod args;
mod challenge;
mod change;
mod create;
mod import;
mod list;
mod print;
mod refresh;
mod show;

use std::process::ExitCode;

use super::context::Context;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Challenge(challenge::ChallengeArgs),
    Create(create::CreateArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Pause(change::IdArgs),
    Resume(change::IdArgs),
    Set(change::SetArgs),
    Import(import::ImportArgs),
    Refresh(change::IdArgs),
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Challenge(args) => challenge::run(ctx, args).await,
        Command::Create(args) => create::run(ctx, args).await,
        Command::List(args) => list::run(ctx, args),
        Command::Show(args) => show::run(ctx, args),
        Command::Pause(args) => change::set_active(ctx, args, false).await,
        Command::Resume(args) => change::set_active(ctx, args, true).await,
        Command::Set(args) => change::set(ctx, args).await,
        Command::Import(args) => import::run(ctx, args).await,
        Command::Refresh(args) => refresh::run(ctx, args).await,
    }
}
