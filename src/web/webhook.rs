//! `POST /webhooks/pocket`: verify the signature over the raw bytes in
//! constant time before anything is parsed, store the raw delivery durably,
//! answer 2xx only once it is on disk, then let the processor work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::config::Secret;
use crate::deliveries::processor::Processor;
use crate::deliveries::writer::DeliveryWriter;
use crate::pocket::signature::{CORRELATION_HEADER, RETRY_COUNT_HEADER, SIGNATURE_HEADER, verify};
use crate::store::NewDelivery;

/// The largest body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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

/// What the endpoint needs.
pub struct WebhookState {
    pub secrets: Vec<Secret>,
    pub writer: Arc<DeliveryWriter>,
    pub processor: Arc<Processor>,
    pub counters: Arc<Counters>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

pub(super) async fn receive(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let correlation = header(&headers, CORRELATION_HEADER)
        .unwrap_or("-")
        .to_string();
    let signature = header(&headers, SIGNATURE_HEADER).unwrap_or("");
    let secrets = state.secrets.iter().map(|s| s.expose().as_bytes());
    if signature.is_empty() || state.secrets.is_empty() || !verify(secrets, signature, &body) {
        let count = state.counters.rejected.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            correlation_id = %correlation,
            rejected_total = count,
            reason = if signature.is_empty() { "missing signature" } else if state.secrets.is_empty() { "no webhook secret configured" } else { "bad signature" },
            "webhook refused (401)"
        );
        return (StatusCode::UNAUTHORIZED, "invalid signature\n").into_response();
    }
    let delivery = NewDelivery {
        received_at: Utc::now(),
        correlation_id: header(&headers, CORRELATION_HEADER).map(str::to_string),
        retry_count: header(&headers, RETRY_COUNT_HEADER).and_then(|v| v.parse().ok()),
        body: body.to_vec(),
    };
    match state.writer.store(delivery).await {
        Ok(()) => {
            state.counters.stored.fetch_add(1, Ordering::Relaxed);
            tracing::info!(correlation_id = %correlation, "webhook stored");
            state.processor.wake();
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({"stored": true})),
            )
                .into_response()
        }
        Err(e) => {
            state.counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(correlation_id = %correlation, error = %e, "webhook not stored (503, Pocket retries)");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored, retry later\n").into_response()
        }
    }
}

pub(super) async fn health(
    State(state): State<Arc<WebhookState>>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "webhooks": state.counters.snapshot()}))
}
