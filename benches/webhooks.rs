//! Webhook intake throughput: 10,000 distinct signed deliveries over
//! loopback to the service (the same code `serve` runs), each answered only
//! after it is durably stored. Reports deliveries per second and p50/p99
//! latency, sequentially and with 64 deliveries in flight.
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for concurrency in [1, 64] {
        let count = if concurrency == 1 { 1_000 } else { DELIVERIES };
        runtime.block_on(run(count, concurrency));
    }
}

async fn run(count: usize, concurrency: usize) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[database]\npath = \"bench.sqlite3\"\n[pocket]\nwebhook_secret = \"{SECRET}\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n[sync]\ninterval_minutes = 0\n"
    );
    let config = Config::parse(&text, dir.path(), &|_: &str| None).unwrap();
    let running = service::start(&config).await.unwrap();
    let url = format!("http://{}/webhooks/pocket", running.webhook_addr);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (url, next) = (url.clone(), next.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
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
    running.stop().await.unwrap();
    let stored = Store::open(&dir.path().join("bench.sqlite3"))
        .unwrap()
        .delivery_count()
        .unwrap();
    assert_eq!(
        stored as usize, count,
        "every acknowledged delivery is stored"
    );
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "webhooks: {count} deliveries, {concurrency} in flight: {:.0} deliveries/s, p50 {:.2} ms, p99 {:.2} ms (all {stored} stored)",
        count as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}
