//! `pocket-dca export …`: exchanges as CSV, wallet labels as BIP-329 or
//! Electrum's format.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::context::Context;
use crate::export;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Csv(CsvArgs),
    Labels(LabelsArgs),
}

/// Write the exchanges as CSV (RFC 4180), one row per exchange.
///
/// Columns: date, order_id, order_label, pair, state, cost, fee, fee_rate,
/// rate, amount_btc, amount_sat, payout_txid, payout_vout, payout_address,
/// address_index, payout_amount_sat, network_fee_sat, reconciliation,
/// exchange_id, onchain_status, block_height, block_time (the last three
/// from the chain server when [chain] is configured).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca export csv --order 64decab6 --out dca-2026.csv")]
pub struct CsvArgs {
    /// Only this order's (a unique prefix of its id is enough)
    #[arg(long)]
    order: Option<String>,

    /// Write to this file [default: standard output]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Write wallet labels for Sparrow (BIP-329) or Electrum.
///
/// BIP-329 (JSON lines): an `output` label per payout, an `addr` label per
/// address that received one and a `tx` label per payout transaction, e.g.
/// `DCA 2026-12 · EUR 100.00 @ 61,234.50`, with the key's origin when the
/// order's descriptor has one. Electrum 4 cannot read BIP-329: `--format
/// electrum` writes its own file, one JSON object of address or txid → label.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca export labels --out pocket-dca-labels.jsonl     then Sparrow: File → Import Labels
  pocket-dca export labels --format electrum --out labels.json   then Electrum: Wallet → Labels → Import")]
pub struct LabelsArgs {
    /// bip329 (Sparrow, and wallets that read BIP-329) or electrum
    #[arg(long, default_value = "bip329", value_parser = ["bip329", "electrum"])]
    format: String,

    /// Write to this file [default: standard output]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn output(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn std::io::Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            crate::files::create_private(p)
                .with_context(|| format!("while creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    })
}

pub(super) fn run(ctx: &Context, command: Command) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    match command {
        Command::Csv(args) => {
            let order = args
                .order
                .as_deref()
                .map(|o| store.resolve_order_id(o))
                .transpose()?;
            let count = export::csv(&store, order.as_ref(), output(args.out.as_ref())?)?;
            if let Some(path) = &args.out {
                eprintln!("wrote {count} exchanges to {}", path.display());
            }
        }
        Command::Labels(args) => {
            let labels = export::labels(&store)?;
            let mut out = output(args.out.as_ref())?;
            if args.format == "electrum" {
                export::write_electrum_labels(&labels, &mut out)?;
            } else {
                export::write_labels(&labels, &mut out)?;
            }
            out.flush()?;
            if let Some(path) = &args.out {
                eprintln!("wrote {} labels to {}", labels.len(), path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
