//! `pocket-dca derive`: print addresses of a key or descriptor.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::context::{Context, parse_key, print_json};

/// The most addresses one call prints.
const MAX_COUNT: u32 = 1_000_000;

/// Print the addresses of an extended public key or descriptor.
///
/// The network comes from the key (xpub: bitcoin, tpub: testnet); with a
/// config file, its [bitcoin] network must match and picks signet/regtest.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca derive zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs
  pocket-dca derive \"wpkh([73c5da0a/84'/0'/0']xpub6CatWd…/0/*)\" --count 20 --json
  pocket-dca derive xpub6C9cxx… --script-type p2wpkh --path 1/0
  pass show wallet/xpub | pocket-dca derive -")]
pub struct Args {
    /// The key: xpub/ypub/zpub/tpub/upub/vpub or an output descriptor; `-` reads it from stdin
    #[arg(value_name = "KEY|DESCRIPTOR")]
    key: String,

    /// Script type for a plain xpub/tpub (ypub/zpub and descriptors fix it) [default: p2pkh]
    #[arg(long, value_name = "TYPE", value_parser = ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"])]
    script_type: Option<String>,

    /// Path of the first address below the key, CHAIN/INDEX [default: 0/0, or the descriptor's chain]
    #[arg(long, value_name = "CHAIN/INDEX")]
    path: Option<String>,

    /// How many consecutive addresses to print
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_COUNT)), allow_negative_numbers = true)]
    count: u32,

    /// Print JSON: [{"index", "path", "address"}]
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    index: u32,
    path: String,
    address: String,
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config_if_present()?;
    let network = config.as_ref().map(|c| c.bitcoin.network);
    let (_, key, start) = parse_key(
        &args.key,
        args.script_type.as_deref(),
        args.path.as_deref(),
        network,
    )?;
    let chain = key.chain(start.chain())?;
    let rows = chain
        .addresses(start.index(), args.count)?
        .map(|derived| {
            derived.map(|d| Row {
                index: d.index(),
                path: d.path.to_string(),
                address: d.address.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .context("while deriving addresses")?;
    if args.json {
        print_json(&rows)?;
    } else {
        let mut out = String::with_capacity(rows.len() * 60);
        for row in &rows {
            out.push_str(&row.path);
            out.push(' ');
            out.push_str(&row.address);
            out.push('\n');
        }
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
