//! `pocket-dca order create`: a standing order at Pocket, paid out to the
//! user's key, after every local check.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::bail;
use chrono::Utc;
use rust_decimal::Decimal;

use super::args::{KeyArgs, PlanArgs, at_pocket, parse_key};
use super::challenge::print_challenge;
use super::print::{print_first_reminder, print_instructions};
use crate::cli::context::{Context, print_json};
use crate::orders::{self, CreateOrder};
use crate::payment::Iban;
use crate::pocket::Currency;
use crate::wallet::ScriptType;

/// Create a standing order at Pocket, paid out to your key.
///
/// Everything is checked locally first (IBAN, fee rate, currency, the
/// signature against the address at --path, the challenge), then the order
/// is created at Pocket, stored with its window of expected addresses, and
/// the payment instructions are printed. Without --challenge/--signature on a
/// terminal, it creates the challenge and asks for the signature.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example (sign the message of `order challenge` in Sparrow or Electrum first):
  pocket-dca order create \\
    --key zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs \\
    --path 0/0 --currency eur --iban DE75512108001245126199 --fee-rate 0.015 \\
    --amount 100 --day 1 --label 'monthly stack' --email me@example.com \\
    --challenge 95ab94f0-bd8d-410c-bfc8-b1f27d43b0c0 \\
    --signature H3RN5FFvrFwUCAgBVmRRajL+rZTeiXdc7H4k28JP4TMHWsCTAcTMjhl76ktkgWYdW46b8Z2Le4o4Ls21PC7gdQ0=")]
pub struct CreateArgs {
    #[command(flatten)]
    key: KeyArgs,

    /// Currency you pay in: eur, chf or gbp
    #[arg(long)]
    currency: String,

    /// IBAN of the account you pay from (payments from other accounts are refunded)
    #[arg(long)]
    iban: String,

    /// Pocket's fee rate, 0.012 to 0.045
    #[arg(long, allow_negative_numbers = true, value_parser = crate::format::parse_decimal)]
    fee_rate: Decimal,

    #[command(flatten)]
    plan: PlanArgs,

    /// Pocket's gap limit for this order [default: Pocket's, 10]
    #[arg(long, allow_negative_numbers = true, value_parser = crate::cli::context::whole_number)]
    gap_limit: Option<u32>,

    /// Pocket affiliate id (a UUID)
    #[arg(long)]
    affiliate_id: Option<String>,

    /// The challenge id from `order challenge`
    #[arg(long, requires = "signature")]
    challenge: Option<String>,

    /// Your wallet's signature of the challenge message
    #[arg(long, requires = "challenge", allow_hyphen_values = true)]
    signature: Option<String>,

    /// Print the stored order as JSON
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(ctx: &Context<'_>, args: CreateArgs) -> anyhow::Result<ExitCode> {
    // What can be checked here is checked before anything else is needed.
    let currency: Currency = args.currency.parse().map_err(anyhow::Error::msg)?;
    let debitor_iban = Iban::parse(&args.iban)?;
    let plan = args.plan.plan()?;
    orders::validate_fee_rate(args.fee_rate)?;
    orders::validate_plan(&plan)?;
    let (config, mut store) = ctx.store()?;
    let (key_text, key, path) = parse_key(&args.key, config.bitcoin.network)?;
    let client = ctx.pocket_client(&config)?;
    if key.script_type() == ScriptType::P2tr {
        eprintln!(
            "warning: Pocket does not document taproot xpub payouts; the plain xpub is sent, and Pocket may refuse it"
        );
    }
    let (challenge_id, signature) = match (args.challenge, args.signature) {
        (Some(c), Some(s)) => (c, s),
        _ => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "--challenge and --signature are needed when not on a terminal; run `pocket-dca order challenge` first and sign its message"
                );
            }
            let info = orders::challenge(&client, &store, &key, &path)
                .await
                .map_err(|e| at_pocket(e, "while creating the challenge at Pocket"))?;
            print_challenge(&info, key.script_type());
            print!("\nPaste the signature and press Enter: ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            (info.challenge.id, line.trim().to_string())
        }
    };
    let request = CreateOrder {
        key_text,
        key,
        path,
        currency,
        debitor_iban,
        fee_rate: args.fee_rate,
        gap_limit: args.gap_limit,
        affiliate_id: args.affiliate_id,
        plan,
        challenge_id,
        signature,
    };
    let order = orders::create(&client, &mut store, &request, Utc::now())
        .await
        .map_err(|e| at_pocket(e, "while creating the order at Pocket"))?;
    if args.json {
        print_json(&order.view(false))?;
    } else {
        let addresses = store.addresses(&order.id)?;
        println!(
            "order {} created at Pocket and stored with {} expected addresses ({} … {})\n",
            order.id,
            addresses.len(),
            addresses.first().map_or("-".into(), |a| a.path.to_string()),
            addresses.last().map_or("-".into(), |a| a.path.to_string()),
        );
        print_instructions(&order)?;
        print_first_reminder(&store, &order, &config)?;
    }
    Ok(ExitCode::SUCCESS)
}
