//! HTTP: the webhook endpoint Pocket posts to, and the dashboard listener
//! (health now; the pages come with the dashboard). Routes are built by
//! functions so tests can use them without a socket; handlers extract, call
//! one domain function and answer.

pub mod auth;
pub mod charts;
mod dashboard;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

pub use dashboard::DashboardState;
pub use webhook::{Counters, MAX_BODY_BYTES, WebhookState};

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

/// The dashboard: every route in one table. Pages and downloads need a
/// session (logged in when a password is set); the login, the stylesheet and
/// health do not. Every response carries the security headers.
pub fn dashboard_router(state: Arc<DashboardState>) -> Router {
    let pages = Router::new()
        .route("/", get(dashboard::overview))
        .route("/orders/{id}", get(dashboard::order))
        .route("/exchanges", get(dashboard::exchanges))
        .route("/alerts", get(dashboard::alerts))
        .route("/alerts/{id}/ack", post(dashboard::acknowledge))
        .route("/webhooks", get(dashboard::webhooks))
        .route("/export/exchanges.csv", get(dashboard::csv))
        .route("/export/labels.jsonl", get(dashboard::labels))
        .route("/logout", post(dashboard::logout))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            dashboard::session,
        ));
    Router::new()
        .merge(pages)
        .route("/login", get(dashboard::login_form).post(dashboard::login))
        .route("/static/app.css", get(dashboard::stylesheet))
        .route("/healthz", get(health))
        .layer(middleware::from_fn(dashboard::security_headers))
        .with_state(state)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}
