//! `pocket-dca sandbox`: run the local Pocket simulator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use rust_decimal::Decimal;

use super::context::Context;
use crate::pocket::Btc;
use crate::sandbox::{self, Options};
use crate::wallet::parse_network;

/// Run a local simulator of the Pocket API to try the tool without an account.
///
/// It answers Pocket's endpoints under /v1 (and refuses what Pocket would
/// refuse), plays the bank, the clock and the blockchain under /sandbox
/// (POST /sandbox/payments, /sandbox/exchanges/ID/identify,
/// /sandbox/exchanges/ID/payout, /sandbox/payouts, /sandbox/blocks,
/// /sandbox/clock, /sandbox/prices, /sandbox/webhooks) and posts signed
/// webhooks to --webhook-url. Its chain is real (signed payout
/// transactions, mined blocks) and served over the Electrum protocol on
/// --electrum-listen, for [chain] backend = "electrum".
///
/// Error codes: Pocket documents only those of PATCH /v1/exchanges/ID
/// (in_progress, already_completed, invoice_amount, invoice_network,
/// invoice_expired, unexpected_node_pubkey, invalid_invoice,
/// channel_payout_not_allowed, node_address_required, connect) and the
/// refund reasons. Every other code (invalid_fee_rate, challenge_expired,
/// invalid_signature, …) is the sandbox's own name for a refusal Pocket does
/// not document; GET /sandbox/errors lists each with its source.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  pocket-dca sandbox --listen 127.0.0.1:8472 --client-id try-me \\
    --webhook-url http://127.0.0.1:8470/webhooks/pocket --webhook-secret s3cret --network testnet
  # then, as the bank:
  curl -X POST 127.0.0.1:8472/sandbox/payments -d '{\"reference\": \"RF…\", \"amount\": 100, \"currency\": \"eur\", \"debitor_iban\": \"DE75512108001245126199\"}'
  curl -X POST 127.0.0.1:8472/sandbox/payouts")]
pub struct Args {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8472")]
    listen: SocketAddr,

    /// Address of the sandbox chain's Electrum server (for `[chain] url = "tcp://…"`)
    #[arg(long, default_value = "127.0.0.1:8473")]
    electrum_listen: SocketAddr,

    /// The client id requests must carry
    #[arg(long, env = "POCKET_CLIENT_ID", hide_env_values = true)]
    client_id: String,

    /// Where to post webhooks (e.g. the tool's http://127.0.0.1:8470/webhooks/pocket)
    #[arg(long)]
    webhook_url: Option<url::Url>,

    /// The secret webhooks are signed with
    #[arg(
        long,
        env = "POCKET_WEBHOOK_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    webhook_secret: String,

    /// bitcoin, testnet, signet or regtest [default: the config's network, else testnet]
    #[arg(long)]
    network: Option<String>,

    /// Keep the sandbox's state in this SQLite file [default: in memory]
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// How long a challenge stays valid (e.g. 24h, 30m, 90s)
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    challenge_ttl: Duration,

    /// Delay before the first webhook retry; it doubles after each (e.g. 5m, 2s)
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    retry_base: Duration,

    /// Post the bare exchange object instead of the {"event", "payload"} envelope
    #[arg(long)]
    bare_webhooks: bool,

    /// A payment above this amount is interrupted until the user identifies
    #[arg(long, default_value = "1000", allow_negative_numbers = true)]
    identification_threshold: Decimal,

    /// Payments of one order and day above this are refunded (threshold_exceeded)
    #[arg(long, default_value = "5000", allow_negative_numbers = true)]
    daily_limit: Decimal,

    /// Network fee of a payout output, in satoshis
    #[arg(long, default_value_t = 190, allow_negative_numbers = true)]
    payout_fee_sat: u64,
}

/// Parses `90s`, `30m`, `24h`, `2d`, `250ms` or plain seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 90s, 30m, 24h"))?;
    let unit_ms: u64 = match unit {
        "" | "s" => 1000,
        "ms" => 1,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}`; use ms, s, m, h or d"
            ));
        }
    };
    Ok(Duration::from_millis(n.saturating_mul(unit_ms)))
}

pub(super) async fn run(ctx: &Context<'_>, args: Args) -> anyhow::Result<ExitCode> {
    let network = match &args.network {
        Some(n) => parse_network(n)?,
        None => ctx
            .config_if_present()?
            .map(|c| c.bitcoin.network)
            .unwrap_or(bitcoin::Network::Testnet),
    };
    let mut options = Options::new(&args.client_id, network);
    options.webhook_url = args.webhook_url.clone();
    options.webhook_secret = args.webhook_secret.clone();
    options.challenge_ttl = args.challenge_ttl;
    options.retry_base = args.retry_base;
    options.bare_webhooks = args.bare_webhooks;
    options.identification_threshold = args.identification_threshold;
    options.daily_limit = args.daily_limit;
    options.payout_fee = Btc::from_sat(args.payout_fee_sat);
    let engine = sandbox::engine(options, args.state.as_deref())
        .context("while opening the sandbox state")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("while listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let electrum = tokio::net::TcpListener::bind(args.electrum_listen)
        .await
        .with_context(|| format!("while listening on {}", args.electrum_listen))?;
    let electrum_addr = electrum.local_addr()?;
    {
        use std::io::Write as _;
        // A closed stdout must not stop the sandbox.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "sandbox: http://{addr} (network {}, webhooks to {})",
            crate::wallet::network_name(network),
            args.webhook_url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_else(|| "nowhere".into())
        );
        let _ = writeln!(out, "electrum: tcp://{electrum_addr} (the sandbox's chain)");
        let _ = writeln!(
            out,
            "set [pocket] base_url = \"http://{addr}\" and POCKET_CLIENT_ID to the client id; Ctrl-C stops"
        );
        let _ = out.flush();
    }
    sandbox::serve(
        engine,
        listener,
        electrum,
        super::context::shutdown_signal(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}
