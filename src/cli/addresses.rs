//! `pocket-dca addresses`: the expected payout addresses of an order.

use std::process::ExitCode;

use serde::Serialize;

use super::{Context, print_json};

/// Show an order's derived payout addresses and their status.
///
/// The window starts at the signed address (Pocket may pay the first
/// purchase to it) and is stored before it is shown.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca addresses 64decab6 --json")]
pub struct Args {
    /// The order id (a unique prefix is enough)
    order: String,

    /// Print JSON: [{"index", "path", "address", "status", "exchange_ids"}]
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    index: u32,
    path: String,
    address: String,
    status: &'static str,
    exchange_ids: Vec<String>,
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.order)?;
    let rows: Vec<Row> = store
        .addresses(&id)?
        .into_iter()
        .map(|a| Row {
            index: a.index,
            path: a.path,
            address: a.address,
            status: "expected",
            exchange_ids: Vec::new(),
        })
        .collect();
    if args.json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:>6}  {:<8}  {:<64}  STATUS", "INDEX", "PATH", "ADDRESS");
    for row in &rows {
        println!(
            "{:>6}  {:<8}  {:<64}  {}",
            row.index, row.path, row.address, row.status
        );
    }
    Ok(ExitCode::SUCCESS)
}
