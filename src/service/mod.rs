//! The processes: `serve` — the webhook listener, the dashboard listener and
//! the scheduler in one process, stopped gracefully (requests in flight
//! finish, queued deliveries are committed and processed, the database is
//! checkpointed) — its [`scheduler`], and the [`demo`] that runs it all
//! against the sandbox. The composition roots, together.

pub mod demo;
pub mod scheduler;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::deliveries::processor::Processor;
use crate::deliveries::writer::DeliveryWriter;
use crate::reminders::Settings;
use crate::store;
use crate::web::auth::Auth;
use crate::web::host::AllowedHosts;
use crate::web::{self, Counters, DashboardState, WebhookState};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "server.dashboard_listen {0} is not a loopback address and no server.dashboard_password_hash is set: \
         the dashboard would be open to the network without a password; set a password hash, or listen on 127.0.0.1"
    )]
    OpenDashboard(SocketAddr),
    #[error("cannot listen on {addr} ({what}): {cause}; is another program using the port?")]
    Listen {
        addr: SocketAddr,
        what: &'static str,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Deliveries(#[from] crate::deliveries::Error),
    #[error("the scheduler failed: {0}")]
    Scheduler(String),
    #[error("the server failed: {0}")]
    Server(std::io::Error),
}

/// A running service.
pub struct Running {
    pub webhook_addr: SocketAddr,
    pub dashboard_addr: SocketAddr,
    pub counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl Running {
    /// Stops gracefully and waits until everything is stored.
    pub async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| Error::Server(std::io::Error::other(e)))?
    }
}

/// Checks what `serve` refuses to start with.
pub fn check(config: &Config) -> Result<(), Error> {
    let dashboard = config.server.dashboard_listen;
    if !dashboard.ip().is_loopback() && config.server.dashboard_password_hash.is_none() {
        return Err(Error::OpenDashboard(dashboard));
    }
    Ok(())
}

/// Binds the configured addresses and starts the listeners and the
/// scheduler in the background.
pub async fn start(config: &Config) -> Result<Running, Error> {
    let bind = |addr: SocketAddr, what: &'static str| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|cause| Error::Listen { addr, what, cause })
    };
    let webhook_listener = bind(config.server.webhook_listen, "webhooks").await?;
    let dashboard_listener = bind(config.server.dashboard_listen, "dashboard").await?;
    start_on(config, webhook_listener, dashboard_listener, true).await
}

/// The dashboard's state: its own database connection and what it shows
/// from the config.
fn dashboard_state(
    config: &Config,
    db: &std::path::Path,
    listen: SocketAddr,
) -> Result<DashboardState, Error> {
    let mut names = config.server.dashboard_hosts.clone();
    if let Some(host) = config.server.public_url.as_ref().and_then(|u| u.host_str()) {
        names.push(host.to_ascii_lowercase());
    }
    let recipients = config
        .email
        .to
        .iter()
        .map(|m| m.email.to_string())
        .collect();
    Ok(DashboardState::new(
        store::Store::open(db)?,
        Auth::new(config.server.dashboard_password_hash.clone())
            .with_trusted_proxies(config.server.trusted_proxies.clone()),
        Settings::from_config(config),
        config.bitcoin.network,
    )
    .with_default_recipients(recipients)
    .with_note(config.server.dashboard_note.clone())
    .with_public_chain(config.chain.is_public())
    .with_hosts(AllowedHosts::new(listen, names)))
}

/// Starts on listeners bound by the caller; without `scheduler`, nothing
/// runs on a timer (the demo replays months with its own clock first).
pub async fn start_on(
    config: &Config,
    webhook_listener: TcpListener,
    dashboard_listener: TcpListener,
    scheduler: bool,
) -> Result<Running, Error> {
    check(config)?;
    let db = config.database.path.clone();
    // Migrate once before the threads open their own connections, and
    // refuse a damaged file: what is written to it now may be lost.
    store::Store::open(&db)?.quick_check()?;
    let writer = Arc::new(DeliveryWriter::start(&db)?);
    let processor = Arc::new(Processor::start(&db, writer.intake())?);
    let counters = Arc::new(Counters::default());
    if config.pocket.webhook_secrets.is_empty() {
        tracing::warn!(
            "no webhook secret configured: every webhook will be refused (401); set POCKET_WEBHOOK_SECRET"
        );
    }
    let state = Arc::new(WebhookState {
        secrets: config.pocket.webhook_secrets.clone(),
        writer: writer.clone(),
        processor: processor.clone(),
        counters: counters.clone(),
    });
    let webhook_addr = webhook_listener.local_addr().map_err(Error::Server)?;
    let dashboard_addr = dashboard_listener.local_addr().map_err(Error::Server)?;
    let mut scheduler = if scheduler {
        let pass = scheduler::ReminderPass::new(config);
        let jobs = scheduler::start(config, pass.clone())
            .await
            .map_err(|e| Error::Scheduler(e.to_string()))?;
        // A reminder missed while the service was down goes out now, not at
        // the next tick (a tick while this runs is skipped: they share a lock).
        tokio::spawn(async move { pass.run(chrono::Utc::now()).await });
        Some(jobs)
    } else {
        None
    };

    let (stop, stopped) = watch::channel(false);
    let until = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let webhooks = axum::serve(webhook_listener, web::webhook_router(state))
        .with_graceful_shutdown(until(stopped.clone()));
    let dashboard_state = Arc::new(dashboard_state(config, &db, dashboard_addr)?);
    // With the peer's address: the login's limits count by it.
    let dashboard = axum::serve(
        dashboard_listener,
        web::dashboard_router(dashboard_state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(until(stopped));
    let task = tokio::spawn(async move {
        let (a, b) = tokio::join!(webhooks.into_future(), dashboard.into_future());
        if let Some(scheduler) = scheduler.as_mut() {
            let _ = scheduler.shutdown().await;
        }
        // Everything acknowledged is committed; then processed.
        writer.close();
        processor.close();
        a.map_err(Error::Server)?;
        b.map_err(Error::Server)?;
        Ok(())
    });
    tracing::info!(%webhook_addr, %dashboard_addr, "serving");
    Ok(Running {
        webhook_addr,
        dashboard_addr,
        counters,
        stop,
        task,
    })
}

/// Runs until `shutdown` resolves.
pub async fn serve(
    config: &Config,
    shutdown: impl Future<Output = ()>,
    on_start: impl FnOnce(&Running),
) -> Result<(), Error> {
    let running = start(config).await?;
    on_start(&running);
    shutdown.await;
    tracing::info!("shutting down: finishing requests and storing what was received");
    running.stop().await
}
