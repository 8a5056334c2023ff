//! `pocket-dca chain …`: the on-chain verification — its state, and a check
//! run now.

use std::process::ExitCode;

use chrono::Utc;
use serde::Serialize;

use super::context::{Context, print_json};
use crate::chain;
use crate::config::{ChainBackend, Config};
use crate::store::Store;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Status(StatusArgs),
    Scan(ScanArgs),
}

/// Show the chain server and what it says of the payouts.
///
/// Connects to [chain] url, prints the server and the tip, the last check,
/// and how many payouts are confirmed, unconfirmed, unseen or mismatched
/// (and, with [chain] alert_on_spend, how many were seen spent).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca chain status --json")]
pub struct StatusArgs {
    /// Print JSON: {"backend", "url", "public", "server", "tip_height", "last_check", "last_error", "payouts": {"confirmed", …}, "spent"}
    #[arg(long)]
    json: bool,
}

/// Check every payout and scan every address window on the chain now.
///
/// Each payout Pocket reported must exist, pay that address that amount
/// (its output is read from the transaction) and confirm; the server's
/// merkle proof and the block's proof of work are checked, not believed.
/// Every window address (and the wallet's gap limit beyond) is scanned:
/// coins that came without a webhook are found and alerted. With [chain]
/// alert_on_spend, a confirmed payout whose coins were spent is alerted.
/// `serve` does this every [chain] interval_minutes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  pocket-dca chain scan\n  pocket-dca chain scan --order 64decab6 --full --json"
)]
pub struct ScanArgs {
    /// Only this order's payouts and window (a unique prefix of its id is enough)
    #[arg(long)]
    order: Option<String>,

    /// Fetch and store every used address again, not only those whose history changed
    #[arg(long)]
    full: bool,

    /// Print JSON: {"server", "payouts": {"tip_height", "checked", "confirmed", "unconfirmed", "unseen", "mismatch", "alerts"}, "windows": {"addresses", "used", "unexplained", "alerts"}, "spent"}
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Status(args) => status(ctx, args).await,
        Command::Scan(args) => scan(ctx, args).await,
    }
}

/// A bar over the orders scanned, on a terminal only (and never with
/// `--json`).
fn progress_bar(json: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("scanning {bar:24} {pos}/{len} orders")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

fn require_backend(config: &Config) -> anyhow::Result<()> {
    if config.chain.backend == ChainBackend::None {
        anyhow::bail!(
            "no chain server is configured: set [chain] backend = \"electrum\" and url = \"tcp://your-node:50001\" (or esplora and https://…/api) in {}",
            config
                .file
                .as_ref()
                .map_or("the config".into(), |f| f.display().to_string())
        );
    }
    Ok(())
}

async fn scan(ctx: &Context<'_>, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    require_backend(&config)?;
    let options = chain::ScanOptions {
        full: args.full,
        order: args
            .order
            .as_deref()
            .map(|o| store.resolve_order_id(o))
            .transpose()?,
    };
    drop(store);
    let bar = progress_bar(args.json);
    let follow = bar.clone();
    let progress: chain::Progress = Box::new(move |done, orders| {
        follow.set_length(orders as u64);
        follow.set_position(done as u64);
    });
    let checked = chain::check_with(
        config.chain.clone(),
        config.database.path.clone(),
        Utc::now(),
        options,
        progress,
    )
    .await;
    bar.finish_and_clear();
    let checked = checked?;
    if args.json {
        print_json(&checked)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (report, windows) = (&checked.payouts, &checked.windows);
    println!(
        "checked {} payouts against {} at height {}: {} confirmed, {} unconfirmed, {} unseen, {} mismatched, {} replaced",
        report.checked,
        checked.server,
        report.tip_height,
        report.confirmed,
        report.unconfirmed,
        report.unseen,
        report.mismatch,
        report.replaced,
    );
    println!(
        "scanned {} addresses: {} with history, {} transactions no Pocket report explains",
        windows.addresses, windows.used, windows.unexplained
    );
    if checked.spent > 0 {
        println!("{} payouts whose coins were spent", checked.spent);
    }
    let alerts = report.alerts + windows.alerts + checked.spent;
    if alerts > 0 {
        println!("{alerts} new alerts: pocket-dca alerts");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct StatusView {
    backend: &'static str,
    url: Option<String>,
    public: bool,
    server: Option<String>,
    tip_height: Option<u32>,
    last_check: Option<String>,
    last_error: Option<String>,
    payouts: std::collections::BTreeMap<String, usize>,
    /// Payouts whose coins were seen spent; null unless alert_on_spend.
    spent: Option<usize>,
}

/// Payouts per on-chain status, and how many were seen spent.
fn counts(store: &Store) -> anyhow::Result<(std::collections::BTreeMap<String, usize>, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for status in ["confirmed", "unconfirmed", "unseen", "mismatch", "replaced"] {
        counts.insert(status.to_string(), 0);
    }
    let mut spent = 0;
    for row in store.onchain_all()? {
        spent += usize::from(row.spent_by.is_some());
        *counts.entry(row.status).or_default() += 1;
    }
    Ok((counts, spent))
}

async fn status(ctx: &Context<'_>, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    require_backend(&config)?;
    let chain_config = config.chain.clone();
    let live = tokio::task::spawn_blocking(move || {
        let backend = chain::Backend::connect(&chain_config)?;
        Ok::<_, chain::Error>((backend.server()?, backend.tip()?.0))
    })
    .await?;
    let (server, tip, error) = match live {
        Ok((server, tip)) => (Some(server), Some(tip), None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    let (payouts, spent) = counts(&store)?;
    let view = StatusView {
        backend: config.chain.backend.as_str(),
        url: config.chain.url.as_ref().map(|u| u.to_string()),
        public: config.chain.is_public(),
        server,
        tip_height: tip,
        last_check: store.chain_state("last_check")?,
        last_error: error.or(store.chain_state("last_error")?.filter(|e| !e.is_empty())),
        payouts,
        spent: config.chain.alert_on_spend.then_some(spent),
    };
    if args.json {
        print_json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "backend    {} {}",
        view.backend,
        view.url.as_deref().unwrap_or("-")
    );
    if view.public {
        println!(
            "privacy    a public server: it learns every address of your wallets; prefer your own node"
        );
    }
    match (&view.server, view.tip_height) {
        (Some(server), Some(tip)) => println!("server     {server}, tip at height {tip}"),
        _ => println!("server     unreachable"),
    }
    println!(
        "last check {}",
        view.last_check.as_deref().unwrap_or("never")
    );
    if let Some(error) = &view.last_error {
        println!("error      {error}");
    }
    let counts: Vec<String> = view
        .payouts
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    println!("payouts    {}", counts.join(", "));
    if let Some(spent) = view.spent {
        println!("spent      {spent} (payouts whose coins moved on)");
    }
    Ok(ExitCode::SUCCESS)
}
