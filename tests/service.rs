//! The service over real HTTP: the sandbox posts signed webhooks to `serve`
//! (started in-process on 127.0.0.1:0), which stores and reconciles them in
//! SQLite; the tool's CLI reads the result. Flows, refusals, duplicates,
//! disorder, unknown events, payouts outside the window or to foreign
//! addresses, aggregated payouts, amount mismatches and sync.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ServiceRig, run, run_json, tool};
use pocket_dca::pocket::{Btc, Exchange, signature};
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::sandbox::{Options, webhook_body};
use pocket_dca::wallet::{Network, PayoutKey, ScriptType};
use serde_json::{Value, json};

const CLIENT: &str = "service-test";
const SECRET: &str = "whsec-test-secret";
const IBAN: &str = "DE75512108001245126199";

fn rig(configure: impl FnOnce(&mut Options)) -> ServiceRig {
    ServiceRig::start(CLIENT, SECRET, 11, "", configure)
}

impl ServiceRig {
    /// A bank transfer from the order's account.
    fn buy(&self, order: &Value, amount: &str) -> Exchange {
        serde_json::from_value(self.pay(order, amount, IBAN)).unwrap()
    }
}

#[test]
fn executed_interrupted_refunded_and_settled_flows_end_in_the_database() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let executed = r.buy(&order, "100.00");
    r.settle();
    let row = r.exchange(&executed.id);
    assert_eq!(row["state"], "executed");
    assert_eq!(row["cost"], "100.00");
    assert_eq!(row["reconciliation"], "pending");
    assert!(row["payout"].is_null());

    // Interrupted, then identified: executed.
    let interrupted = r.buy(&order, "1200.00");
    r.settle();
    assert_eq!(r.exchange(&interrupted.id)["state"], "interrupted");
    assert!(
        r.alerts()
            .iter()
            .any(|a| a["kind"] == "interrupted" && a["exchange_id"] == interrupted.id.as_str())
    );
    r.sandbox.post(
        &format!("/sandbox/exchanges/{}/identify", interrupted.id),
        json!({}),
    );
    r.settle();
    assert_eq!(r.exchange(&interrupted.id)["state"], "executed");

    // Refunded: payment from another account.
    let refunded: Exchange = serde_json::from_value(r.sandbox.post(
        "/sandbox/payments",
        json!({"reference": order["payment_method"]["creditor_reference"], "amount": 50, "currency": "eur", "debitor_iban": "DE89370400440532013000"}),
    ))
    .unwrap();
    r.settle();
    assert_eq!(r.exchange(&refunded.id)["state"], "refunded");
    let refund_alert = r
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "refunded")
        .unwrap();
    assert!(
        refund_alert["message"]
            .as_str()
            .unwrap()
            .contains("another account"),
        "{refund_alert}"
    );

    // Settled: the payout matches index 0 (the signed address) and the window grows.
    let before = r.addresses(&order).len();
    assert_eq!(before, 10);
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    let settled = r.exchange(&executed.id);
    assert_eq!(settled["state"], "settled");
    assert_eq!(settled["reconciliation"], "matched");
    assert_eq!(settled["payout"]["index"], 0);
    assert_eq!(settled["warnings"], json!([]));
    let addresses = r.addresses(&order);
    assert_eq!(
        addresses.len(),
        11,
        "gap_limit unused addresses follow the highest used one"
    );
    assert_eq!(addresses[0]["status"], "used");
    assert_eq!(
        addresses[0]["exchange_ids"].as_array().unwrap().len(),
        2,
        "both purchases, one output"
    );
    // Confirmation.
    r.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    r.settle();
    assert_eq!(r.exchange(&executed.id)["state"], "confirmed");
    // No critical alert in a normal flow.
    assert!(r.alerts().iter().all(|a| a["severity"] != "critical"));
}

#[test]
fn bad_and_missing_signatures_are_refused_and_nothing_is_stored() {
    let r = rig(|_| {});
    let body = r#"{"event": "exchange.executed", "payload": {"exchange_id": "x"}}"#;
    assert_eq!(r.post_webhook(body, None), 401);
    assert_eq!(r.post_webhook(body, Some("sha256=00".into())), 401);
    assert_eq!(
        r.post_webhook(body, Some(signature::sign("wrong-secret", body.as_bytes()))),
        401
    );
    let reserialised = body.replace(": ", ":");
    assert_eq!(
        r.post_webhook(
            &reserialised,
            Some(signature::sign(SECRET, body.as_bytes()))
        ),
        401
    );
    assert_eq!(r.store().delivery_count().unwrap(), 0);
    // A body over 64 KiB: 413, nothing stored.
    let big = format!(
        r#"{{"event": "exchange.executed", "payload": {{"pad": "{}"}}}}"#,
        "x".repeat(70_000)
    );
    assert_eq!(r.post_signed(&big), 413);
    assert_eq!(r.store().delivery_count().unwrap(), 0);
    // The bare hex form of the signature (no sha256= prefix) is accepted.
    let signed = signature::sign(SECRET, body.as_bytes());
    assert_eq!(
        r.post_webhook(body, Some(signed.trim_start_matches("sha256=").into())),
        200
    );
    assert_eq!(r.store().delivery_count().unwrap(), 1);
}

#[test]
fn duplicates_are_stored_each_and_applied_once() {
    let r = rig(|_| {});
    r.sandbox
        .post("/sandbox/webhooks", json!({"duplicate": true}));
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let e = r.buy(&order, "100.00");
    r.settle();
    let deliveries = r.store().deliveries(None).unwrap();
    assert_eq!(deliveries.len(), 2);
    let statuses: Vec<&str> = deliveries.iter().map(|d| d.status.as_str()).collect();
    assert!(
        statuses.contains(&"applied") && statuses.contains(&"unchanged"),
        "{statuses:?}"
    );
    assert_eq!(r.exchanges().len(), 1);
    assert_eq!(r.exchange(&e.id)["state"], "executed");
}

#[test]
fn settled_before_executed_ends_settled() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    r.sandbox.post("/sandbox/webhooks", json!({"paused": true}));
    let e = r.buy(&order, "100.00");
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.sandbox
        .post("/sandbox/webhooks", json!({"reorder": true}));
    r.settle();
    let deliveries = r.store().deliveries(None).unwrap();
    // Newest first in the table: the executed delivery came last and was stale.
    assert_eq!(deliveries[0].event.as_deref(), Some("exchange.executed"));
    assert_eq!(deliveries[0].status, "stale");
    let row = r.exchange(&e.id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
}

#[test]
fn unknown_events_are_applied_and_bodies_without_an_exchange_are_kept_unprocessed() {
    // Issue 10: an event under a name no document gives is applied by its
    // fields (one informational alert per name); only a body that carries
    // no exchange stays unprocessed.
    let r = rig(|_| {});
    let teleported =
        r#"{"event": "exchange.teleported", "payload": {"exchange_id": "x", "order_id": "o"}}"#;
    assert_eq!(r.post_signed(teleported), 200);
    assert_eq!(
        r.post_signed(r#"{"event": "exchange.teleported", "payload": {"exchange_id": "y"}}"#),
        200
    );
    assert_eq!(
        r.post_signed(r#"{"event": "order.created", "payload": {"order_id": "o"}}"#),
        200
    );
    assert_eq!(r.post_signed("not json at all"), 200);
    r.settle();
    let deliveries = r.store().deliveries(None).unwrap();
    let statuses: Vec<&str> = deliveries.iter().rev().map(|d| d.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["applied", "applied", "unprocessed", "unprocessed"]
    );
    assert_eq!(deliveries[3].event.as_deref(), Some("exchange.teleported"));
    assert_eq!(deliveries[1].event.as_deref(), Some("order.created"));
    let alerts = r.alerts();
    let count = |kind: &str| alerts.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!(count("unprocessed_webhook"), 2);
    assert_eq!(count("unknown_event"), 1, "{alerts:?}");
    let info = alerts
        .iter()
        .find(|a| a["kind"] == "unknown_event")
        .unwrap();
    assert_eq!(info["severity"], "info");
    assert!(
        info["message"]
            .as_str()
            .unwrap()
            .contains("exchange.teleported")
    );
    assert_eq!(r.exchange("x")["state"], "executed");
    // Replaying does not loop: it stays unprocessed.
    let mut cmd = tool(r.dir.path());
    cmd.args(["webhooks", "replay", &deliveries[0].id.to_string()]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("unprocessed"), "{out}");
}

#[test]
fn a_payout_to_a_foreign_address_raises_a_critical_alert() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let stranger = HotWallet::from_seed(&[77u8; 32], Network::Testnet).unwrap();
    let key = PayoutKey::parse(
        &stranger.account_descriptor(ScriptType::P2wpkh).unwrap(),
        None,
        None,
    )
    .unwrap();
    let foreign = key
        .address_at(&"0/0".parse().unwrap())
        .unwrap()
        .address
        .to_string();
    let e = r.settled_exchange(&order, &foreign, &"ab".repeat(32), 0);
    assert_eq!(
        r.post_signed(&webhook_body("exchange.settled", &e, false).unwrap()),
        200
    );
    r.settle();
    assert_eq!(r.exchange(&e.id)["reconciliation"], "foreign");
    let alert = r
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "foreign_address")
        .unwrap();
    assert_eq!(alert["severity"], "critical");
    assert!(alert["message"].as_str().unwrap().contains(&foreign));
}

#[test]
fn a_payout_beyond_the_window_is_matched_with_a_warning() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let far = r.address_at(ScriptType::P2wpkh, 50);
    let e = r.settled_exchange(&order, &far, &"cd".repeat(32), 3);
    assert_eq!(
        r.post_signed(&webhook_body("exchange.settled", &e, false).unwrap()),
        200
    );
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["reconciliation"], "outside_window");
    assert_eq!(row["payout"]["index"], 50);
    let alert = r
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "outside_window")
        .unwrap();
    assert_eq!(alert["severity"], "warning");
    // The window now reaches 50 + gap limit, and the gap is reported.
    let addresses = r.addresses(&order);
    assert_eq!(addresses.last().unwrap()["index"], 60);
    assert_eq!(addresses[50]["status"], "used");
    assert!(
        r.alerts().iter().any(|a| a["kind"] == "gap_headroom"),
        "50 unused addresses below a used one"
    );
    // The wallet's gap limit raised: the alert is closed, with why.
    let id = order["id"].as_str().unwrap();
    let (code, _, err) =
        run(tool(r.dir.path()).args(["order", "set", id, "--wallet-gap-limit", "100"]));
    assert_eq!(code, 0, "{err}");
    let open = r.alerts();
    assert!(
        !open.iter().any(|a| a["kind"] == "gap_headroom"),
        "{open:?}"
    );
    let all = run_json(tool(r.dir.path()).args(["alerts", "--all", "--json"]));
    let closed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "gap_headroom")
        .unwrap();
    assert!(closed["resolved_at"].is_string(), "{closed}");
    assert!(
        closed["resolution"].as_str().unwrap().contains("gap limit"),
        "{closed}"
    );
    // The dashboard's list of all alerts says so too.
    let url = format!("{}/alerts?all=1", r.dashboard_url());
    let page = r
        .sandbox
        .runtime
        .block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() });
    assert!(
        page.contains("within the wallet&#39;s gap limit again") && page.contains(">resolved "),
        "{page}"
    );
}

#[test]
fn an_aggregated_payout_matches_every_exchange_without_alert_but_reuse_is_caught() {
    let r = rig(|o| o.payout_fee = Btc::from_sat(190));
    r.sandbox.post(
        "/sandbox/prices",
        serde_json::from_str(r#"{"eur": 100000.00}"#).unwrap(),
    );
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let small = [
        r.buy(&order, "0.50"),
        r.buy(&order, "0.50"),
        r.buy(&order, "0.50"),
    ];
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    for e in &small {
        let row = r.exchange(&e.id);
        assert_eq!(row["reconciliation"], "matched");
        assert_eq!(row["payout"]["index"], 0);
    }
    assert!(r.alerts().iter().all(|a| a["kind"] != "address_reuse"));
    // The same address in another transaction is reuse.
    let address = r.address_at(ScriptType::P2wpkh, 0);
    let again = r.settled_exchange(&order, &address, &"ef".repeat(32), 1);
    r.post_signed(&webhook_body("exchange.settled", &again, false).unwrap());
    r.settle();
    assert_eq!(r.exchange(&again.id)["reconciliation"], "reused");
    let alert = r
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "address_reuse")
        .unwrap();
    assert_eq!(alert["severity"], "critical");
    assert_eq!(r.addresses(&order)[0]["status"], "reused");
}

#[test]
fn an_amount_mismatch_is_recorded_as_a_warning() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let address = r.address_at(ScriptType::P2wpkh, 1);
    let mut e = r.settled_exchange(&order, &address, &"aa".repeat(32), 0);
    e.fee = Some("2.50".parse().unwrap());
    e.payout.as_mut().unwrap().amount = Some(Btc::from_sat(190_000));
    r.post_signed(&webhook_body("exchange.settled", &e, false).unwrap());
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["reconciliation"], "matched");
    let warnings = row["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("cost × fee rate")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().contains("sat")),
        "{warnings:?}"
    );
}

#[test]
fn the_bare_exchange_object_is_accepted() {
    let r = rig(|o| o.bare_webhooks = true);
    let order = r.create_order("eur", ScriptType::P2tr, &[]);
    let e = r.buy(&order, "100.00");
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
    let deliveries = r.store().deliveries(None).unwrap();
    assert!(
        deliveries
            .iter()
            .all(|d| d.event.as_deref() == Some("bare exchange"))
    );
}

#[test]
fn a_lost_settlement_is_recovered_by_sync() {
    let r = rig(|_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let e = r.buy(&order, "100.00");
    r.sandbox.post(
        "/sandbox/webhooks",
        json!({"drop_next": 1, "drop_event": "exchange.settled"}),
    );
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    assert_eq!(
        r.exchange(&e.id)["state"],
        "executed",
        "the settlement webhook was lost"
    );
    let mut cmd = tool(r.dir.path());
    cmd.args(["sync", "--json"]);
    let report = run_json(&mut cmd);
    assert_eq!(report["exchanges_checked"], 1);
    assert_eq!(report["exchanges_changed"], 1);
    assert_eq!(report["orders_refreshed"], 1);
    let row = r.exchange(&e.id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
    // A refund reported after settlement is an alert, not an overwrite.
    let mut refunded: Exchange =
        serde_json::from_str(&r.store().exchange(&e.id).unwrap().unwrap().json).unwrap();
    refunded.reason = Some(pocket_dca::pocket::ExchangeReason {
        code: "other_risk_detected".into(),
    });
    r.post_signed(&webhook_body("exchange.refunded", &refunded, false).unwrap());
    r.settle();
    assert_eq!(r.exchange(&e.id)["state"], "settled");
    assert!(
        r.alerts()
            .iter()
            .any(|a| a["kind"] == "refund_after_settlement" && a["severity"] == "critical")
    );
}

#[test]
fn exchanges_of_unknown_orders_are_stored_and_flagged_and_fetch_imports_one() {
    let r = rig(|_| {});
    let mut e = r.settled_exchange(
        &json!({"id": "00000000-0000-4000-8000-000000000000"}),
        "tb1qexample",
        &"bb".repeat(32),
        0,
    );
    e.payout = None;
    r.post_signed(&webhook_body("exchange.executed", &e, false).unwrap());
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["known_order"], false);
    assert_eq!(row["reconciliation"], "unknown_order");
    assert!(r.alerts().iter().any(|a| a["kind"] == "unknown_order"));
    // `exchange fetch` applies an exchange by id, e.g. one whose webhooks were all lost.
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    r.sandbox.post("/sandbox/webhooks", json!({"drop_next": 5}));
    let lost = r.buy(&order, "100.00");
    r.settle();
    assert!(r.exchanges().iter().all(|x| x["id"] != lost.id.as_str()));
    let mut cmd = tool(r.dir.path());
    cmd.args(["exchange", "fetch", &lost.id]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("new exchange, executed"), "{out}");
    assert_eq!(r.exchange(&lost.id)["state"], "executed");
    // Acknowledging an alert takes it off the open list.
    let id = r.alerts()[0]["id"].as_i64().unwrap();
    let mut cmd = tool(r.dir.path());
    cmd.args(["alerts", "ack", &id.to_string()]);
    assert_eq!(run(&mut cmd).0, 0);
    assert!(r.alerts().iter().all(|a| a["id"] != id));
}

#[test]
fn importing_an_order_reconciles_the_exchanges_that_arrived_before_it() {
    let r = rig(|_| {});
    // The order is created from another installation with the same client id:
    // its webhooks reach this service, which does not know the order yet.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("pocket-dca.toml"), &r.config).unwrap();
    let order = common::create_order(
        elsewhere.path(),
        &r.wallet,
        ScriptType::P2wpkh,
        "eur",
        "1",
        &[],
    );
    let id = order["id"].as_str().unwrap();
    let paid = r.buy(&order, "100.00");
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    let row = r.exchange(&paid.id);
    assert_eq!(row["known_order"], false);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "unknown_order");
    assert!(r.alerts().iter().any(|a| a["kind"] == "unknown_order"));

    let descriptor = r.wallet.account_descriptor(ScriptType::P2wpkh).unwrap();
    let mut cmd = tool(r.dir.path());
    cmd.args(["order", "import", id, "--key", &descriptor])
        .args(["--amount", "100", "--day", "1"]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("reconciled 1 exchanges that arrived before the import"),
        "{out}"
    );
    let row = r.exchange(&paid.id);
    assert_eq!(row["known_order"], true);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched", "{row}");
    assert!(r.alerts().iter().all(|a| a["kind"] != "unknown_order"));
    let used: Vec<Value> = r
        .addresses(&order)
        .into_iter()
        .filter(|a| a["status"] == "used")
        .collect();
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(used[0]["exchange_ids"][0], paid.id.as_str());
    // Importing again is refused and changes nothing.
    let mut cmd = tool(r.dir.path());
    cmd.args(["order", "import", id, "--key", &descriptor])
        .args(["--amount", "100", "--day", "1"]);
    assert_ne!(run(&mut cmd).0, 0);
    assert_eq!(r.exchange(&paid.id)["reconciliation"], "matched");
}
