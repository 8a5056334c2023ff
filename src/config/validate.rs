//! Validation of the config file, one function per section: each reads its
//! raw section, notes every problem by key (so that one run names them all)
//! and returns the typed section.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use lettre::message::Mailbox;
use url::Url;

use super::raw::{
    OneOrMany, RawBitcoin, RawDatabase, RawEmail, RawPocket, RawReminders, RawServer, RawSync, set,
};
use super::secret::{
    CLIENT_ID_ENV, Env, SMTP_PASSWORD_ENV, Secret, Source, WEBHOOK_SECRET_ENV, env_value,
};
use super::sections::*;
use crate::wallet::parse_network;

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

/// The problems found so far.
#[derive(Debug, Default)]
pub(super) struct Problems(pub Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, key: &str, message: String) {
        self.0.push(Problem {
            key: key.to_string(),
            message,
        });
    }

    /// A value, or its problem noted and `None`.
    pub(super) fn check<T>(&mut self, key: &str, value: Result<T, String>) -> Option<T> {
        value.map_err(|message| self.add(key, message)).ok()
    }
}

/// An integer setting within `range`, else its default and a problem that
/// says what to write (`what` completes "{value} is not …").
pub(super) fn ranged<T: TryFrom<i64>>(
    problems: &mut Problems,
    key: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    default: T,
    what: &str,
) -> T {
    match value {
        None => default,
        Some(v) if range.contains(&v) => T::try_from(v).unwrap_or(default),
        Some(v) => {
            problems.add(key, format!("{v} is not {what}"));
            default
        }
    }
}

/// A path as written, relative ones from `base` (the config file's folder).
pub(super) fn resolve(base: &Path, text: &str) -> PathBuf {
    let path = PathBuf::from(text);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

pub(super) fn database(raw: RawDatabase, base: &Path) -> DatabaseConfig {
    DatabaseConfig {
        path: resolve(
            base,
            &set(raw.path).unwrap_or_else(|| DEFAULT_DATABASE_PATH.into()),
        ),
    }
}

pub(super) fn bitcoin(raw: RawBitcoin, problems: &mut Problems) -> BitcoinConfig {
    let network = match set(raw.network) {
        None => DEFAULT_NETWORK,
        Some(text) => problems
            .check(
                "bitcoin.network",
                parse_network(&text).map_err(|e| e.to_string()),
            )
            .unwrap_or(DEFAULT_NETWORK),
    };
    BitcoinConfig { network }
}

pub(super) fn pocket(
    raw: RawPocket,
    env: &dyn Env,
    problems: &mut Problems,
) -> Option<PocketConfig> {
    let text = set(raw.base_url).unwrap_or_else(|| DEFAULT_POCKET_BASE_URL.into());
    let base_url = problems.check("pocket.base_url", parse_http_url(&text));
    if base_url
        .as_ref()
        .is_some_and(|url| url.path().trim_end_matches('/').ends_with("/v1"))
    {
        problems.add(
            "pocket.base_url",
            format!(
                "`{text}` ends in /v1; give the API root without it, like {DEFAULT_POCKET_BASE_URL}"
            ),
        );
    }
    let timeout_secs = ranged(
        problems,
        "pocket.timeout_secs",
        raw.timeout_secs,
        1..=600,
        DEFAULT_POCKET_TIMEOUT_SECS,
        "a sensible timeout; write 1 to 600 seconds",
    );
    let client_id = match env_value(env, CLIENT_ID_ENV) {
        Some(v) => Some((Secret(v), Source::Env(CLIENT_ID_ENV))),
        None => set(raw.client_id).map(|v| (Secret(v), Source::File)),
    };
    let (webhook_secrets, webhook_secret_source) = match env_value(env, WEBHOOK_SECRET_ENV) {
        Some(v) => (split_secrets(&v), Source::Env(WEBHOOK_SECRET_ENV)),
        None => match raw.webhook_secret {
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
    Some(PocketConfig {
        base_url: base_url?,
        client_id,
        webhook_secrets,
        webhook_secret_source,
        timeout: std::time::Duration::from_secs(timeout_secs),
    })
}

fn listen(
    problems: &mut Problems,
    key: &str,
    value: Option<String>,
    default: &str,
) -> Option<SocketAddr> {
    let text = set(value).unwrap_or_else(|| default.into());
    problems.check(
        key,
        text.parse::<SocketAddr>().map_err(|_| {
            format!("`{text}` is not an address to listen on; write IP:PORT, like {default}")
        }),
    )
}

pub(super) fn server(raw: RawServer, problems: &mut Problems) -> Option<ServerConfig> {
    let webhook_listen = listen(
        problems,
        "server.webhook_listen",
        raw.webhook_listen,
        DEFAULT_WEBHOOK_LISTEN,
    );
    let dashboard_listen = listen(
        problems,
        "server.dashboard_listen",
        raw.dashboard_listen,
        DEFAULT_DASHBOARD_LISTEN,
    );
    let dashboard_password_hash = set(raw.dashboard_password_hash).and_then(|hash| {
        let argon2 = hash
            .starts_with("$argon2")
            .then_some(Secret(hash))
            .ok_or_else(|| {
                "is not an argon2 hash; create one with `pocket-dca hash-password`".to_string()
            });
        problems.check("server.dashboard_password_hash", argon2)
    });
    let public_url = set(raw.public_url)
        .and_then(|text| problems.check("server.public_url", parse_http_url(&text)));
    let dashboard_note = set(raw.dashboard_note).map(|note| note.trim().to_string());
    let dashboard_hosts = list(raw.dashboard_hosts)
        .filter_map(|text| problems.check("server.dashboard_hosts", host_name(&text)))
        .collect();
    let trusted_proxies = list(raw.trusted_proxies)
        .filter_map(|text| {
            let ip = text.parse::<std::net::IpAddr>().map_err(|_| {
                format!("`{text}` is not an IP address; write the proxy's address, like 127.0.0.1")
            });
            problems.check("server.trusted_proxies", ip)
        })
        .collect();
    Some(ServerConfig {
        webhook_listen: webhook_listen?,
        dashboard_listen: dashboard_listen?,
        dashboard_password_hash,
        public_url,
        dashboard_note,
        dashboard_hosts,
        trusted_proxies,
    })
}

/// The set strings of a list key.
fn list(value: Option<OneOrMany>) -> impl Iterator<Item = String> {
    value
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|text| set(Some(text)))
}

/// A `dashboard_hosts` entry: a name or address, with a port or without.
fn host_name(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let parsed = Url::parse(&format!("http://{lower}/"))
        .ok()
        .filter(|url| url.host_str().is_some() && url.path() == "/" && url.username().is_empty());
    match parsed {
        Some(_) => Ok(lower.trim_end_matches('.').to_string()),
        None => Err(format!(
            "`{text}` is not a host name; write a name like dca.example.com or dca.example.com:8443, without a scheme or path"
        )),
    }
}

fn mailbox(text: &str) -> Result<Mailbox, String> {
    text.parse::<Mailbox>()
        .map_err(|e| format!("`{text}` is not an e-mail address ({e})"))
}

pub(super) fn email(
    raw: RawEmail,
    env: &dyn Env,
    base: &Path,
    problems: &mut Problems,
) -> EmailConfig {
    let from = set(raw.from).and_then(|text| problems.check("email.from", mailbox(&text)));
    let to = list(raw.to)
        .filter_map(|text| problems.check("email.to", mailbox(&text)))
        .collect();
    let smtp_url =
        set(raw.smtp_url).and_then(|text| problems.check("email.smtp_url", parse_smtp_url(&text)));
    EmailConfig {
        from,
        to,
        smtp_url,
        smtp_password: env_value(env, SMTP_PASSWORD_ENV).map(Secret),
        outbox_dir: set(raw.outbox_dir).map(|p| resolve(base, &p)),
        timeout: std::time::Duration::from_secs(ranged(
            problems,
            "email.timeout_secs",
            raw.timeout_secs,
            1..=600,
            DEFAULT_SMTP_TIMEOUT_SECS,
            "a number of seconds between 1 and 600",
        )),
    }
}

pub(super) fn reminders(raw: RawReminders, problems: &mut Problems) -> RemindersConfig {
    let text = set(raw.timezone).unwrap_or_else(|| DEFAULT_REMINDER_TIMEZONE.into());
    let timezone = problems
        .check(
            "reminders.timezone",
            text.parse::<Tz>().map_err(|_| {
                format!("`{text}` is not an IANA time zone; write one like Europe/Zurich or Europe/Berlin")
            }),
        )
        .unwrap_or(chrono_tz::Europe::Zurich);
    RemindersConfig {
        timezone,
        hour: ranged(
            problems,
            "reminders.hour",
            raw.hour,
            0..=23,
            DEFAULT_REMINDER_HOUR,
            "an hour of the day; write 0 to 23",
        ),
        missed_after_days: ranged(
            problems,
            "reminders.missed_after_days",
            raw.missed_after_days,
            1..=27,
            DEFAULT_MISSED_AFTER_DAYS,
            "a number of days between 1 and 27",
        ),
    }
}

pub(super) fn sync(raw: RawSync, problems: &mut Problems) -> SyncConfig {
    SyncConfig {
        interval_minutes: ranged(
            problems,
            "sync.interval_minutes",
            raw.interval_minutes,
            0..=10_080,
            DEFAULT_SYNC_INTERVAL_MINUTES,
            "a number of minutes between 0 (off) and 10080 (a week)",
        ),
    }
}

pub(super) fn parse_http_url(text: &str) -> Result<Url, String> {
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
    let tls = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    match (url.scheme(), tls.as_deref()) {
        ("smtp", None) if !url.username().is_empty() => Err(format!(
            "`{}` would send the password in clear text (smtp:// without TLS); write ?tls=required for STARTTLS, use smtps://host:465, or write ?tls=none if the server is on this machine or network",
            redact_url(&url)
        )),
        (_, None | Some("none" | "required" | "opportunistic")) => Ok(url),
        (_, Some(other)) => Err(format!(
            "`{}` has tls={other}; write tls=required (STARTTLS), tls=opportunistic or tls=none",
            redact_url(&url)
        )),
    }
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
