//! `pocket-dca order …`: create and administer standing orders.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;

use super::context::{Context, print_json};
use crate::format::short_id;
use crate::orders::instructions::{self, Instructions};
use crate::orders::model::{DEFAULT_WALLET_GAP_LIMIT, Day, StoredOrder};
use crate::orders::{self, ChallengeInfo, Changes, CreateOrder, ImportOrder, Plan};
use crate::payment::{Iban, QrImage, render_terminal};
use crate::pocket::{Currency, timestamp};
use crate::wallet::{KeyPath, PayoutKey, ScriptType};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Challenge(ChallengeArgs),
    Create(CreateArgs),
    List(ListArgs),
    Show(ShowArgs),
    Pause(IdArgs),
    Resume(IdArgs),
    Set(SetArgs),
    Import(ImportArgs),
    Refresh(IdArgs),
}

/// The key and the path of the signed address.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Extended public key (xpub/ypub/zpub, tpub/upub/vpub) or descriptor; `-` reads it from stdin
    #[arg(long, value_name = "KEY|DESCRIPTOR")]
    key: String,

    /// Script type for a plain xpub/tpub (ypub/zpub and descriptors fix it) [default: p2pkh]
    #[arg(long, value_name = "TYPE", value_parser = ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"])]
    script_type: Option<String>,

    /// Path of the address that signs, below the key [default: 0/0]
    #[arg(long, value_name = "CHAIN/INDEX")]
    path: Option<String>,
}

/// The local plan: what the reminders say.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Monthly amount to transfer, in the order's currency (e.g. 100 or 250.50)
    #[arg(long)]
    amount: Decimal,

    /// Day of the month of the transfer: 1 to 28, or `last`
    #[arg(long)]
    day: String,

    /// Reminder recipient (repeat for several) [default: [email] to]
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Vec<String>,

    /// A name for the order
    #[arg(long)]
    label: Option<String>,

    /// The gap limit your wallet scans with (Sparrow/Electrum: 20)
    #[arg(long, default_value_t = DEFAULT_WALLET_GAP_LIMIT)]
    wallet_gap_limit: u32,
}

impl PlanArgs {
    fn plan(&self) -> anyhow::Result<Plan> {
        Ok(Plan {
            amount: self.amount,
            day: self.day.parse::<Day>().map_err(anyhow::Error::msg)?,
            emails: self.emails.clone(),
            label: self.label.clone(),
            wallet_gap_limit: self.wallet_gap_limit,
        })
    }
}

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
    #[arg(long)]
    fee_rate: Decimal,

    #[command(flatten)]
    plan: PlanArgs,

    /// Pocket's gap limit for this order [default: Pocket's, 10]
    #[arg(long)]
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

/// List the orders.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca order list --json")]
pub struct ListArgs {
    /// Print JSON: an array of orders as `order show --json` prints them
    #[arg(long)]
    json: bool,
}

/// Show an order with its payment instructions.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca order show 64decab6")]
pub struct ShowArgs {
    /// The order id (a unique prefix is enough)
    id: String,

    /// Print JSON: {"id", "label", "active", "currency", "fee_rate", "amount", "day", "key", "script_type", "derivation_path", "gap_limit", "payment_method", …}
    #[arg(long)]
    json: bool,
}

/// An order id.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca order pause 64decab6")]
pub struct IdArgs {
    /// The order id (a unique prefix is enough)
    id: String,

    /// Print the order as JSON
    #[arg(long)]
    json: bool,
}

/// Change an order: the fee rate at Pocket, the rest locally.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  pocket-dca order set 64decab6 --fee-rate 0.012 --amount 150 --day last"
)]
pub struct SetArgs {
    /// The order id (a unique prefix is enough)
    id: String,

    /// New fee rate, 0.012 to 0.045 (changed at Pocket)
    #[arg(long)]
    fee_rate: Option<Decimal>,

    /// New monthly amount
    #[arg(long)]
    amount: Option<Decimal>,

    /// New day of the month: 1 to 28, or `last`
    #[arg(long)]
    day: Option<String>,

    /// Reminder recipients (repeat for several; replaces the list; "" clears it)
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Option<Vec<String>>,

    /// New name
    #[arg(long)]
    label: Option<String>,

    /// The gap limit your wallet scans with
    #[arg(long)]
    wallet_gap_limit: Option<u32>,

    /// Print the order as JSON
    #[arg(long)]
    json: bool,
}

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

pub(super) async fn run(ctx: &Context<'_>, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Challenge(args) => challenge(ctx, args).await,
        Command::Create(args) => create(ctx, args).await,
        Command::List(args) => list(ctx, args),
        Command::Show(args) => show(ctx, args),
        Command::Pause(args) => set_active(ctx, args, false).await,
        Command::Resume(args) => set_active(ctx, args, true).await,
        Command::Set(args) => set(ctx, args).await,
        Command::Import(args) => import(ctx, args).await,
        Command::Refresh(args) => refresh(ctx, args).await,
    }
}

fn parse_key(
    args: &KeyArgs,
    network: crate::wallet::Network,
) -> anyhow::Result<(String, PayoutKey, KeyPath)> {
    super::context::parse_key(
        &args.key,
        args.script_type.as_deref(),
        args.path.as_deref(),
        Some(network),
    )
}

async fn challenge(ctx: &Context<'_>, args: ChallengeArgs) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let client = ctx.pocket_client(&config)?;
    let (_, key, path) = parse_key(&args.key, config.bitcoin.network)?;
    let info = orders::challenge(&client, &key, &path)
        .await
        .context("while creating the challenge at Pocket")?;
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

fn print_challenge(info: &ChallengeInfo, script_type: ScriptType) {
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

async fn create(ctx: &Context<'_>, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let client = ctx.pocket_client(&config)?;
    let (key_text, key, path) = parse_key(&args.key, config.bitcoin.network)?;
    let currency: Currency = args.currency.parse().map_err(anyhow::Error::msg)?;
    let debitor_iban = Iban::parse(&args.iban)?;
    let plan = args.plan.plan()?;
    orders::validate_fee_rate(args.fee_rate)?;
    orders::validate_plan(&plan)?;
    if key.script_type() == ScriptType::P2tr {
        eprintln!(
            "warning: Pocket does not document taproot xpub payouts; the plain xpub is sent, and Pocket may refuse it"
        );
    }
    let (challenge_id, signature) = match (args.challenge, args.signature) {
        (Some(c), Some(s)) => (c, s),
        _ => {
            if args.key.key == "-" || !std::io::stdin().is_terminal() {
                bail!(
                    "--challenge and --signature are needed when not on a terminal; run `pocket-dca order challenge` first and sign its message"
                );
            }
            let info = orders::challenge(&client, &key, &path)
                .await
                .context("while creating the challenge at Pocket")?;
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
        .context("while creating the order")?;
    if args.json {
        print_json(&order.view())?;
    } else {
        let addresses = store.addresses(&order.id)?;
        println!(
            "order {} created at Pocket and stored with {} expected addresses ({} … {})\n",
            order.id,
            addresses.len(),
            addresses.first().map(|a| a.path.as_str()).unwrap_or("-"),
            addresses.last().map(|a| a.path.as_str()).unwrap_or("-"),
        );
        print_instructions(&order)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Payment instructions and the QR code, for the terminal.
fn print_instructions(order: &StoredOrder) -> anyhow::Result<()> {
    let info = instructions::for_order(order, order.amount, "Bitcoin DCA")
        .context("while building the payment instructions")?;
    print_instruction_lines(order, &info);
    if let Some(code) = &info.code {
        let image = QrImage::new(code.payload(), code.is_swiss())?;
        println!("\n{} (scan it in your banking app):", code.name());
        print!("{}", render_terminal(&image));
    }
    Ok(())
}

fn print_instruction_lines(order: &StoredOrder, info: &Instructions) {
    println!(
        "Pay {} {} every month (day {}) by bank transfer:",
        info.currency.code(),
        info.amount,
        order.day
    );
    println!("  to         {}", info.creditor_name);
    for line in &info.creditor_address {
        println!("             {line}");
    }
    println!("  IBAN       {}", info.iban.formatted());
    match (&info.bic, &info.bank) {
        (Some(bic), Some(bank)) => println!("  BIC        {bic} ({bank})"),
        (Some(bic), None) => println!("  BIC        {bic}"),
        _ => {}
    }
    println!(
        "  reference  {}   <- put it in the payment's reference field, or Pocket cannot match your payment",
        info.reference.formatted()
    );
    if let Ok(iban) = Iban::parse(&info.debitor_iban) {
        println!(
            "  from       {} (a payment from any other account is refunded)",
            iban.formatted()
        );
    }
}

fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let orders = store.orders()?;
    if args.json {
        let views: Vec<_> = orders.iter().map(StoredOrder::view).collect();
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if orders.is_empty() {
        println!("no orders yet; create one with `pocket-dca order create` (see --help)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<8}  {:<20}  {:<6}  {:>12}  {:<4}  {:<11}  {:<7}  REFERENCE",
        "ID", "LABEL", "STATE", "AMOUNT", "DAY", "TYPE", "FEE"
    );
    for order in &orders {
        println!(
            "{:<8}  {:<20}  {:<6}  {:>12}  {:<4}  {:<11}  {:<7}  {}",
            short_id(&order.id),
            order.label.as_deref().unwrap_or("-"),
            if order.active { "active" } else { "paused" },
            format!("{} {}", order.currency.code(), order.amount),
            order.day.to_string(),
            order.script_type.as_str(),
            order.fee_rate.to_string(),
            order
                .payment_method
                .creditor_reference
                .as_deref()
                .unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let order = store
        .order(&id)?
        .ok_or_else(|| anyhow::anyhow!("order {id} vanished"))?;
    if args.json {
        print_json(&order.view())?;
        return Ok(ExitCode::SUCCESS);
    }
    print_order(&order);
    println!();
    print_instructions(&order)?;
    Ok(ExitCode::SUCCESS)
}

fn print_order(order: &StoredOrder) {
    println!("order      {}", order.id);
    if let Some(label) = &order.label {
        println!("label      {label}");
    }
    println!(
        "state      {}",
        if order.active { "active" } else { "paused" }
    );
    println!(
        "plan       {} {} on day {} of the month",
        order.currency.code(),
        order.amount,
        order.day
    );
    println!("fee rate   {}", order.fee_rate);
    println!(
        "payout     {} from {} at {} (gap limit {}, wallet {})",
        order.script_type,
        crate::wallet::network_name(order.network),
        order.derivation_path(),
        order.gap_limit,
        order.wallet_gap_limit
    );
    println!("signed     {}", order.signed_address);
    if !order.emails.is_empty() {
        println!("reminders  {}", order.emails.join(", "));
    }
}

fn print_brief(order: &StoredOrder, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&order.view())
    } else {
        print_order(order);
        Ok(())
    }
}

async fn set_active(ctx: &Context<'_>, args: IdArgs, active: bool) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let client = ctx.pocket_client(&config)?;
    let order = orders::set_active(&client, &store, &id, active, Utc::now())
        .await
        .with_context(|| {
            format!(
                "while {} order {id}",
                if active { "resuming" } else { "pausing" }
            )
        })?;
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}

async fn set(ctx: &Context<'_>, args: SetArgs) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let changes = Changes {
        fee_rate: args.fee_rate,
        amount: args.amount,
        day: args
            .day
            .as_deref()
            .map(str::parse::<Day>)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        emails: args
            .emails
            .map(|list| list.into_iter().filter(|e| !e.trim().is_empty()).collect()),
        label: args.label,
        wallet_gap_limit: args.wallet_gap_limit,
    };
    let client = ctx.pocket_client(&config)?;
    let order = orders::change(&client, &store, &id, &changes, Utc::now())
        .await
        .with_context(|| format!("while changing order {id}"))?;
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}

async fn import(ctx: &Context<'_>, args: ImportArgs) -> anyhow::Result<ExitCode> {
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

async fn refresh(ctx: &Context<'_>, args: IdArgs) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let id = store.resolve_order_id(&args.id)?;
    let client = ctx.pocket_client(&config)?;
    let order = orders::refresh(&client, &mut store, &id, Utc::now())
        .await
        .with_context(|| format!("while refreshing order {id}"))?;
    print_brief(&order, args.json)?;
    Ok(ExitCode::SUCCESS)
}
