//! The tool against a real Electrum wallet (Debian's `electrum`, offline,
//! testnet), made at run time: a segwit wallet (vpub, P2WPKH) and a
//! standard one (tpub, P2PKH). `derive` must give Electrum's receiving and
//! change addresses in order, `verify-message` and `order create` must take
//! Electrum's `signmessage`, a whole order must be paid to Electrum's
//! addresses, and Electrum must import the labels the tool exports.
#![allow(clippy::unwrap_used)]

mod common;

use common::electrum::Electrum;
use common::{ServiceRig, run, run_json, tool};
use serde_json::json;

const IBAN: &str = "DE75512108001245126199";

fn derive(dir: &std::path::Path, key: &str, path: &str, count: usize) -> Vec<String> {
    let mut cmd = tool(dir);
    cmd.env_remove("POCKET_DCA_CONFIG");
    cmd.args(["derive", key, "--path", path, "--count", &count.to_string()])
        .args(["--json"]);
    run_json(&mut cmd)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn derive_gives_electrums_receiving_and_change_addresses_in_order() {
    for seed_type in ["segwit", "standard"] {
        let Some(wallet) = Electrum::create(seed_type) else {
            return;
        };
        let key = wallet.master_public_key();
        let dir = tempfile::tempdir().unwrap();
        let receiving = wallet.receiving();
        let change = wallet.change();
        assert!(receiving.len() >= 20 && change.len() >= 6, "{seed_type}");
        assert_eq!(
            derive(dir.path(), &key, "0/0", receiving.len()),
            receiving,
            "{seed_type} receiving"
        );
        assert_eq!(
            derive(dir.path(), &key, "1/0", change.len()),
            change,
            "{seed_type} change"
        );
    }
}

#[test]
fn verify_message_accepts_electrums_signatures_and_names_a_changed_message() {
    let Some(wallet) = Electrum::create("segwit") else {
        return;
    };
    let address = wallet.receiving()[3].clone();
    let message = "I confirm my bitcoin wallet. [7v7t4Fmb]";
    let signature = wallet.sign(&address, message);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tool(dir.path());
    cmd.env_remove("POCKET_DCA_CONFIG");
    cmd.args([
        "verify-message",
        "--address",
        &address,
        "--message",
        message,
    ])
    .args(["--signature", &signature, "--json"]);
    let verified = run_json(&mut cmd);
    assert_eq!(verified["valid"], true, "{verified}");

    let mut cmd = tool(dir.path());
    cmd.env_remove("POCKET_DCA_CONFIG");
    cmd.args(["verify-message", "--address", &address])
        .args(["--message", &format!("{message} ")])
        .args(["--signature", &signature]);
    let (code, stdout, stderr) = run(&mut cmd);
    assert_ne!(code, 0);
    let said = format!("{stdout}{stderr}");
    assert!(
        said.contains("the message without the space at the end"),
        "{said}"
    );
    assert!(!said.contains("signed by"), "{said}");
}

fn whole_run(seed_type: &str, seed: u8) {
    let Some(wallet) = Electrum::create(seed_type) else {
        return;
    };
    let rig = ServiceRig::start("electrum-client", "electrum-secret", seed, "", |_| {});
    let key = wallet.master_public_key();
    let order = common::create_order_signed(
        rig.dir.path(),
        &key,
        |_path, address, message| wallet.sign(address, message),
        &["--currency", "eur", "--day", "1"],
        &[],
    );
    let receiving = wallet.receiving();
    let tracked: Vec<String> = rig
        .addresses(&order)
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tracked, receiving[..tracked.len()], "{seed_type}");

    // Three months: each purchase paid out to Electrum's next address.
    for _ in 0..3 {
        rig.pay(&order, "100", IBAN);
        rig.sandbox.post("/sandbox/payouts", json!({}));
        rig.sandbox.post("/sandbox/blocks", json!({"count": 1}));
    }
    rig.settle();
    let mut paid: Vec<(u64, String)> = rig
        .exchanges()
        .iter()
        .map(|e| {
            assert_eq!(e["reconciliation"], "matched", "{e}");
            (
                e["payout"]["index"].as_u64().unwrap(),
                e["payout"]["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    paid.sort();
    assert_eq!(paid.len(), 3);
    for (index, address) in &paid {
        assert_eq!(address, &receiving[*index as usize], "{seed_type} #{index}");
    }

    // Electrum imports the labels the tool writes for it.
    let file = rig.dir.path().join("labels.json");
    let mut cmd = tool(rig.dir.path());
    cmd.args(["export", "labels", "--format", "electrum", "--out"])
        .arg(&file);
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    let labels = wallet.import_labels(&file);
    for (_, address) in &paid {
        let label = labels[address.as_str()].as_str().unwrap_or_default();
        assert!(label.starts_with("DCA "), "{address}: {labels}");
    }
    for e in rig.exchanges() {
        let txid = e["payout"]["txid"].as_str().unwrap();
        assert!(labels[txid].as_str().is_some(), "{txid}: {labels}");
    }
}

#[test]
fn a_whole_order_pays_to_a_segwit_electrum_wallet() {
    whole_run("segwit", 71);
}

#[test]
fn a_whole_order_pays_to_a_standard_electrum_wallet() {
    whole_run("standard", 72);
}
