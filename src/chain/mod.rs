//! Don't trust, verify: every payout Pocket reported, checked on the
//! blockchain through the user's own Electrum server or an Esplora API.
//! `rules` and `proof` are pure; `backend` talks to the server (BDK's
//! client crates); `verify` puts them together with the store.

mod backend;
mod error;
pub mod proof;
pub mod rules;
mod scan;
mod spend;
mod verify;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use backend::{Backend, TxFacts};
pub use error::Error;
pub use rules::Status;
pub use scan::{ScanOptions, ScanReport, scan_windows};
pub use verify::{Patience, Report, check_payouts};

use crate::config::{ChainBackend, ChainConfig};
use crate::store::Store;

/// What one check of the chain found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    pub server: String,
    pub payouts: Report,
    pub windows: ScanReport,
    /// New alerts for spent payouts (`[chain] alert_on_spend`; 0 when off).
    pub spent: usize,
}

/// Follows a scan: (orders done, orders).
pub type Progress = Box<dyn FnMut(usize, usize) + Send>;

/// Connects to the configured server, checks every payout and scans every
/// window (of one order, with `options.order`). Blocking.
pub fn check_now(
    config: &ChainConfig,
    store: &mut Store,
    now: DateTime<Utc>,
    options: &ScanOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Checked, Error> {
    let result = Backend::connect(config).and_then(|backend| {
        let server = backend.server()?;
        store.set_chain_state("server", &server)?;
        let patience = Patience::of(config);
        let payouts = check_payouts(&backend, store, patience, options.order.as_ref(), now)?;
        let windows = scan_windows(&backend, store, now, options, progress)?;
        let spent = match config.alert_on_spend {
            true => spend::check_spends(&backend, store, options.order.as_ref(), now)?,
            false => 0,
        };
        Ok(Checked {
            server,
            payouts,
            windows,
            spent,
        })
    });
    match &result {
        Ok(_) => store.set_chain_state("last_error", "")?,
        Err(e) => store.set_chain_state("last_error", &e.to_string())?,
    }
    result
}

/// `check_now` of everything, on a blocking thread with its own
/// connection to the database at `db`, for async callers (`serve`).
pub async fn check(config: ChainConfig, db: PathBuf, now: DateTime<Utc>) -> Result<Checked, Error> {
    check_with(config, db, now, ScanOptions::default(), Box::new(|_, _| {})).await
}

/// `check_now` with options and progress, on a blocking thread.
pub async fn check_with(
    config: ChainConfig,
    db: PathBuf,
    now: DateTime<Utc>,
    options: ScanOptions,
    mut progress: Progress,
) -> Result<Checked, Error> {
    if config.backend == ChainBackend::None {
        return Err(Error::NotConfigured);
    }
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&db)?;
        check_now(&config, &mut store, now, &options, &mut *progress)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}
