//! `pocket-dca demo`: the whole tool on one machine, for real. The sandbox
//! and the service run in this process on free loopback ports with a fresh
//! database; a wallet generated in memory signs two orders (EUR to P2WPKH,
//! CHF to taproot); then twelve months, and this one up to today, are
//! played through the sandbox — reminders into the outbox, payments, an
//! identification interruption, a refund, end-of-day payout batches — so
//! that webhooks, reconciliation and reminders all run as they would
//! against Pocket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Datelike, Duration as ChronoDuration, TimeZone, Utc};
use rust_decimal::Decimal;
use tokio::net::TcpListener;

use super::{self as service, scheduler};
use crate::config::{Config, ProcessEnv};
use crate::mail::Mailer;
use crate::orders::model::{DEFAULT_WALLET_GAP_LIMIT, Day, StoredOrder};
use crate::orders::{self, CreateOrder, Plan};
use crate::payment::Iban;
use crate::pocket::{Client, Currency, RetryPolicy};
use crate::reminders::{self, Period, Settings};
use crate::sandbox::wallet::HotWallet;
use crate::sandbox::{self, Options, PaymentRequest, Prices};
use crate::store::Store;
use crate::wallet::{KeyPath, Network, PayoutKey, ScriptType};

/// The file that marks a folder as the demo's own, safe to recreate.
const MARKER: &str = ".pocket-dca-demo";
/// The client id the demo's sandbox takes.
const CLIENT_ID: &str = "demo";
/// Months replayed.
pub const MONTHS: u32 = 12;
/// The account the demo "pays" from.
const DEBITOR: &str = "DE75512108001245126199";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{0} exists and is not a pocket-dca demo folder (no {MARKER} file); choose another --dir or remove it"
    )]
    NotADemoDir(PathBuf),
    #[error("cannot prepare {path}: {cause}")]
    Dir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("the demo failed while {during}: {cause}")]
    Step { during: &'static str, cause: String },
}

fn step<E: std::fmt::Display>(during: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Step {
        during,
        cause: e.to_string(),
    }
}

/// A running demo.
pub struct Demo {
    pub dashboard: String,
    pub config: PathBuf,
    pub outbox: PathBuf,
    service: service::Running,
    sandbox: sandbox::Running,
    scheduler: Option<tokio_cron_scheduler::JobScheduler>,
}

impl Demo {
    /// Stops the service (storing what it received) and the sandbox.
    pub async fn stop(mut self) {
        if let Some(mut scheduler) = self.scheduler.take() {
            let _ = scheduler.shutdown().await;
        }
        let _ = self.service.stop().await;
        self.sandbox.stop().await;
    }
}

/// Uses `dir` when it is new, empty or an earlier demo's (then it is
/// recreated); refuses any other folder.
fn prepare(dir: &Path) -> Result<(), Error> {
    let fail = |cause| Error::Dir {
        path: dir.to_path_buf(),
        cause,
    };
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(fail)?.next().is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                return Err(Error::NotADemoDir(dir.to_path_buf()));
            }
            std::fs::remove_dir_all(dir).map_err(fail)?;
        }
    }
    std::fs::create_dir_all(dir.join("outbox")).map_err(fail)?;
    std::fs::write(
        dir.join(MARKER),
        "Made by `pocket-dca demo`; the next demo run deletes and recreates this folder.\n",
    )
    .map_err(fail)?;
    Ok(())
}

/// What the demo's overview says about itself.
const DEMO_NOTE: &str = "This is the demo: a year of purchases was replayed up to last month, against the sandbox. This month's purchase has not come, so a missed-order alert may be open: that is expected here. E-mails went to the outbox folder, not to anyone.";

/// Where the demo's parts listen.
struct Addresses<'a> {
    base_url: &'a str,
    webhooks: &'a str,
    dashboard: &'a str,
    electrum: &'a str,
}

fn config_text(a: &Addresses<'_>, secret: &str) -> String {
    let (base_url, webhooks, dashboard, electrum) =
        (a.base_url, a.webhooks, a.dashboard, a.electrum);
    format!(
        "# Written by `pocket-dca demo`: the demo's database, sandbox and outbox.\n\
         # Try: pocket-dca --config THIS_FILE exchanges\n\n\
         [database]\npath = \"pocket-dca.sqlite3\"\n\n\
         [bitcoin]\nnetwork = \"testnet\"\n\n\
         [pocket]\nbase_url = \"{base_url}\"\nclient_id = \"{CLIENT_ID}\"\nwebhook_secret = \"{secret}\"\n\n\
         [server]\nwebhook_listen = \"{webhooks}\"\ndashboard_listen = \"{dashboard}\"\n\
         dashboard_note = \"{DEMO_NOTE}\"\n\n\
         [email]\nfrom = \"pocket-dca demo <demo@localhost>\"\nto = \"you@example.com\"\noutbox_dir = \"outbox\"\n\n\
         [reminders]\ntimezone = \"Europe/Zurich\"\nhour = 9\n\n\
         [sync]\ninterval_minutes = 30\n\n\
         [chain]\nbackend = \"electrum\"\nurl = \"{electrum}\"\n"
    )
}

/// The sandbox's price in month `i`: a gentle cycle on a rising trend,
/// around `base_cents`.
fn price(i: u32, base_cents: i64) -> Decimal {
    const WAVE: [i64; 12] = [0, 6, 10, 7, 1, -6, -9, -5, 2, 9, 13, 11];
    let percent = 100 + WAVE[(i % 12) as usize] + i as i64 * 3;
    // cents × percent: four decimals, then to the cent.
    Decimal::new(base_cents * percent, 4).round_dp(2)
}

/// Runs the demo in `dir`; `progress(month)` is called after each month.
pub async fn run(dir: &Path, progress: impl Fn(u32)) -> Result<Demo, Error> {
    prepare(dir)?;
    let dir = std::path::absolute(dir).map_err(|cause| Error::Dir {
        path: dir.to_path_buf(),
        cause,
    })?;
    let bind = || async { TcpListener::bind("127.0.0.1:0").await };
    let (sandbox_listener, webhook_listener, dashboard_listener) = (
        bind().await.map_err(step("listening"))?,
        bind().await.map_err(step("listening"))?,
        bind().await.map_err(step("listening"))?,
    );
    let address = |l: &TcpListener| l.local_addr().map(|a| a.to_string());
    let sandbox_addr = address(&sandbox_listener).map_err(step("listening"))?;
    let webhook_addr = address(&webhook_listener).map_err(step("listening"))?;
    let dashboard_addr = address(&dashboard_listener).map_err(step("listening"))?;
    let secret = hex::encode(uuid::Uuid::new_v4().as_bytes());
    let base_url = format!("http://{sandbox_addr}");
    // The sandbox posts its webhooks to the service.
    let mut options = Options::new(CLIENT_ID, Network::Testnet);
    options.webhook_url = Some(
        format!("http://{webhook_addr}/webhooks/pocket")
            .parse()
            .map_err(step("configuring the sandbox"))?,
    );
    options.webhook_secret = secret.clone();
    options.retry_base = Duration::from_secs(2);
    let sandbox = sandbox::start_on(
        options,
        Some(&dir.join("sandbox.sqlite3")),
        sandbox_listener,
    )
    .await
    .map_err(step("starting the sandbox"))?;
    let config_path = dir.join("pocket-dca.toml");
    let addresses = Addresses {
        base_url: &base_url,
        webhooks: &webhook_addr,
        dashboard: &dashboard_addr,
        electrum: &sandbox.electrum_url(),
    };
    std::fs::write(&config_path, config_text(&addresses, &secret))
        .map_err(step("writing the config"))?;
    let config = Config::load(&config_path, &ProcessEnv).map_err(step("reading the config"))?;
    let service = service::start_on(&config, webhook_listener, dashboard_listener, false)
        .await
        .map_err(step("starting the service"))?;
    let demo = Demo {
        dashboard: format!("http://{dashboard_addr}"),
        config: config_path,
        outbox: dir.join("outbox"),
        service,
        sandbox,
        scheduler: None,
    };
    match play(&config, &demo, progress).await {
        Ok(()) => {}
        Err(e) => {
            demo.stop().await;
            return Err(e);
        }
    }
    let mut demo = demo;
    demo.scheduler = Some(go_live(&config).await?);
    Ok(demo)
}

/// From now on the service runs on the real clock: this month's reminders,
/// if due, go out now, as after a restart of `serve`, and the chain
/// confirms the replayed payouts on the dashboard at once.
async fn go_live(config: &Config) -> Result<tokio_cron_scheduler::JobScheduler, Error> {
    let pass = scheduler::ReminderPass::new(config);
    pass.run(Utc::now()).await;
    let (chain, db) = (config.chain.clone(), config.database.path.clone());
    if let Err(e) = crate::chain::check(chain, db, Utc::now()).await {
        tracing::warn!(error = %e, "demo: chain check failed");
    }
    scheduler::start(config, pass)
        .await
        .map_err(step("starting the scheduler"))
}

/// Plays twelve months through the sandbox, and this month up to today.
async fn play(config: &Config, demo: &Demo, progress: impl Fn(u32)) -> Result<(), Error> {
    let engine = &demo.sandbox.engine;
    let client_id = config
        .pocket
        .client_id
        .as_ref()
        .map(|(c, _)| c)
        .ok_or_else(|| step::<&str>("configuring")("no client id"))?;
    let client = Client::with_options(
        &config.pocket.base_url,
        client_id,
        Duration::from_secs(10),
        RetryPolicy::default(),
    )
    .map_err(step("connecting to the sandbox"))?;
    let mut store = Store::open(&config.database.path).map_err(step("opening the database"))?;
    let month = Month {
        engine,
        mailer: Mailer::from_config(&config.email).map_err(step("setting up the outbox"))?,
        settings: Settings::from_config(config),
    };
    let tz = month.settings.timezone;

    // Twelve months ending with the last full one.
    let mut first = Period::of(Utc::now(), tz);
    for _ in 0..MONTHS {
        first = first.previous();
    }
    engine
        .set_clock(first.start(tz) - ChronoDuration::days(3))
        .map_err(step("setting the sandbox clock"))?;
    let created = create_orders(&client, &mut store, engine).await?;
    let set_prices = |i: u32| {
        engine
            .set_prices(Prices {
                eur: price(i, 5_800_000),
                chf: price(i, 5_400_000),
                gbp: price(i, 5_000_000),
            })
            .map_err(step("setting prices"))
    };
    let mut period = first;
    for i in 0..MONTHS {
        set_prices(i)?;
        for order in &created {
            month.play(&mut store, order, period, i).await?;
        }
        progress(i + 1);
        period = period.next();
    }
    // And this month's purchases whose day is two days past (what they
    // bring is done by then): the demo ends today with nothing missing.
    set_prices(MONTHS)?;
    for order in &created {
        let due = reminders::due_at(period, order.day, month.settings.hour, tz);
        if due + ChronoDuration::days(2) <= Utc::now() {
            month.play(&mut store, order, period, MONTHS).await?;
        }
    }
    engine
        .set_clock(Utc::now())
        .map_err(step("setting the sandbox clock"))?;
    Ok(())
}

/// Two orders, signed by a wallet that exists only in memory: EUR to
/// P2WPKH on the 1st, CHF to taproot on the 15th.
async fn create_orders(
    client: &Client,
    store: &mut Store,
    engine: &sandbox::Engine,
) -> Result<Vec<StoredOrder>, Error> {
    let wallet = HotWallet::generate(Network::Testnet);
    let plans = [
        (
            ScriptType::P2wpkh,
            Currency::Eur,
            100,
            Day::Of(1),
            "EUR stack",
        ),
        (
            ScriptType::P2tr,
            Currency::Chf,
            150,
            Day::Of(15),
            "CHF stack",
        ),
    ];
    let mut created = Vec::new();
    for (script_type, currency, amount, day, label) in plans {
        let descriptor = wallet
            .account_descriptor(script_type)
            .map_err(step("deriving the demo wallet"))?;
        let key = PayoutKey::parse(&descriptor, None, Some(Network::Testnet))
            .map_err(step("reading the demo key"))?;
        let path: KeyPath = key.default_path();
        let info = orders::challenge(client, store, &key, &path)
            .await
            .map_err(step("creating a challenge"))?;
        let signature = wallet
            .sign(script_type, &path, &info.message)
            .map_err(step("signing the challenge"))?;
        let now = engine.now().map_err(step("reading the sandbox clock"))?;
        let request = CreateOrder {
            key_text: descriptor,
            key,
            path,
            currency,
            debitor_iban: Iban::parse(DEBITOR).map_err(step("reading the IBAN"))?,
            fee_rate: Decimal::new(15, 3),
            gap_limit: None,
            affiliate_id: None,
            plan: Plan {
                amount: Decimal::new(amount, 0),
                day,
                emails: Vec::new(),
                label: Some(label.to_string()),
                wallet_gap_limit: DEFAULT_WALLET_GAP_LIMIT,
            },
            challenge_id: info.challenge.id,
            signature,
        };
        let order = orders::create(client, store, &request, now)
            .await
            .map_err(step("creating an order"))?;
        created.push(order);
    }
    Ok(created)
}

/// What a month of the demo needs.
struct Month<'a> {
    engine: &'a sandbox::Engine,
    mailer: Mailer,
    settings: Settings,
}

impl Month<'_> {
    /// One order's month: the reminder into the outbox, the transfer the
    /// next morning (month 4 of the EUR order needs an identification,
    /// month 7 of the CHF order is first paid from the wrong account), the
    /// evening's payout batch and a block.
    async fn play(
        &self,
        store: &mut Store,
        order: &StoredOrder,
        period: Period,
        month: u32,
    ) -> Result<(), Error> {
        let (engine, tz) = (self.engine, self.settings.timezone);
        let clock = |at| {
            engine
                .set_clock(at)
                .map_err(step("setting the sandbox clock"))
        };
        let due = reminders::due_at(period, order.day, self.settings.hour, tz);
        clock(due)?;
        reminders::run_due(store, &self.mailer, &self.settings, due)
            .await
            .map_err(step("sending a reminder"))?;
        let morning = due + ChronoDuration::hours(25);
        clock(morning)?;
        let reference = order
            .payment_method
            .creditor_reference
            .clone()
            .unwrap_or_default();
        let pay = |amount: Decimal, iban: &str| {
            engine
                .payment(&PaymentRequest {
                    reference: reference.clone(),
                    amount,
                    currency: order.currency.as_str().to_string(),
                    debitor_iban: iban.to_string(),
                })
                .map_err(step("paying"))
        };
        if order.currency == Currency::Eur && month == 4 {
            // A larger top-up: Pocket asks for identification first.
            let interrupted = pay(Decimal::new(1200, 0), DEBITOR)?;
            clock(due + ChronoDuration::hours(30))?;
            engine
                .identify(&interrupted.id)
                .map_err(step("identifying"))?;
        } else if order.currency == Currency::Chf && month == 7 {
            // Paid from the wrong account first: refunded, then paid right.
            pay(order.amount, "CH9300762011623852957")?;
            pay(order.amount, DEBITOR)?;
        } else {
            pay(order.amount, DEBITOR)?;
        }
        // End of day: the payout batch, then a block.
        let local = morning.with_timezone(&tz);
        let evening = tz
            .with_ymd_and_hms(local.year(), local.month(), local.day(), 22, 0, 0)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(due + ChronoDuration::hours(37));
        clock(evening)?;
        engine.run_payouts().map_err(step("running payouts"))?;
        engine.mine(1).map_err(step("mining"))?;
        settle(engine, store).await
    }
}

/// Waits until the sandbox delivered every webhook and the service processed it.
async fn settle(engine: &sandbox::Engine, store: &Store) -> Result<(), Error> {
    for _ in 0..600 {
        let pending_out = engine
            .pending_webhooks()
            .map_err(step("waiting for webhooks"))?;
        let pending_in = store
            .pending_deliveries(1)
            .map_err(step("waiting for webhooks"))?
            .len();
        if pending_out == 0 && pending_in == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(Error::Step {
        during: "waiting for webhooks",
        cause: "deliveries still pending after 6 s".into(),
    })
}
