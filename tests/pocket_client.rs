//! The API client against a scripted server on 127.0.0.1: reads are retried
//! on 5xx with backoff, order creation never is, and errors become messages.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use pocket_dca::config::Secret;
use pocket_dca::pocket::{
    Client, Error, OrderCreate, PaymentMethodCreate, PayoutMethodCreate, RetryPolicy,
};

const ORDER: &str = r#"{"id": "64decab6-4129-4fe7-9f6e-1db68283f5ce", "active": true, "created_on": "2021-09-10T04:55:36.887Z", "affiliate_id": null, "fee_rate": 0.03, "payment_method": {"currency": "chf", "debitor_iban": "DE75512108001245126199", "creditor_reference": "RF18GW8K79", "swiss_qr_bill_payload": null, "new_field": 1}, "payout_method": {"bitcoin_address": "17wvJajWQjoVJuJe31tuiDs4MmVeBfSvGY", "extended_public_key": "xpub6C9cxxj5hCqTY7sYeofQPA4nXuLJpL5xBL5F874n8hremDiwrWPsPBmxjJxHqBL7jwxKy33j4uJmHXQSNxRegEY2MukehJUe8s4mBkaFGBU", "derivation_path": "0/1", "gap_limit": null}}"#;

/// A server whose first `failures` answers to each route are 503.
fn scripted(
    runtime: &tokio::runtime::Runtime,
    failures: u32,
) -> (String, Arc<AtomicU32>, Arc<AtomicU32>) {
    let gets = Arc::new(AtomicU32::new(0));
    let posts = Arc::new(AtomicU32::new(0));
    let (g, p) = (gets.clone(), posts.clone());
    let app = axum::Router::new()
        .route(
            "/v1/orders/{id}",
            get(move |headers: axum::http::HeaderMap| {
                let g = g.clone();
                async move {
                    assert_eq!(headers["authorization"], "client_id cid");
                    let n = g.fetch_add(1, Ordering::SeqCst);
                    if n < failures {
                        (StatusCode::SERVICE_UNAVAILABLE, "busy".to_string())
                    } else {
                        (StatusCode::OK, ORDER.to_string())
                    }
                }
            }),
        )
        .route(
            "/v1/orders",
            post(move || {
                let p = p.clone();
                async move {
                    p.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::SERVICE_UNAVAILABLE, "busy")
                }
            }),
        )
        .route(
            "/v1/exchanges/{id}",
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    r#"{"error": "invalid_fee_rate", "documentation_uri": "https://example.invalid/doc"}"#,
                )
            }),
        );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/"), gets, posts)
}

fn client(base: &str) -> Client {
    Client::with_options(
        &base.parse().unwrap(),
        &Secret::new("cid"),
        Duration::from_secs(5),
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(10),
        },
    )
    .unwrap()
}

#[test]
fn reads_are_retried_on_5xx_and_parse_exactly() {
    let runtime = common::runtime();
    let (base, gets, _) = scripted(&runtime, 2);
    let order = runtime
        .block_on(client(&base).get_order("64decab6-4129-4fe7-9f6e-1db68283f5ce"))
        .unwrap();
    assert_eq!(gets.load(Ordering::SeqCst), 3);
    assert_eq!(order.value.fee_rate.to_string(), "0.03");
    assert!(order.json.contains("new_field"), "the raw JSON is kept");
}

#[test]
fn reads_give_up_after_the_last_attempt() {
    let runtime = common::runtime();
    let (base, gets, _) = scripted(&runtime, 10);
    let err = runtime.block_on(client(&base).get_order("x")).unwrap_err();
    assert_eq!(gets.load(Ordering::SeqCst), 4);
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err}");
}

#[test]
fn order_creation_is_never_retried() {
    let runtime = common::runtime();
    let (base, _, posts) = scripted(&runtime, 10);
    let body = OrderCreate {
        active: true,
        affiliate_id: None,
        fee_rate: "0.015".parse().unwrap(),
        payment_method: PaymentMethodCreate {
            currency: "eur".into(),
            debitor_iban: "DE75512108001245126199".into(),
        },
        payout_method: PayoutMethodCreate {
            bitcoin_address: Some("x".into()),
            message: "m".into(),
            signature: "s".into(),
            extended_public_key: Some("k".into()),
            derivation_path: Some("0/0".into()),
            gap_limit: None,
            node_pubkey: None,
        },
    };
    let err = runtime
        .block_on(client(&base).create_order(&body))
        .unwrap_err();
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err}");
}

#[test]
fn errors_say_what_pocket_meant() {
    let runtime = common::runtime();
    let (base, _, _) = scripted(&runtime, 0);
    let err = runtime
        .block_on(client(&base).get_exchange("e"))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("invalid_fee_rate") && text.contains("0.012 and 0.045"),
        "{text}"
    );
    assert_eq!(err.code(), Some("invalid_fee_rate"));
    // Nothing listens on this port: a connection error naming the URL.
    let err = runtime
        .block_on(
            Client::with_options(
                &"http://127.0.0.1:9/".parse().unwrap(),
                &Secret::new("cid"),
                Duration::from_secs(2),
                RetryPolicy {
                    attempts: 1,
                    first_delay: Duration::ZERO,
                },
            )
            .unwrap()
            .get_order("x"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
}
