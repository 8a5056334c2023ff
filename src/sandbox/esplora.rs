//! The sandbox's chain as an Esplora-compatible REST subset, under
//! `/esplora` of the sandbox's HTTP port: the tip, headers, transactions
//! with their status and merkle proofs — what a wallet (and the tool's
//! verifier) asks an Esplora or mempool instance.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bitcoin::block::Header;
use bitcoin::consensus::encode::deserialize_hex;
use serde_json::json;

use super::engine::Engine;
use super::error::ApiError;

type Shared = Arc<Engine>;

/// The Esplora routes, to nest under `/esplora`.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/blocks/tip/height", get(tip_height))
        .route("/blocks/tip/hash", get(tip_hash))
        .route("/block-height/{height}", get(block_hash_at))
        .route("/block/{hash}/header", get(block_header))
        .route("/tx/{txid}/raw", get(tx_raw))
        .route("/tx/{txid}/hex", get(tx_hex))
        .route("/tx/{txid}/status", get(tx_status))
        .route("/tx/{txid}/merkle-proof", get(merkle_proof))
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

fn missing(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("{what} not found")).into_response()
}

async fn tip_height(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(text(engine.chain_tip()?.height.to_string()))
}

async fn tip_hash(State(engine): State<Shared>) -> Result<Response, ApiError> {
    Ok(text(engine.chain_tip()?.hash))
}

async fn block_hash_at(
    State(engine): State<Shared>,
    Path(height): Path<u32>,
) -> Result<Response, ApiError> {
    Ok(match engine.block_hash_at(height)? {
        Some(hash) => text(hash),
        None => missing("block"),
    })
}

async fn block_header(
    State(engine): State<Shared>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    Ok(match engine.block_by_hash(&hash)? {
        Some((_, header)) => text(header),
        None => missing("block"),
    })
}

async fn tx_raw(
    State(engine): State<Shared>,
    Path(txid): Path<String>,
) -> Result<Response, ApiError> {
    Ok(match engine.raw_transaction(&txid)? {
        Some((raw, _)) => {
            let bytes = hex::decode(raw).map_err(ApiError::internal)?;
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        None => missing("transaction"),
    })
}

async fn tx_hex(
    State(engine): State<Shared>,
    Path(txid): Path<String>,
) -> Result<Response, ApiError> {
    Ok(match engine.raw_transaction(&txid)? {
        Some((raw, _)) => text(raw),
        None => missing("transaction"),
    })
}

async fn tx_status(
    State(engine): State<Shared>,
    Path(txid): Path<String>,
) -> Result<Response, ApiError> {
    let Some((_, height)) = engine.raw_transaction(&txid)? else {
        return Ok(missing("transaction"));
    };
    let Some(height) = height else {
        return Ok(axum::Json(json!({"confirmed": false})).into_response());
    };
    let hash = engine.block_hash_at(height)?.unwrap_or_default();
    let header = engine.block_header(height)?.unwrap_or_default();
    let time = deserialize_hex::<Header>(&header).map_or(0, |h| h.time);
    Ok(axum::Json(json!({
        "confirmed": true,
        "block_height": height,
        "block_hash": hash,
        "block_time": time,
    }))
    .into_response())
}

async fn merkle_proof(
    State(engine): State<Shared>,
    Path(txid): Path<String>,
) -> Result<Response, ApiError> {
    Ok(match engine.merkle_proof(&txid)? {
        Some((height, merkle, pos)) => {
            axum::Json(json!({"block_height": height, "merkle": merkle, "pos": pos}))
                .into_response()
        }
        None => missing("confirmed transaction"),
    })
}
