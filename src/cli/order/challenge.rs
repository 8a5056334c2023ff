//! `pocket-dca order challenge`: a challenge at Pocket and the message to
//! sign in the wallet.

use std::process::ExitCode;

use serde_json::json;

use super::args::{KeyArgs, at_pocket, parse_key};
use crate::cli::context::{Context, print_json};
use crate::orders::{self, ChallengeInfo};
use crate::pocket::timestamp;
use crate::wallet::ScriptType;

/// Create a challenge and show the message to sign in your wallet.
///
/// Prints the address at --path (the one that signs), the exact message and
/// the challenge id for `order create`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  pocket-dca order challenge --key zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs")]
pub struct ChallengeArgs {
    #[command(flatten)]
    key: KeyArgs,

    /// Print JSON: {"challenge_id", "token", "expires_on", "message", "address", "path"}
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, args: ChallengeArgs) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let (_, key, path) = parse_key(&args.key, config.bitcoin.network)?;
    let info = orders::challenge(&client, &store, &key, &path)
        .await
        .map_err(|e| at_pocket(e, "while creating the challenge at Pocket"))?;
    if args.json {
        print_json(&json!({
            "challenge_id": info.challenge.id,
            "token": info.challenge.token,
            "expires_on": timestamp::format(&info.challenge.expires_on),
            "message": info.message,
            "address": info.address.to_string(),
            "path": info.path.to_string(),
        }))?;
    } else {
        print_challenge(&info, key.script_type());
        println!(
            "\nThen: pocket-dca order create --key … --path {} --challenge {} --signature SIGNATURE …",
            info.path, info.challenge.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_challenge(info: &ChallengeInfo, script_type: ScriptType) {
    println!("challenge  {}", info.challenge.id);
    println!(
        "expires    {}",
        timestamp::format(&info.challenge.expires_on)
    );
    println!("address    {} (path {})", info.address, info.path);
    println!("message    {}", info.message);
    println!("\nSign the message exactly as shown, with the address above:");
    println!(
        "  Sparrow:  Tools → Sign/Verify Message, choose the address, paste the message, Sign"
    );
    println!("  Electrum: Addresses tab → right-click the address → Sign/verify message");
    if script_type == ScriptType::P2tr {
        println!(
            "  (a taproot address is signed with BIP-322; Sparrow does this for taproot wallets)"
        );
    }
}
