//! `pocket-dca exchange …`: one exchange — fetch it, or pay it out over
//! lightning.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use serde::Serialize;

use super::context::{Context, print_json};
use crate::lightning;
use crate::pocket::ExchangeId;
use crate::pocket::lightning::Instruction;
use crate::reconcile;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Fetch(FetchArgs),
    Payout(PayoutArgs),
}

/// Fetch an exchange from Pocket by id and apply it.
///
/// For an exchange whose every webhook was lost: Pocket has no list
/// endpoint, so use the id the Pocket app shows.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  pocket-dca exchange fetch a2d75998-5ee5-4501-a4cf-4e3788732b7a"
)]
pub struct FetchArgs {
    /// Pocket's exchange id
    id: String,
}

/// Ask Pocket to pay an executed exchange out over lightning (beta).
///
/// For orders whose payout is a lightning node: Pocket buys, then waits for
/// an invoice of exactly the amount bought (the alert and `exchanges` show
/// it), or opens a channel to the node. The invoice is checked here first —
/// amount, network, expiry, and that it pays the order's node — so a mistake
/// is caught before Pocket refuses it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca exchange payout a2d75998 --invoice lnbc1967810n1p…
  pocket-dca exchange payout a2d75998 --channel --node-address 02abc…@node.example.org:9735 --private")]
#[command(group = clap::ArgGroup::new("method").required(true).args(["invoice", "channel"]))]
pub struct PayoutArgs {
    /// The exchange (its id, or a unique prefix of it)
    id: String,

    /// A BOLT11 invoice of exactly the exchange's amount, made on the order's node
    #[arg(long, value_name = "BOLT11")]
    invoice: Option<String>,

    /// Have Pocket open a channel to the order's node instead
    #[arg(long)]
    channel: bool,

    /// Where Pocket reaches the node for the channel, when it cannot find it
    #[arg(long, value_name = "PUBKEY@HOST:PORT", requires = "channel")]
    node_address: Option<String>,

    /// Make the channel private (unannounced)
    #[arg(long, requires = "channel")]
    private: bool,

    /// Print the exchange's payout as JSON: {"id", "state", "payout": {"type", "status", "fee_sat", "amount_sat"}}
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Fetch(args) => fetch(ctx, args).await,
        Command::Payout(args) => payout(ctx, args).await,
    }
}

async fn fetch(ctx: &Context<'_>, args: FetchArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let applied = reconcile::sync::fetch(&client, &mut store, &args.id, Utc::now())
        .await
        .with_context(|| format!("while fetching exchange {}", args.id))?;
    println!("exchange {}: {}", applied.exchange_id, applied.summary);
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct PayoutView {
    id: ExchangeId,
    state: reconcile::State,
    payout: Option<PayoutFields>,
    /// Set when Pocket said an earlier instruction is already under way or
    /// done (`in_progress`, `already_completed`).
    already: Option<String>,
}

#[derive(Serialize)]
struct PayoutFields {
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    fee_sat: Option<u64>,
    amount_sat: Option<u64>,
}

async fn payout(ctx: &Context<'_>, args: PayoutArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let id = store.resolve_exchange_id(&args.id)?;
    let instruction = match args.invoice {
        Some(invoice) => Instruction::Invoice(invoice),
        None => Instruction::Channel {
            node_address: args.node_address,
            private: args.private,
        },
    };
    let client = ctx.pocket_client(&config)?;
    let paid = lightning::pay_out(
        &client,
        &mut store,
        &id,
        &instruction,
        config.bitcoin.network,
        Utc::now(),
    )
    .await?;
    let row = store
        .exchange(&id)?
        .with_context(|| format!("exchange {id} vanished from the database"))?;
    let view = PayoutView {
        id: id.clone(),
        state: row.state,
        payout: row.payout.map(|p| PayoutFields {
            kind: p.kind,
            status: p.status,
            fee_sat: p.fee_sat,
            amount_sat: p.amount_sat,
        }),
        already: paid.already,
    };
    if args.json {
        print_json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(code) = &view.already {
        println!(
            "Pocket says the payout is already {}: fetched the exchange instead.",
            if code == "in_progress" {
                "under way"
            } else {
                "done"
            }
        );
    }
    match &view.payout {
        Some(p) => println!(
            "exchange {id}: {} — payout {} {}, amount {} sat, fee {} sat",
            view.state,
            p.kind.as_deref().unwrap_or("on chain"),
            p.status.as_deref().unwrap_or("-"),
            p.amount_sat.map_or("-".into(), |a| a.to_string()),
            p.fee_sat.map_or("-".into(), |f| f.to_string()),
        ),
        None => println!("exchange {id}: {} — {}", view.state, paid.applied.summary),
    }
    Ok(ExitCode::SUCCESS)
}
