//! `pocket-dca addresses`: the expected payout addresses of an order.

use std::process::ExitCode;

use serde::Serialize;

use super::{Context, print_json};

/// Show an order's derived payout addresses and their status: expected,
/// used (by one payout output, perhaps for several exchanges) or reused.
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
    let uses = store.uses_by_index(&id)?;
    let rows: Vec<Row> = store
        .addresses(&id)?
        .into_iter()
        .map(|a| {
            let used: Vec<&(u32, String, String)> =
                uses.iter().filter(|u| u.0 == a.index).collect();
            let outputs: std::collections::BTreeSet<&str> =
                used.iter().map(|u| u.2.as_str()).collect();
            Row {
                index: a.index,
                path: a.path,
                address: a.address,
                status: match outputs.len() {
                    0 => "expected",
                    1 => "used",
                    _ => "reused",
                },
                exchange_ids: used.iter().map(|u| u.1.clone()).collect(),
            }
        })
        .collect();
    if args.json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>6}  {:<8}  {:<64}  {:<8}  EXCHANGES",
        "INDEX", "PATH", "ADDRESS", "STATUS"
    );
    for row in &rows {
        println!(
            "{:>6}  {:<8}  {:<64}  {:<8}  {}",
            row.index,
            row.path,
            row.address,
            row.status,
            row.exchange_ids
                .iter()
                .map(|id| crate::orders::short_id(id))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
