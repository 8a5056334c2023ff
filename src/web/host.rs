//! The dashboard answers only to its own names. A page on another site that
//! points its own domain at 127.0.0.1 (DNS rebinding) makes the user's
//! browser send that domain as `Host`: such a request gets 421 before any
//! handler runs, so it never sees a page, a session cookie or a key.
//!
//! Allowed: the loopback names `localhost`, `127.0.0.1` and `[::1]` and the
//! address the dashboard listens on, each with the listening port; when it
//! listens on every address (`0.0.0.0`, behind its password), any IP address
//! with that port — an address cannot be rebound, only a name can; and the
//! names of `server.public_url` and `server.dashboard_hosts` (`name` for any
//! port, `name:port` for that one), for a reverse proxy.
//!
//! The webhook listener has no such check: Pocket reaches it through the
//! user's proxy or tunnel under whatever name that has, it serves nothing
//! private, and every delivery is signature-checked before it is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The `Host` values the dashboard answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// The listening port; `None` accepts the loopback names on any port.
    port: Option<u16>,
    /// The listening address, when it is one address.
    listen: Option<IpAddr>,
    /// Listening on every address: any IP address is its own.
    any_address: bool,
    /// Configured names, `name` or `name:port`, lower case.
    names: Vec<String>,
}

impl Default for AllowedHosts {
    /// The loopback names on any port (for tests without a socket).
    fn default() -> AllowedHosts {
        AllowedHosts {
            port: None,
            listen: None,
            any_address: false,
            names: Vec::new(),
        }
    }
}

impl AllowedHosts {
    /// For a dashboard listening on `listen`, with more names allowed.
    pub fn new(listen: SocketAddr, names: Vec<String>) -> AllowedHosts {
        let ip = listen.ip();
        AllowedHosts {
            port: Some(listen.port()),
            listen: (!ip.is_unspecified()).then_some(ip),
            any_address: ip.is_unspecified(),
            names,
        }
    }

    /// Whether a request with this `Host` value is for this dashboard.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let Some((name, port)) = split(&host) else {
            return false;
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        let own_port = self.port.is_none_or(|own| port.unwrap_or(80) == own);
        let address = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        if LOOPBACK_NAMES.contains(&name)
            || address.is_some_and(|a| Some(a) == self.listen)
            || (self.any_address && address.is_some())
        {
            return own_port;
        }
        self.names
            .iter()
            .any(|allowed| match allowed.rsplit_once(':') {
                Some((allowed_name, allowed_port)) if !allowed.ends_with(']') => {
                    allowed_name == name && port == allowed_port.parse().ok()
                }
                _ => allowed == name,
            })
    }
}

/// `name[:port]` → (name, port); IPv6 names keep their brackets.
fn split(host: &str) -> Option<(&str, Option<u16>)> {
    if host.is_empty() {
        return None;
    }
    let (name, port) = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => (&host[..i], Some(&host[i + 1..])),
        _ => (host, None),
    };
    let port = match port {
        Some(text) => Some(text.parse::<u16>().ok()?),
        None => None,
    };
    if name.is_empty() || name.contains(['/', '@', ' ']) {
        return None;
    }
    Some((name, port))
}

/// The middleware: 421 for a `Host` that is not the dashboard's.
pub async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if allowed.allows(&host) => next.run(request).await,
        _ => {
            tracing::warn!(host = ?host, "dashboard request for another host refused (421)");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "this dashboard does not answer to that host name; open it at http://127.0.0.1:PORT/ or add the name to server.dashboard_hosts\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dashboards_own_names_are_answered() {
        let local = AllowedHosts::new("127.0.0.1:8471".parse().unwrap(), vec![]);
        let everywhere = AllowedHosts::new(
            "0.0.0.0:8471".parse().unwrap(),
            vec!["dca.example.com".into(), "nas.lan:8443".into()],
        );
        let cases = [
            (&local, "127.0.0.1:8471", true),
            (&local, "localhost:8471", true),
            (&local, "LOCALHOST.:8471", true),
            (&local, "[::1]:8471", true),
            (&local, "127.0.0.1:8472", false),
            (&local, "127.0.0.1", false),
            (&local, "attacker.test", false),
            (&local, "attacker.test:8471", false),
            (&local, "192.168.1.20:8471", false),
            (&local, "", false),
            (&local, "127.0.0.1:x", false),
            (&local, "evil.example/x:8471", false),
            (&everywhere, "192.168.1.20:8471", true),
            (&everywhere, "[fd00::2]:8471", true),
            (&everywhere, "192.168.1.20:9999", false),
            (&everywhere, "dca.example.com", true),
            (&everywhere, "dca.example.com:443", true),
            (&everywhere, "nas.lan:8443", true),
            (&everywhere, "nas.lan", false),
            (&everywhere, "rebind.attacker.test:8471", false),
        ];
        for (allowed, host, expected) in cases {
            assert_eq!(allowed.allows(host), expected, "{host}");
        }
    }
}
