//! The `[chain]` section: which server verifies payouts on the blockchain,
//! how it is reached, and how patient the checks are.

use url::Url;

use super::raw::RawChain;
use super::sections::{ChainBackend, ChainConfig};
use super::validate::{Problems, ranged};

pub const DEFAULT_MIN_CONFIRMATIONS: u32 = 1;
pub const DEFAULT_UNSEEN_AFTER_HOURS: u32 = 12;
pub const DEFAULT_CHAIN_INTERVAL_MINUTES: u32 = 10;

pub(super) fn validate(raw: RawChain, problems: &mut Problems) -> ChainConfig {
    let backend = match raw.backend.as_deref().map(str::trim) {
        None | Some("") | Some("none") => ChainBackend::None,
        Some("electrum") => ChainBackend::Electrum,
        Some("esplora") => ChainBackend::Esplora,
        Some(other) => {
            problems.add(
                "chain.backend",
                format!("`{other}` is not a backend; use none, electrum or esplora"),
            );
            ChainBackend::None
        }
    };
    let url = match (
        backend,
        raw.url.as_deref().map(str::trim).filter(|u| !u.is_empty()),
    ) {
        (ChainBackend::None, _) => None,
        (_, None) => {
            problems.add(
                "chain.url",
                format!(
                    "is needed for the {} backend, e.g. {}",
                    backend.as_str(),
                    example(backend)
                ),
            );
            None
        }
        (_, Some(text)) => problems.check("chain.url", parse_url(backend, text)),
    };
    let proxy = raw
        .proxy
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .and_then(|p| problems.check("chain.proxy", parse_proxy(p)));
    ChainConfig {
        backend,
        url,
        proxy,
        min_confirmations: ranged(
            problems,
            "chain.min_confirmations",
            raw.min_confirmations,
            1..=1000,
            DEFAULT_MIN_CONFIRMATIONS,
            "a number of confirmations from 1 to 1000",
        ),
        unseen_after_hours: ranged(
            problems,
            "chain.unseen_after_hours",
            raw.unseen_after_hours,
            0..=720,
            DEFAULT_UNSEEN_AFTER_HOURS,
            "a number of hours from 0 to 720",
        ),
        interval_minutes: ranged(
            problems,
            "chain.interval_minutes",
            raw.interval_minutes,
            0..=1440,
            DEFAULT_CHAIN_INTERVAL_MINUTES,
            "a number of minutes from 0 (off) to 1440",
        ),
        alert_on_spend: raw.alert_on_spend.unwrap_or(false),
    }
}

fn example(backend: ChainBackend) -> &'static str {
    match backend {
        ChainBackend::Esplora => "https://mempool.example.org/api",
        _ => "tcp://127.0.0.1:50001 or ssl://electrum.example.org:50002",
    }
}

fn parse_url(backend: ChainBackend, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| {
        format!(
            "`{text}` is not a URL ({e}); write e.g. {}",
            example(backend)
        )
    })?;
    let fits = match backend {
        ChainBackend::Electrum => matches!(url.scheme(), "tcp" | "ssl"),
        ChainBackend::Esplora => matches!(url.scheme(), "http" | "https"),
        ChainBackend::None => true,
    };
    if !fits || url.host_str().is_none() {
        return Err(format!(
            "`{text}` does not fit the {} backend; write e.g. {}",
            backend.as_str(),
            example(backend)
        ));
    }
    if backend == ChainBackend::Electrum && url.port().is_none() {
        return Err(format!(
            "`{text}` names no port; Electrum servers listen on 50001 (tcp) or 50002 (ssl)"
        ));
    }
    Ok(url)
}

fn parse_proxy(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("socks5h://")
        .or_else(|| text.strip_prefix("socks5://"))
        .unwrap_or(text);
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(rest.to_string())
        }
        _ => Err(format!(
            "`{text}` is not a SOCKS5 proxy; write socks5://127.0.0.1:9050 (Tor)"
        )),
    }
}
