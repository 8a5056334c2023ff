//! What the dashboard's handlers share — the database, the sessions, the
//! reminder settings, the network — and the parts every page shows.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::auth::{Auth, Session};
use super::error::WebError;
use super::host::AllowedHosts;
use crate::format::local;
use crate::reminders::Settings;
use crate::store::Store;
use crate::wallet::{Network, network_name};

/// What the dashboard needs.
pub struct DashboardState {
    store: Mutex<Store>,
    pub auth: Arc<Auth>,
    pub settings: Settings,
    network: Network,
    /// `[email] to`: where an order without its own addresses is reminded.
    pub default_recipients: Vec<String>,
    /// `[server] dashboard_note`, shown on the overview.
    pub note: Option<String>,
    /// `[chain] url` is someone else's server.
    pub chain_public: bool,
    /// The `Host` names the dashboard answers to.
    pub hosts: Arc<AllowedHosts>,
}

/// The footer's word on the chain server, when one was ever asked.
fn chain_state(store: &Store) -> Result<Option<String>, WebError> {
    let server = store.chain_state("server")?;
    let error = store.chain_state("last_error")?.filter(|e| !e.is_empty());
    let tip = store.chain_state("tip_height")?;
    Ok(match (server, error, tip) {
        (_, Some(error), _) => Some(format!("unreachable ({error})")),
        (Some(server), None, Some(tip)) => Some(format!("{server}, tip {tip}")),
        (Some(server), None, None) => Some(server),
        (None, None, _) => None,
    })
}

/// The dashboard's state as the handlers take it.
pub type Shared = Arc<DashboardState>;

/// The parts of every page.
pub struct PageInfo {
    pub tab: &'static str,
    pub csrf: String,
    pub login: bool,
    pub open_alerts: usize,
    pub version: &'static str,
    pub network: &'static str,
    pub now: String,
    /// The chain server's state: its name and tip, or its last error.
    pub chain: Option<String>,
}

impl DashboardState {
    pub fn new(store: Store, auth: Auth, settings: Settings, network: Network) -> DashboardState {
        DashboardState {
            store: Mutex::new(store),
            auth: Arc::new(auth),
            settings,
            network,
            default_recipients: Vec::new(),
            note: None,
            chain_public: false,
            hosts: Arc::default(),
        }
    }

    /// The names the dashboard answers to (default: loopback, any port).
    pub fn with_hosts(mut self, hosts: AllowedHosts) -> DashboardState {
        self.hosts = Arc::new(hosts);
        self
    }

    /// Says on every page when the chain server is a public one.
    pub fn with_public_chain(mut self, public: bool) -> DashboardState {
        self.chain_public = public;
        self
    }

    /// A note for the top of the overview.
    pub fn with_note(mut self, note: Option<String>) -> DashboardState {
        self.note = note;
        self
    }

    /// Where reminders go for orders without addresses of their own.
    pub fn with_default_recipients(mut self, recipients: Vec<String>) -> DashboardState {
        self.default_recipients = recipients;
        self
    }

    /// The database, for one request.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The time zone pages show times in.
    pub fn tz(&self) -> Tz {
        self.settings.timezone
    }

    /// An instant in the configured time zone.
    pub fn local(&self, at: DateTime<Utc>) -> String {
        local(at, self.tz())
    }

    /// The header and footer of a page.
    pub fn page(
        &self,
        tab: &'static str,
        session: &Session,
        store: &Store,
    ) -> Result<PageInfo, WebError> {
        Ok(PageInfo {
            tab,
            csrf: session.csrf.clone(),
            login: self.auth.password_required(),
            open_alerts: store.alerts(false)?.len(),
            version: env!("CARGO_PKG_VERSION"),
            network: network_name(self.network),
            now: self.local(Utc::now()),
            chain: chain_state(store)?.map(|state| {
                if self.chain_public {
                    format!("{state} — a public server: it learns every address of your wallets")
                } else {
                    state
                }
            }),
        })
    }
}
