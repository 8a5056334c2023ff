//! `pocket-dca addresses`: the expected payout addresses of an order.

use std::process::ExitCode;

use super::context::{Context, print_json};
use crate::reconcile;

/// Show an order's derived payout addresses and their status: expected,
/// used (by one payout output, perhaps for several exchanges), reused, or
/// used_elsewhere (history on the chain that no payout explains; with
/// [chain] configured).
///
/// The window starts at the signed address (Pocket may pay the first
/// purchase to it) and is stored before it is shown.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca addresses 64decab6 --json")]
pub struct Args {
    /// The order id (a unique prefix is enough)
    order: String,

    /// Print JSON: [{"index", "path", "address", "status", "exchange_ids", "onchain": {"tx_count", "received_sat", "unspent_sat"} or null}]
    #[arg(long)]
    json: bool,
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.order)?;
    let rows = reconcile::window::addresses(&store, &id)?;
    if args.json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "index": r.index, "path": r.path, "address": r.address,
                    "status": r.status, "exchange_ids": r.exchange_ids,
                    "onchain": r.onchain.as_ref().map(|o| serde_json::json!({
                        "tx_count": o.tx_count,
                        "received_sat": o.received_sat,
                        "unspent_sat": o.unspent_sat,
                    })),
                })
            })
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>6}  {:<8}  {:<64}  {:<14}  EXCHANGES",
        "INDEX", "PATH", "ADDRESS", "STATUS"
    );
    for row in &rows {
        println!(
            "{:>6}  {:<8}  {:<64}  {:<14}  {}",
            row.index,
            row.path,
            row.address,
            row.status,
            row.exchange_ids
                .iter()
                .map(|id| crate::format::short_id(id))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
