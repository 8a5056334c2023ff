//! The configuration: one TOML file (shape documented in `example.toml`),
//! secrets from environment variables, validated into [`Config`] with errors
//! that name the key. Relative paths are resolved from the file's folder, so
//! the same file works from a shell and under systemd.
//!
//! Secrets are wrapped in [`Secret`], which prints as `***`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bitcoin::Network;
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;
use url::Url;

use crate::wallet::{network_name, parse_network};

/// The file used when neither `--config` nor `$POCKET_DCA_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "pocket-dca.toml";
/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "POCKET_DCA_CONFIG";
pub const CLIENT_ID_ENV: &str = "POCKET_CLIENT_ID";
pub const WEBHOOK_SECRET_ENV: &str = "POCKET_WEBHOOK_SECRET";
pub const SMTP_PASSWORD_ENV: &str = "SMTP_PASSWORD";

pub const DEFAULT_DATABASE_PATH: &str = "pocket-dca.sqlite3";
pub const DEFAULT_NETWORK: Network = Network::Bitcoin;
pub const DEFAULT_POCKET_BASE_URL: &str = "https://api.pocketbitcoin.com";
/// How long a Pocket API call may take before it is given up, in seconds.
pub const DEFAULT_POCKET_TIMEOUT_SECS: u64 = 30;
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

/// The commented config that `pocket-dca init` writes; also the shape test.
pub const EXAMPLE: &str = include_str!("../example.toml");

/// A value that must never be printed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("config file"),
            Source::Env(name) => write!(f, "${name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from; `None` for built-in defaults.
    pub file: Option<PathBuf>,
    pub database: DatabaseConfig,
    pub bitcoin: BitcoinConfig,
    pub pocket: PocketConfig,
    pub server: ServerConfig,
    pub email: EmailConfig,
    pub reminders: RemindersConfig,
    pub sync: SyncConfig,
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Minutes between syncs; 0 turns the scheduled sync off.
    pub interval_minutes: u32,
}

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
}

#[derive(Debug, Clone)]
pub struct RemindersConfig {
    pub timezone: Tz,
    pub hour: u8,
    pub missed_after_days: u32,
}

/// One thing wrong in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, as `section.key`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no config file at {path}; run `pocket-dca init` to create one, or pass --config FILE (or set ${CONFIG_ENV})"
    )]
    NotFound { path: PathBuf },
    #[error("cannot read the config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not valid config TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {}", format_problems(.problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads environment variables; a closure in tests, `std::env::var` in the binary.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

fn env_value(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Which config file to use: the flag, else `$POCKET_DCA_CONFIG`, else
/// `pocket-dca.toml` in the working directory. `explicit` is false only for
/// the last, where a missing file is not an error for commands that can run
/// without one.
pub fn locate(flag: Option<&Path>, env: &dyn Env) -> (PathBuf, bool) {
    if let Some(path) = flag {
        return (path.to_path_buf(), true);
    }
    if let Some(path) = env_value(env, CONFIG_ENV) {
        return (PathBuf::from(path), true);
    }
    (PathBuf::from(DEFAULT_CONFIG_FILE), false)
}

// ------------------------------------------------------------------ raw file

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFile {
    database: RawDatabase,
    bitcoin: RawBitcoin,
    pocket: RawPocket,
    server: RawServer,
    email: RawEmail,
    reminders: RawReminders,
    sync: RawSync,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSync {
    interval_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDatabase {
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawBitcoin {
    network: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPocket {
    base_url: Option<String>,
    timeout_secs: Option<i64>,
    client_id: Option<String>,
    webhook_secret: Option<OneOrMany>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    webhook_listen: Option<String>,
    dashboard_listen: Option<String>,
    dashboard_password_hash: Option<String>,
    public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEmail {
    from: Option<String>,
    to: Option<OneOrMany>,
    smtp_url: Option<String>,
    outbox_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawReminders {
    timezone: Option<String>,
    hour: Option<i64>,
    missed_after_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// An optional string where `""` means "not set" (as `example.toml` writes it).
fn set(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Config {
    /// Loads and validates a config file.
    pub fn load(path: &Path, env: &dyn Env) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                Error::Read {
                    path: path.to_path_buf(),
                    cause,
                }
            }
        })?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = absolute
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut config = Config::parse(&text, &base, env).map_err(|e| match e {
            Error::Syntax { message, .. } => Error::Syntax {
                path: path.to_path_buf(),
                message,
            },
            Error::Invalid { problems, .. } => Error::Invalid {
                path: path.to_path_buf(),
                problems,
            },
            other => other,
        })?;
        config.file = Some(absolute);
        Ok(config)
    }

    /// Built-in defaults with relative paths under `base` (no file).
    pub fn defaults(base: &Path, env: &dyn Env) -> Result<Config, Error> {
        Config::parse("", base, env)
    }

    /// Parses config text; relative paths are resolved from `base`.
    pub fn parse(text: &str, base: &Path, env: &dyn Env) -> Result<Config, Error> {
        let raw: RawFile = toml::from_str(text).map_err(|e| Error::Syntax {
            path: PathBuf::from("config"),
            message: e.to_string().trim().replace('\n', " ").replace("  ", " "),
        })?;
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(Problem {
                key: key.to_string(),
                message,
            })
        };
        let resolve = |p: &str| {
            let path = PathBuf::from(p);
            if path.is_absolute() {
                path
            } else {
                base.join(path)
            }
        };

        let database = DatabaseConfig {
            path: resolve(&set(raw.database.path).unwrap_or_else(|| DEFAULT_DATABASE_PATH.into())),
        };

        let network = match set(raw.bitcoin.network) {
            None => DEFAULT_NETWORK,
            Some(text) => parse_network(&text).unwrap_or_else(|e| {
                problem("bitcoin.network", e.to_string());
                DEFAULT_NETWORK
            }),
        };

        let base_url_text =
            set(raw.pocket.base_url).unwrap_or_else(|| DEFAULT_POCKET_BASE_URL.into());
        let base_url = match parse_http_url(&base_url_text) {
            Ok(url) => {
                if url.path().trim_end_matches('/').ends_with("/v1") {
                    problem(
                        "pocket.base_url",
                        format!(
                            "`{base_url_text}` ends in /v1; give the API root without it, like {DEFAULT_POCKET_BASE_URL}"
                        ),
                    );
                }
                Some(url)
            }
            Err(message) => {
                problem("pocket.base_url", message);
                None
            }
        };
        let timeout_secs = match raw.pocket.timeout_secs {
            None => DEFAULT_POCKET_TIMEOUT_SECS,
            Some(t) if (1..=600).contains(&t) => t as u64,
            Some(t) => {
                problem(
                    "pocket.timeout_secs",
                    format!("{t} is not a sensible timeout; write 1 to 600 seconds"),
                );
                DEFAULT_POCKET_TIMEOUT_SECS
            }
        };
        let client_id = match env_value(env, CLIENT_ID_ENV) {
            Some(v) => Some((Secret(v), Source::Env(CLIENT_ID_ENV))),
            None => set(raw.pocket.client_id).map(|v| (Secret(v), Source::File)),
        };
        let (webhook_secrets, webhook_secret_source) = match env_value(env, WEBHOOK_SECRET_ENV) {
            Some(v) => (split_secrets(&v), Source::Env(WEBHOOK_SECRET_ENV)),
            None => match raw.pocket.webhook_secret {
                Some(v) => (
                    v.into_vec()
                        .into_iter()
                        .filter_map(|s| set(Some(s)))
                        .map(Secret)
                        .collect(),
                    Source::File,
                ),
                None => (Vec::new(), Source::Default),
            },
        };

        let mut listen = |key: &str, value: Option<String>, default: &str| {
            let text = set(value).unwrap_or_else(|| default.into());
            text.parse::<SocketAddr>()
                .map_err(|_| {
                    problem(
                        key,
                        format!(
                            "`{text}` is not an address to listen on; write IP:PORT, like {default}"
                        ),
                    )
                })
                .ok()
        };
        let webhook_listen = listen(
            "server.webhook_listen",
            raw.server.webhook_listen,
            DEFAULT_WEBHOOK_LISTEN,
        );
        let dashboard_listen = listen(
            "server.dashboard_listen",
            raw.server.dashboard_listen,
            DEFAULT_DASHBOARD_LISTEN,
        );
        let dashboard_password_hash = set(raw.server.dashboard_password_hash).and_then(|hash| {
            if hash.starts_with("$argon2") {
                Some(Secret(hash))
            } else {
                problem(
                    "server.dashboard_password_hash",
                    "is not an argon2 hash; create one with `pocket-dca hash-password`".into(),
                );
                None
            }
        });
        let public_url = set(raw.server.public_url).and_then(|text| match parse_http_url(&text) {
            Ok(url) => Some(url),
            Err(message) => {
                problem("server.public_url", message);
                None
            }
        });

        let from = set(raw.email.from).and_then(|text| match text.parse::<Mailbox>() {
            Ok(mailbox) => Some(mailbox),
            Err(e) => {
                problem(
                    "email.from",
                    format!("`{text}` is not an e-mail address ({e})"),
                );
                None
            }
        });
        let to = raw
            .email
            .to
            .map(OneOrMany::into_vec)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|text| set(Some(text)))
            .filter_map(|text| match text.parse::<Mailbox>() {
                Ok(mailbox) => Some(mailbox),
                Err(e) => {
                    problem(
                        "email.to",
                        format!("`{text}` is not an e-mail address ({e})"),
                    );
                    None
                }
            })
            .collect();
        let smtp_url = set(raw.email.smtp_url).and_then(|text| match parse_smtp_url(&text) {
            Ok(url) => Some(url),
            Err(message) => {
                problem("email.smtp_url", message);
                None
            }
        });
        let outbox_dir = set(raw.email.outbox_dir).map(|p| resolve(&p));
        let smtp_password = env_value(env, SMTP_PASSWORD_ENV).map(Secret);

        let timezone_text =
            set(raw.reminders.timezone).unwrap_or_else(|| DEFAULT_REMINDER_TIMEZONE.into());
        let timezone = timezone_text.parse::<Tz>().unwrap_or_else(|_| {
            problem(
                "reminders.timezone",
                format!("`{timezone_text}` is not an IANA time zone; write one like Europe/Zurich or Europe/Berlin"),
            );
            chrono_tz::Europe::Zurich
        });
        let hour = match raw.reminders.hour {
            None => DEFAULT_REMINDER_HOUR,
            Some(h) if (0..=23).contains(&h) => h as u8,
            Some(h) => {
                problem(
                    "reminders.hour",
                    format!("{h} is not an hour of the day; write 0 to 23"),
                );
                DEFAULT_REMINDER_HOUR
            }
        };

        let missed_after_days = match raw.reminders.missed_after_days {
            None => DEFAULT_MISSED_AFTER_DAYS,
            Some(d) if (1..=27).contains(&d) => d as u32,
            Some(d) => {
                problem(
                    "reminders.missed_after_days",
                    format!("{d} is not a number of days between 1 and 27"),
                );
                DEFAULT_MISSED_AFTER_DAYS
            }
        };
        let interval_minutes = match raw.sync.interval_minutes {
            None => DEFAULT_SYNC_INTERVAL_MINUTES,
            Some(m) if (0..=10_080).contains(&m) => m as u32,
            Some(m) => {
                problem(
                    "sync.interval_minutes",
                    format!("{m} is not a number of minutes between 0 (off) and 10080 (a week)"),
                );
                DEFAULT_SYNC_INTERVAL_MINUTES
            }
        };

        let (Some(base_url), Some(webhook_listen), Some(dashboard_listen), true) = (
            base_url,
            webhook_listen,
            dashboard_listen,
            problems.is_empty(),
        ) else {
            return Err(Error::Invalid {
                path: PathBuf::from("config"),
                problems,
            });
        };
        Ok(Config {
            file: None,
            database,
            bitcoin: BitcoinConfig { network },
            pocket: PocketConfig {
                base_url,
                client_id,
                webhook_secrets,
                webhook_secret_source,
                timeout: std::time::Duration::from_secs(timeout_secs),
            },
            server: ServerConfig {
                webhook_listen,
                dashboard_listen,
                dashboard_password_hash,
                public_url,
            },
            email: EmailConfig {
                from,
                to,
                smtp_url,
                smtp_password,
                outbox_dir,
            },
            reminders: RemindersConfig {
                timezone,
                hour,
                missed_after_days,
            },
            sync: SyncConfig { interval_minutes },
        })
    }

    /// The effective settings as `key → value`, secrets shown as `***`.
    pub fn describe(&self) -> BTreeMap<&'static str, String> {
        let mut out = BTreeMap::new();
        let opt = |v: Option<String>| v.unwrap_or_else(|| "(not set)".into());
        out.insert("database.path", self.database.path.display().to_string());
        out.insert("bitcoin.network", network_name(self.bitcoin.network).into());
        out.insert("pocket.base_url", self.pocket.base_url.to_string());
        out.insert(
            "pocket.timeout_secs",
            self.pocket.timeout.as_secs().to_string(),
        );
        out.insert(
            "pocket.client_id",
            opt(self
                .pocket
                .client_id
                .as_ref()
                .map(|(s, src)| format!("{s} ({src})"))),
        );
        out.insert(
            "pocket.webhook_secret",
            if self.pocket.webhook_secrets.is_empty() {
                "(not set)".into()
            } else {
                format!(
                    "{} ({})",
                    vec!["***"; self.pocket.webhook_secrets.len()].join(", "),
                    self.pocket.webhook_secret_source
                )
            },
        );
        out.insert(
            "server.webhook_listen",
            self.server.webhook_listen.to_string(),
        );
        out.insert(
            "server.dashboard_listen",
            self.server.dashboard_listen.to_string(),
        );
        out.insert(
            "server.dashboard_password_hash",
            opt(self
                .server
                .dashboard_password_hash
                .as_ref()
                .map(Secret::to_string)),
        );
        out.insert(
            "server.public_url",
            opt(self.server.public_url.as_ref().map(Url::to_string)),
        );
        out.insert(
            "email.from",
            opt(self.email.from.as_ref().map(Mailbox::to_string)),
        );
        out.insert(
            "email.to",
            if self.email.to.is_empty() {
                "(not set)".into()
            } else {
                self.email
                    .to
                    .iter()
                    .map(Mailbox::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        out.insert(
            "email.smtp_url",
            opt(self.email.smtp_url.as_ref().map(Url::to_string)),
        );
        out.insert(
            "email.smtp_password",
            opt(self
                .email
                .smtp_password
                .as_ref()
                .map(|s| format!("{s} (${SMTP_PASSWORD_ENV})"))),
        );
        out.insert(
            "email.outbox_dir",
            opt(self
                .email
                .outbox_dir
                .as_ref()
                .map(|p| p.display().to_string())),
        );
        out.insert("reminders.timezone", self.reminders.timezone.name().into());
        out.insert("reminders.hour", self.reminders.hour.to_string());
        out.insert(
            "reminders.missed_after_days",
            self.reminders.missed_after_days.to_string(),
        );
        out.insert(
            "sync.interval_minutes",
            self.sync.interval_minutes.to_string(),
        );
        out
    }

    /// What the config leaves out that a feature will need, with the fix.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.pocket.client_id.is_none() {
            notes.push(format!(
                "pocket.client_id is not set: orders cannot be created or fetched; set ${CLIENT_ID_ENV} (Pocket gives the id to approved developers)"
            ));
        }
        if self.pocket.webhook_secrets.is_empty() {
            notes.push(format!(
                "pocket.webhook_secret is not set: webhooks will be refused; set ${WEBHOOK_SECRET_ENV} to the secret agreed with Pocket"
            ));
        }
        if self.email.smtp_url.is_none() && self.email.outbox_dir.is_none() {
            notes.push(
                "neither email.smtp_url nor email.outbox_dir is set: reminders and alerts cannot be delivered".into(),
            );
        } else if self.email.from.is_none() {
            notes.push("email.from is not set: e-mails need a sender address".into());
        }
        if self.email.to.is_empty() {
            notes.push(
                "email.to is not set: reminders go only to orders that have their own --email"
                    .into(),
            );
        }
        if !self.server.dashboard_listen.ip().is_loopback()
            && self.server.dashboard_password_hash.is_none()
        {
            notes.push(format!(
                "server.dashboard_listen {} is not a loopback address and no dashboard_password_hash is set: `serve` will refuse to start",
                self.server.dashboard_listen
            ));
        }
        notes
    }
}

fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!(
            "`{text}` has the scheme {other}; use an https:// (or http:// on loopback) URL"
        )),
    }
}

fn parse_smtp_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| {
        format!("`{text}` is not a URL ({e}); write smtp://host:25, smtp://user@host:587?tls=required or smtps://user@host:465")
    })?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(format!(
            "`{}` must start with smtp:// or smtps://",
            redact_url(&url)
        ));
    }
    if url.password().is_some() {
        return Err(format!(
            "`{}` contains a password; remove it from the URL and set ${SMTP_PASSWORD_ENV} instead",
            redact_url(&url)
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host"));
    }
    Ok(url)
}

fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

fn split_secrets(value: &str) -> Vec<Secret> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Secret(s.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn example_toml_loads_with_its_documented_defaults() {
        let config = Config::parse(EXAMPLE, Path::new("/etc/pocket-dca"), &no_env).unwrap();
        assert_eq!(
            config.database.path,
            Path::new("/etc/pocket-dca").join(DEFAULT_DATABASE_PATH)
        );
        assert_eq!(config.bitcoin.network, DEFAULT_NETWORK);
        assert_eq!(
            config.pocket.base_url.as_str(),
            "https://api.pocketbitcoin.com/"
        );
        assert_eq!(
            config.server.webhook_listen.to_string(),
            DEFAULT_WEBHOOK_LISTEN
        );
        assert_eq!(
            config.server.dashboard_listen.to_string(),
            DEFAULT_DASHBOARD_LISTEN
        );
        assert_eq!(config.reminders.timezone, chrono_tz::Europe::Zurich);
        assert_eq!(config.reminders.hour, DEFAULT_REMINDER_HOUR);
        assert!(config.pocket.client_id.is_none());
        assert!(config.pocket.webhook_secrets.is_empty());
    }

    #[test]
    fn example_toml_documents_every_key() {
        let config = Config::parse(EXAMPLE, Path::new("/"), &no_env).unwrap();
        for key in config.describe().keys() {
            if *key == "email.smtp_password" {
                continue; // environment only
            }
            let (section, name) = key.split_once('.').unwrap();
            assert!(EXAMPLE.contains(&format!("[{section}]")), "{section}");
            assert!(
                EXAMPLE.lines().any(|l| l.starts_with(&format!("{name} ="))),
                "{key} is not in example.toml"
            );
        }
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = Config::parse("[bitcoin]\nnetwrk = \"bitcoin\"\n", Path::new("/"), &no_env)
            .unwrap_err();
        assert!(err.to_string().contains("netwrk"), "{err}");
        let err = Config::parse("[smtp]\nhost = \"x\"\n", Path::new("/"), &no_env).unwrap_err();
        assert!(err.to_string().contains("smtp"), "{err}");
    }

    #[test]
    fn every_problem_is_named() {
        let text = r#"
[bitcoin]
network = "mainet"
[pocket]
base_url = "ftp://x"
[server]
webhook_listen = "localhost"
[email]
from = "not an address"
smtp_url = "smtp://me:hunter2@mail.example.com"
[reminders]
timezone = "Mars/Olympus"
hour = 24
"#;
        let Error::Invalid { problems, .. } =
            Config::parse(text, Path::new("/"), &no_env).unwrap_err()
        else {
            panic!("not a validation error")
        };
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "bitcoin.network",
                "pocket.base_url",
                "server.webhook_listen",
                "email.from",
                "email.smtp_url",
                "reminders.timezone",
                "reminders.hour"
            ]
        );
        // The SMTP password in the URL is not repeated in the message.
        assert!(!format!("{problems:?}").contains("hunter2"));
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_print() {
        let env = |name: &str| match name {
            CLIENT_ID_ENV => Some("client-123".to_string()),
            WEBHOOK_SECRET_ENV => Some("new-secret, old-secret".to_string()),
            SMTP_PASSWORD_ENV => Some("smtp-pass".to_string()),
            _ => None,
        };
        let text = "[pocket]\nclient_id = \"from-file\"\nwebhook_secret = \"file-secret\"\n";
        let config = Config::parse(text, Path::new("/"), &env).unwrap();
        let (client_id, source) = config.pocket.client_id.clone().unwrap();
        assert_eq!(client_id.expose(), "client-123");
        assert_eq!(source, Source::Env(CLIENT_ID_ENV));
        let secrets: Vec<_> = config
            .pocket
            .webhook_secrets
            .iter()
            .map(Secret::expose)
            .collect();
        assert_eq!(secrets, ["new-secret", "old-secret"]);
        let shown = format!("{:?} {:?}", config, config.describe());
        for secret in ["client-123", "new-secret", "old-secret", "smtp-pass"] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn webhook_secret_may_be_a_list_and_to_a_single_address() {
        let text = "[pocket]\nwebhook_secret = [\"a\", \"b\"]\n[email]\nto = \"me@example.com\"\n";
        let config = Config::parse(text, Path::new("/"), &no_env).unwrap();
        assert_eq!(config.pocket.webhook_secrets.len(), 2);
        assert_eq!(config.email.to.len(), 1);
    }
}
