//! HTTP: the webhook endpoint Pocket posts to, and the dashboard. Both route
//! tables are here, built by functions so that tests use them without a
//! socket; handlers (in [`webhook`], [`session`] and [`pages`]) extract, call
//! one domain function and answer.

pub mod auth;
pub mod charts;
pub mod error;
pub mod host;
pub mod limit;
pub mod pages;
pub mod session;
pub mod state;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use state::DashboardState;
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
/// health do not. A request for another host name is refused first
/// ([`host`]); every response carries the security headers.
pub fn dashboard_router(state: Arc<DashboardState>) -> Router {
    use pages::{alerts, deliveries, downloads, exchanges, order, overview};
    let pages = Router::new()
        .route("/", get(overview::overview))
        .route("/orders/{id}", get(order::order))
        .route("/exchanges", get(exchanges::exchanges))
        .route("/alerts", get(alerts::alerts))
        .route("/alerts/{id}/ack", post(alerts::acknowledge))
        .route("/webhooks", get(deliveries::deliveries))
        .route("/export/exchanges.csv", get(downloads::csv))
        .route("/export/labels.jsonl", get(downloads::labels))
        .route("/logout", post(session::logout))
        .route_layer(middleware::from_fn_with_state(
            state.auth.clone(),
            session::session,
        ));
    Router::new()
        .merge(pages)
        .route("/login", get(session::login_form).post(session::login))
        .route("/static/app.css", get(stylesheet))
        .route("/healthz", get(health))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.hosts.clone(),
            host::check,
        ))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

async fn not_found() -> error::WebError {
    error::WebError::NotFound("no such page".into())
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// Every response: the security headers.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
