//! The typed API client. Every call carries `Authorization: client_id …`;
//! idempotent calls (GET, PATCH) and challenge creation are retried with
//! backoff on connection errors, timeouts and 5xx. Order creation is never
//! retried: Pocket has no idempotency keys, so the caller checks the
//! challenge instead (see `orders`).

use std::sync::Once;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::codes::error_meaning;
use super::types::{Challenge, Exchange, Order, OrderCreate, OrderPatch};
use crate::config::Secret;

/// How often and how patiently a safe call is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the second attempt; it doubles after each failure.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// The default time to wait for an answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A decoded answer with the exact JSON text it came from.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    pub value: T,
    pub json: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "Pocket rejected the client id (401 Unauthorized); check $POCKET_CLIENT_ID or [pocket] client_id"
    )]
    Unauthorized,
    #[error("Pocket refused the request ({status}): {code}{}{}", meaning_suffix(code), doc_suffix(.documentation_uri))]
    Rejected {
        status: u16,
        code: String,
        documentation_uri: Option<String>,
    },
    #[error("Pocket knows no {what} with id {id} (404); check the id")]
    NotFound { what: &'static str, id: String },
    #[error("Pocket answered {status} while {during}: {body}")]
    Http {
        status: u16,
        during: &'static str,
        body: String,
    },
    #[error("no answer from Pocket within {secs} s while {during}")]
    Timeout { during: &'static str, secs: u64 },
    #[error("cannot reach Pocket at {url} while {during}: {reason}")]
    Connect {
        url: String,
        during: &'static str,
        reason: String,
    },
    #[error("Pocket's answer while {during} could not be read ({reason}): {body}")]
    Decode {
        during: &'static str,
        reason: String,
        body: String,
        /// The `id` the answer names, when it can be read at all.
        id: Option<String>,
    },
    #[error("cannot set up the HTTPS client: {0}")]
    Setup(String),
}

fn meaning_suffix(code: &str) -> String {
    error_meaning(code)
        .map(|m| format!(" — {m}"))
        .unwrap_or_default()
}

fn doc_suffix(uri: &Option<String>) -> String {
    uri.as_ref()
        .map(|u| format!(" (see {u})"))
        .unwrap_or_default()
}

impl Error {
    /// The API error code of a 400 answer.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    fn retryable(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Connect { .. } => true,
            Error::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Installs rustls' ring provider once; reqwest needs one before building a
/// client (also in tests and benchmarks).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for one Pocket API root and client id.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    client_id: Secret,
    retry: RetryPolicy,
    timeout: Duration,
}

#[derive(Serialize)]
struct Empty {}

impl Client {
    /// A client for the API root `base_url` (without `/v1`).
    pub fn new(base_url: &Url, client_id: &Secret) -> Result<Client, Error> {
        Client::with_options(base_url, client_id, DEFAULT_TIMEOUT, RetryPolicy::default())
    }

    pub fn with_options(
        base_url: &Url,
        client_id: &Secret,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Client, Error> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("pocket-dca/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        let mut base = base_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Client {
            http,
            base,
            client_id: client_id.clone(),
            retry: retry.clamped(),
            timeout,
        })
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub async fn create_challenge(&self) -> Result<Fetched<Challenge>, Error> {
        self.call(
            Method::POST,
            &["challenges"],
            Some(&Empty {}),
            "creating a challenge",
            true,
            "challenge",
        )
        .await
    }

    pub async fn get_challenge(&self, id: &str) -> Result<Fetched<Challenge>, Error> {
        self.call::<Challenge, Empty>(
            Method::GET,
            &["challenges", id],
            None,
            "fetching the challenge",
            true,
            "challenge",
        )
        .await
    }

    /// Creates an order. Not retried: after a timeout the order may or may
    /// not exist, which only the challenge can tell.
    pub async fn create_order(&self, order: &OrderCreate) -> Result<Fetched<Order>, Error> {
        self.call(
            Method::POST,
            &["orders"],
            Some(order),
            "creating the order",
            false,
            "order",
        )
        .await
    }

    pub async fn get_order(&self, id: &str) -> Result<Fetched<Order>, Error> {
        self.call::<Order, Empty>(
            Method::GET,
            &["orders", id],
            None,
            "fetching the order",
            true,
            "order",
        )
        .await
    }

    pub async fn patch_order(&self, id: &str, patch: &OrderPatch) -> Result<Fetched<Order>, Error> {
        self.call(
            Method::PATCH,
            &["orders", id],
            Some(patch),
            "changing the order",
            true,
            "order",
        )
        .await
    }

    pub async fn get_exchange(&self, id: &str) -> Result<Fetched<Exchange>, Error> {
        self.call::<Exchange, Empty>(
            Method::GET,
            &["exchanges", id],
            None,
            "fetching the exchange",
            true,
            "exchange",
        )
        .await
    }

    /// Sends lightning payout instructions for an exchange (beta; the body
    /// is passed through as Pocket documents it).
    pub async fn patch_exchange(
        &self,
        id: &str,
        instructions: &serde_json::Value,
    ) -> Result<Fetched<Exchange>, Error> {
        self.call(
            Method::PATCH,
            &["exchanges", id],
            Some(instructions),
            "sending payout instructions",
            true,
            "exchange",
        )
        .await
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1");
            for segment in segments {
                path.push(segment);
            }
        }
        url
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
        during: &'static str,
        retry: bool,
        what: &'static str,
    ) -> Result<Fetched<T>, Error> {
        let url = self.endpoint(segments);
        let attempts = if retry { self.retry.attempts } else { 1 };
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match self.once(&method, &url, body, during, what, segments).await {
                Err(e) if attempt < attempts && e.retryable() => {
                    tracing::warn!(%method, path = url.path(), attempt, error = %e, "retrying Pocket call");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn once<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&B>,
        during: &'static str,
        what: &'static str,
        segments: &[&str],
    ) -> Result<Fetched<T>, Error> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                format!("client_id {}", self.client_id.expose()),
            )
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport(e, url, during))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| self.transport(e, url, during))?;
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), "Pocket call");
        if status.is_success() {
            return serde_json::from_str(&text)
                .map(|value| Fetched {
                    value,
                    json: text.clone(),
                })
                .map_err(|e| Error::Decode {
                    during,
                    reason: e.to_string(),
                    body: truncate(&text),
                    id: serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("id")?.as_str().map(str::to_string)),
                });
        }
        Err(match status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized,
            StatusCode::NOT_FOUND => Error::NotFound {
                what,
                id: segments.get(1).copied().unwrap_or_default().to_string(),
            },
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                match serde_json::from_str::<ApiErrorBody>(&text) {
                    Ok(body) => Error::Rejected {
                        status: status.as_u16(),
                        code: body.error,
                        documentation_uri: body.documentation_uri,
                    },
                    Err(_) => Error::Http {
                        status: status.as_u16(),
                        during,
                        body: truncate(&text),
                    },
                }
            }
            _ => Error::Http {
                status: status.as_u16(),
                during,
                body: truncate(&text),
            },
        })
    }

    fn transport(&self, e: reqwest::Error, url: &Url, during: &'static str) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                during,
                secs: self.timeout.as_secs().max(1),
            }
        } else {
            let mut shown = url.clone();
            shown.set_query(None);
            Error::Connect {
                url: shown.to_string(),
                during,
                reason: root_cause(&e),
            }
        }
    }
}

impl RetryPolicy {
    fn clamped(self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.attempts.max(1),
            first_delay: self.first_delay,
        }
    }
}

#[derive(serde::Deserialize)]
struct ApiErrorBody {
    error: String,
    #[serde(default)]
    documentation_uri: Option<String>,
}

fn truncate(text: &str) -> String {
    const MAX: usize = 500;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
