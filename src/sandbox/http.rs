//! The sandbox's HTTP surface: Pocket's `/v1` endpoints (client-id auth,
//! Pocket's status codes and error shape, nothing Pocket does not have) and
//! the `/sandbox` control endpoints that play the bank, the clock, the
//! blockchain and the network.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::bank::PaymentRequest;
use super::chain::Correction;
use super::engine::Engine;
use super::error::ApiError;
use super::options::{Faults, OrderAnswer, Prices};
use crate::pocket::codes::{self, sandbox as code};

type Shared = Arc<Engine>;

/// Every route of the sandbox.
pub fn router(engine: Shared) -> Router {
    let api = Router::new()
        .route("/v1/challenges", post(create_challenge))
        .route("/v1/challenges/{id}", get(get_challenge))
        .route("/v1/orders", post(create_order))
        .route("/v1/orders/{id}", get(get_order).patch(patch_order))
        .route(
            "/v1/exchanges/{id}",
            get(get_exchange).patch(patch_exchange),
        )
        .route_layer(middleware::from_fn_with_state(engine.clone(), authorize));
    let control = Router::new()
        .route("/sandbox/payments", post(payment))
        .route("/sandbox/exchanges/{id}/identify", post(identify))
        .route("/sandbox/exchanges/{id}/payout", post(correct_payout))
        .route("/sandbox/orders", get(orders))
        .route("/sandbox/orders/{id}/exchanges", get(order_exchanges))
        .route("/sandbox/payouts", post(payouts))
        .route("/sandbox/blocks", post(blocks))
        .route("/sandbox/chain/pay", post(pay_outside))
        .route("/sandbox/chain/reorg", post(reorganise))
        .route("/sandbox/chain/replace", post(replace_payout))
        .route("/sandbox/chain/spend", post(spend_payout))
        .route("/sandbox/clock", get(clock).post(set_clock))
        .route("/sandbox/prices", get(prices).post(set_prices))
        .route("/sandbox/webhooks", get(webhooks).post(set_faults))
        .route("/sandbox/errors", get(error_codes));
    api.merge(control)
        .nest("/esplora", super::esplora::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(engine)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(detail = %self.detail, "sandbox: internal error");
        } else {
            tracing::info!(code = self.code, detail = %self.detail, "sandbox: request refused");
        }
        let body = json!({
            "error": self.code,
            "documentation_uri": format!("/sandbox/errors#{}", self.code),
        });
        (status, Json(body)).into_response()
    }
}

/// `Authorization: client_id <id>` on every `/v1` call; anything else is 401.
async fn authorize(State(engine): State<Shared>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("client_id "))
        .map(str::trim);
    if presented != Some(engine.options.client_id.as_str()) {
        return ApiError {
            status: 401,
            code: code::UNAUTHORIZED,
            detail: "missing or wrong client id".into(),
        }
        .into_response();
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: 405,
        code: "method_not_allowed",
        detail: "the endpoint does not take this method".into(),
    }
}

fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

async fn create_challenge(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(created(engine.create_challenge()?))
}

async fn get_challenge(
    State(engine): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.challenge(&id)?).into_response())
}

async fn create_order(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let order = engine.create_order(&body)?;
    if !engine.options.order_create_delay.is_zero() {
        tokio::time::sleep(engine.options.order_create_delay).await;
    }
    Ok(match engine.faults()?.order_answer {
        OrderAnswer::Normal => created(order),
        OrderAnswer::Undecodable => created(json!({
            "id": order.id, "active": "yes", "created_on": 1_700_000_000,
            "fee_rate": "1.5 %", "payment_method": [], "payout_method": null,
        })),
        OrderAnswer::Garbage => (
            StatusCode::CREATED,
            "<html><body>order created</body></html>",
        )
            .into_response(),
        OrderAnswer::BadGateway => (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response(),
    })
}

async fn get_order(
    State(engine): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.order(&id)?).into_response())
}

async fn patch_order(
    State(engine): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    Ok(Json(engine.patch_order(&id, &body)?).into_response())
}

async fn get_exchange(
    State(engine): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.exchange(&id)?).into_response())
}

async fn patch_exchange(
    State(engine): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // A channel instruction may try a TCP connection to the user's node.
    let exchange = tokio::task::spawn_blocking(move || engine.patch_exchange(&id, &body))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(exchange).into_response())
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad(code::INVALID_REQUEST, e.to_string()))
}

async fn payment(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let request: PaymentRequest = parse_body(&body)?;
    Ok(created(engine.payment(&request)?))
}

async fn identify(
    State(engine): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.identify(&id)?).into_response())
}

async fn correct_payout(
    State(engine): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let correction: Correction = parse_body(&body)?;
    Ok(Json(engine.correct_payout(&id, &correction)?).into_response())
}

async fn orders(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(Json(engine.orders()?).into_response())
}

async fn order_exchanges(
    State(engine): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.exchanges_of(&id)?).into_response())
}

async fn payouts(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(Json(engine.run_payouts()?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Blocks {
    #[serde(default = "one")]
    count: u64,
}

fn one() -> u64 {
    1
}

/// `{"blocks"}`: the last blocks replaced by a longer, empty chain.
async fn reorganise(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Reorg {
        blocks: u32,
    }
    let request: Reorg = parse_body(&body)?;
    let height = engine.reorganise(request.blocks)?;
    Ok(Json(json!({"height": height})).into_response())
}

/// `{"txid", "report"}`: a payout transaction replaced (fee bump).
async fn replace_payout(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Replace {
        txid: String,
        #[serde(default)]
        report: bool,
    }
    let request: Replace = parse_body(&body)?;
    let txid = engine.replace_payout(&request.txid, request.report)?;
    Ok(Json(json!({"txid": txid})).into_response())
}

/// `{"txid", "vout"}`: the owner spends a payout.
async fn spend_payout(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Spend {
        txid: String,
        vout: u32,
    }
    let request: Spend = parse_body(&body)?;
    let txid = engine.spend_payout(&request.txid, request.vout)?;
    Ok(Json(json!({"txid": txid})).into_response())
}

/// `{"address", "amount_sat"}`: a payment from outside Pocket.
async fn pay_outside(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pay {
        address: String,
        amount_sat: u64,
    }
    let request: Pay = parse_body(&body)?;
    let txid = engine.pay_outside(&request.address, request.amount_sat)?;
    Ok(Json(json!({"txid": txid})).into_response())
}

async fn blocks(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let request: Blocks = parse_body(&body)?;
    let (height, confirmed) = engine.mine(request.count)?;
    Ok(Json(json!({"height": height, "confirmed": confirmed})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    now: Option<DateTime<Utc>>,
    advance_seconds: Option<i64>,
}

async fn clock(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(Json(json!({"now": crate::pocket::timestamp::format(&engine.now()?)})).into_response())
}

async fn set_clock(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let request: SetClock = parse_body(&body)?;
    let target = match (request.now, request.advance_seconds) {
        (Some(now), None) => now,
        (None, Some(seconds)) => engine.now()? + chrono::Duration::seconds(seconds),
        _ => {
            return Err(ApiError::bad(
                code::INVALID_REQUEST,
                "give either now or advance_seconds",
            ));
        }
    };
    let now = engine.set_clock(target)?;
    Ok(Json(json!({"now": crate::pocket::timestamp::format(&now)})).into_response())
}

async fn prices(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(Json(engine.prices()?).into_response())
}

async fn set_prices(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        eur: Option<rust_decimal::Decimal>,
        chf: Option<rust_decimal::Decimal>,
        gbp: Option<rust_decimal::Decimal>,
    }
    let partial: Partial = parse_body(&body)?;
    let current = engine.prices()?;
    let prices = Prices {
        eur: partial.eur.unwrap_or(current.eur),
        chf: partial.chf.unwrap_or(current.chf),
        gbp: partial.gbp.unwrap_or(current.gbp),
    };
    Ok(Json(engine.set_prices(prices)?).into_response())
}

async fn webhooks(State(engine): State<Shared>) -> Result<Response, ApiError> {
    let deliveries = engine.state().deliveries()?;
    Ok(Json(json!({"faults": engine.faults()?, "deliveries": deliveries})).into_response())
}

async fn set_faults(State(engine): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let faults: Faults = parse_body(&body)?;
    Ok(Json(engine.set_faults(faults)?).into_response())
}

/// Every code the sandbox answers with, its meaning, and whether Pocket
/// documents it or it is the sandbox's own.
async fn error_codes() -> Response {
    let table: serde_json::Map<String, serde_json::Value> = codes::documented::ALL
        .iter()
        .chain(code::ALL.iter())
        .map(|c| {
            let source = if codes::is_documented(c) {
                "pocket"
            } else {
                "sandbox"
            };
            (
                c.to_string(),
                json!({"meaning": codes::error_meaning(c).unwrap_or_default(), "source": source}),
            )
        })
        .collect();
    Json(table).into_response()
}
