//! `pocket-dca order import`: an order created elsewhere with the same
//! client id.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::args::PlanArgs;
use super::print::{print_first_reminder, print_instructions};
use crate::cli::context::{self, Context, print_json};
use crate::orders::{self, ImportOrder};

/// Import an order created elsewhere with the same client id.
///
/// For an order paid to an extended key, the key at the path (default: the
/// order's derivation_path) must give the address Pocket pays to. An order
/// paid to one address, or over lightning, needs no key: it is tracked as
/// Pocket reports it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca order import 64decab6-4129-4fe7-9f6e-1db68283f5ce --key - --amount 100 --day 1 < zpub.txt
  pocket-dca order import 5f0c2e11-7f43-4a8e-9a0b-1c2d3e4f5a6b --amount 50 --day 15   (one address, or lightning)")]
pub struct ImportArgs {
    /// Pocket's order id (as the Pocket app shows it)
    id: String,

    /// Extended public key (xpub/ypub/zpub, tpub/upub/vpub) or descriptor, for an order paid to a key; `-` reads it from stdin
    #[arg(long, value_name = "KEY|DESCRIPTOR")]
    key: Option<String>,

    /// Script type for a plain xpub/tpub (ypub/zpub and descriptors fix it) [default: p2pkh]
    #[arg(long, value_name = "TYPE", value_parser = ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"])]
    script_type: Option<String>,

    /// Path of the address that signs, below the key [default: the order's derivation_path]
    #[arg(long, value_name = "CHAIN/INDEX")]
    path: Option<String>,

    #[command(flatten)]
    plan: PlanArgs,

    /// Print the stored order as JSON
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let network = config.bitcoin.network;
    let (key, path) = match &args.key {
        Some(text) => {
            let (text, key, _) =
                context::parse_key(text, args.script_type.as_deref(), None, Some(network))?;
            let path = args
                .path
                .as_deref()
                .map(|p| key.parse_path(p))
                .transpose()?;
            (Some((text, key)), path)
        }
        None => (None, None),
    };
    let request = ImportOrder {
        id: args.id.clone(),
        key,
        path,
        network,
        plan: args.plan.plan()?,
    };
    let imported = orders::import(&client, &mut store, &request, Utc::now())
        .await
        .with_context(|| format!("while importing order {}", args.id))?;
    let (order, adopted) = (imported.order, imported.adopted);
    if args.json {
        print_json(&order.view(false))?;
    } else {
        println!("imported order {}", order.id);
        if adopted > 0 {
            println!("reconciled {adopted} exchanges that arrived before the import");
        }
        println!();
        print_instructions(&order)?;
        print_first_reminder(&store, &order, &config)?;
    }
    Ok(ExitCode::SUCCESS)
}
