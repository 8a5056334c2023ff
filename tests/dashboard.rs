//! The dashboard over real HTTP: pages with the service's data, security
//! headers, the session cookie, CSRF on every state change, the login when a
//! password hash is set, the refusal of a public bind without one, and the
//! CSV and BIP-329 downloads checked against the totals shown.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{ServiceRig, run, tool};
use pocket_dca::config::Config;
use pocket_dca::service;
use pocket_dca::store::Store;
use pocket_dca::wallet::{ScriptType, parse_address};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const CLIENT: &str = "dashboard-test";
const SECRET: &str = "whsec-dashboard";
const IBAN: &str = "DE75512108001245126199";
const PASSWORD: &str = "correct horse battery";

fn rig(password_hash: Option<&str>) -> ServiceRig {
    let server_extra = password_hash
        .map(|h| format!("dashboard_password_hash = \"{h}\"\n"))
        .unwrap_or_default();
    ServiceRig::start(CLIENT, SECRET, 31, &server_extra, |_| {})
}

/// Two orders with purchases, a payout, a refund (an open alert).
fn with_data(r: &ServiceRig) -> (Value, Value) {
    let eur = r.create_order("eur", ScriptType::P2wpkh, &["--label", "Euro stack"]);
    let chf = r.create_order("chf", ScriptType::P2tr, &["--label", "Franc stack"]);
    r.pay(&eur, "100.00", IBAN);
    r.pay(&eur, "250.50", IBAN);
    r.pay(&chf, "150.00", IBAN);
    r.pay(&chf, "150.00", "DE89370400440532013000");
    r.sandbox.post("/sandbox/payouts", json!({}));
    r.settle();
    (eur, chf)
}

/// A minimal browser: keeps the session cookie, does not follow redirects.
struct Browser {
    base: String,
    cookie: Option<String>,
    runtime: tokio::runtime::Runtime,
}

struct Page {
    status: u16,
    headers: HashMap<String, Vec<String>>,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        self.body[at..at + 64].to_string()
    }
}

impl Browser {
    fn new(base: String) -> Browser {
        pocket_dca::pocket::install_crypto_provider();
        Browser {
            base,
            cookie: None,
            runtime: common::runtime(),
        }
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut request = client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie.clone());
        }
        if let Some(form) = form {
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
                .collect::<Vec<_>>()
                .join("&");
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let page = self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let mut headers: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in response.headers() {
                headers
                    .entry(k.to_string())
                    .or_default()
                    .push(v.to_str().unwrap().to_string());
            }
            Page {
                status,
                headers,
                body: response.text().await.unwrap(),
            }
        });
        if let Some(set) = page.headers.get("set-cookie").and_then(|v| v.last()) {
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        page
    }

    fn get(&mut self, path: &str) -> Page {
        self.request("GET", path, None)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.request("POST", path, Some(form))
    }
}

#[test]
fn the_dashboard_shows_the_data_with_security_headers_and_csrf_on_changes() {
    let r = rig(None);
    let (eur, chf) = with_data(&r);
    let mut b = Browser::new(r.dashboard_url());
    let overview = b.get("/");
    assert_eq!(overview.status, 200);
    for text in [
        "Euro stack",
        "Franc stack",
        "Bitcoin received",
        "refunded",
        "<svg",
    ] {
        assert!(overview.body.contains(text), "{text} missing");
    }
    assert!(
        overview
            .header("content-security-policy")
            .contains("default-src 'none'")
    );
    assert!(
        !overview
            .header("content-security-policy")
            .contains("script")
    );
    assert_eq!(overview.header("x-frame-options"), "DENY");
    let cookie = overview.header("set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!overview.body.contains("<script"), "no script");
    assert!(
        !overview.body.contains("style=\""),
        "no inline styles (CSP)"
    );

    // The order page: instructions with the QR code; the key only here.
    let id = eur["id"].as_str().unwrap();
    let order = b.get(&format!("/orders/{id}"));
    assert_eq!(order.status, 200);
    let reference = pocket_dca::payment::CreditorReference::parse(
        eur["payment_method"]["creditor_reference"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(order.body.contains(&reference.formatted()));
    assert!(order.body.contains("<svg") && order.body.contains("EPC QR code"));
    assert!(
        eur.get("key").is_none(),
        "no key in --json without --show-key"
    );
    let descriptor = r.wallet.account_descriptor(ScriptType::P2wpkh).unwrap();
    let xpub = descriptor[descriptor.find("tpub").unwrap()..]
        .split('/')
        .next()
        .unwrap();
    assert!(
        order.body.contains(xpub),
        "the key is shown on its order page"
    );
    assert!(
        order.body.contains("used"),
        "the address window shows the used address"
    );
    for page in [&overview.body, &order.body] {
        for href in page.split("href=\"").skip(1) {
            let url = &href[..href.find('"').unwrap()];
            assert!(
                !url.contains("tpub") && !url.contains("xpub") && !url.contains("wpkh"),
                "{url}"
            );
        }
    }
    assert!(
        !overview.body.contains(xpub),
        "the key is not on the overview"
    );
    assert_eq!(
        b.get("/orders/00000000-0000-4000-8000-000000000000").status,
        404
    );

    // Filters and the webhook log.
    let refunded = b.get("/exchanges?state=refunded");
    assert_eq!(refunded.body.matches("<tr id=\"exchange-").count(), 1);
    let of_chf = b.get(&format!("/exchanges?order={}", chf["id"].as_str().unwrap()));
    assert_eq!(of_chf.body.matches("<tr id=\"exchange-").count(), 2);
    let webhooks = b.get("/webhooks");
    assert!(webhooks.body.contains("applied"), "verdicts are shown");

    // Acknowledging needs the session's CSRF token.
    let store = Store::open(&r.db()).unwrap();
    let alert = store.alerts(false).unwrap()[0].id;
    let path = format!("/alerts/{alert}/ack");
    assert_eq!(b.post(&path, &[]).status, 403);
    assert_eq!(b.post(&path, &[("csrf", &"0".repeat(64))]).status, 403);
    let mut stranger = Browser::new(r.dashboard_url());
    assert_eq!(
        stranger.post(&path, &[("csrf", &overview.csrf())]).status,
        403,
        "another session's token"
    );
    assert!(!store.alert(alert).unwrap().unwrap().acknowledged);
    let done = b.post(&path, &[("csrf", &overview.csrf())]);
    assert_eq!(done.status, 303);
    assert!(store.alert(alert).unwrap().unwrap().acknowledged);
}

#[test]
fn with_a_password_every_page_needs_a_login() {
    let hash = pocket_dca::web::auth::hash_password(PASSWORD).unwrap();
    let r = rig(Some(&hash));
    let mut b = Browser::new(r.dashboard_url());
    let first = b.get("/");
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), "/login");
    assert_eq!(b.get("/export/exchanges.csv").status, 303, "downloads too");
    assert_eq!(b.post("/alerts/1/ack", &[]).status, 401);
    let form = b.get("/login");
    assert_eq!(form.status, 200);
    let pre_login = b.cookie.clone().unwrap();
    // No CSRF token, then a wrong password.
    assert_eq!(b.post("/login", &[("password", PASSWORD)]).status, 403);
    let wrong = b.post("/login", &[("csrf", &form.csrf()), ("password", "guess")]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong password"));
    let ok = b.post("/login", &[("csrf", &form.csrf()), ("password", PASSWORD)]);
    assert_eq!(ok.status, 303);
    assert_ne!(
        b.cookie.clone().unwrap(),
        pre_login,
        "a new session id on login"
    );
    let overview = b.get("/");
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("Log out"));
    // The pre-login session cannot be used.
    let mut fixated = Browser::new(r.dashboard_url());
    fixated.cookie = Some(pre_login);
    assert_eq!(fixated.get("/").status, 303);
    // Logging out needs the token and ends the session.
    assert_eq!(b.post("/logout", &[]).status, 403);
    let out = b.post("/logout", &[("csrf", &overview.csrf())]);
    assert_eq!(out.status, 303);
    assert_eq!(b.get("/").status, 303);
}

#[test]
fn two_thousand_visits_to_the_login_page_log_nobody_out() {
    let hash = pocket_dca::web::auth::hash_password(PASSWORD).unwrap();
    let r = rig(Some(&hash));
    let mut b = Browser::new(r.dashboard_url());
    let form = b.get("/login");
    assert!(b.cookie.clone().unwrap().starts_with("pdca_login="));
    let ok = b.post("/login", &[("csrf", &form.csrf()), ("password", PASSWORD)]);
    assert_eq!(ok.status, 303);
    assert!(b.cookie.clone().unwrap().starts_with("pdca_session="));
    // Anonymous visitors to the login page, each without a cookie.
    let url = format!("{}/login", r.dashboard_url());
    let statuses = b.runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = std::collections::HashSet::new();
        for _ in 0..2000 {
            statuses.insert(client.get(&url).send().await.unwrap().status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses, [200].into());
    assert_eq!(b.get("/").status, 200, "still logged in");
}

#[test]
fn the_cookie_is_secure_when_a_trusted_proxy_says_https() {
    let hash = pocket_dca::web::auth::hash_password(PASSWORD).unwrap();
    let r = ServiceRig::start(
        CLIENT,
        SECRET,
        31,
        &format!("dashboard_password_hash = \"{hash}\"\ntrusted_proxies = [\"127.0.0.1\"]\n"),
        |_| {},
    );
    let b = Browser::new(r.dashboard_url());
    let cookie = |proto: &str| {
        b.runtime.block_on(async {
            let response = reqwest::Client::new()
                .get(format!("{}/login", r.dashboard_url()))
                .header("x-forwarded-proto", proto)
                .send()
                .await
                .unwrap();
            response.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .to_string()
        })
    };
    assert!(cookie("https").ends_with("; Secure"), "{}", cookie("https"));
    assert!(!cookie("http").contains("Secure"));
    // From a peer that is not a trusted proxy, the header means nothing.
    let r = rig(Some(&hash));
    let b = Browser::new(r.dashboard_url());
    let set = b.runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/login", r.dashboard_url()))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap()
            .headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string()
    });
    assert!(!set.contains("Secure"), "{set}");
}

#[test]
fn serve_refuses_a_public_dashboard_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pocket-dca.toml"),
        "[database]\npath = \"dca.sqlite3\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"0.0.0.0:0\"\n",
    )
    .unwrap();
    let mut cmd = tool(dir.path());
    cmd.args(["serve"]).timeout(Duration::from_secs(30));
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(
        err.contains("not a loopback address") && err.contains("password"),
        "{err}"
    );
    // With a hash it is allowed.
    let hash = pocket_dca::web::auth::hash_password(PASSWORD).unwrap();
    let text = format!(
        "[server]\ndashboard_listen = \"0.0.0.0:0\"\ndashboard_password_hash = \"{hash}\"\n"
    );
    let config = Config::parse(&text, dir.path(), &|_: &str| None).unwrap();
    assert!(service::check(&config).is_ok());
}

#[test]
fn the_csv_sums_to_the_totals_shown_and_the_labels_are_bip329() {
    let r = rig(None);
    let (eur, _) = with_data(&r);
    let mut b = Browser::new(r.dashboard_url());
    let overview = b.get("/");
    let shown = |id: &str| -> Decimal {
        let at = overview.body.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        let text = &overview.body[at..at + overview.body[at..].find('<').unwrap()];
        text.trim_start_matches("EUR ")
            .trim_start_matches("CHF ")
            .trim_end_matches(" BTC")
            .replace(',', "")
            .parse()
            .unwrap()
    };
    let csv_page = b.get("/export/exchanges.csv");
    assert_eq!(csv_page.status, 200);
    assert!(csv_page.header("content-type").starts_with("text/csv"));
    assert!(csv_page.body.contains("\r\n"), "RFC 4180 line breaks");
    let mut reader = csv::Reader::from_reader(csv_page.body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, pocket_dca::export::CSV_HEADER);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (mut spent_eur, mut fees_eur, mut received_sat) = (Decimal::ZERO, Decimal::ZERO, 0u64);
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        let state = &record[col("state")];
        if !["executed", "settled", "confirmed"].contains(&state) {
            continue;
        }
        if &record[col("pair")] == "btc/eur" {
            spent_eur += record[col("cost")].parse::<Decimal>().unwrap();
            fees_eur += record[col("fee")].parse::<Decimal>().unwrap();
        }
        if !record[col("payout_amount_sat")].is_empty() {
            received_sat += record[col("payout_amount_sat")].parse::<u64>().unwrap();
        }
        // The BTC and sats columns agree.
        let btc: Decimal = record[col("amount_btc")].parse().unwrap();
        assert_eq!(
            btc * Decimal::from(100_000_000u64),
            record[col("amount_sat")].parse::<Decimal>().unwrap()
        );
    }
    assert_eq!(rows, 4);
    assert_eq!(spent_eur, shown("total-spent-eur"));
    assert_eq!(spent_eur.to_string(), "350.50");
    assert_eq!(fees_eur, shown("total-fees-eur"));
    assert_eq!(
        Decimal::from_i128_with_scale(i128::from(received_sat), 8),
        shown("total-received-btc")
    );
    // The same through the CLI, for one order.
    let mut cmd = tool(r.dir.path());
    cmd.args([
        "export",
        "csv",
        "--order",
        &eur["id"].as_str().unwrap()[..8],
    ]);
    let (code, out, _) = run(&mut cmd);
    assert_eq!(code, 0);
    assert_eq!(
        csv::Reader::from_reader(out.as_bytes()).records().count(),
        2
    );

    // Labels: valid BIP-329 JSON lines, an output and an address per payout,
    // and the payout transaction.
    let labels = b.get("/export/labels.jsonl");
    assert_eq!(labels.status, 200);
    let lines: Vec<Value> = labels
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outputs: Vec<&Value> = lines.iter().filter(|l| l["type"] == "output").collect();
    let addrs: Vec<&Value> = lines.iter().filter(|l| l["type"] == "addr").collect();
    let txs: Vec<&Value> = lines.iter().filter(|l| l["type"] == "tx").collect();
    assert_eq!(
        outputs.len() + addrs.len() + txs.len(),
        lines.len(),
        "only output, addr and tx records"
    );
    assert_eq!(outputs.len(), 2, "one output per order in the batch");
    assert_eq!(addrs.len(), 2);
    assert_eq!(txs.len(), 1, "one batch transaction");
    let txid = outputs[0]["ref"]
        .as_str()
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert_eq!(txs[0]["ref"], txid);
    assert!(
        txs[0].get("origin").is_none(),
        "a batch of two orders: two keys"
    );
    for record in outputs.iter().chain(&addrs) {
        let origin = record["origin"].as_str().unwrap();
        let known = ["wpkh([", "sh(wpkh([", "tr([", "pkh(["]
            .iter()
            .any(|p| origin.starts_with(p));
        let closed = origin.ends_with("])") || origin.ends_with("]))");
        assert!(known && closed, "{origin}");
    }
    for line in &lines {
        let object = line.as_object().unwrap();
        assert!(
            object
                .keys()
                .all(|k| ["type", "ref", "label", "origin", "height", "time"].contains(&k.as_str()))
        );
        assert!(!line["label"].as_str().unwrap().is_empty());
    }
    for output in &outputs {
        let (txid, vout) = output["ref"].as_str().unwrap().split_once(':').unwrap();
        assert_eq!(txid.len(), 64);
        assert!(txid.bytes().all(|b| b.is_ascii_hexdigit()));
        vout.parse::<u32>().unwrap();
    }
    for addr in &addrs {
        parse_address(addr["ref"].as_str().unwrap()).unwrap();
    }
    let eur_label = outputs
        .iter()
        .find(|o| o["label"].as_str().unwrap().contains("EUR"))
        .unwrap();
    let text = eur_label["label"].as_str().unwrap();
    assert!(
        text.starts_with("DCA ") && text.contains("EUR 350.50") && text.contains("Euro stack"),
        "{text}"
    );
    assert!(
        eur_label["origin"].as_str().unwrap().starts_with("wpkh(["),
        "{eur_label}"
    );
}
