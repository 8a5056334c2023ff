//! Scheduled work inside `serve`, on tokio-cron-scheduler: one UTC tick a
//! minute that asks the domain code what is due (sync, the chain check,
//! reminders, missed orders, alert e-mails).
//! A tick that finds nothing due does nothing, so daylight saving and a
//! service that was down are handled by the domain code, not the cron table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::config::{ChainBackend, Config};
use crate::mail::Mailer;
use crate::pocket::{Client, RetryPolicy};
use crate::reconcile;
use crate::reminders::{self, Settings};
use crate::store::Store;

/// Every minute at second 0 (six fields, seconds first).
const TICK: &str = "0 * * * * *";

/// Starts the scheduler with its jobs; `pass` is the reminder pass the
/// caller may also run at once (a clone shares its lock, so two passes
/// never send at the same time).
pub async fn start(config: &Config, pass: ReminderPass) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    if let Some(job) = sync_job(config)? {
        scheduler.add(job).await?;
    }
    if let Some(job) = chain_job(config)? {
        scheduler.add(job).await?;
    }
    scheduler
        .add(Job::new_async(TICK, move |_, _| {
            let pass = pass.clone();
            Box::pin(async move { pass.run(Utc::now()).await })
        })?)
        .await?;
    scheduler.start().await?;
    Ok(scheduler)
}

fn sync_job(config: &Config) -> Result<Option<Job>, JobSchedulerError> {
    let interval = Duration::from_secs(u64::from(config.sync.interval_minutes) * 60);
    if interval.is_zero() {
        tracing::info!("scheduled sync is off ([sync] interval_minutes = 0)");
        return Ok(None);
    }
    let Some((client_id, _)) = config.pocket.client_id.clone() else {
        tracing::warn!("no Pocket client id: the scheduled sync is off");
        return Ok(None);
    };
    let client = match Client::with_options(
        &config.pocket.base_url,
        &client_id,
        config.pocket.timeout,
        RetryPolicy::default(),
    ) {
        Ok(client) => Arc::new(client),
        Err(e) => {
            tracing::error!(error = %e, "the scheduled sync is off");
            return Ok(None);
        }
    };
    let db = config.database.path.clone();
    let last: Arc<Mutex<Option<Instant>>> = Arc::default();
    let job = Job::new_async(TICK, move |_, _| {
        let (client, db, last) = (client.clone(), db.clone(), last.clone());
        Box::pin(async move {
            // A run still going holds the lock: this tick is skipped.
            let Ok(mut last) = last.try_lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < interval) {
                return;
            }
            *last = Some(Instant::now());
            run_sync(&client, &db).await;
        })
    })?;
    Ok(Some(job))
}

/// The on-chain check: every `[chain] interval_minutes`, and at the next
/// tick after a payout arrives that was not checked yet.
fn chain_job(config: &Config) -> Result<Option<Job>, JobSchedulerError> {
    let interval = Duration::from_secs(u64::from(config.chain.interval_minutes) * 60);
    if config.chain.backend == ChainBackend::None || interval.is_zero() {
        return Ok(None);
    }
    if config.chain.is_public() {
        tracing::warn!(
            "[chain] url is a public server: it learns every address of your wallets; prefer your own node"
        );
    }
    let (chain, db) = (config.chain.clone(), config.database.path.clone());
    let last: Arc<Mutex<Option<Instant>>> = Arc::default();
    let job = Job::new_async(TICK, move |_, _| {
        let (chain, db, last) = (chain.clone(), db.clone(), last.clone());
        Box::pin(async move {
            let Ok(mut last) = last.try_lock() else {
                return;
            };
            let due = last.is_none_or(|at| at.elapsed() >= interval);
            let fresh = Store::open(&db)
                .and_then(|s| s.unchecked_payouts())
                .unwrap_or(0)
                > 0;
            if !due && !fresh {
                return;
            }
            *last = Some(Instant::now());
            match crate::chain::check(chain, db, Utc::now()).await {
                Ok(checked) => tracing::info!(
                    payouts = checked.payouts.checked,
                    confirmed = checked.payouts.confirmed,
                    unseen = checked.payouts.unseen,
                    mismatch = checked.payouts.mismatch,
                    addresses = checked.windows.addresses,
                    unexplained = checked.windows.unexplained,
                    "chain check done"
                ),
                Err(e) => tracing::warn!(error = %e, "chain check failed"),
            }
        })
    })?;
    Ok(Some(job))
}

async fn run_sync(client: &Client, db: &std::path::Path) {
    let mut store = match Store::open(db) {
        Ok(store) => store,
        Err(e) => {
            tracing::error!(error = %e, "sync: cannot open the database");
            return;
        }
    };
    match reconcile::sync::sync(client, &mut store, Utc::now()).await {
        Ok(report) => {
            for error in &report.errors {
                tracing::warn!(%error, "sync: could not check");
            }
            tracing::info!(
                checked = report.exchanges_checked,
                changed = report.exchanges_changed,
                orders = report.orders_refreshed,
                "sync done"
            );
        }
        Err(e) => tracing::error!(error = %e, "sync failed"),
    }
}

/// One pass of the reminder work: missed orders, due reminders, alert e-mails.
#[derive(Clone)]
pub struct ReminderPass {
    db: std::path::PathBuf,
    settings: Settings,
    mailer: Option<Arc<Mailer>>,
    busy: Arc<Mutex<()>>,
}

impl ReminderPass {
    pub fn new(config: &Config) -> ReminderPass {
        let mailer = match Mailer::from_config(&config.email) {
            Ok(mailer) => Some(Arc::new(mailer)),
            Err(e) => {
                tracing::warn!(error = %e, "reminders and alerts will not be e-mailed");
                None
            }
        };
        ReminderPass {
            db: config.database.path.clone(),
            settings: Settings::from_config(config),
            mailer,
            busy: Arc::default(),
        }
    }

    /// Runs the pass for `now`; a pass still running (this one or a clone)
    /// makes this one return: two passes would both find a reminder unsent
    /// and both send it.
    pub async fn run(&self, now: chrono::DateTime<Utc>) {
        let Ok(_busy) = self.busy.try_lock() else {
            return;
        };
        let mut store = match Store::open(&self.db) {
            Ok(store) => store,
            Err(e) => {
                tracing::error!(error = %e, "reminders: cannot open the database");
                return;
            }
        };
        if let Err(e) = reminders::detect_missed_orders(&store, &self.settings, now) {
            tracing::error!(error = %e, "missed-order check failed");
        }
        let Some(mailer) = &self.mailer else {
            return;
        };
        match reminders::run_due(&mut store, mailer, &self.settings, now).await {
            Ok(done) => {
                for (order, period, outcome) in done {
                    tracing::info!(%order, %period, ?outcome, "reminder");
                }
            }
            Err(e) => tracing::error!(error = %e, "reminders failed"),
        }
        if let Err(e) =
            reminders::mail_alerts(&mut store, mailer, self.settings.timezone, now).await
        {
            tracing::error!(error = %e, "alert e-mails failed");
        }
    }
}
