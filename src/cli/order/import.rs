//! `pocket-dca order import`: an order created elsewhere with the same
//! client id.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::args::{KeyArgs, PlanArgs, parse_key};
use super::print::print_instructions;
use crate::cli::context::{Context, print_json};
use crate::orders::{self, ImportOrder};

/// Import an order created elsewhere with the same client id.
///
/// The key at the path (default: the order's derivation_path) must give the
/// address Pocket pays to.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  pocket-dca order import 64decab6-4129-4fe7-9f6e-1db68283f5ce --key - --amount 100 --day 1 < zpub.txt")]
pub struct ImportArgs {
    /// Pocket's order id (as the Pocket app shows it)
    id: String,

    #[command(flatten)]
    key: KeyArgs,

    #[command(flatten)]
    plan: PlanArgs,

    /// Print the stored order as JSON
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let (key_text, key, _) = parse_key(&args.key, config.bitcoin.network)?;
    let path = args
        .key
        .path
        .as_deref()
        .map(|p| key.parse_path(p))
        .transpose()?;
    let plan = args.plan.plan()?;
    let request = ImportOrder {
        id: args.id.clone(),
        key_text,
        key,
        path,
        plan,
    };
    let imported = orders::import(&client, &mut store, &request, Utc::now())
        .await
        .with_context(|| format!("while importing order {}", args.id))?;
    let (order, adopted) = (imported.order, imported.adopted);
    if args.json {
        print_json(&order.view())?;
    } else {
        println!("imported order {}", order.id);
        if adopted > 0 {
            println!("reconciled {adopted} exchanges that arrived before the import");
        }
        println!();
        print_instructions(&order)?;
    }
    Ok(ExitCode::SUCCESS)
}
