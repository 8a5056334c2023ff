//! `pocket-dca verify-message`: check a signed message locally.

use std::process::ExitCode;

use serde_json::json;

use super::context::{Context, print_json};
use crate::wallet::{parse_address, verify_message};

/// Verify that a message was signed by the key of an address.
///
/// Accepts legacy signatures (Bitcoin Core, Electrum, Sparrow, BIP-137
/// headers for segwit) and BIP-322 simple and full signatures (with or
/// without the smp/ful prefix; the only way for taproot). Exit code 0 when
/// valid, 1 with the reason when not.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  pocket-dca verify-message --address 17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY \\
    --message 'I confirm my bitcoin wallet. [7v7t4Fmb]' \\
    --signature IKiJsfsAta7Id7Seq+j8EEfpFUj2LCVDRjQ+ZC3/akv+VfUznwmq9mkxQtvqz8NTr0t6VnmTBcsEhHLMQYixHZM=")]
pub struct Args {
    /// The address that should have signed
    #[arg(long)]
    address: String,

    /// The exact message that was signed (quote it; whitespace counts)
    #[arg(long)]
    message: String,

    /// The signature, base64 as the wallet shows it
    #[arg(long, allow_hyphen_values = true)]
    signature: String,

    /// Print JSON: {"valid", "format"} or {"valid": false, "error"}
    #[arg(long)]
    json: bool,
}

pub(super) fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let address = parse_address(&args.address)?;
    match verify_message(&address, &args.message, &args.signature) {
        Ok(format) => {
            if args.json {
                print_json(
                    &json!({"valid": true, "format": format.as_str(), "address": address.to_string()}),
                )?;
            } else {
                println!("valid: {format} signature by {address}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            if args.json {
                print_json(
                    &json!({"valid": false, "error": err.to_string(), "address": address.to_string()}),
                )?;
            } else {
                eprintln!("invalid: {err}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
