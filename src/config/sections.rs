//! The validated settings, a struct per section of the config file, with
//! the defaults of their keys.

use std::net::SocketAddr;
use std::path::PathBuf;

use bitcoin::Network;
use chrono_tz::Tz;
use lettre::message::Mailbox;
use url::Url;

use super::secret::{Secret, Source};

pub const DEFAULT_DATABASE_PATH: &str = "pocket-dca.sqlite3";
pub const DEFAULT_NETWORK: Network = Network::Bitcoin;
pub const DEFAULT_POCKET_BASE_URL: &str = "https://api.pocketbitcoin.com";
/// How long a Pocket API call may take before it is given up, in seconds.
pub const DEFAULT_POCKET_TIMEOUT_SECS: u64 = 30;
/// The longest wait for one SMTP step, in seconds.
pub const DEFAULT_SMTP_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_WEBHOOK_LISTEN: &str = "127.0.0.1:8470";
pub const DEFAULT_DASHBOARD_LISTEN: &str = "127.0.0.1:8471";
pub const DEFAULT_REMINDER_TIMEZONE: &str = "Europe/Zurich";
/// Local hour of the reminder e-mail on its day (0–23).
pub const DEFAULT_REMINDER_HOUR: u8 = 9;
/// Days after the reminder day without a purchase before the
/// missed-standing-order alert.
pub const DEFAULT_MISSED_AFTER_DAYS: u32 = 5;
/// Minutes between two syncs with Pocket while `serve` runs.
pub const DEFAULT_SYNC_INTERVAL_MINUTES: u32 = 30;

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct BitcoinConfig {
    pub network: Network,
}

#[derive(Debug, Clone)]
pub struct PocketConfig {
    /// The API root, without `/v1`.
    pub base_url: Url,
    pub client_id: Option<(Secret, Source)>,
    /// Several during a rotation; any of them verifies a webhook.
    pub webhook_secrets: Vec<Secret>,
    pub webhook_secret_source: Source,
    /// How long an API call may take.
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub webhook_listen: SocketAddr,
    pub dashboard_listen: SocketAddr,
    /// An argon2 PHC string; without it the dashboard stays on loopback.
    pub dashboard_password_hash: Option<Secret>,
    /// The public base URL Pocket reaches the webhook endpoint at.
    pub public_url: Option<Url>,
    /// A line shown at the top of the dashboard's overview.
    pub dashboard_note: Option<String>,
    /// More names the dashboard answers to (`host` or `host:port`, lower
    /// case), e.g. a reverse proxy's; see `web::host`.
    pub dashboard_hosts: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    /// `smtp://host:port` (plain or `?tls=required` STARTTLS) or `smtps://host:port`.
    pub smtp_url: Option<Url>,
    pub smtp_password: Option<Secret>,
    /// Write `.eml` files here instead of sending.
    pub outbox_dir: Option<PathBuf>,
    /// The longest wait for any one SMTP step (connect, greeting, a command).
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct RemindersConfig {
    pub timezone: Tz,
    pub hour: u8,
    pub missed_after_days: u32,
}

/// Which chain server verifies payouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainBackend {
    /// No verification on the chain (Pocket's word only).
    None,
    /// An Electrum server (electrs, Fulcrum, ElectrumX).
    Electrum,
    /// An Esplora REST API (a self-hosted mempool or esplora).
    Esplora,
}

impl ChainBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainBackend::None => "none",
            ChainBackend::Electrum => "electrum",
            ChainBackend::Esplora => "esplora",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChainConfig {
    pub backend: ChainBackend,
    /// `tcp://host:50001` or `ssl://host:50002` (Electrum),
    /// `https://host/api` (Esplora).
    pub url: Option<Url>,
    /// A SOCKS5 proxy `host:port`, e.g. Tor's 127.0.0.1:9050.
    pub proxy: Option<String>,
    pub min_confirmations: u32,
    pub unseen_after_hours: u32,
    pub interval_minutes: u32,
    /// Alert when the coins of a confirmed payout are spent.
    pub alert_on_spend: bool,
}

impl ChainConfig {
    /// Whether the server is someone else's: not loopback, not a private
    /// network, not an onion service. It learns every address scanned.
    pub fn is_public(&self) -> bool {
        self.url
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|host| !is_private_host(&host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_someone_elses_server_is_public() {
        let cases = [
            ("127.0.0.1", true),
            ("localhost", true),
            ("192.168.1.20", true),
            ("10.0.0.5", true),
            ("172.16.3.4", true),
            ("[::1]", true),
            ("fd12::1", true),
            ("umbrel.local", true),
            ("abcdefghijklmnop.onion", true),
            ("electrum.blockstream.info", false),
            ("8.8.8.8", false),
            ("mempool.space", false),
        ];
        for (host, private) in cases {
            assert_eq!(is_private_host(host), private, "{host}");
        }
    }
}

/// Loopback, private ranges, link-local, `.local` and `.onion` hosts.
pub fn is_private_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host == "localhost" || host.ends_with(".onion") || host.ends_with(".local") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Minutes between syncs; 0 turns the scheduled sync off.
    pub interval_minutes: u32,
}
