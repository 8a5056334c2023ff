//! HTTP: the webhook endpoint Pocket posts to, and the dashboard listener
//! (health now; the pages come with the dashboard). Routes are built by
//! functions so tests can use them without a socket; handlers extract, call
//! one domain function and answer.

mod webhook;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::{get, post};

pub use webhook::{MAX_BODY_BYTES, WebhookState};

/// Counters of the webhook endpoint, for logs and health.
#[derive(Debug, Default)]
pub struct Counters {
    pub stored: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "stored": self.stored.load(Ordering::Relaxed),
            "rejected": self.rejected.load(Ordering::Relaxed),
            "failed": self.failed.load(Ordering::Relaxed),
        })
    }
}

/// The webhook listener: `POST /webhooks/pocket` and `GET /healthz`.
pub fn webhook_router(state: Arc<WebhookState>) -> Router {
    Router::new()
        .route(
            "/webhooks/pocket",
            post(webhook::receive).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/healthz", get(webhook::health))
        .with_state(state)
}

/// The dashboard listener; for now `GET /healthz`.
pub fn dashboard_router() -> Router {
    Router::new().route("/healthz", get(health))
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}
