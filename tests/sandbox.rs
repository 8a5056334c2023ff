//! The sandbox over HTTP: Pocket's refusals, the executed / interrupted /
//! refunded / settled flows with the documented arithmetic, batch payouts,
//! payout protection, confirmations, signed webhooks with retries that back
//! off, the fault knobs, and state kept in its own file.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{TestSandbox, WebhookSink, s, vectors};
use pocket_dca::pocket::{Exchange, signature};
use pocket_dca::sandbox::Options;
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::wallet::{KeyPath, Network, PayoutKey, ScriptType};
use serde_json::{Value, json};

const CLIENT: &str = "sandbox-test";
const SECRET: &str = "96eb2c74343a6d58590ea4a06ab13d24da4affc4";
const IBAN: &str = "DE75512108001245126199";
const OTHER_IBAN: &str = "DE89370400440532013000";

struct World {
    sandbox: TestSandbox,
    sink: Option<WebhookSink>,
    _sink_runtime: tokio::runtime::Runtime,
}

fn world(configure: impl FnOnce(&mut Options)) -> World {
    // The sink runs on a runtime of its own, started before the sandbox so
    // that the sandbox knows its URL.
    let sink_runtime = common::runtime();
    let sink = WebhookSink::start(&sink_runtime);
    let mut options = Options::new(CLIENT, Network::Testnet);
    options.webhook_url = Some(sink.url());
    options.webhook_secret = SECRET.into();
    options.retry_base = Duration::from_millis(100);
    configure(&mut options);
    World {
        sandbox: TestSandbox::start(options),
        sink: Some(sink),
        _sink_runtime: sink_runtime,
    }
}

impl World {
    fn sink(&self) -> &WebhookSink {
        self.sink.as_ref().unwrap()
    }

    /// The body of an order signed by the test wallet's account.
    fn order_body(&self, script_type: ScriptType, currency: &str, account: u32) -> Value {
        let challenge = self.sandbox.post("/v1/challenges", json!({}));
        let message = format!("I confirm my bitcoin wallet. [{}]", s(&challenge, "token"));
        let wallet = HotWallet::from_seed(&[account as u8 + 3; 32], Network::Testnet).unwrap();
        let key =
            PayoutKey::parse(&wallet.account_descriptor(script_type).unwrap(), None, None).unwrap();
        let path: KeyPath = "0/0".parse().unwrap();
        let address = key.address_at(&path).unwrap().address.to_string();
        json!({
            "active": true,
            "fee_rate": 0.015,
            "payment_method": {"currency": currency, "debitor_iban": IBAN},
            "payout_method": {
                "bitcoin_address": address,
                "message": message,
                "signature": wallet.sign(script_type, &path, &message).unwrap(),
                "extended_public_key": key.slip132_string(),
                "derivation_path": "0/0",
                "gap_limit": null
            }
        })
    }

    fn create_order(&self, currency: &str, account: u32) -> Value {
        let body = self.order_body(ScriptType::P2wpkh, currency, account);
        let (status, order) = self.sandbox.request("POST", "/v1/orders", Some(body));
        assert_eq!(status, 201, "{order}");
        order
    }

    fn pay(&self, order: &Value, amount: &str, iban: &str) -> Exchange {
        let exchange = self.sandbox.post(
            "/sandbox/payments",
            json!({
                "reference": order["payment_method"]["creditor_reference"],
                "amount": serde_json::from_str::<Value>(amount).unwrap(),
                "currency": order["payment_method"]["currency"],
                "debitor_iban": iban,
            }),
        );
        serde_json::from_value(exchange).unwrap()
    }

    /// The webhooks received, once every queued one was delivered.
    fn events(&self) -> Vec<(String, Value)> {
        self.sandbox.wait_for_deliveries();
        self.sink()
            .received()
            .into_iter()
            .map(|r| {
                assert!(
                    signature::verify([SECRET], &r.headers["x-signature-256"], r.body.as_bytes()),
                    "bad signature on {}",
                    r.body
                );
                assert_eq!(r.headers["user-agent"], signature::USER_AGENT);
                assert_eq!(r.headers["content-type"], "application/json");
                let v: Value = serde_json::from_str(&r.body).unwrap();
                (v["event"].as_str().unwrap_or("").to_string(), v)
            })
            .collect()
    }
}

fn refused(world: &World, body: Value, code: &str) {
    let before = world
        .sandbox
        .get("/sandbox/orders")
        .as_array()
        .unwrap()
        .len();
    let (status, answer) = world.sandbox.request("POST", "/v1/orders", Some(body));
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], code, "{answer}");
    assert!(answer["documentation_uri"].is_string());
    let after = world
        .sandbox
        .get("/sandbox/orders")
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "an order was stored after {code}");
}

#[test]
fn order_creation_refuses_what_pocket_refuses() {
    let w = world(|_| {});
    let good = w.order_body(ScriptType::P2wpkh, "eur", 0);

    let mut bad = good.clone();
    bad["fee_rate"] = json!(0.011);
    refused(&w, bad, "invalid_fee_rate");
    let mut bad = good.clone();
    bad["fee_rate"] = json!(0.046);
    refused(&w, bad, "invalid_fee_rate");
    let mut bad = good.clone();
    bad["payment_method"]["currency"] = json!("usd");
    refused(&w, bad, "unsupported_currency");
    let mut bad = good.clone();
    bad["payment_method"]["debitor_iban"] = json!("DE75512108001245126198");
    refused(&w, bad, "invalid_iban");
    let mut bad = good.clone();
    bad["payout_method"]["message"] = json!("I confirm my bitcoin wallet.");
    refused(&w, bad, "invalid_message");
    let mut bad = good.clone();
    bad["payout_method"]["message"] = json!("I confirm my bitcoin wallet. [XXXXXXXX]");
    refused(&w, bad, "challenge_not_found");
    let mut bad = good.clone();
    let message = bad["payout_method"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let stranger = HotWallet::from_seed(&[99u8; 32], Network::Testnet).unwrap();
    let other_key = stranger
        .sign(ScriptType::P2wpkh, &"0/0".parse().unwrap(), &message)
        .unwrap();
    bad["payout_method"]["signature"] = json!(other_key);
    refused(&w, bad, "invalid_signature");
    let mut bad = good.clone();
    bad["payout_method"]["derivation_path"] = json!("0/1");
    refused(&w, bad, "derivation_mismatch");
    let mut bad = good.clone();
    bad["payout_method"]["derivation_path"] = json!("0/1'");
    refused(&w, bad, "invalid_derivation_path");
    let mut bad = good.clone();
    bad["payout_method"]["extended_public_key"] = json!("xpub-not-a-key");
    refused(&w, bad, "invalid_extended_public_key");
    let mut bad = good.clone();
    bad["payout_method"]["gap_limit"] = json!(0);
    refused(&w, bad, "invalid_gap_limit");
    let mut bad = good.clone();
    bad["affiliate_id"] = json!("not-a-uuid");
    refused(&w, bad, "invalid_affiliate_id");
    let mut bad = good.clone();
    bad["payout_method"]["bitcoin_address"] = json!("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    refused(&w, bad, "invalid_bitcoin_address");
    refused(&w, json!({"active": true}), "invalid_request");
    // A lightning payout (issue 10: accepted as Pocket's reference describes
    // it) is refused when the node did not sign the challenge's message.
    refused(
        &w,
        json!({"active": true, "fee_rate": 0.015, "payment_method": {"currency": "eur", "debitor_iban": IBAN},
               "payout_method": {"node_pubkey": "029ef8ee0ba895e2807ac1df1987a7888116c468e70f42e7b089e06811b0e45482",
                                 "message": good["payout_method"]["message"], "signature": "yyyy"}}),
        "invalid_signature",
    );

    // The good body works once; the challenge is then used.
    let (status, _) = w.sandbox.request("POST", "/v1/orders", Some(good.clone()));
    assert_eq!(status, 201);
    refused(&w, good, "challenge_already_used");

    // Authorization, unknown ids and unchangeable fields.
    let url = format!("{}/v1/challenges", w.sandbox.base_url());
    let status = w.sandbox.runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 401);
    let (status, answer) = w.sandbox.request(
        "GET",
        "/v1/orders/64decab6-4129-4fe7-9f6e-1db68283f5ce",
        None,
    );
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
    let (status, answer) = w.sandbox.request("GET", "/v1/orders", None);
    assert_eq!(
        (status, answer["error"].as_str()),
        (405, Some("method_not_allowed")),
        "Pocket has no list endpoint"
    );
    let order = w.sandbox.get("/sandbox/orders")[0].clone();
    let path = format!("/v1/orders/{}", s(&order, "id"));
    let (status, answer) = w
        .sandbox
        .request("PATCH", &path, Some(json!({"payment_method": {}})));
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, answer) = w
        .sandbox
        .request("PATCH", &path, Some(json!({"fee_rate": 0.05})));
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_fee_rate"))
    );
}

#[test]
fn challenges_expire_after_their_ttl() {
    let w = world(|o| o.challenge_ttl = Duration::from_secs(60));
    let body = w.order_body(ScriptType::P2wpkh, "eur", 0);
    w.sandbox
        .post("/sandbox/clock", json!({"advance_seconds": 61}));
    refused(&w, body, "challenge_expired");
    let challenge = w.sandbox.post("/v1/challenges", json!({}));
    let fetched = w
        .sandbox
        .get(&format!("/v1/challenges/{}", s(&challenge, "id")));
    assert_eq!(fetched, challenge);
    assert!(fetched["completed_on"].is_null());
    assert!(s(&fetched, "expires_on").ends_with('Z'));
    assert_eq!(s(&fetched, "token").len(), 8);
}

#[test]
fn executed_interrupted_refunded_and_settled_flows_follow_the_documented_arithmetic() {
    let w = world(|_| {});
    w.sandbox.post(
        "/sandbox/prices",
        serde_json::from_str(r#"{"eur": 50000.00}"#).unwrap(),
    );
    let order = w.create_order("eur", 0);

    // Executed: fee = cost × fee_rate, amount = (cost − fee) / rate.
    let executed = w.pay(&order, "100.00", IBAN);
    assert_eq!(executed.fee.unwrap().to_string(), "1.50");
    assert_eq!(executed.amount.unwrap().to_sat(), 197_000);
    assert_eq!(executed.rate.unwrap().to_string(), "50000.00");
    assert!(executed.action.is_none() && executed.reason.is_none() && executed.payout.is_none());

    // Interrupted above the identification threshold, in Pocket's official
    // (Postman) shape by default — action identify with a url, and reason
    // identification_required — then identified.
    let interrupted = w.pay(&order, "1500.00", IBAN);
    let action = interrupted.action.clone().unwrap();
    assert_eq!(action.code, "identify");
    assert_eq!(
        action.url.as_deref(),
        Some("https://portal.pocketbitcoin.com/de/onboarding")
    );
    assert_eq!(
        interrupted.reason.as_ref().unwrap().code,
        "identification_required"
    );
    assert!(interrupted.executed_on.is_none() && interrupted.amount.is_none());
    let resumed: Exchange = serde_json::from_value(w.sandbox.post(
        &format!("/sandbox/exchanges/{}/identify", interrupted.id),
        json!({}),
    ))
    .unwrap();
    assert!(resumed.action.is_none() && resumed.reason.is_none());
    assert_eq!(resumed.fee.unwrap().to_string(), "22.50");
    assert_eq!(resumed.amount.unwrap().to_sat(), 2_955_000);

    // Refunded: another account, a paused order, above the daily limit.
    let wrong = w.pay(&order, "100.00", OTHER_IBAN);
    assert_eq!(wrong.reason.unwrap().code, "account_not_matching");
    let over = w.pay(&order, "4000.00", IBAN);
    assert_eq!(over.reason.unwrap().code, "threshold_exceeded");
    let path = format!("/v1/orders/{}", s(&order, "id"));
    let (status, _) = w
        .sandbox
        .request("PATCH", &path, Some(json!({"active": false})));
    assert_eq!(status, 200);
    let paused = w.pay(&order, "100.00", IBAN);
    assert_eq!(paused.reason.unwrap().code, "order_inactive");

    // Settled: both executed exchanges paid in one output of one batch.
    let batch = w.sandbox.post("/sandbox/payouts", json!({}));
    let outputs = batch["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1);
    let settled: Exchange =
        serde_json::from_value(w.sandbox.get(&format!("/v1/exchanges/{}", executed.id))).unwrap();
    let payout = settled.payout.unwrap();
    assert_eq!(payout.txid.as_deref(), batch["txid"].as_str());
    assert_eq!(payout.outpoint, Some(0));
    assert_eq!(payout.confirmed, Some(false));
    assert_eq!(
        payout.amount.unwrap().to_sat() + payout.fee.unwrap().to_sat(),
        settled.amount.unwrap().to_sat()
    );
    // Paid to the signed address first (index 0), as Pocket may.
    assert_eq!(
        payout.bitcoin_address,
        order["payout_method"]["bitcoin_address"]
            .as_str()
            .map(String::from)
    );
    assert_eq!(payout.derivation_path.as_deref(), Some("0/0"));

    // Confirmation fills in the block height.
    let mined = w.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    assert_eq!(mined["confirmed"].as_array().unwrap().len(), 2);
    let confirmed: Exchange =
        serde_json::from_value(w.sandbox.get(&format!("/v1/exchanges/{}", executed.id))).unwrap();
    assert_eq!(confirmed.payout.as_ref().unwrap().confirmed, Some(true));
    assert!(confirmed.payout.unwrap().block_height.is_some());

    // Every state change was posted, signed, in the documented envelope.
    let events: Vec<String> = w.events().into_iter().map(|(e, _)| e).collect();
    let count = |name: &str| events.iter().filter(|e| *e == name).count();
    assert_eq!(count("exchange.executed"), 2);
    assert_eq!(count("exchange.interrupted"), 1);
    assert_eq!(count("exchange.refunded"), 3);
    assert_eq!(
        count("exchange.settled"),
        4,
        "two settlements and two confirmations"
    );
    let first = &w.events()[0].1;
    assert_eq!(first["payload"]["exchange_id"], executed.id.as_str());
    assert!(first["payload"].get("id").is_none());
    assert_eq!(
        first["payload"]["cost"].to_string(),
        "100.00",
        "money is a JSON number, exact"
    );
}

#[test]
fn a_batch_shares_one_txid_and_small_purchases_are_held_then_paid_together() {
    let w = world(|_| {});
    w.sandbox.post(
        "/sandbox/prices",
        serde_json::from_str(r#"{"eur": 100000.00, "chf": 100000.00}"#).unwrap(),
    );
    let a = w.create_order("eur", 1);
    let b = w.create_order("chf", 2);
    let big_a = w.pay(&a, "50.00", IBAN);
    let big_b = w.pay(&b, "60.00", IBAN);
    let batch = w.sandbox.post("/sandbox/payouts", json!({}));
    let outputs = batch["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    let ea: Exchange =
        serde_json::from_value(w.sandbox.get(&format!("/v1/exchanges/{}", big_a.id))).unwrap();
    let eb: Exchange =
        serde_json::from_value(w.sandbox.get(&format!("/v1/exchanges/{}", big_b.id))).unwrap();
    let (pa, pb) = (ea.payout.unwrap(), eb.payout.unwrap());
    assert_eq!(pa.txid, pb.txid);
    assert_ne!(pa.outpoint, pb.outpoint);
    assert_ne!(pa.bitcoin_address, pb.bitcoin_address);

    // 0.50 EUR buys 490 sats (fee 0.01): the 190-sat network fee is not
    // below 20 % of it, so the payout is held back.
    let small1 = w.pay(&a, "0.50", IBAN);
    assert_eq!(small1.amount.unwrap().to_sat(), 490);
    let held = w.sandbox.post("/sandbox/payouts", json!({}));
    assert!(held["txid"].is_null());
    assert_eq!(held["held"][0]["exchange_ids"][0], small1.id.as_str());
    // More small purchases together pass the rule: one output, one address.
    let small2 = w.pay(&a, "0.50", IBAN);
    let small3 = w.pay(&a, "0.50", IBAN);
    let paid = w.sandbox.post("/sandbox/payouts", json!({}));
    assert_eq!(paid["outputs"].as_array().unwrap().len(), 1);
    let ids: Vec<&str> = paid["outputs"][0]["exchange_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [small1.id.as_str(), small2.id.as_str(), small3.id.as_str()]
    );
    let mut fees = 0;
    let mut address = None;
    for id in ids {
        let e: Exchange =
            serde_json::from_value(w.sandbox.get(&format!("/v1/exchanges/{id}"))).unwrap();
        let p = e.payout.unwrap();
        assert_eq!(
            p.amount.unwrap().to_sat() + p.fee.unwrap().to_sat(),
            e.amount.unwrap().to_sat()
        );
        fees += p.fee.unwrap().to_sat();
        assert_eq!(p.outpoint, Some(0));
        address.get_or_insert(p.bitcoin_address.clone());
        assert_eq!(Some(p.bitcoin_address), address);
    }
    assert_eq!(fees, 190, "the fee of the one output is shared");
    // Each payout goes to the order's next address: index 1 after index 0.
    assert_eq!(paid["outputs"][0]["derivation_path"], "0/1");
    assert_eq!(paid["outputs"][0]["value_sat"], 3 * 490 - 190);
}

#[test]
fn webhooks_are_retried_with_a_doubling_delay_and_the_retry_count() {
    let w = world(|o| o.retry_base = Duration::from_millis(100));
    w.sink()
        .fail_first
        .store(3, std::sync::atomic::Ordering::SeqCst);
    let order = w.create_order("eur", 0);
    w.pay(&order, "100.00", IBAN);
    let deliveries = w.sandbox.wait_for_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["status"], "delivered");
    assert_eq!(deliveries[0]["attempts"], 4);
    let received = w.sink().received();
    let counts: Vec<&str> = received
        .iter()
        .map(|r| r.headers["x-retry-count"].as_str())
        .collect();
    assert_eq!(counts, ["0", "1", "2", "3"]);
    let correlation: Vec<&str> = received
        .iter()
        .map(|r| r.headers["x-correlation-id"].as_str())
        .collect();
    assert!(
        correlation.windows(2).all(|p| p[0] == p[1]),
        "one event keeps its correlation id"
    );
    // The schedule the dispatcher used: 100 ms, then 200, then 400.
    for attempts in 1..=3u32 {
        assert_eq!(
            pocket_dca::sandbox::retry_delay_ms(Duration::from_millis(100), attempts),
            100 * (1 << (attempts - 1))
        );
    }
}

#[test]
fn fault_knobs_duplicate_drop_reorder_and_bare_shape() {
    let w = world(|_| {});
    let order = w.create_order("eur", 0);
    // Duplicate: the same delivery twice.
    w.sandbox
        .post("/sandbox/webhooks", json!({"duplicate": true}));
    w.pay(&order, "10.00", IBAN);
    w.sandbox.wait_for_deliveries();
    let received = w.sink().received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(
        received[0].headers["x-correlation-id"],
        received[1].headers["x-correlation-id"]
    );
    // Drop the next settlement only.
    w.sandbox.post(
        "/sandbox/webhooks",
        json!({"drop_next": 1, "drop_event": "exchange.settled"}),
    );
    w.sandbox.post("/sandbox/payouts", json!({}));
    w.pay(&order, "10.00", IBAN);
    let deliveries = w.sandbox.wait_for_deliveries();
    let dropped: Vec<_> = deliveries
        .iter()
        .filter(|d| d["status"] == "dropped")
        .collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["event"], "exchange.settled");
    assert_eq!(w.sink().received().len(), 3);
    // Pause, then release newest first: settled arrives before executed.
    w.sandbox.post("/sandbox/webhooks", json!({"paused": true}));
    let third = w.pay(&order, "10.00", IBAN);
    w.sandbox.post("/sandbox/payouts", json!({}));
    w.sandbox
        .post("/sandbox/webhooks", json!({"reorder": true}));
    w.sandbox.wait_for_deliveries();
    let tail: Vec<Value> = w.sink().received()[3..]
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let events: Vec<&str> = tail.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"exchange.settled"));
    assert!(events.contains(&"exchange.executed"));
    // The bare exchange object instead of the envelope.
    w.sandbox.post("/sandbox/webhooks", json!({"bare": true}));
    w.pay(&order, "10.00", IBAN);
    w.sandbox.wait_for_deliveries();
    let last: Value = serde_json::from_str(&w.sink().received().last().unwrap().body).unwrap();
    assert!(last.get("event").is_none());
    assert!(last["id"].is_string());
    assert_ne!(last["id"], third.id.as_str());
}

#[test]
fn state_survives_a_restart_in_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.sqlite3");
    let runtime = common::runtime();
    let options = Options::new(CLIENT, Network::Testnet);
    let challenge_id = runtime.block_on(async {
        let running = pocket_dca::sandbox::start(
            options.clone(),
            Some(&file),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let id = running.engine.create_challenge().unwrap().id;
        running.stop().await;
        id
    });
    runtime.block_on(async {
        let running =
            pocket_dca::sandbox::start(options, Some(&file), "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
        assert_eq!(
            running.engine.challenge(&challenge_id).unwrap().id,
            challenge_id
        );
        running.stop().await;
    });
}

#[test]
fn webhook_hmac_vectors_verify_and_negatives_are_refused() {
    let d = vectors("webhook-hmac.json");
    for group in ["pocket_sig_tools", "github_docs"] {
        for case in d[group]["vectors"].as_array().unwrap() {
            let body = s(case, "body").as_bytes();
            assert_eq!(
                signature::sign(s(case, "secret"), body),
                s(case, "expected_signature")
            );
            assert!(signature::verify(
                [s(case, "secret")],
                s(case, "expected_signature"),
                body
            ));
        }
    }
    for group in ["negative", "header_format_negative"] {
        for case in d[group]["vectors"].as_array().unwrap() {
            // A row with key_hex_used is what a verifier that hex-decodes the
            // secret would compute with: it must not match.
            let key: Vec<u8> = match case["key_hex_used"].as_str() {
                Some(hex_key) => hex::decode(hex_key).unwrap(),
                None => s(case, "secret").as_bytes().to_vec(),
            };
            let valid = signature::verify(
                [key],
                s(case, "presented_signature"),
                s(case, "body").as_bytes(),
            );
            assert_eq!(
                valid,
                case["expected_valid"].as_bool().unwrap(),
                "{}",
                s(case, "name")
            );
        }
    }
    // During a rotation any configured secret verifies.
    let body = b"{\"val\":123,\"val1\":123456}";
    let header = signature::sign(SECRET, body);
    assert!(signature::verify(["new-secret", SECRET], &header, body));
    assert!(!signature::verify(["new-secret", "other"], &header, body));
}
