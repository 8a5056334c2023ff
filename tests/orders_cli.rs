//! The tool against the sandbox over real HTTP on 127.0.0.1: orders for each
//! script type signed by the test's own keys, stored with their window,
//! paused, resumed and re-priced at the sandbox; and every refusal, each
//! leaving no order behind.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestSandbox, run, run_json, tool, write_config};
use pocket_dca::sandbox::Options;
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::wallet::{KeyPath, Network, PayoutKey, ScriptType};
use serde_json::{Value, json};

const IBAN: &str = "DE75512108001245126199";
const CLIENT: &str = "test-client";

struct Setup {
    sandbox: TestSandbox,
    dir: tempfile::TempDir,
    wallet: HotWallet,
}

fn setup() -> Setup {
    setup_with(Options::new(CLIENT, Network::Testnet))
}

fn setup_with(options: Options) -> Setup {
    let sandbox = TestSandbox::start(options);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sandbox.base_url(), "testnet", CLIENT);
    Setup {
        sandbox,
        dir,
        wallet: HotWallet::from_seed(&[42u8; 32], Network::Testnet).unwrap(),
    }
}

impl Setup {
    /// The key as a wallet exports it, in the form the test wants.
    fn key(&self, script_type: ScriptType, form: &str) -> String {
        let descriptor = self.wallet.account_descriptor(script_type).unwrap();
        let key = PayoutKey::parse(&descriptor, None, Some(Network::Testnet)).unwrap();
        match form {
            "descriptor" => descriptor,
            "slip132" => key.slip132_string(),
            _ => key.plain_string(),
        }
    }

    fn challenge(&self, key: &str, path: &str, extra: &[&str]) -> Value {
        let mut cmd = tool(self.dir.path());
        cmd.args(["order", "challenge", "--key", key, "--path", path, "--json"])
            .args(extra);
        run_json(&mut cmd)
    }

    fn create_args(&self, key: &str, path: &str, challenge: &str, signature: &str) -> Vec<String> {
        [
            "order",
            "create",
            "--key",
            key,
            "--path",
            path,
            "--currency",
            "eur",
            "--iban",
            IBAN,
            "--fee-rate",
            "0.015",
            "--amount",
            "100",
            "--day",
            "1",
            "--label",
            "test",
            "--email",
            "me@example.com",
            "--challenge",
            challenge,
            "--signature",
            signature,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn order_count(&self) -> usize {
        let mut cmd = tool(self.dir.path());
        cmd.args(["order", "list", "--json"]);
        run_json(&mut cmd).as_array().unwrap().len()
    }
}

#[test]
fn orders_for_every_script_type_are_created_stored_paused_resumed_and_repriced() {
    let s = setup();
    let cases = [
        (
            ScriptType::P2pkh,
            "plain",
            vec!["--script-type", "p2pkh"],
            "tpub",
        ),
        (ScriptType::P2shP2wpkh, "slip132", vec![], "upub"),
        (ScriptType::P2wpkh, "slip132", vec![], "vpub"),
        (ScriptType::P2tr, "descriptor", vec![], "tpub"),
    ];
    for (i, (script_type, form, extra, pocket_prefix)) in cases.into_iter().enumerate() {
        let key = s.key(script_type, form);
        let path = "0/2";
        let challenge = s.challenge(&key, path, &extra);
        assert_eq!(challenge["path"], path);
        let message = challenge["message"].as_str().unwrap();
        assert_eq!(
            message,
            format!(
                "I confirm my bitcoin wallet. [{}]",
                challenge["token"].as_str().unwrap()
            )
        );
        let signature = s
            .wallet
            .sign(script_type, &path.parse::<KeyPath>().unwrap(), message)
            .unwrap();
        let mut cmd = tool(s.dir.path());
        cmd.args(s.create_args(
            &key,
            path,
            challenge["challenge_id"].as_str().unwrap(),
            &signature,
        ))
        .args(&extra);
        let order = run_json(&mut cmd);
        let id = order["id"].as_str().unwrap().to_string();
        assert_eq!(order["script_type"], script_type.as_str());
        assert_eq!(order["derivation_path"], path);
        assert_eq!(order["gap_limit"], 10);
        assert_eq!(order["amount"], "100");
        assert_eq!(order["fee_rate"], "0.015");
        assert_eq!(order["currency"], "eur");
        assert_eq!(order["active"], true);
        assert!(
            order["payment_method"]["creditor_reference"]
                .as_str()
                .unwrap()
                .starts_with("RF")
        );
        // The key Pocket got names the script type (plain tpub for taproot).
        let at_sandbox = s.sandbox.engine().order(&id).unwrap();
        let sent = at_sandbox.payout_method.extended_public_key.unwrap();
        assert!(sent.starts_with(pocket_prefix), "{sent}");

        // The window starts at the signed address and has gap_limit entries.
        let mut cmd = tool(s.dir.path());
        cmd.args(["addresses", &id[..8], "--json"]);
        let addresses = run_json(&mut cmd);
        let rows = addresses.as_array().unwrap();
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[0]["index"], 2);
        assert_eq!(rows[0]["path"], "0/2");
        assert_eq!(rows[0]["address"], challenge["address"]);
        assert_eq!(rows[9]["path"], "0/11");
        assert_eq!(rows[0]["status"], "expected");

        // Pause and resume at the sandbox.
        let mut cmd = tool(s.dir.path());
        cmd.args(["order", "pause", &id, "--json"]);
        assert_eq!(run_json(&mut cmd)["active"], false);
        assert!(!s.sandbox.engine().order(&id).unwrap().active);
        let mut cmd = tool(s.dir.path());
        cmd.args(["order", "resume", &id, "--json"]);
        assert_eq!(run_json(&mut cmd)["active"], true);
        assert!(s.sandbox.engine().order(&id).unwrap().active);

        // The fee rate is changed at the sandbox, the plan locally.
        let mut cmd = tool(s.dir.path());
        cmd.args([
            "order",
            "set",
            &id,
            "--fee-rate",
            "0.02",
            "--amount",
            "150.50",
            "--day",
            "last",
            "--json",
        ]);
        let changed = run_json(&mut cmd);
        assert_eq!(changed["fee_rate"], "0.02");
        assert_eq!(changed["amount"], "150.50");
        assert_eq!(changed["day"], "last");
        assert_eq!(
            s.sandbox.engine().order(&id).unwrap().fee_rate.to_string(),
            "0.02"
        );
        // A change made at Pocket (in its app) arrives with `order refresh`.
        let (status, _) = s.sandbox.request(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(json!({"active": false, "fee_rate": 0.025})),
        );
        assert_eq!(status, 200);
        let mut cmd = tool(s.dir.path());
        cmd.args(["order", "refresh", &id[..12], "--json"]);
        let refreshed = run_json(&mut cmd);
        assert_eq!(refreshed["active"], false);
        assert_eq!(refreshed["fee_rate"], "0.025");
        assert_eq!(refreshed["amount"], "150.50", "the local plan is kept");
        assert_eq!(s.order_count(), i + 1);
    }
    // `order show` prints the payment instructions with the reference.
    let mut cmd = tool(s.dir.path());
    cmd.args(["order", "list", "--json"]);
    let first = run_json(&mut cmd)[0].clone();
    // The key is private: in the JSON only when asked for.
    assert!(
        first.get("key").is_none() && first.get("pocket_key").is_none(),
        "{first}"
    );
    for command in ["list", "show"] {
        let mut cmd = tool(s.dir.path());
        cmd.args(["order", command]);
        if command == "show" {
            cmd.arg(first["id"].as_str().unwrap());
        }
        cmd.args(["--json", "--show-key"]);
        let shown = run_json(&mut cmd);
        let one = if command == "list" { &shown[0] } else { &shown };
        assert!(one["key"].as_str().is_some_and(|k| !k.is_empty()), "{one}");
        assert!(one["pocket_key"].as_str().is_some(), "{one}");
    }
    let mut cmd = tool(s.dir.path());
    cmd.args(["order", "show", first["id"].as_str().unwrap()]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let reference = first["payment_method"]["creditor_reference"]
        .as_str()
        .unwrap();
    let grouped = pocket_dca::payment::CreditorReference::parse(reference)
        .unwrap()
        .formatted();
    assert!(out.contains(&grouped), "{out}");
    assert!(out.contains("CH94 0077 8214 7683 0200 2"), "{out}");
    assert!(out.contains("EPC QR code"), "{out}");
}

/// Runs `order create` and expects a refusal naming `expected`; the
/// database must hold no order afterwards.
fn assert_refused(s: &Setup, args: Vec<String>, expected: &str) {
    let before = s.order_count();
    let mut cmd = tool(s.dir.path());
    cmd.args(&args);
    let (code, out, err) = run(&mut cmd);
    assert_ne!(code, 0, "accepted: {out}");
    assert!(err.contains(expected), "expected `{expected}` in: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(s.order_count(), before, "an order was left behind");
}

fn signed(s: &Setup, script_type: ScriptType, key: &str, path: &str) -> (String, String) {
    let challenge = s.challenge(key, path, &[]);
    let signature = s
        .wallet
        .sign(
            script_type,
            &path.parse().unwrap(),
            challenge["message"].as_str().unwrap(),
        )
        .unwrap();
    (
        challenge["challenge_id"].as_str().unwrap().to_string(),
        signature,
    )
}

fn replace(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).unwrap();
    args[i + 1] = value.to_string();
}

#[test]
fn local_refusals_name_the_value_and_leave_no_order() {
    let s = setup();
    let key = s.key(ScriptType::P2wpkh, "slip132");
    let (challenge, signature) = signed(&s, ScriptType::P2wpkh, &key, "0/0");
    let good = s.create_args(&key, "0/0", &challenge, &signature);

    let mut bad = good.clone();
    replace(&mut bad, "--iban", "DE75512108001245126198");
    assert_refused(&s, bad, "DE75512108001245126198");

    let mut bad = good.clone();
    replace(&mut bad, "--fee-rate", "0.05");
    assert_refused(&s, bad, "fee rate 0.05");

    let mut bad = good.clone();
    replace(&mut bad, "--currency", "usd");
    assert_refused(&s, bad, "usd");

    let mut bad = good.clone();
    replace(&mut bad, "--amount", "10.001");
    assert_refused(&s, bad, "10.001");

    let mut bad = good.clone();
    replace(&mut bad, "--day", "31");
    assert_refused(&s, bad, "31");

    // Another message: the message is what to check first, and no random
    // recovered key is named as the signer.
    let other = s
        .wallet
        .sign(ScriptType::P2wpkh, &"0/1".parse().unwrap(), "x")
        .unwrap();
    let mut bad = good.clone();
    replace(&mut bad, "--signature", &other);
    assert_refused(&s, bad.clone(), "exactly the one shown");
    let mut cmd = tool(s.dir.path());
    let (_, _, err) = run(cmd.args(&bad));
    assert!(
        !err.contains("signed by") && !err.contains("while"),
        "{err}"
    );

    // The right message signed with the wallet's address at 0/1, not 0/0.
    let challenge01 = s.challenge(&key, "0/0", &[]);
    let by01 = s
        .wallet
        .sign(
            ScriptType::P2wpkh,
            &"0/1".parse().unwrap(),
            challenge01["message"].as_str().unwrap(),
        )
        .unwrap();
    let bad = s.create_args(
        &key,
        "0/0",
        challenge01["challenge_id"].as_str().unwrap(),
        &by01,
    );
    assert_refused(&s, bad.clone(), "signed with your address");
    let mut cmd = tool(s.dir.path());
    let (_, _, err) = run(cmd.args(&bad));
    assert!(
        err.contains("(path 0/1)") && err.contains("--path 0/1"),
        "{err}"
    );

    // Key and path not matching the signed address: signed at 0/0, given 0/3.
    let mut bad = good.clone();
    replace(&mut bad, "--path", "0/3");
    assert_refused(&s, bad, "(path 0/0), not with");

    // The good request works, and its challenge cannot be used again.
    let mut cmd = tool(s.dir.path());
    cmd.args(&good);
    run_json(&mut cmd);
    let other_account = HotWallet::from_seed(&[7u8; 32], Network::Testnet).unwrap();
    let other_key = PayoutKey::parse(
        &other_account
            .account_descriptor(ScriptType::P2wpkh)
            .unwrap(),
        None,
        None,
    )
    .unwrap()
    .slip132_string();
    let mut reused = s.create_args(&other_key, "0/0", &challenge, &signature);
    replace(&mut reused, "--label", "again");
    assert_refused(&s, reused, "already used");

    // A second order on the same key and chain would share its addresses:
    // refused at `order challenge`, before anything is signed.
    for path in ["0/0", "0/4"] {
        let mut cmd = tool(s.dir.path());
        cmd.args(["order", "challenge", "--key", &key, "--path", path]);
        let (code, out, err) = run(&mut cmd);
        assert_ne!(code, 0, "{out}");
        assert!(err.contains("already belongs to order"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!out.contains("message"), "nothing to sign: {out}");
    }
}

#[test]
fn an_expired_challenge_is_refused() {
    let s = setup();
    let key = s.key(ScriptType::P2wpkh, "slip132");
    // A challenge made two days ago (sandbox clock) has expired by now.
    let two_days_ago = chrono::Utc::now() - chrono::Duration::days(2);
    s.sandbox
        .post("/sandbox/clock", json!({"now": two_days_ago}));
    let (challenge, signature) = signed(&s, ScriptType::P2wpkh, &key, "0/0");
    s.sandbox
        .post("/sandbox/clock", json!({"now": chrono::Utc::now()}));
    assert_refused(
        &s,
        s.create_args(&key, "0/0", &challenge, &signature),
        "expired",
    );
}

#[test]
fn a_wrong_client_id_is_reported_as_rejected() {
    let s = setup();
    write_config(
        s.dir.path(),
        &s.sandbox.base_url(),
        "testnet",
        "not-the-client",
    );
    let key = s.key(ScriptType::P2wpkh, "slip132");
    let mut cmd = tool(s.dir.path());
    cmd.args(["order", "challenge", "--key", &key]);
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(err.contains("rejected the client id"), "{err}");
}

#[test]
fn a_testnet_key_is_refused_on_mainnet() {
    let s = setup();
    write_config(s.dir.path(), &s.sandbox.base_url(), "bitcoin", CLIENT);
    let key = s.key(ScriptType::P2wpkh, "slip132");
    assert_refused(
        &s,
        s.create_args(&key, "0/0", "95ab94f0-bd8d-410c-bfc8-b1f27d43b0c0", "sig"),
        "configured network is bitcoin",
    );
}

#[test]
fn a_lost_answer_to_order_creation_is_resolved_through_the_challenge() {
    let mut options = Options::new(CLIENT, Network::Testnet);
    options.order_create_delay = std::time::Duration::from_secs(3);
    let s = setup_with(options);
    let config = s.dir.path().join("pocket-dca.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[pocket]\n", "[pocket]\ntimeout_secs = 1\n"),
    )
    .unwrap();
    let key = s.key(ScriptType::P2wpkh, "slip132");
    let (challenge, signature) = signed(&s, ScriptType::P2wpkh, &key, "0/0");
    // The client gives up after one second; the sandbox stored the order.
    let mut cmd = tool(s.dir.path());
    cmd.args(s.create_args(&key, "0/0", &challenge, &signature));
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(
        err.contains("WAS created") && err.contains("order import"),
        "{err}"
    );
    assert_eq!(s.order_count(), 0);
    // The user imports it by the id the Pocket app (here: the sandbox) shows.
    let orders = s.sandbox.get("/sandbox/orders");
    let id = orders[0]["id"].as_str().unwrap().to_string();
    let mut cmd = tool(s.dir.path());
    cmd.args([
        "order", "import", &id, "--key", &key, "--amount", "100", "--day", "1", "--json",
    ]);
    let imported = run_json(&mut cmd);
    assert_eq!(imported["id"], id.as_str());
    assert_eq!(s.order_count(), 1);
    // Importing with another key is refused.
    let other = HotWallet::from_seed(&[9u8; 32], Network::Testnet).unwrap();
    let other_key = PayoutKey::parse(
        &other.account_descriptor(ScriptType::P2wpkh).unwrap(),
        None,
        None,
    )
    .unwrap()
    .slip132_string();
    let mut cmd = tool(s.dir.path());
    cmd.args([
        "order", "import", &id, "--key", &other_key, "--amount", "100", "--day", "1",
    ]);
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn an_unreadable_answer_to_order_creation_never_leads_to_a_second_order() {
    let s = setup();
    let rounds = [
        ("undecodable", true, ScriptType::P2wpkh),
        ("garbage", false, ScriptType::P2shP2wpkh),
        ("bad_gateway", false, ScriptType::P2pkh),
    ];
    for (answer, names_the_id, script_type) in rounds {
        // Each round on its own account, so that the imports do not overlap.
        let key = s.key(script_type, "slip132");
        s.sandbox
            .post("/sandbox/webhooks", json!({"order_answer": answer}));
        let before = s.sandbox.get("/sandbox/orders").as_array().unwrap().len();
        let (challenge, signature) = signed(&s, script_type, &key, "0/0");
        let args = s.create_args(&key, "0/0", &challenge, &signature);
        let mut cmd = tool(s.dir.path());
        cmd.args(&args);
        let (code, _, err) = run(&mut cmd);
        assert_ne!(code, 0, "{answer}");
        assert!(err.contains("WAS created"), "{answer}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let orders = s.sandbox.get("/sandbox/orders");
        let orders = orders.as_array().unwrap();
        assert_eq!(orders.len(), before + 1, "{answer}");
        let id = orders.last().unwrap()["id"].as_str().unwrap().to_string();
        if names_the_id {
            assert!(err.contains(&format!("order import {id}")), "{err}");
        }
        // Running the same command again creates nothing: the challenge is used.
        let mut cmd = tool(s.dir.path());
        cmd.args(&args);
        let (code, _, err) = run(&mut cmd);
        assert_ne!(code, 0);
        assert!(err.contains("already used"), "{err}");
        assert_eq!(
            s.sandbox.get("/sandbox/orders").as_array().unwrap().len(),
            before + 1
        );
        // Following the advice imports the one order.
        s.sandbox
            .post("/sandbox/webhooks", json!({"order_answer": "normal"}));
        let mut cmd = tool(s.dir.path());
        cmd.args([
            "order", "import", &id, "--key", &key, "--amount", "100", "--day", "1",
        ]);
        let (code, _, err) = run(&mut cmd);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            s.sandbox.get("/sandbox/orders").as_array().unwrap().len(),
            before + 1
        );
    }
    assert_eq!(s.order_count(), 3);
}

#[test]
fn order_create_help_shows_a_full_example() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tool(dir.path());
    cmd.args(["order", "create", "--help"]);
    let (code, out, _) = run(&mut cmd);
    assert_eq!(code, 0);
    for part in [
        "Example",
        "--key",
        "--currency",
        "--iban",
        "--fee-rate",
        "--amount",
        "--day",
        "--challenge",
        "--signature",
    ] {
        assert!(out.contains(part), "{part} missing from:\n{out}");
    }
}
