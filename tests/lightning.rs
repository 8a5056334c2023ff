//! Orders Pocket allows that the tool used to refuse, end to end over real
//! HTTP (sandbox → signed webhooks → `serve` → SQLite): an order paid to one
//! address, and an order paid over lightning with its payout instruction
//! (`exchange payout`), checked locally before the sandbox sees it.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use common::{ServiceRig, run, tool};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use pocket_dca::sandbox::wallet::sign_node_message;
use pocket_dca::wallet::ScriptType;
use serde_json::{Value, json};

const IBAN: &str = "DE75512108001245126199";

/// Creates an order at the sandbox as the Pocket app would (the tool only
/// imports such orders), with a fresh challenge in the message.
fn create_at_pocket(rig: &ServiceRig, payout: impl FnOnce(&str) -> Value) -> Value {
    let challenge = rig.sandbox.post("/v1/challenges", json!({}));
    let message = format!(
        "I confirm my bitcoin wallet. [{}]",
        challenge["token"].as_str().unwrap()
    );
    let mut payout_method = payout(&message);
    payout_method["message"] = json!(message);
    rig.sandbox.post(
        "/v1/orders",
        json!({
            "active": true,
            "fee_rate": 0.015,
            "payment_method": {"currency": "eur", "debitor_iban": IBAN},
            "payout_method": payout_method,
        }),
    )
}

fn import(rig: &ServiceRig, order: &Value) -> Value {
    let mut cmd = tool(rig.dir.path());
    cmd.args(["order", "import", order["id"].as_str().unwrap()])
        .args(["--amount", "100", "--day", "1", "--json"]);
    common::run_json(&mut cmd)
}

fn pay(rig: &ServiceRig, order: &Value, amount: u32) -> Value {
    rig.sandbox.post(
        "/sandbox/payments",
        json!({
            "reference": order["payment_method"]["creditor_reference"],
            "amount": amount,
            "currency": "eur",
            "debitor_iban": IBAN,
        }),
    )
}

fn node_key(byte: u8) -> (SecretKey, String) {
    let secret = SecretKey::from_slice(&[byte; 32]).unwrap();
    let public = secret.public_key(&Secp256k1::signing_only());
    (secret, public.to_string())
}

/// A BOLT11 invoice made by the node `secret`, as `lncli addinvoice` would.
fn invoice(secret: &SecretKey, currency: Currency, sat: u64, made_secs_ago: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    InvoiceBuilder::new(currency)
        .description("pocket-dca payout".into())
        .payment_hash(sha256::Hash::hash(&sat.to_be_bytes()))
        .payment_secret(PaymentSecret([7; 32]))
        .duration_since_epoch(now - Duration::from_secs(made_secs_ago))
        .expiry_time(Duration::from_secs(3600))
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(sat * 1000)
        .build_signed(|hash| Secp256k1::signing_only().sign_ecdsa_recoverable(hash, secret))
        .unwrap()
        .to_string()
}

fn payout_cmd(rig: &ServiceRig, id: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = tool(rig.dir.path());
    cmd.args(["exchange", "payout", id]).args(args);
    run(&mut cmd)
}

fn sandbox_payout(rig: &ServiceRig, id: &str) -> Value {
    rig.sandbox.get(&format!("/v1/exchanges/{id}"))["payout"].clone()
}

#[test]
fn a_lightning_order_is_tracked_and_paid_out_by_a_checked_invoice() {
    let rig = ServiceRig::start("ln-client", "ln-secret", 61, "", |_| {});
    let (node, pubkey) = node_key(9);
    let order = create_at_pocket(
        &rig,
        |message| json!({"node_pubkey": pubkey, "signature": sign_node_message(&node, message)}),
    );
    let imported = import(&rig, &order);
    assert_eq!(imported["payout"], "lightning");
    assert_eq!(imported["node_pubkey"], pubkey.as_str());

    let exchange = pay(&rig, &order, 100);
    let id = exchange["exchange_id"]
        .as_str()
        .or(exchange["id"].as_str())
        .unwrap()
        .to_string();
    rig.settle();
    let stored = rig.exchange(&id);
    assert_eq!(stored["state"], "executed");
    let sat = stored["amount_sat"].as_u64().unwrap();
    let alert = rig
        .alerts()
        .into_iter()
        .find(|a| a["kind"] == "lightning_payout")
        .expect("an alert says what to do");
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains(&format!("{sat} sat")), "{message}");
    assert!(message.contains("exchange payout"), "{message}");

    // Every mistake is caught here, before Pocket sees the invoice.
    let (stranger, _) = node_key(10);
    let mistakes = [
        (
            invoice(&node, Currency::BitcoinTestnet, sat - 1, 0),
            "make an invoice of exactly",
        ),
        (
            invoice(&node, Currency::Bitcoin, sat, 0),
            "make the invoice on your testnet node",
        ),
        (
            invoice(&stranger, Currency::BitcoinTestnet, sat, 0),
            "make the invoice on the order's node",
        ),
        (
            invoice(&node, Currency::BitcoinTestnet, sat, 7200),
            "expired",
        ),
    ];
    for (text, reason) in &mistakes {
        let (code, _, stderr) = payout_cmd(&rig, &id, &["--invoice", text]);
        assert_ne!(code, 0, "{reason}");
        assert!(stderr.contains(reason), "{reason}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(
            sandbox_payout(&rig, &id).is_null(),
            "nothing sent: {reason}"
        );
    }

    // The right invoice, by a prefix of the exchange id.
    let good = invoice(&node, Currency::BitcoinTestnet, sat, 0);
    let mut cmd = tool(rig.dir.path());
    cmd.args(["exchange", "payout", &id[..8], "--invoice", &good, "--json"]);
    let answer = common::run_json(&mut cmd);
    assert_eq!(answer["state"], "settled");
    assert_eq!(answer["payout"]["type"], "lightning");
    assert_eq!(answer["payout"]["status"], "pending");
    assert_eq!(answer["payout"]["amount_sat"], sat);
    assert_eq!(answer["payout"]["fee_sat"], 0);
    assert_eq!(sandbox_payout(&rig, &id)["status"], "pending");
    assert!(
        rig.alerts().iter().all(|a| a["kind"] != "lightning_payout"),
        "the payout was asked for"
    );

    // Pocket pays the invoice: the payout completes over a webhook.
    let batch = rig.sandbox.post("/sandbox/payouts", json!({}));
    assert_eq!(batch["lightning"], json!([id]));
    rig.settle();
    let done = rig.exchange(&id);
    assert_eq!(done["state"], "confirmed");
    assert_eq!(done["payout"]["status"], "completed");
    assert_eq!(done["reconciliation"], "lightning");

    // Pocket refuses a second instruction with its documented code.
    let (status, body) = rig.sandbox.request(
        "PATCH",
        &format!("/v1/exchanges/{id}"),
        Some(json!({"payout": {"type": "lightning", "method": "invoice", "invoice": good}})),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("already_completed"))
    );
    let (code, _, stderr) = payout_cmd(&rig, &id, &["--invoice", &good]);
    assert_ne!(code, 0);
    assert!(stderr.contains("is confirmed"), "{stderr}");

    // The dashboard says where payouts go.
    let (status, page) = common::http_get(&format!(
        "{}/orders/{}",
        rig.dashboard_url(),
        order["id"].as_str().unwrap()
    ));
    assert_eq!(status, 200);
    assert!(page.contains("paid out over lightning"), "{page}");
    assert!(page.contains("lightning completed"), "{page}");
}

#[test]
fn a_channel_payout_needs_a_reachable_address_of_the_orders_node() {
    let rig = ServiceRig::start("ln-client", "ln-secret", 62, "", |_| {});
    let (node, pubkey) = node_key(11);
    let order = create_at_pocket(
        &rig,
        |message| json!({"node_pubkey": pubkey, "signature": sign_node_message(&node, message)}),
    );
    import(&rig, &order);
    let exchange = pay(&rig, &order, 100);
    let id = exchange["exchange_id"]
        .as_str()
        .or(exchange["id"].as_str())
        .unwrap()
        .to_string();
    rig.settle();

    // Pocket's own code, explained: the node must be named.
    let (code, _, stderr) = payout_cmd(&rig, &id, &["--channel"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("node_address_required"), "{stderr}");
    assert!(stderr.contains("--node-address"), "{stderr}");

    // Another node's address is refused locally.
    let (_, stranger) = node_key(12);
    let (code, _, stderr) = payout_cmd(
        &rig,
        &id,
        &[
            "--channel",
            "--node-address",
            &format!("{stranger}@127.0.0.1:9735"),
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("not the order's node"), "{stderr}");

    // A node that does not answer: Pocket's `connect`.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, _, stderr) = payout_cmd(
        &rig,
        &id,
        &[
            "--channel",
            "--node-address",
            &format!("{pubkey}@127.0.0.1:{closed_port}"),
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("connect"), "{stderr}");
    assert!(sandbox_payout(&rig, &id).is_null());

    // A node listening: the channel payout is under way.
    let listening = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listening.local_addr().unwrap().port();
    let (code, stdout, stderr) = payout_cmd(
        &rig,
        &id,
        &[
            "--channel",
            "--node-address",
            &format!("{pubkey}@127.0.0.1:{port}"),
            "--private",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("payout lightning pending"), "{stdout}");
    rig.settle();
    assert_eq!(rig.exchange(&id)["payout"]["status"], "pending");
}

#[test]
fn an_order_paid_to_one_address_is_tracked_with_that_address() {
    let rig = ServiceRig::start("addr-client", "addr-secret", 63, "", |_| {});
    let path = "0/0".parse().unwrap();
    let address = rig.address_at(ScriptType::P2wpkh, 0);
    let order = create_at_pocket(&rig, |message| {
        json!({
            "bitcoin_address": address,
            "signature": rig.wallet.sign(ScriptType::P2wpkh, &path, message).unwrap(),
        })
    });
    let imported = import(&rig, &order);
    assert_eq!(imported["payout"], "address");
    let addresses = rig.addresses(&imported);
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    assert_eq!(addresses[0]["address"], address.as_str());

    // Two months of purchases, each paid out to the one address.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let exchange = pay(&rig, &order, 100);
        ids.push(
            exchange["exchange_id"]
                .as_str()
                .or(exchange["id"].as_str())
                .unwrap()
                .to_string(),
        );
        rig.sandbox.post("/sandbox/payouts", json!({}));
        rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    }
    rig.settle();
    for id in &ids {
        let stored = rig.exchange(id);
        assert_eq!(stored["state"], "confirmed", "{stored}");
        assert_eq!(stored["reconciliation"], "matched", "{stored}");
        assert_eq!(stored["payout"]["address"], address.as_str());
    }
    let alerts = rig.alerts();
    assert!(
        alerts
            .iter()
            .all(|a| a["kind"] != "address_reuse" && a["kind"] != "foreign_address"),
        "{alerts:?}"
    );
}

#[test]
fn the_sandbox_marks_which_error_codes_are_pockets_and_which_its_own() {
    let sandbox = common::TestSandbox::start(pocket_dca::sandbox::Options::new(
        "codes",
        pocket_dca::wallet::Network::Testnet,
    ));
    let table = sandbox.get("/sandbox/errors");
    for code in [
        "in_progress",
        "invoice_amount",
        "node_address_required",
        "connect",
    ] {
        assert_eq!(table[code]["source"], "pocket", "{code}");
    }
    for code in ["invalid_fee_rate", "challenge_expired", "invalid_signature"] {
        assert_eq!(table[code]["source"], "sandbox", "{code}");
        assert!(!table[code]["meaning"].as_str().unwrap().is_empty());
    }
    let mut cmd = tool(std::path::Path::new("."));
    cmd.args(["sandbox", "--help"]);
    let (code, help, _) = run(&mut cmd);
    assert_eq!(code, 0);
    assert!(help.contains("sandbox's own"), "{help}");
}

#[test]
fn an_instruction_whose_answer_was_lost_ends_in_the_same_place_when_sent_again() {
    let rig = ServiceRig::start("ln-client", "ln-secret", 64, "", |_| {});
    let (node, pubkey) = node_key(13);
    let order = create_at_pocket(
        &rig,
        |message| json!({"node_pubkey": pubkey, "signature": sign_node_message(&node, message)}),
    );
    import(&rig, &order);
    let exchange = pay(&rig, &order, 100);
    let id = exchange["id"].as_str().unwrap().to_string();
    rig.settle();
    let sat = rig.exchange(&id)["amount_sat"].as_u64().unwrap();
    let good = invoice(&node, Currency::BitcoinTestnet, sat, 0);

    // The first instruction reached Pocket, but neither its answer nor the
    // webhook reached the tool: the database still says executed.
    rig.sandbox
        .post("/sandbox/webhooks", json!({"paused": true}));
    let (status, _) = rig.sandbox.request(
        "PATCH",
        &format!("/v1/exchanges/{id}"),
        Some(json!({"payout": {"type": "lightning", "method": "invoice", "invoice": good}})),
    );
    assert_eq!(status, 200);
    assert_eq!(rig.exchange(&id)["state"], "executed");

    let (code, stdout, stderr) = payout_cmd(&rig, &id, &["--invoice", &good]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("already under way"), "{stdout}");
    let stored = rig.exchange(&id);
    assert_eq!(stored["state"], "settled");
    assert_eq!(stored["payout"]["status"], "pending");
}
