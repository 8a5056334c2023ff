//! The two route tables driven without a socket (`tower::ServiceExt::oneshot`):
//! pages, errors as statuses and pages, the security headers, and the
//! webhook endpoint's refusals — over a real SQLite file in a temp dir.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pocket_dca::config::{Config, Secret};
use pocket_dca::deliveries::processor::Processor;
use pocket_dca::deliveries::writer::DeliveryWriter;
use pocket_dca::reminders::Settings;
use pocket_dca::store::Store;
use pocket_dca::web::auth::Auth;
use pocket_dca::web::{
    Counters, DashboardState, MAX_BODY_BYTES, WebhookState, dashboard_router, webhook_router,
};
use tower::ServiceExt;

fn dashboard(dir: &tempfile::TempDir) -> axum::Router {
    let no_env = |_: &str| None;
    let config = Config::parse("", dir.path(), &no_env).unwrap();
    let store = Store::open(&dir.path().join("dca.sqlite3")).unwrap();
    dashboard_router(Arc::new(DashboardState::new(
        store,
        Auth::new(None),
        Settings::from_config(&config),
        config.bitcoin.network,
    )))
}

async fn call(
    router: axum::Router,
    request: Request<Body>,
) -> (StatusCode, String, axum::http::HeaderMap) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned(), headers)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "127.0.0.1")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn the_overview_renders_with_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let (status, body, headers) = call(dashboard(&dir), get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<title>Overview · pocket-dca</title>"),
        "{body}"
    );
    assert!(body.contains("No orders yet"), "{body}");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    // Without a password, the page hands out a session cookie.
    assert!(headers.contains_key("set-cookie"));
}

#[tokio::test]
async fn a_missing_order_is_a_404_page_not_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let (status, body, _) = call(
        dashboard(&dir),
        get("/orders/64decab6-4129-4fe7-9f6e-1db68283f5ce"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Not found: order 64decab6"), "{body}");
    assert!(body.contains("Back to the overview"), "{body}");
}

#[tokio::test]
async fn an_unknown_path_and_a_csv_of_an_unknown_order_are_404() {
    let dir = tempfile::tempdir().unwrap();
    let (status, body, headers) = call(dashboard(&dir), get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no such page"), "{body}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, _, _) = call(dashboard(&dir), get("/export/exchanges.csv?order=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_host_name_is_refused_before_any_page() {
    // DNS rebinding: a page on attacker.test resolves its name to 127.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    for host in ["attacker.test", "attacker.test:8471", ""] {
        let request = Request::get("/")
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        let (status, body, headers) = call(dashboard(&dir), request).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(body.contains("server.dashboard_hosts"), "{body}");
        assert!(!headers.contains_key("set-cookie"), "no session for {host}");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

/// A dashboard with a password; its state, to count the password checks.
fn with_password(dir: &tempfile::TempDir) -> (axum::Router, Arc<DashboardState>) {
    let no_env = |_: &str| None;
    let config = Config::parse("", dir.path(), &no_env).unwrap();
    let hash = pocket_dca::web::auth::hash_password("right").unwrap();
    let state = Arc::new(DashboardState::new(
        Store::open(&dir.path().join("dca.sqlite3")).unwrap(),
        Auth::new(Some(Secret::new(hash))),
        Settings::from_config(&config),
        config.bitcoin.network,
    ));
    (dashboard_router(state.clone()), state)
}

/// POST /login from `peer` with the login form's cookie and token.
fn login_from(peer: &str, cookie: &str, csrf: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/login")
        .header("host", "127.0.0.1")
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&password={password}")))
        .unwrap();
    let addr: std::net::SocketAddr = format!("{peer}:50000").parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    request
}

#[tokio::test]
async fn the_sixth_wrong_password_in_a_minute_is_refused_without_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let (router, state) = with_password(&dir);
    let (status, body, headers) = call(router.clone(), get("/login")).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("pdca_login="), "{cookie}");
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = body[at..at + 64].to_string();
    for attempt in 1..=5 {
        let (status, body, _) = call(
            router.clone(),
            login_from("192.0.2.7", &cookie, &csrf, "guess"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(body.contains("Wrong password"), "{body}");
    }
    assert_eq!(state.auth.verifications(), 5);
    // The sixth, even with the right password: refused, with the wait, and
    // no password check.
    let (status, body, headers) = call(
        router.clone(),
        login_from("192.0.2.7", &cookie, &csrf, "right"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("Try again in 60 s"), "{body}");
    assert_eq!(headers["retry-after"], "60");
    assert_eq!(state.auth.verifications(), 5);
    // Another address is not held back by it.
    let (status, _, headers) = call(
        router.clone(),
        login_from("192.0.2.99", &cookie, &csrf, "right"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("pdca_login=;")
    );
    assert_eq!(state.auth.verifications(), 6);
}

#[tokio::test]
async fn acknowledging_without_the_csrf_token_is_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let request = Request::post("/alerts/1/ack")
        .header("host", "localhost:8471")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("csrf=00"))
        .unwrap();
    let (status, body, _) = call(dashboard(&dir), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("CSRF"), "{body}");
}

#[tokio::test]
async fn the_webhook_endpoint_refuses_unsigned_and_oversized_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dca.sqlite3");
    drop(Store::open(&db).unwrap());
    let writer = Arc::new(DeliveryWriter::start(&db).unwrap());
    let processor = Arc::new(Processor::start(&db, writer.intake()).unwrap());
    let state = Arc::new(WebhookState {
        secrets: vec![Secret::new("whsec")],
        writer: writer.clone(),
        processor: processor.clone(),
        counters: Arc::new(Counters::default()),
    });
    let router = webhook_router(state.clone());
    let unsigned = Request::post("/webhooks/pocket")
        .body(Body::from(r#"{"val":123}"#))
        .unwrap();
    let (status, _, _) = call(router.clone(), unsigned).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let big = Request::post("/webhooks/pocket")
        .header("x-signature-256", "sha256=00")
        .body(Body::from(vec![b'x'; MAX_BODY_BYTES + 1]))
        .unwrap();
    let (status, _, _) = call(router.clone(), big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body, _) = call(router, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"rejected\":1"), "{body}");
    writer.close();
    processor.close();
    assert_eq!(Store::open(&db).unwrap().delivery_count().unwrap(), 0);
}
