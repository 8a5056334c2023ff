//! Webhook intake throughput: 10,000 distinct signed deliveries over
//! loopback to the service (the same code `serve` runs), each answered only
//! after it is durably stored, while the processor reconciles them. Reports
//! deliveries per second and p50/p99 latency, one at a time and from 32
//! concurrent senders — and, as the yardstick, the same 32 senders against a
//! hello-world server on the same HTTP stack (hyper under axum) that stores
//! nothing, with the ratio of the two rates.
//!
//! Each server runs on a runtime of its own, as `serve` does in its process;
//! the senders, who stand for Pocket, on another. (They share the machine's
//! cores all the same.)
//!
//! Run with `cargo bench --bench webhooks`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pocket_dca::config::Config;
use pocket_dca::pocket::signature;
use pocket_dca::service;
use pocket_dca::store::Store;

const DELIVERIES: usize = 10_000;
const SECRET: &str = "bench-secret";

fn main() {
    pocket_dca::pocket::install_crypto_provider();
    // The senders stand for Pocket: a runtime of their own, as another
    // process would be; each server gets a fresh runtime, as `serve` has.
    let senders = runtime("sender");
    run_ours(&senders, 1_000, 1);
    // Alternating rounds, so that both see the same machine; the ratio is
    // taken in each round (the machine's speed drifts between rounds).
    let (mut hello, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        hello.push(hello_world(&senders, DELIVERIES, SENDERS));
        ours.push(run_ours(&senders, DELIVERIES, SENDERS));
    }
    let ratios: Vec<f64> = ours.iter().zip(&hello).map(|(o, h)| o / h).collect();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ratio, hello, ours) = (median(ratios), median(hello), median(ours));
    println!(
        "webhooks: {SENDERS} senders, medians of {ROUNDS} rounds: {ours:.0}/s against {hello:.0}/s; {ratio:.2} × the hello-world server's rate (median of each round's ratio)"
    );
}

/// Threads named after their side, so that a profile tells them apart.
fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

/// Rounds of each server.
const ROUNDS: usize = 5;

/// Concurrent senders, as the issue measures.
const SENDERS: usize = 32;

/// POSTs `count` signed deliveries to `url` from `concurrency` senders;
/// (elapsed, sorted latencies).
async fn send_all(url: &str, count: usize, concurrency: usize) -> Sent {
    let next = Arc::new(AtomicUsize::new(0));
    // Clients first: building one reads the system's root certificates.
    let clients: Vec<reqwest::Client> = (0..concurrency).map(|_| reqwest::Client::new()).collect();
    let cpu = cpu_seconds();
    let start = Instant::now();
    let workers: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let (url, next) = (url.to_string(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return latencies;
                    }
                    let body = format!(
                        r#"{{"event": "exchange.executed", "payload": {{"exchange_id": "bench-{i}", "order_id": "o", "fee_rate": 0.015, "cost": 100.00, "amount": 0.00197000, "rate": 50000.00, "fee": 1.50}}}}"#
                    );
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("x-signature-256", signature::sign(SECRET, body.as_bytes()))
                        .header("x-correlation-id", format!("bench-{i}"))
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = start.elapsed();
    let cpu = cpu_seconds() - cpu;
    latencies.sort();
    Sent {
        elapsed,
        latencies,
        cpu,
    }
}

/// What a run of senders measured.
struct Sent {
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// CPU seconds the whole process (senders and server) used meanwhile.
    cpu: f64,
}

/// User and system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields 14 and 15 (utime, stime), after the command name in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

fn report(what: &str, count: usize, sent: &Sent) -> f64 {
    let latencies = &sent.latencies;
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let seconds = sent.elapsed.as_secs_f64();
    let rate = count as f64 / seconds;
    println!(
        "{what}: {count} deliveries: {rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms; CPU {:.0} % of 2 cores, {:.0} µs per delivery (senders and server)",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        sent.cpu / seconds / 2.0 * 100.0,
        sent.cpu / count as f64 * 1e6,
    );
    rate
}

/// The yardstick: a server that answers every POST with a small JSON and
/// keeps nothing.
fn hello_world(senders: &tokio::runtime::Runtime, count: usize, concurrency: usize) -> f64 {
    let server = runtime("hello-world");
    let app = axum::Router::new().route(
        "/webhooks/pocket",
        axum::routing::post(|_body: axum::body::Bytes| async {
            axum::Json(serde_json::json!({"stored": 1}))
        }),
    );
    let listener = server
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/webhooks/pocket", listener.local_addr().unwrap());
    server.spawn(async move { axum::serve(listener, app).await });
    let sent = senders.block_on(send_all(&url, count, concurrency));
    server.shutdown_background();
    report(&format!("hello-world: {concurrency} senders"), count, &sent)
}

/// The service `serve` runs, on a runtime of its own.
fn run_ours(senders: &tokio::runtime::Runtime, count: usize, concurrency: usize) -> f64 {
    let server = runtime("pocket-dca");
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[database]\npath = \"bench.sqlite3\"\n[pocket]\nwebhook_secret = \"{SECRET}\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n[sync]\ninterval_minutes = 0\n"
    );
    let config = Config::parse(&text, dir.path(), &|_: &str| None).unwrap();
    let running = server.block_on(service::start(&config)).unwrap();
    let url = format!("http://{}/webhooks/pocket", running.webhook_addr);
    let sent = senders.block_on(send_all(&url, count, concurrency));
    // Stopping lets the processor finish what the burst left (it gave way
    // during it): the time to catch up.
    let stopping = Instant::now();
    server.block_on(running.stop()).unwrap();
    let caught_up = stopping.elapsed();
    let stored = Store::open(&dir.path().join("bench.sqlite3"))
        .unwrap()
        .delivery_count()
        .unwrap();
    assert_eq!(
        stored as usize, count,
        "every acknowledged delivery is stored"
    );
    let rate = report(
        &format!("pocket-dca: {concurrency} senders (all {stored} stored)"),
        count,
        &sent,
    );
    println!(
        "  then processed the rest and stopped in {:.0} ms",
        caught_up.as_secs_f64() * 1000.0
    );
    rate
}
