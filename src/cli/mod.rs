//! The command line: clap definitions and dispatch. One subcommand per file;
//! each parses its flags, calls domain code and prints (text or `--json`).
//! Flag doc comments are the `--help` text.

mod addresses;
mod alerts;
mod chain;
mod completions;
mod config_check;
mod context;
mod db;
mod demo;
mod derive;
mod exchange;
mod exchanges;
mod export;
mod hash_password;
mod init;
mod mail;
mod order;
mod remind;
mod sandbox;
mod serve;
mod sync;
mod verify_message;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::ProcessEnv;
use context::Context;

const ABOUT: &str = "Watch-only companion for Pocket Bitcoin standing orders: xpub payouts, \
expected addresses, payment reminders and webhook reconciliation, in one binary with SQLite.";

const EXAMPLES: &str = "\
Examples:
  pocket-dca demo                      the whole tool on this machine: sandbox, service, a year of purchases
  pocket-dca init                      write pocket-dca.toml and create the database
  pocket-dca config check              validate the config and show what is in effect
  pocket-dca derive zpub6rFR7y4Q2AijBE…  print the first 10 receive addresses of a key
  pocket-dca verify-message --address bc1q… --message 'I confirm…' --signature H…
  pocket-dca order challenge --key -   then   pocket-dca order create --help
  pocket-dca serve                     receive webhooks, reconcile, sync (Ctrl-C stops)
  pocket-dca exchanges; pocket-dca alerts
  pocket-dca sandbox --client-id try-me  (a local Pocket to try everything against)
  pocket-dca --config /etc/pocket-dca.toml db status";

#[derive(Debug, Parser)]
#[command(name = "pocket-dca", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Config file [default: $POCKET_DCA_CONFIG, else ./pocket-dca.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::Args),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Inspect and back up the database.
    #[command(subcommand)]
    Db(DbCommand),
    Derive(derive::Args),
    VerifyMessage(verify_message::Args),
    /// Create and administer standing orders.
    #[command(subcommand)]
    Order(order::Command),
    Addresses(addresses::Args),
    Serve(serve::Args),
    Sync(sync::Args),
    /// Fetch one exchange from Pocket.
    #[command(subcommand)]
    Exchange(exchange::Command),
    /// Verify payouts on the blockchain ([chain] in the config).
    #[command(subcommand)]
    Chain(chain::Command),
    Exchanges(exchanges::Args),
    Alerts(alerts::Args),
    Webhooks(webhooks::Args),
    /// Monthly payment reminders.
    #[command(subcommand)]
    Remind(remind::Command),
    /// E-mail setup.
    #[command(subcommand)]
    Mail(mail::Command),
    /// Export exchanges (CSV) and wallet labels (BIP-329).
    #[command(subcommand)]
    Export(export::Command),
    HashPassword(hash_password::Args),
    Completions(completions::Args),
    Demo(demo::Args),
    Sandbox(sandbox::Args),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    Check(config_check::Args),
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    Status(db::StatusArgs),
    Backup(db::BackupArgs),
}

/// The exit code of a command whose reader went away (`| head`): what a
/// process killed by SIGPIPE reports, so shells treat it the same.
pub fn closed_pipe() -> ExitCode {
    ExitCode::from(141)
}

/// `println!` panics when standard output is a closed pipe; such a panic
/// ends the process quietly instead (the reader has all it wanted).
pub fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Whether a command failed only because its reader went away.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Parses the command line. Help and the version are printed as clap
/// prints them; a usage error is one line — what is wrong, clap's tip, and
/// where the help is — and the exit code 2.
pub fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    let err = match Cli::try_parse() {
        Ok(cli) => return Ok(cli),
        Err(err) => err,
    };
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            Err(ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)))
        }
        _ => {
            let command = command_path(std::env::args().skip(1));
            eprintln!("{}", one_line(&err.render().to_string(), &command));
            Err(ExitCode::from(2))
        }
    }
}

/// The subcommand the arguments name, e.g. `pocket-dca order create`.
fn command_path(args: impl Iterator<Item = String>) -> String {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut path = vec![command.get_name().to_string()];
    // Option values (`--config FILE`) and positionals are skipped.
    for arg in args.filter(|a| !a.starts_with('-')) {
        if let Some(sub) = command.find_subcommand(&arg).cloned() {
            path.push(sub.get_name().to_string());
            command = sub;
        }
    }
    path.join(" ")
}

/// clap's rendered error in one line: the error, its tip, and the help of
/// the command it is about.
fn one_line(rendered: &str, command: &str) -> String {
    let mut error = String::new();
    let mut tips = Vec::new();
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("Usage: ") {
            continue;
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if error.is_empty() {
            error = line.to_string();
        } else if !line.starts_with("For more information") {
            tips.push(line.to_string());
        }
    }
    let mut out = error;
    for tip in tips {
        out.push_str(&format!("; {tip}"));
    }
    out.push_str(&format!("; see `{command} --help`"));
    out
}

/// Runs a parsed command line; errors are printed by `main` as one line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context {
        config_flag: cli.config,
        env: &ProcessEnv,
    };
    init_logging(matches!(
        cli.command,
        Command::Sandbox(_) | Command::Serve(_)
    ));
    match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Config(ConfigCommand::Check(args)) => config_check::run(&ctx, args),
        Command::Db(DbCommand::Status(args)) => db::status(&ctx, args),
        Command::Db(DbCommand::Backup(args)) => db::backup(&ctx, args),
        Command::Derive(args) => derive::run(&ctx, args),
        Command::VerifyMessage(args) => verify_message::run(&ctx, args),
        Command::Order(command) => order::run(&ctx, command).await,
        Command::Addresses(args) => addresses::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args).await,
        Command::Sync(args) => sync::run(&ctx, args).await,
        Command::Exchange(command) => exchange::run(&ctx, command).await,
        Command::Chain(command) => chain::run(&ctx, command).await,
        Command::Exchanges(args) => exchanges::run(&ctx, args),
        Command::Alerts(args) => alerts::run(&ctx, args),
        Command::Webhooks(args) => webhooks::run(&ctx, args),
        Command::Remind(command) => remind::run(&ctx, command).await,
        Command::Mail(command) => mail::run(&ctx, command).await,
        Command::Export(command) => export::run(&ctx, command),
        Command::HashPassword(args) => hash_password::run(args),
        Command::Completions(args) => {
            completions::run(args, <Cli as clap::CommandFactory>::command())
        }
        Command::Demo(args) => demo::run(args).await,
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
    }
}

/// Logs go to standard error; `RUST_LOG` overrides the level (warnings for
/// one-shot commands, info for services).
fn init_logging(service: bool) {
    // The scheduler crate narrates its internals ("Uninited", "Job creator
    // created") at info; a user wants the tool's own news.
    let default = if service {
        "info,tokio_cron_scheduler=warn"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
