//! On-chain verification against the sandbox's real chain, over the
//! Electrum protocol and the Esplora API alike: payouts confirmed with their confirmations, the
//! threshold respected, a payout the chain does not know (unseen, alerted)
//! and one whose output is not what Pocket reported (mismatch, critical).
#![allow(clippy::unwrap_used)]

mod common;

use common::{ServiceRig, http_get, run_json, tool};
use pocket_dca::wallet::ScriptType;
use serde_json::{Value, json};

const IBAN: &str = "DE75512108001245126199";

/// `chain scan --json`: what the payouts check found.
fn scan(rig: &ServiceRig) -> Value {
    scan_all(rig)["payouts"].clone()
}

fn scan_all(rig: &ServiceRig) -> Value {
    let mut cmd = tool(rig.dir.path());
    cmd.args(["chain", "scan", "--json"]);
    run_json(&mut cmd)
}

fn onchain(rig: &ServiceRig, id: &str) -> Value {
    rig.exchange(id)["payout"]["onchain"].clone()
}

/// An order with one purchase paid out (in the mempool).
fn paid_out(rig: &ServiceRig) -> String {
    let order = rig.create_order("eur", ScriptType::P2wpkh, &[]);
    let exchange = rig.pay(&order, "100", IBAN);
    rig.sandbox.post("/sandbox/payouts", json!({}));
    rig.settle();
    exchange["id"].as_str().unwrap().to_string()
}

/// Runs a case against the sandbox's Electrum server, then its Esplora API.
/// The service and the sandbox, with `[chain]` on `backend` and `extra`.
fn chain_rig(backend: &str, seed: u8, extra: &str) -> ServiceRig {
    let rig = ServiceRig::start("chain-client", "chain-secret", seed, "", |_| {});
    rig.use_chain(backend, extra);
    rig
}

fn on_both(case: impl Fn(&str, u8)) {
    for (i, backend) in ["electrum", "esplora"].into_iter().enumerate() {
        case(backend, i as u8);
    }
}

#[test]
fn a_payout_is_confirmed_by_the_chain_with_its_confirmations() {
    on_both(confirmed_with_confirmations);
}

fn confirmed_with_confirmations(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 91 + seed, "min_confirmations = 2\n");
    let id = paid_out(&rig);
    let report = scan(&rig);
    assert_eq!(report["checked"], 1, "{report}");
    let status = onchain(&rig, &id);
    assert_eq!(status["status"], "unconfirmed", "{status}");
    assert_eq!(status["confirmations"], 0);

    // One block: in a block, below the threshold of two.
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    scan(&rig);
    let status = onchain(&rig, &id);
    assert_eq!(
        (status["status"].as_str(), status["confirmations"].as_u64()),
        (Some("unconfirmed"), Some(1)),
        "{status}"
    );
    let height = status["block_height"].as_u64().unwrap();
    assert_eq!(rig.exchange(&id)["payout"]["block_height"], height);

    // Two more: confirmed, three deep.
    rig.sandbox.post("/sandbox/blocks", json!({"count": 2}));
    let report = scan(&rig);
    assert_eq!(report["confirmed"], 1, "{report}");
    let status = onchain(&rig, &id);
    assert_eq!(status["status"], "confirmed");
    assert_eq!(status["confirmations"], 3);
    assert_eq!(status["block_height"], height);
    assert!(status["block_time"].as_str().is_some());

    // The CSV and the labels carry the block.
    let mut cmd = tool(rig.dir.path());
    cmd.args(["export", "csv"]);
    let (_, csv, _) = common::run(&mut cmd);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let column = |name: &str| &record[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(column("onchain_status"), "confirmed");
    assert_eq!(column("block_height"), height.to_string());
    assert!(!column("block_time").is_empty());
    let mut cmd = tool(rig.dir.path());
    cmd.args(["export", "labels"]);
    let (_, labels, _) = common::run(&mut cmd);
    let tx: Value = labels
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["type"] == "tx")
        .unwrap();
    assert_eq!(tx["height"], height, "{tx}");
    assert!(tx["time"].as_str().is_some(), "{tx}");

    let mut cmd = tool(rig.dir.path());
    cmd.args(["chain", "status", "--json"]);
    let state = run_json(&mut cmd);
    assert_eq!(state["backend"], backend);
    assert_eq!(state["public"], false, "the sandbox is on loopback");
    assert_eq!(state["payouts"]["confirmed"], 1);
    assert!(state["server"].as_str().is_some(), "{state}");
}

#[test]
fn a_payout_the_chain_does_not_know_or_pays_otherwise_is_alerted() {
    on_both(unseen_and_mismatch);
}

fn unseen_and_mismatch(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 95 + seed, "unseen_after_hours = 0\n");
    let unseen = paid_out(&rig);
    let mismatched = {
        let order = rig.create_order("chf", ScriptType::P2shP2wpkh, &[]);
        let exchange = rig.pay(&order, "150", IBAN);
        rig.sandbox.post("/sandbox/payouts", json!({}));
        exchange["id"].as_str().unwrap().to_string()
    };
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    // Pocket reports another transaction for the first, and the change
    // output for the second.
    rig.sandbox.post(
        &format!("/sandbox/exchanges/{unseen}/payout"),
        json!({"txid": "ab".repeat(32)}),
    );
    rig.sandbox.post(
        &format!("/sandbox/exchanges/{mismatched}/payout"),
        json!({"outpoint": 2}),
    );
    rig.settle();
    let report = scan(&rig);
    assert_eq!(
        (report["unseen"].as_u64(), report["mismatch"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );

    assert_eq!(onchain(&rig, &unseen)["status"], "unseen");
    let mismatch = onchain(&rig, &mismatched);
    assert_eq!(mismatch["status"], "mismatch");
    assert!(
        mismatch["detail"].as_str().unwrap().contains("output 2"),
        "{mismatch}"
    );
    let alerts = rig.alerts();
    let of = |kind: &str| -> Vec<&Value> { alerts.iter().filter(|a| a["kind"] == kind).collect() };
    assert_eq!(of("chain_unseen").len(), 1, "{alerts:?}");
    assert_eq!(of("chain_unseen")[0]["severity"], "warning");
    assert_eq!(of("chain_mismatch").len(), 1, "{alerts:?}");
    assert_eq!(of("chain_mismatch")[0]["severity"], "critical");

    // A second scan raises nothing new.
    let again = scan(&rig);
    assert_eq!(again["alerts"], 0, "{again}");
}

#[test]
fn coins_that_came_without_a_webhook_are_found_and_the_window_moves_on() {
    on_both(coins_without_webhook);
}

fn coins_without_webhook(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 101 + seed, "");
    let order = rig.create_order("eur", ScriptType::P2wpkh, &[]);
    // Every payout notification is lost.
    rig.sandbox.post(
        "/sandbox/webhooks",
        json!({"drop_next": 100, "drop_event": "exchange.settled"}),
    );
    let exchange = rig.pay(&order, "100", IBAN);
    let id = exchange["id"].as_str().unwrap().to_string();
    let batch = rig.sandbox.post("/sandbox/payouts", json!({}));
    let txid = batch["txid"].as_str().unwrap().to_string();
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    assert_eq!(rig.exchange(&id)["state"], "executed", "no payout arrived");

    let found = scan_all(&rig);
    assert_eq!(found["windows"]["unexplained"], 1, "{found}");
    let alert = rig
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "coins_without_webhook")
        .expect("an alert says coins came");
    let message = alert["message"].as_str().unwrap();
    assert!(
        message.contains(&txid) && message.contains("exchange fetch"),
        "{message}"
    );
    let addresses = rig.addresses(&order);
    let paid = &addresses[0];
    assert_eq!(paid["status"], "used_elsewhere", "{paid}");
    assert!(paid["onchain"]["received_sat"].as_u64().unwrap() > 100_000);
    assert_eq!(paid["onchain"]["tx_count"], 1);

    // The exchange fetched by hand explains them: the alert closes.
    let mut cmd = tool(rig.dir.path());
    cmd.args(["exchange", "fetch", &id]);
    let (code, _, err) = common::run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    scan_all(&rig);
    assert!(
        rig.alerts()
            .iter()
            .all(|a| a["kind"] != "coins_without_webhook"),
        "{:?}",
        rig.alerts()
    );
    assert_eq!(rig.addresses(&order)[0]["status"], "used");

    // Someone pays an address further on: it is used, and the window
    // keeps Pocket's gap limit of unused addresses beyond it.
    let far = rig.addresses(&order)[9]["address"]
        .as_str()
        .unwrap()
        .to_string();
    rig.sandbox.post(
        "/sandbox/chain/pay",
        json!({"address": far, "amount_sat": 50_000}),
    );
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    let mut cmd = tool(rig.dir.path());
    cmd.args(["chain", "scan", "--json", "--full", "--order"])
        .arg(&order["id"].as_str().unwrap()[..8]);
    let found = run_json(&mut cmd);
    assert_eq!(found["windows"]["unexplained"], 1, "{found}");
    let addresses = rig.addresses(&order);
    assert_eq!(found["payouts"]["checked"], 1, "{found}");
    assert_eq!(addresses[9]["status"], "used_elsewhere");
    assert_eq!(addresses[9]["onchain"]["unspent_sat"], 50_000);
    assert!(addresses.len() > 9 + 10, "{}", addresses.len());
}

#[test]
fn a_reorganisation_takes_a_confirmation_away_and_the_status_follows() {
    on_both(reorganised);
}

fn reorganised(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 111 + seed, "");
    let id = paid_out(&rig);
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    scan(&rig);
    let before = onchain(&rig, &id);
    assert_eq!(before["status"], "confirmed", "{before}");

    // The block that held the payout is replaced by a longer chain.
    rig.sandbox
        .post("/sandbox/chain/reorg", json!({"blocks": 1}));
    let report = scan(&rig);
    assert_eq!(report["alerts"], 1, "{report}");
    let after = onchain(&rig, &id);
    assert_eq!(after["status"], "unconfirmed", "{after}");
    assert_eq!(after["confirmations"], 0);
    let alert = rig
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "chain_reorganised")
        .expect("a reorganisation alert");
    assert_eq!(alert["severity"], "warning");

    // Mined again: confirmed at the new height, the alert closed.
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    scan(&rig);
    let again = onchain(&rig, &id);
    assert_eq!(again["status"], "confirmed");
    assert_ne!(again["block_height"], before["block_height"]);
    assert!(
        rig.alerts()
            .iter()
            .all(|a| a["kind"] != "chain_reorganised")
    );
}

#[test]
fn a_replaced_payout_is_named_and_a_reported_replacement_followed() {
    on_both(replaced);
}

fn replaced(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 121 + seed, "");
    let id = paid_out(&rig);
    scan(&rig);
    let first = rig.exchange(&id)["payout"]["txid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(onchain(&rig, &id)["status"], "unconfirmed");

    // A fee bump Pocket does not report: the old transaction is gone.
    let bumped = rig
        .sandbox
        .post("/sandbox/chain/replace", json!({"txid": first}));
    let second = bumped["txid"].as_str().unwrap().to_string();
    let report = scan(&rig);
    assert_eq!(report["replaced"], 1, "{report}");
    let status = onchain(&rig, &id);
    assert_eq!(status["status"], "replaced", "{status}");
    let detail = status["detail"].as_str().unwrap();
    assert!(
        detail.contains(&second) && detail.contains("which pays"),
        "{detail}"
    );
    assert!(rig.alerts().iter().any(|a| a["kind"] == "chain_replaced"));

    // Bumped again, and this time Pocket reports it: the payout follows.
    let reported = rig.sandbox.post(
        "/sandbox/chain/replace",
        json!({"txid": second, "report": true}),
    );
    let third = reported["txid"].as_str().unwrap();
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    assert_eq!(rig.exchange(&id)["payout"]["txid"], third);
    scan(&rig);
    assert_eq!(onchain(&rig, &id)["status"], "confirmed");
}

#[test]
fn the_sandbox_can_hold_a_payout_back_or_misreport_its_output() {
    on_both(held_and_misreported);
}

fn held_and_misreported(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 131 + seed, "unseen_after_hours = 0\n");
    rig.sandbox
        .post("/sandbox/webhooks", json!({"hold_payouts": true}));
    let held = paid_out(&rig);
    rig.sandbox.post(
        "/sandbox/webhooks",
        json!({"hold_payouts": false, "misreport_payouts": true}),
    );
    let order = rig.create_order("chf", ScriptType::P2shP2wpkh, &[]);
    let misreported = rig.pay(&order, "150", IBAN)["id"]
        .as_str()
        .unwrap()
        .to_string();
    rig.sandbox.post("/sandbox/payouts", json!({}));
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    let report = scan(&rig);
    assert_eq!(
        (report["unseen"].as_u64(), report["mismatch"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(onchain(&rig, &held)["status"], "unseen");
    assert_eq!(onchain(&rig, &misreported)["status"], "mismatch");
}

#[test]
fn a_spent_payout_is_alerted_once_when_asked_for() {
    on_both(spent_payout);
}

fn spent_payout(backend: &str, seed: u8) {
    let rig = chain_rig(backend, 141 + seed, "alert_on_spend = true\n");
    let id = paid_out(&rig);
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    rig.settle();
    // Confirmed and still there: nothing to say.
    assert_eq!(scan_all(&rig)["spent"], 0);
    assert_eq!(onchain(&rig, &id)["status"], "confirmed");
    let payout = rig.exchange(&id)["payout"].clone();
    let spend = rig.sandbox.post(
        "/sandbox/chain/spend",
        json!({"txid": payout["txid"], "vout": payout["vout"]}),
    );
    let spender = spend["txid"].as_str().unwrap();
    let spent_alerts = || -> Vec<Value> {
        let alerts = rig.alerts().into_iter();
        alerts.filter(|a| a["kind"] == "payout_spent").collect()
    };
    // Off (the default): the spend is the owner's business.
    rig.use_chain(backend, "");
    assert_eq!(scan_all(&rig)["spent"], 0);
    assert!(spent_alerts().is_empty());
    // On: one alert naming the spending transaction, in the mempool or not.
    rig.use_chain(backend, "alert_on_spend = true\n");
    let all = scan_all(&rig);
    assert_eq!(all["spent"], 1, "{all}");
    let alerts = spent_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let message = alerts[0]["message"].as_str().unwrap();
    assert!(message.contains(spender), "{message}");
    assert!(
        message.contains(&format!(
            "{}:{}",
            payout["txid"].as_str().unwrap(),
            payout["vout"]
        )),
        "{message}"
    );
    assert_eq!(alerts[0]["exchange_id"], id.as_str());
    // Recorded with the payout's on-chain status, counted by `chain status`
    // and shown on its badge.
    assert_eq!(onchain(&rig, &id)["spent_by"], spender);
    let mut cmd = tool(rig.dir.path());
    cmd.args(["chain", "status", "--json"]);
    assert_eq!(run_json(&mut cmd)["spent"], 1);
    let order = rig.exchange(&id)["order_id"].as_str().unwrap().to_string();
    let (status, page) = http_get(&format!("{}/orders/{order}", rig.dashboard_url()));
    assert_eq!(status, 200);
    assert!(page.contains("confirmed · 1 · spent"), "{page}");
    rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    assert_eq!(scan_all(&rig)["spent"], 0, "raised once");
    assert_eq!(spent_alerts().len(), 1);
    // The payout itself is still as Pocket reported it, and the spend
    // brought no coins to explain.
    let status = onchain(&rig, &id);
    assert_eq!(
        (status["status"].as_str(), status["spent_by"].as_str()),
        (Some("confirmed"), Some(spender))
    );
    let kinds: Vec<Value> = rig
        .alerts()
        .into_iter()
        .map(|a| a["kind"].clone())
        .collect();
    assert_eq!(kinds, ["payout_spent"]);
}

/// `serve` itself: no `chain scan`; its job checks a payout it has not
/// checked yet at the next tick (each minute). One backend: the schedule is
/// the same for both.
#[test]
fn serve_checks_a_new_payout_on_the_chain_by_itself() {
    let mut rig = ServiceRig::start("chain-client", "chain-secret", 151, "", |_| {});
    rig.serve_with_chain("electrum", "");
    let id = paid_out(&rig);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(100);
    loop {
        let status = onchain(&rig, &id);
        if status["status"] == "unconfirmed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not check the payout within a tick: {status}"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let mut cmd = tool(rig.dir.path());
    cmd.args(["chain", "status", "--json"]);
    let status = run_json(&mut cmd);
    assert!(status["last_check"].is_string(), "{status}");
}
