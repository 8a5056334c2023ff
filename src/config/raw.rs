//! The config file as TOML gives it: every section and key optional,
//! unknown keys refused by name; validation turns it into [`super::Config`].

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawFile {
    pub(super) database: RawDatabase,
    pub(super) bitcoin: RawBitcoin,
    pub(super) pocket: RawPocket,
    pub(super) server: RawServer,
    pub(super) email: RawEmail,
    pub(super) reminders: RawReminders,
    pub(super) sync: RawSync,
    pub(super) chain: RawChain,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawChain {
    pub(super) backend: Option<String>,
    pub(super) url: Option<String>,
    pub(super) proxy: Option<String>,
    pub(super) min_confirmations: Option<i64>,
    pub(super) unseen_after_hours: Option<i64>,
    pub(super) interval_minutes: Option<i64>,
    pub(super) alert_on_spend: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSync {
    pub(super) interval_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDatabase {
    pub(super) path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawBitcoin {
    pub(super) network: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPocket {
    pub(super) base_url: Option<String>,
    pub(super) timeout_secs: Option<i64>,
    pub(super) client_id: Option<String>,
    pub(super) webhook_secret: Option<OneOrMany>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawServer {
    pub(super) webhook_listen: Option<String>,
    pub(super) dashboard_listen: Option<String>,
    pub(super) dashboard_password_hash: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) dashboard_note: Option<String>,
    pub(super) dashboard_hosts: Option<OneOrMany>,
    pub(super) trusted_proxies: Option<OneOrMany>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawEmail {
    pub(super) from: Option<String>,
    pub(super) to: Option<OneOrMany>,
    pub(super) smtp_url: Option<String>,
    pub(super) outbox_dir: Option<String>,
    pub(super) timeout_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawReminders {
    pub(super) timezone: Option<String>,
    pub(super) hour: Option<i64>,
    pub(super) missed_after_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "must be a string or a list of strings")]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// An optional string where `""` means "not set" (as `example.toml` writes it).
pub(super) fn set(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}
