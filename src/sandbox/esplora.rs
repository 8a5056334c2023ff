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
        .route("/tx/{txid}/outspend/{vout}", get(outspend))
        .route("/scripthash/{hash}/txs", get(scripthash_txs))
        .route(
            "/scripthash/{hash}/txs/chain/{last}",
            get(scripthash_txs_after),
        )
}

/// Esplora's scripthash is the script's SHA-256 as is; Electrum's (the
/// index's) is reversed.
fn electrum_scripthash(hash: &str) -> Option<String> {
    let mut bytes = hex::decode(hash).ok()?;
    bytes.reverse();
    Some(hex::encode(bytes))
}

/// A page of an address's history: the mempool's and up to 25 confirmed
/// transactions, newest first (`after`: the confirmed ones after that
/// txid), in Esplora's transaction format.
fn history_page(engine: &Engine, hash: &str, after: Option<&str>) -> Result<Response, ApiError> {
    let Some(scripthash) = electrum_scripthash(hash) else {
        return Ok((StatusCode::BAD_REQUEST, "invalid scripthash").into_response());
    };
    let mut items = engine.history(&scripthash)?;
    items.reverse();
    let (mempool, confirmed): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i.height <= 0);
    let confirmed: Vec<_> = match after {
        Some(last) => confirmed
            .into_iter()
            .skip_while(|i| i.txid != last)
            .skip(1)
            .take(25)
            .collect(),
        None => confirmed.into_iter().take(25).collect(),
    };
    let chosen = if after.is_some() {
        confirmed
    } else {
        mempool.into_iter().chain(confirmed).collect()
    };
    let txs = chosen
        .iter()
        .map(|item| esplora_tx(engine, &item.txid))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(txs).into_response())
}

async fn scripthash_txs(
    State(engine): State<Shared>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    history_page(&engine, &hash, None)
}

async fn scripthash_txs_after(
    State(engine): State<Shared>,
    Path((hash, last)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    history_page(&engine, &hash, Some(&last))
}

/// A transaction as Esplora writes it: inputs with their previous outputs,
/// outputs, size, weight, status and fee.
fn esplora_tx(engine: &Engine, txid: &str) -> Result<serde_json::Value, ApiError> {
    let (raw, height) = engine
        .raw_transaction(txid)?
        .ok_or_else(|| ApiError::internal(format!("{txid} vanished")))?;
    let tx: bitcoin::Transaction = deserialize_hex(&raw).map_err(ApiError::internal)?;
    let mut fee: i64 = 0;
    let mut vin = Vec::new();
    for input in &tx.input {
        let coinbase = input.previous_output.is_null();
        let prevout = if coinbase {
            None
        } else {
            let prev_txid = input.previous_output.txid.to_string();
            engine
                .raw_transaction(&prev_txid)?
                .and_then(|(raw, _)| deserialize_hex::<bitcoin::Transaction>(&raw).ok())
                .and_then(|prev| {
                    prev.output
                        .get(input.previous_output.vout as usize)
                        .cloned()
                })
        };
        if let Some(p) = &prevout {
            fee += p.value.to_sat() as i64;
        }
        vin.push(json!({
            "txid": input.previous_output.txid,
            "vout": input.previous_output.vout,
            "prevout": prevout.map(|p| json!({"value": p.value.to_sat(), "scriptpubkey": p.script_pubkey.to_hex_string()})),
            "scriptsig": input.script_sig.to_hex_string(),
            "witness": input.witness.iter().map(hex::encode).collect::<Vec<_>>(),
            "sequence": input.sequence.0,
            "is_coinbase": coinbase,
        }));
    }
    let vout: Vec<_> = tx
        .output
        .iter()
        .map(|o| {
            fee -= o.value.to_sat() as i64;
            json!({"value": o.value.to_sat(), "scriptpubkey": o.script_pubkey.to_hex_string()})
        })
        .collect();
    let status = match height {
        Some(h) => {
            let header = engine.block_header(h)?.unwrap_or_default();
            json!({
                "confirmed": true,
                "block_height": h,
                "block_hash": engine.block_hash_at(h)?,
                "block_time": deserialize_hex::<Header>(&header).map_or(0, |h| h.time),
            })
        }
        None => json!({"confirmed": false}),
    };
    Ok(json!({
        "txid": txid,
        "version": tx.version.0,
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
        "size": tx.total_size(),
        "weight": tx.weight().to_wu(),
        "status": status,
        "fee": fee.max(0),
    }))
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

/// Whether an output is spent, and by which transaction.
async fn outspend(
    State(engine): State<Shared>,
    Path((txid, vout)): Path<(String, u32)>,
) -> Result<Response, ApiError> {
    Ok(match engine.spent_by(&txid, vout)? {
        None => missing("output"),
        Some(None) => axum::Json(json!({"spent": false})).into_response(),
        Some(Some((spender, vin))) => axum::Json(json!({
            "spent": true,
            "txid": spender,
            "vin": vin,
        }))
        .into_response(),
    })
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
