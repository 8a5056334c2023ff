//! The sandbox's chain over the Electrum protocol (1.4), on a loopback TCP
//! port: newline-delimited JSON-RPC, single requests and batches (answered
//! as one array), the methods a wallet or the tool's verifier uses. Errors
//! carry the protocol's shape: `{"code", "message"}`.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::engine::Engine;
use super::explorer::status_hash;

/// The protocol version the sandbox speaks.
const PROTOCOL: &str = "1.4";
/// A line longer than this ends the connection.
const MAX_LINE: usize = 1 << 20;

/// Lines answered since start — each a request, or a batch sent as one
/// array — for the scan benchmark.
static ROUND_TRIPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many request lines the sandbox's Electrum servers answered.
pub fn round_trips() -> u64 {
    ROUND_TRIPS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Accepts connections until the task is dropped.
pub async fn serve(engine: Arc<Engine>, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(engine.clone(), stream));
    }
}

async fn connection(engine: Arc<Engine>, stream: TcpStream) {
    // Answers are small writes: without this, Nagle's algorithm meets the
    // client's delayed acknowledgement and every batch waits 40 ms.
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.len() > MAX_LINE {
            return;
        }
        if line.trim().is_empty() {
            continue;
        }
        ROUND_TRIPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let engine = engine.clone();
        // The engine is synchronous (one lock over SQLite).
        let answer = tokio::task::spawn_blocking(move || answer_line(&engine, &line))
            .await
            .unwrap_or_else(|e| error(Value::Null, -32603, &e.to_string()));
        let mut text = answer.to_string();
        text.push('\n');
        if write.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The answer to one line: a request, or a batch of them.
pub fn answer_line(engine: &Engine, line: &str) -> Value {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Array(requests)) => {
            Value::Array(requests.iter().map(|r| answer(engine, r)).collect())
        }
        Ok(request) => answer(engine, &request),
        Err(e) => error(Value::Null, -32700, &format!("parse error: {e}")),
    }
}

fn answer(engine: &Engine, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or_default();
    let params = request
        .get("params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match call(engine, method, &params) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => error(id, code, &message),
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

type Answer = Result<Value, (i64, String)>;

fn internal(e: impl std::fmt::Display) -> (i64, String) {
    (-32603, e.to_string())
}

fn text(params: &[Value], i: usize) -> Result<&str, (i64, String)> {
    params
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| (-32602, format!("parameter {i} must be a string")))
}

fn number(params: &[Value], i: usize) -> Result<u32, (i64, String)> {
    params
        .get(i)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| (-32602, format!("parameter {i} must be a height")))
}

fn call(engine: &Engine, method: &str, params: &[Value]) -> Answer {
    match method {
        "server.version" => Ok(json!(["pocket-dca sandbox", PROTOCOL])),
        "server.banner" => Ok(json!("pocket-dca sandbox: a local regtest chain")),
        "server.ping" => Ok(Value::Null),
        "server.features" => features(engine),
        "server.donation_address" => Ok(json!("")),
        "blockchain.headers.subscribe" => {
            let tip = engine.chain_tip().map_err(internal)?;
            Ok(json!({"height": tip.height, "hex": tip.header}))
        }
        "blockchain.block.header" => engine
            .block_header(number(params, 0)?)
            .map_err(internal)?
            .map(Value::String)
            .ok_or_else(|| (1, "no block at that height".into())),
        "blockchain.block.headers" => headers(engine, number(params, 0)?, number(params, 1)?),
        "blockchain.estimatefee" => Ok(json!(0.00001)),
        "blockchain.relayfee" => Ok(json!(0.00001)),
        "blockchain.transaction.get" => engine
            .raw_transaction(text(params, 0)?)
            .map_err(internal)?
            .map(|(raw, _)| Value::String(raw))
            .ok_or_else(|| (2, "no such mempool or blockchain transaction".into())),
        "blockchain.transaction.get_merkle" => {
            let (height, merkle, pos) = engine
                .merkle_proof(text(params, 0)?)
                .map_err(internal)?
                .ok_or_else(|| (2, "transaction not in a block".to_string()))?;
            Ok(json!({"block_height": height, "merkle": merkle, "pos": pos}))
        }
        "blockchain.scripthash.get_history" => {
            let history = engine.history(text(params, 0)?).map_err(internal)?;
            Ok(Value::Array(
                history
                    .iter()
                    .map(|h| json!({"tx_hash": h.txid, "height": h.height}))
                    .collect(),
            ))
        }
        "blockchain.scripthash.subscribe" => {
            let history = engine.history(text(params, 0)?).map_err(internal)?;
            Ok(status_hash(&history).map_or(Value::Null, Value::String))
        }
        "blockchain.scripthash.unsubscribe" => Ok(json!(true)),
        "blockchain.scripthash.listunspent" => {
            let unspent = engine.unspent(text(params, 0)?).map_err(internal)?;
            Ok(Value::Array(
                unspent
                    .iter()
                    .map(|u| json!({"tx_hash": u.txid, "tx_pos": u.vout, "height": u.height, "value": u.value}))
                    .collect(),
            ))
        }
        "blockchain.scripthash.get_balance" => {
            let unspent = engine.unspent(text(params, 0)?).map_err(internal)?;
            let confirmed: u64 = unspent
                .iter()
                .filter(|u| u.height > 0)
                .map(|u| u.value)
                .sum();
            let unconfirmed: u64 = unspent
                .iter()
                .filter(|u| u.height == 0)
                .map(|u| u.value)
                .sum();
            Ok(json!({"confirmed": confirmed, "unconfirmed": unconfirmed}))
        }
        "blockchain.transaction.broadcast" => Err((
            1,
            "the sandbox does not relay transactions; it mines its own".into(),
        )),
        other => Err((-32601, format!("unknown method {other}"))),
    }
}

fn features(engine: &Engine) -> Answer {
    let genesis = engine
        .block_hash_at(0)
        .map_err(internal)?
        .unwrap_or_default();
    Ok(json!({
        "genesis_hash": genesis,
        "hosts": {},
        "protocol_min": PROTOCOL,
        "protocol_max": PROTOCOL,
        "server_version": "pocket-dca sandbox",
        "hash_function": "sha256",
        "pruning": null,
    }))
}

fn headers(engine: &Engine, start: u32, count: u32) -> Answer {
    const MAX: u32 = 2016;
    let mut hex = String::new();
    let mut found = 0;
    for height in start..start.saturating_add(count.min(MAX)) {
        match engine.block_header(height).map_err(internal)? {
            Some(header) => {
                hex.push_str(&header);
                found += 1;
            }
            None => break,
        }
    }
    Ok(json!({"count": found, "hex": hex, "max": MAX}))
}
