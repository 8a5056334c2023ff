//! Every shape Pocket sends, over real HTTP: Pocket's own Postman examples
//! (kept verbatim in `tests/fixtures/pocket/`, only their ids pointed at an
//! order of the test), payout events under names no document gives, a
//! payout after a refund, a replaced payout, block heights, payouts to the
//! key's other addresses (and at the derivation_path Pocket sends), the
//! order's gap limit, and fields that are not as Pocket documents them —
//! each signed, posted to `serve`, stored and reconciled in SQLite.
#![allow(clippy::unwrap_used)]

mod common;

use common::ServiceRig;
use pocket_dca::pocket::Exchange;
use pocket_dca::wallet::{PayoutKey, ScriptType};
use serde_json::{Value, json};

const CLIENT: &str = "shapes-test";
const SECRET: &str = "whsec-shapes";
const IBAN: &str = "DE75512108001245126199";

fn rig() -> ServiceRig {
    ServiceRig::start(CLIENT, SECRET, 41, "", |_| {})
}

fn fixture(name: &str) -> Value {
    let path = common::fixtures().join("pocket").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A Postman envelope, pointed at `order` and `exchange_id`.
fn postman(name: &str, order: &Value, exchange_id: &str) -> String {
    let mut body = fixture(name);
    body["payload"]["order_id"] = order["id"].clone();
    body["payload"]["exchange_id"] = json!(exchange_id);
    body["payload"]["pair"] = json!(format!("btc/{}", order["currency"].as_str().unwrap()));
    body.to_string()
}

/// Pocket's documented settled exchange, pointed at `order`, paid to
/// `address`.
fn settled(order: &Value, exchange_id: &str, address: &str, txid: &str) -> Value {
    let mut body = fixture("exchange.json");
    body["id"] = json!(exchange_id);
    body["order_id"] = order["id"].clone();
    body["pair"] = json!(format!("btc/{}", order["currency"].as_str().unwrap()));
    body["payout"]["bitcoin_address"] = json!(address);
    body["payout"]["txid"] = json!(txid);
    body
}

fn kinds(r: &ServiceRig, exchange_id: &str) -> Vec<String> {
    r.alerts()
        .iter()
        .filter(|a| a["exchange_id"] == exchange_id)
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

const TXID_A: &str = "c01c7a0fd270aa3876119098c0e2d51687a795efab99787e214d8a93ab9f8342";
const TXID_B: &str = "d02d8b1fe381bb4987220109d1f3e62798b806f0bc00898f325e9ea4ac0a9453";

#[test]
fn the_postman_interruption_then_identify_executed_and_settled_ends_matched_without_a_refund() {
    let r = rig();
    let order = r.create_order("chf", ScriptType::P2wpkh, &[]);
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        r.post_signed(&postman("webhook-exchange-interrupted.json", &order, &id)),
        200
    );
    r.settle();
    let row = r.exchange(&id);
    assert_eq!(row["state"], "interrupted");
    assert_eq!(row["action"], "identify");
    assert_eq!(row["reconciliation"], "awaiting_identification");
    let alert = r
        .alerts()
        .into_iter()
        .find(|a| a["exchange_id"] == id.as_str())
        .unwrap();
    assert_eq!(alert["kind"], "interrupted");
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("https://portal.pocketbitcoin.com/de/onboarding"),
        "{alert}"
    );
    // Identified: Pocket executes, then pays out.
    assert_eq!(
        r.post_signed(&postman("webhook-exchange-executed.json", &order, &id)),
        200
    );
    let address = order["signed_address"].as_str().unwrap();
    let payout =
        json!({"event": "exchange.settled", "payload": settled(&order, &id, address, TXID_A)});
    assert_eq!(r.post_signed(&payout.to_string()), 200);
    r.settle();
    let row = r.exchange(&id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
    assert_eq!(
        kinds(&r, &id),
        Vec::<String>::new(),
        "the interruption is over, no refund"
    );
    let mut cmd = common::tool(r.dir.path());
    cmd.args(["alerts", "--all", "--json"]);
    let all = common::run_json(&mut cmd);
    let ever: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["exchange_id"] == id.as_str())
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(ever, ["interrupted"]);
}

#[test]
fn a_payout_event_under_an_unknown_name_is_applied() {
    let r = ServiceRig::start(CLIENT, SECRET, 42, "", |_| {});
    r.sandbox.post(
        "/sandbox/webhooks",
        json!({"payout_event": "exchange.paid_out"}),
    );
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let e: Exchange = serde_json::from_value(r.pay(&order, "100.00", IBAN)).unwrap();
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
    assert_eq!(row["event"], "exchange.paid_out");
    let info: Vec<Value> = r
        .alerts()
        .into_iter()
        .filter(|a| a["kind"] == "unknown_event")
        .collect();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0]["severity"], "info");
}

#[test]
fn a_payout_after_a_refund_is_applied_with_an_alert() {
    let r = rig();
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let id = uuid::Uuid::new_v4().to_string();
    let mut refunded = settled(&order, &id, "", TXID_A);
    refunded["payout"] = Value::Null;
    refunded["reason"] = json!({"code": "threshold_exceeded"});
    let envelope = json!({"event": "exchange.refunded", "payload": refunded});
    assert_eq!(r.post_signed(&envelope.to_string()), 200);
    r.settle();
    assert_eq!(r.exchange(&id)["state"], "refunded");
    assert_eq!(r.exchange(&id)["reconciliation"], "not_applicable");
    let address = order["signed_address"].as_str().unwrap();
    assert_eq!(
        r.post_signed(&settled(&order, &id, address, TXID_A).to_string()),
        200
    );
    r.settle();
    let row = r.exchange(&id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["reconciliation"], "matched");
    let alerts = kinds(&r, &id);
    assert!(
        alerts.contains(&"payout_after_refund".to_string()),
        "{alerts:?}"
    );
}

#[test]
fn a_replaced_payout_frees_the_old_address_and_uses_the_new_one() {
    let r = rig();
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let e: Exchange = serde_json::from_value(r.pay(&order, "100.00", IBAN)).unwrap();
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    assert_eq!(r.exchange(&e.id)["payout"]["index"], 0);
    // Pocket replaces the transaction: another txid, output and address.
    let new_address = r.address_at(ScriptType::P2wpkh, 1);
    r.sandbox.post(
        &format!("/sandbox/exchanges/{}/payout", e.id),
        json!({"txid": TXID_B, "outpoint": 3, "bitcoin_address": new_address}),
    );
    r.settle();
    let row = r.exchange(&e.id);
    assert_eq!(row["payout"]["txid"], TXID_B);
    assert_eq!(row["payout"]["vout"], 3);
    assert_eq!(row["payout"]["index"], 1);
    assert_eq!(row["reconciliation"], "matched");
    let addresses = r.addresses(&order);
    assert_eq!(
        addresses[0]["status"], "expected",
        "the old address is free again"
    );
    assert_eq!(addresses[1]["status"], "used");
    assert!(kinds(&r, &e.id).contains(&"payout_changed".to_string()));
    // A block height filling in is stored, with no alert.
    r.sandbox.post(
        &format!("/sandbox/exchanges/{}/payout", e.id),
        json!({"block_height": 900_123}),
    );
    r.settle();
    assert_eq!(r.exchange(&e.id)["payout"]["block_height"], 900_123);
    assert_eq!(
        kinds(&r, &e.id)
            .iter()
            .filter(|k| *k == "payout_changed")
            .count(),
        1
    );
}

#[test]
fn payouts_to_the_keys_other_addresses_are_warnings_with_the_path_and_a_stranger_is_critical() {
    let r = rig();
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let key = PayoutKey::parse(
        &r.wallet.account_descriptor(ScriptType::P2wpkh).unwrap(),
        None,
        None,
    )
    .unwrap();
    let change = key
        .chain(&[1])
        .unwrap()
        .address(4)
        .unwrap()
        .address
        .to_string();
    let nested = key
        .with_script_type(ScriptType::P2shP2wpkh)
        .chain(&[0])
        .unwrap()
        .address(3)
        .unwrap()
        .address
        .to_string();
    let stranger = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx";
    let cases = [
        (change.as_str(), "your change address 1/4", "warning"),
        (
            nested.as_str(),
            "the P2SH-P2WPKH address of your key at 0/3",
            "warning",
        ),
        (stranger, "not yours", "critical"),
    ];
    for (i, (address, words, severity)) in cases.into_iter().enumerate() {
        let id = uuid::Uuid::new_v4().to_string();
        let txid = format!("{:064x}", i + 1);
        assert_eq!(
            r.post_signed(&settled(&order, &id, address, &txid).to_string()),
            200
        );
        r.settle();
        let alert = r
            .alerts()
            .into_iter()
            .find(|a| a["exchange_id"] == id.as_str())
            .unwrap();
        assert_eq!(alert["severity"], severity, "{alert}");
        assert!(
            alert["message"].as_str().unwrap().contains(words),
            "{alert}"
        );
    }
}

#[test]
fn nine_decimals_a_foreign_pair_and_a_txid_that_is_not_hex_are_stored_with_alerts() {
    let r = rig();
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let address = order["signed_address"].as_str().unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = settled(&order, &id, address, "not-a-txid");
    body["amount"] = json!(0.001970001);
    body["pair"] = json!("btc/usd");
    // serde_json writes the float as written; the decimal is read exactly.
    let text = body.to_string();
    assert!(text.contains("0.001970001"), "{text}");
    assert_eq!(r.post_signed(&text), 200);
    r.settle();
    let row = r.exchange(&id);
    assert_eq!(row["state"], "settled");
    assert_eq!(row["amount_sat"], 197_000);
    let warnings = row["warnings"].to_string();
    for expected in ["more than 8 decimals", "btc/usd", "not 64 hex digits"] {
        assert!(warnings.contains(expected), "{expected}: {warnings}");
    }
    assert!(kinds(&r, &id).contains(&"exchange_fields".to_string()));
}

#[test]
fn the_tutorials_shapes_are_read_too() {
    let r = rig();
    r.sandbox.post(
        "/sandbox/webhooks",
        json!({"bare": true, "interruption": "tutorial"}),
    );
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let e: Exchange = serde_json::from_value(r.pay(&order, "1200.00", IBAN)).unwrap();
    let action = e.action.clone().unwrap();
    assert_eq!(action.code, "identification_required");
    assert!(action.identification_id.is_some() && e.reason.is_none());
    r.settle();
    assert_eq!(r.exchange(&e.id)["state"], "interrupted");
    assert!(kinds(&r, &e.id).contains(&"interrupted".to_string()));
}

#[test]
fn a_derivation_path_pocket_sends_finds_an_address_no_search_reaches() {
    let r = ServiceRig::start(CLIENT, SECRET, 43, "", |_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &[]);
    let key = PayoutKey::parse(
        &r.wallet.account_descriptor(ScriptType::P2wpkh).unwrap(),
        None,
        None,
    )
    .unwrap();
    // Chain 7 is neither the receive nor the change chain: only Pocket's
    // derivation_path leads there.
    let far = key
        .chain(&[7])
        .unwrap()
        .address(3)
        .unwrap()
        .address
        .to_string();
    for (i, path) in [None, Some("7/3")].into_iter().enumerate() {
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = settled(&order, &id, &far, &format!("{:064x}", i + 10));
        body["payout"]["derivation_path"] = json!(path);
        assert_eq!(r.post_signed(&body.to_string()), 200);
        r.settle();
        let alert = r
            .alerts()
            .into_iter()
            .find(|a| a["exchange_id"] == id.as_str())
            .unwrap();
        let (severity, words) = match path {
            None => ("critical", "not yours"),
            Some(_) => ("warning", "your address at 7/3"),
        };
        assert_eq!(alert["severity"], severity, "{alert}");
        assert!(
            alert["message"].as_str().unwrap().contains(words),
            "{alert}"
        );
    }
}

#[test]
fn the_sandbox_skips_addresses_only_within_the_orders_gap_limit() {
    let r = ServiceRig::start(CLIENT, SECRET, 44, "", |_| {});
    let order = r.create_order("eur", ScriptType::P2wpkh, &["--gap-limit", "5"]);
    r.sandbox
        .post("/sandbox/webhooks", json!({"skip_addresses": 50}));
    let first: Exchange = serde_json::from_value(r.pay(&order, "100.00", IBAN)).unwrap();
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    let row = r.exchange(&first.id);
    // Pocket may leave at most gap_limit − 1 addresses unused: 0/0 to 0/3.
    assert_eq!(row["payout"]["index"], 4, "{row}");
    assert_eq!(row["reconciliation"], "matched", "{row}");
    assert!(
        r.alerts().iter().all(|a| a["kind"] != "outside_window"),
        "{:?}",
        r.alerts()
    );
}
