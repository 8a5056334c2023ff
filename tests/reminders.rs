//! Reminders through a real SMTP conversation on 127.0.0.1: the MIME message
//! is parsed, the QR image decoded with a decoder independent of the encoder,
//! and its EPC / Swiss QR-bill fields compared with the order's. Time is an
//! input: the exactly-once rules are driven with chosen instants.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::smtp::SmtpSink;
use common::{TestSandbox, run, run_json, tool};
use mail_parser::MimeHeaders;
use pocket_dca::config::{Config, ProcessEnv};
use pocket_dca::mail::Mailer;
use pocket_dca::payment::{CreditorReference, Iban, parse_epc, parse_swiss};
use pocket_dca::pocket::OrderId;
use pocket_dca::reminders::{self, Outcome, Period, Settings};
use pocket_dca::sandbox::Options;
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::store::Store;
use pocket_dca::wallet::{Network, ScriptType};
use serde_json::{Value, json};

const CLIENT: &str = "reminder-test";
const IBAN: &str = "DE75512108001245126199";

struct World {
    sandbox: TestSandbox,
    smtp: SmtpSink,
    dir: tempfile::TempDir,
    wallet: HotWallet,
}

fn world() -> World {
    world_with("")
}

fn world_with(extra_email: &str) -> World {
    let runtime = common::runtime();
    let smtp = SmtpSink::start(&runtime);
    let sandbox = TestSandbox::start_on(runtime, Options::new(CLIENT, Network::Testnet));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pocket-dca.toml"),
        format!(
            "[database]\npath = \"dca.sqlite3\"\n[bitcoin]\nnetwork = \"testnet\"\n[pocket]\nbase_url = \"{}\"\nclient_id = \"{CLIENT}\"\n[email]\nfrom = \"pocket-dca <dca@example.com>\"\nto = \"me@example.com\"\nsmtp_url = \"{}\"\n{extra_email}[reminders]\ntimezone = \"Europe/Zurich\"\nhour = 9\n[sync]\ninterval_minutes = 0\n",
            sandbox.base_url(),
            smtp.url()
        ),
    )
    .unwrap();
    World {
        sandbox,
        smtp,
        dir,
        wallet: HotWallet::from_seed(&[21u8; 32], Network::Testnet).unwrap(),
    }
}

impl World {
    /// An order made in November 2026 (by the sandbox's clock, which
    /// Pocket's `created_on` comes from), so that the dates below hold
    /// whenever the tests run.
    fn create_order(&self, currency: &str, script_type: ScriptType, day: &str) -> Value {
        self.create_order_at("2026-11-20T12:00:00Z", currency, script_type, day)
    }

    fn create_order_at(
        &self,
        created: &str,
        currency: &str,
        script_type: ScriptType,
        day: &str,
    ) -> Value {
        let descriptor = self.wallet.account_descriptor(script_type).unwrap();
        self.sandbox
            .post("/sandbox/clock", json!({"now": chrono::Utc::now()}));
        common::create_order_signed(
            self.dir.path(),
            &descriptor,
            |path, _, message| {
                // The challenge was made at the real time (the tool checks
                // its expiry by the real clock); the order is made at
                // `created` by Pocket's clock.
                self.sandbox.post("/sandbox/clock", json!({"now": created}));
                self.wallet
                    .sign(script_type, &path.parse().unwrap(), message)
                    .unwrap()
            },
            &["--currency", currency, "--day", day],
            &["--label", "stack"],
        )
    }

    fn config(&self) -> Config {
        Config::load(&self.dir.path().join("pocket-dca.toml"), &ProcessEnv).unwrap()
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("dca.sqlite3")).unwrap()
    }

    fn settings(&self) -> Settings {
        Settings::from_config(&self.config())
    }

    fn run_due(&self, now: DateTime<Utc>) -> Vec<(OrderId, Period, Outcome)> {
        let mailer = Mailer::from_config(&self.config().email).unwrap();
        let mut store = self.store();
        self.sandbox
            .runtime
            .block_on(reminders::run_due(
                &mut store,
                &mailer,
                &self.settings(),
                now,
            ))
            .unwrap()
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The parts of a received e-mail.
struct Parsed {
    subject: String,
    text: String,
    html: String,
    png: Option<(String, Vec<u8>)>,
    multipart: String,
}

fn parse(data: &[u8]) -> Parsed {
    let message = mail_parser::MessageParser::default().parse(data).unwrap();
    let png = message.parts.iter().find_map(|part| {
        let ct = part.content_type()?;
        (ct.ctype() == "image" && ct.subtype() == Some("png")).then(|| {
            (
                part.content_id().unwrap_or("").to_string(),
                part.contents().to_vec(),
            )
        })
    });
    let root = message.parts[0].content_type().unwrap();
    Parsed {
        subject: message.subject().unwrap().to_string(),
        text: message.body_text(0).unwrap().to_string(),
        html: message.body_html(0).unwrap().to_string(),
        png,
        multipart: format!("{}/{}", root.ctype(), root.subtype().unwrap_or("")),
    }
}

/// Decodes the QR code in a PNG with rqrr (not the encoder's library).
fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_meta, content) = grids[0].decode().unwrap();
    content
}

#[test]
fn eur_reminder_carries_an_epc_code_with_the_orders_details() {
    let w = world();
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    let pm = &order["payment_method"];
    let mut cmd = tool(w.dir.path());
    cmd.args([
        "remind",
        "send",
        order["id"].as_str().unwrap(),
        "--period",
        "2026-12",
    ]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("me@example.com"), "{out}");
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["me@example.com"]);
    let mail = parse(&mails[0].data);
    let reference = CreditorReference::parse(pm["creditor_reference"].as_str().unwrap()).unwrap();
    assert_eq!(
        mail.subject,
        format!(
            "Bitcoin purchase December 2026: transfer EUR 100.00, reference {}",
            reference.formatted()
        )
    );
    assert_eq!(mail.multipart, "multipart/alternative");
    // The text part: the same reference and amount, the IBAN by fours.
    assert!(mail.text.contains(&reference.formatted()), "{}", mail.text);
    assert!(mail.text.contains("EUR 100.00"));
    assert!(mail.text.contains("CH94 0077 8214 7683 0200 2"));
    assert!(
        mail.text.contains("DE75 5121 0800 1245 1261 99"),
        "the account to pay from"
    );
    assert!(mail.text.contains("index 0"), "the expected address index");
    // The HTML refers to the inline image.
    let (cid, png_bytes) = mail.png.expect("an inline PNG");
    assert_eq!(cid, "payment-qr");
    assert!(mail.html.contains("cid:payment-qr"));
    // The QR code, decoded independently, carries the order's details.
    let epc = parse_epc(&decode_qr(&png_bytes)).unwrap();
    assert_eq!(epc.version, "002");
    assert_eq!(epc.character_set, "1");
    assert_eq!(epc.iban, pm["creditor_iban"].as_str().unwrap());
    assert_eq!(epc.bic, pm["creditor_bank_bic"].as_str().unwrap());
    assert_eq!(epc.name, pm["creditor_name"].as_str().unwrap());
    assert_eq!(epc.currency, "EUR");
    assert_eq!(epc.amount, "100.00");
    assert_eq!(epc.structured_reference, reference.as_str());
    assert!(epc.unstructured_remittance.is_empty());
    // Recorded as sent by hand.
    let mut cmd = tool(w.dir.path());
    cmd.args(["remind", "list", "--json"]);
    let list = run_json(&mut cmd);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == "2026-12")
        .unwrap();
    assert_eq!(row["status"], "sent");
    assert_eq!(row["trigger"], "manual");
}

#[test]
fn chf_reminder_carries_a_swiss_qr_bill_with_the_orders_details() {
    let w = world();
    let order = w.create_order("chf", ScriptType::P2tr, "last");
    let pm = &order["payment_method"];
    let mut cmd = tool(w.dir.path());
    cmd.args([
        "remind",
        "send",
        &order["id"].as_str().unwrap()[..8],
        "--period",
        "2027-02",
    ]);
    assert_eq!(run(&mut cmd).0, 0);
    let mail = parse(&w.smtp.mails()[0].data);
    assert!(
        mail.subject
            .starts_with("Bitcoin purchase February 2027: transfer CHF 100.00")
    );
    let bill = parse_swiss(&decode_qr(&mail.png.unwrap().1)).unwrap();
    assert_eq!(
        bill.account,
        Iban::parse(pm["creditor_iban"].as_str().unwrap()).unwrap()
    );
    assert_eq!(bill.creditor.address_type, "S");
    assert_eq!(bill.creditor.name, pm["creditor_name"].as_str().unwrap());
    assert_eq!(bill.creditor.street_or_line1, "Industriestrasse");
    assert_eq!(bill.creditor.building_number_or_line2, "33");
    assert_eq!(
        bill.creditor.postal_code,
        pm["creditor_postal_code"].as_str().unwrap()
    );
    assert_eq!(bill.creditor.town, pm["creditor_town"].as_str().unwrap());
    assert_eq!(bill.creditor.country, "CH");
    assert_eq!(bill.amount.unwrap().to_string(), "100.00");
    assert_eq!(bill.currency, "CHF");
    assert_eq!(bill.reference.type_code(), "SCOR");
    assert_eq!(
        bill.reference.text(),
        pm["creditor_reference"].as_str().unwrap()
    );
    assert!(bill.debtor.is_none());
    assert!(mail.text.contains("CHF 100.00"));
}

#[test]
fn a_reminder_is_sent_once_even_when_smtp_fails_and_the_service_restarts() {
    let w = world();
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    let id = order["id"].as_str().unwrap().to_string();
    // 09:00 Europe/Zurich on 1 December 2026 is 08:00 UTC.
    let due = at("2026-12-01T08:00:00Z");
    assert!(
        w.run_due(due - Duration::minutes(1)).is_empty(),
        "not due yet"
    );
    // SMTP refuses at the due time: recorded as failing, retried later.
    w.smtp.refuse(true);
    let first = w.run_due(due);
    assert!(
        matches!(&first[0].2, Outcome::Failed(e) if e.contains("451")),
        "{first:?}"
    );
    let row = w
        .store()
        .reminder(&OrderId::from(id.as_str()), "2026-12")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "failing");
    assert_eq!(row.attempts, 1);
    assert!(
        w.run_due(due + Duration::seconds(30)).is_empty(),
        "backoff: not yet"
    );
    // The server is back: sent once.
    w.smtp.refuse(false);
    let sent = w.run_due(due + Duration::minutes(2));
    assert!(matches!(&sent[0].2, Outcome::Sent { .. }), "{sent:?}");
    assert_eq!(w.smtp.mails().len(), 1);
    // Later ticks and a restart (a fresh connection) send nothing more.
    assert!(w.run_due(due + Duration::minutes(3)).is_empty());
    assert!(w.run_due(due + Duration::days(3)).is_empty());
    assert_eq!(w.smtp.mails().len(), 1);
    let row = w
        .store()
        .reminder(&OrderId::from(id.as_str()), "2026-12")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "sent");
    assert_eq!(row.attempts, 2);
    // The failure raised an alert; the reminder that went out after all
    // closed it, with the time and why, so it is not e-mailed.
    let alerts = w.store().alerts(true).unwrap();
    let failed: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == "reminder_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{alerts:?}");
    assert!(failed[0].acknowledged);
    assert_eq!(failed[0].resolved_at, Some(due + Duration::minutes(2)));
    assert_eq!(
        failed[0].resolution.as_deref(),
        Some("the reminder was sent")
    );
    assert!(w.store().alerts(false).unwrap().is_empty(), "none open");
    let mailer = Mailer::from_config(&w.config().email).unwrap();
    let mut store = w.store();
    let mailed = w
        .sandbox
        .runtime
        .block_on(reminders::mail_alerts(
            &mut store,
            &mailer,
            w.settings().timezone,
            due + Duration::minutes(4),
        ))
        .unwrap();
    assert_eq!(mailed, 0);
    assert_eq!(w.smtp.mails().len(), 1);
}

#[test]
fn two_passes_at_once_against_a_slow_server_send_one_reminder() {
    // The server greets after 1.5 s: slow, not dead (the limit is 30 s per
    // step). Two passes — separate connections, as two processes — find the
    // reminder due at the same moment; the claim in the database lets one
    // send it.
    let w = world();
    w.create_order("eur", ScriptType::P2wpkh, "1");
    w.smtp.greet_after(std::time::Duration::from_millis(1500));
    let due = at("2026-12-01T08:00:00Z");
    let pass = || async {
        let mailer = Mailer::from_config(&w.config().email).unwrap();
        let mut store = w.store();
        reminders::run_due(&mut store, &mailer, &w.settings(), due)
            .await
            .unwrap()
    };
    let (a, b) = w
        .sandbox
        .runtime
        .block_on(async { tokio::join!(pass(), pass()) });
    let outcomes: Vec<&Outcome> = a.iter().chain(&b).map(|(_, _, o)| o).collect();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert!(matches!(outcomes[0], Outcome::Sent { .. }), "{outcomes:?}");
    assert_eq!(w.smtp.mails().len(), 1);
    let row = w
        .store()
        .reminder(&w.store().orders().unwrap()[0].id, "2026-12")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "sent");
    assert_eq!(row.sending_since, None, "the claim is released");
}

#[test]
fn a_slow_mail_server_at_start_up_gets_the_reminder_once() {
    // `serve` starts with a reminder due (the order's day is the 1st at
    // midnight, so it is due whenever this runs) and a mail server that
    // greets only after 2 s; the start-up pass, the scheduler's ticks and a
    // pass of another process all run while it waits.
    let w = world();
    let order = w.create_order_at("2026-10-20T12:00:00Z", "eur", ScriptType::P2wpkh, "1");
    let path = w.dir.path().join("pocket-dca.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("hour = 9", "hour = 0");
    std::fs::write(&path, text).unwrap();
    w.smtp.greet_after(std::time::Duration::from_secs(2));
    let config = w.config();
    let running = w.sandbox.runtime.block_on(async {
        let bind = || tokio::net::TcpListener::bind("127.0.0.1:0");
        pocket_dca::service::start_on(&config, bind().await.unwrap(), bind().await.unwrap(), true)
            .await
            .unwrap()
    });
    let id = OrderId::from(order["id"].as_str().unwrap());
    let period = Period::of(Utc::now(), chrono_tz::Europe::Zurich).to_string();
    // The other process's pass runs once serve's holds the claim and waits
    // for the greeting (on a loaded machine the start-up pass may take a
    // moment to begin).
    let started = std::time::Instant::now();
    while w
        .store()
        .reminder(&id, &period)
        .unwrap()
        .is_none_or(|r| r.sending_since.is_none() && r.status != "sent")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never claimed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let other = w.run_due(Utc::now());
    assert!(
        other
            .iter()
            .all(|(_, _, o)| !matches!(o, Outcome::Sent { .. })),
        "{other:?}"
    );
    let started = std::time::Instant::now();
    while w
        .store()
        .reminder(&id, &period)
        .unwrap()
        .is_none_or(|r| r.status != "sent")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never sent"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    w.sandbox.runtime.block_on(running.stop()).unwrap();
    let reminders: Vec<String> = w
        .smtp
        .mails()
        .iter()
        .map(|m| parse(&m.data).subject)
        .filter(|s| s.starts_with("Bitcoin purchase"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
}

#[test]
fn a_silent_mail_server_fails_within_the_timeout_recorded_and_alerted() {
    let w = world_with("timeout_secs = 1\n");
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    w.smtp.go_silent();
    let due = at("2026-12-01T08:00:00Z");
    let started = std::time::Instant::now();
    let outcome = w.run_due(due);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    assert!(
        matches!(&outcome[0].2, Outcome::Failed(e) if e.contains("sent nothing for 1 s")),
        "{outcome:?}"
    );
    let id = OrderId::from(order["id"].as_str().unwrap());
    let row = w.store().reminder(&id, "2026-12").unwrap().unwrap();
    assert_eq!(row.status, "failing");
    assert!(row.last_error.unwrap().contains("sent nothing"));
    let alerts = w.store().alerts(false).unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "reminder_failed" && a.message.contains("sent nothing for 1 s")),
        "{alerts:?}"
    );
    // `mail test` gives up as soon, with the reason.
    let started = std::time::Instant::now();
    let (code, _, err) = run(tool(w.dir.path()).args(["mail", "test", "me@example.com"]));
    assert_ne!(code, 0);
    assert!(err.contains("sent nothing for 1 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_reminder_missed_while_down_goes_out_once_within_its_month_only() {
    let w = world();
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    let id = order["id"].as_str().unwrap();
    // Down from before the due time to a day later: sent on start, once.
    let later = at("2026-12-02T10:00:00Z");
    assert_eq!(w.run_due(later).len(), 1);
    assert!(w.run_due(later + Duration::minutes(1)).is_empty());
    assert_eq!(w.smtp.mails().len(), 1);
    // January's reminder, missed entirely, is not sent in February.
    let february = at("2027-02-01T07:30:00Z"); // 08:30 local: before February's due time
    assert!(w.run_due(february).is_empty());
    assert!(
        w.store()
            .reminder(&OrderId::from(id), "2027-01")
            .unwrap()
            .is_none()
    );
    assert_eq!(w.smtp.mails().len(), 1);
}

#[test]
fn the_e_mail_quotes_the_rate_pocket_reported() {
    let w = world();
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    // A price whose rate does not come back exactly from satoshis:
    // 98.50 / 61,234.57 = 0.00160857 BTC, and 98.50 / 0.00160857 = 61,234.51.
    w.sandbox.post(
        "/sandbox/prices",
        json!({"eur": "61234.57", "chf": "79000", "gbp": "73000"}),
    );
    w.sandbox
        .post("/sandbox/clock", json!({"now": "2026-11-25T10:00:00Z"}));
    let exchange = w.sandbox.post(
        "/sandbox/payments",
        json!({"reference": order["payment_method"]["creditor_reference"], "amount": 100, "currency": "eur", "debitor_iban": IBAN}),
    );
    assert_eq!(exchange["rate"].to_string(), "61234.57");
    let mut store = w.store();
    let fetched: pocket_dca::pocket::Exchange = serde_json::from_value(exchange.clone()).unwrap();
    pocket_dca::reconcile::apply(
        &mut store,
        &fetched,
        None,
        &exchange.to_string(),
        at("2026-11-25T10:00:01Z"),
    )
    .unwrap();
    let sent = w.run_due(at("2026-12-01T08:00:00Z"));
    assert!(matches!(&sent[0].2, Outcome::Sent { .. }), "{sent:?}");
    let mail = parse(&w.smtp.mails()[0].data);
    assert!(mail.text.contains("at 61,234.57 EUR/BTC"), "{}", mail.text);
    assert!(!mail.text.contains("61,234.51"), "{}", mail.text);
}

#[test]
fn an_order_made_after_its_day_is_first_reminded_next_month() {
    let w = world();
    // Made on 30 November for the 1st: November's transfer day has passed.
    let order = w.create_order_at("2026-11-30T10:00:00Z", "eur", ScriptType::P2wpkh, "1");
    let id = OrderId::from(order["id"].as_str().unwrap());
    let now = at("2026-11-30T10:05:00Z");
    assert!(w.run_due(now).is_empty(), "nothing for November");
    assert!(w.store().reminder(&id, "2026-11").unwrap().is_none());
    let listed = reminders::list(&w.store(), &w.settings(), now).unwrap();
    let scheduled = listed.iter().find(|r| r.order_id == id).unwrap();
    assert_eq!(
        (scheduled.status.as_str(), scheduled.period.as_str()),
        ("scheduled", "2026-12")
    );
    assert_eq!(scheduled.due_at, "2026-12-01T08:00:00.000Z");
    // December's goes out on its day.
    let sent = w.run_due(at("2026-12-01T08:00:00Z"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.to_string(), "2026-12");
    assert_eq!(w.smtp.mails().len(), 1);
}

#[test]
fn paused_orders_and_orders_whose_purchase_arrived_get_no_reminder() {
    let w = world();
    let paused = w.create_order("eur", ScriptType::P2wpkh, "1");
    let mut cmd = tool(w.dir.path());
    cmd.args(["order", "pause", paused["id"].as_str().unwrap()]);
    assert_eq!(run(&mut cmd).0, 0);
    let paid = w.create_order("chf", ScriptType::P2tr, "1");
    // A purchase for December arrives before the reminder day.
    w.sandbox
        .post("/sandbox/clock", json!({"now": "2026-12-01T06:00:00Z"}));
    let exchange = w.sandbox.post(
        "/sandbox/payments",
        json!({"reference": paid["payment_method"]["creditor_reference"], "amount": 100, "currency": "chf", "debitor_iban": IBAN}),
    );
    let mut store = w.store();
    let fetched: pocket_dca::pocket::Exchange = serde_json::from_value(exchange.clone()).unwrap();
    pocket_dca::reconcile::apply(
        &mut store,
        &fetched,
        None,
        &exchange.to_string(),
        at("2026-12-01T06:00:01Z"),
    )
    .unwrap();
    let done = w.run_due(at("2026-12-01T08:00:00Z"));
    assert_eq!(done.len(), 1);
    assert!(matches!(&done[0].2, Outcome::Skipped(_)));
    assert!(w.smtp.mails().is_empty());
    let row = w
        .store()
        .reminder(&OrderId::from(paid["id"].as_str().unwrap()), "2026-12")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "skipped");
    assert!(
        w.store()
            .reminder(&OrderId::from(paused["id"].as_str().unwrap()), "2026-12")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_missed_standing_order_raises_an_alert_that_is_e_mailed() {
    let w = world();
    let order = w.create_order("eur", ScriptType::P2wpkh, "1");
    let settings = w.settings();
    let store = w.store();
    // Four days after the reminder day: not yet.
    assert_eq!(
        reminders::detect_missed_orders(&store, &settings, at("2026-12-05T09:00:00Z")).unwrap(),
        0
    );
    // Five days after, no exchange: one alert, raised once.
    assert_eq!(
        reminders::detect_missed_orders(&store, &settings, at("2026-12-06T09:00:00Z")).unwrap(),
        1
    );
    assert_eq!(
        reminders::detect_missed_orders(&store, &settings, at("2026-12-07T09:00:00Z")).unwrap(),
        0
    );
    let alert = store
        .alerts(false)
        .unwrap()
        .into_iter()
        .find(|a| a.kind == "missed_order")
        .unwrap();
    assert_eq!(alert.order_id.as_deref(), order["id"].as_str());
    let mailer = Mailer::from_config(&w.config().email).unwrap();
    let mut store = w.store();
    w.sandbox
        .runtime
        .block_on(reminders::mail_alerts(
            &mut store,
            &mailer,
            w.settings().timezone,
            at("2026-12-06T09:01:00Z"),
        ))
        .unwrap();
    let mail = parse(&w.smtp.mails()[0].data);
    assert_eq!(mail.subject, "[pocket-dca] No purchase arrived this month");
    assert!(mail.text.contains("December 2026"), "{}", mail.text);
    // Its time in the reminders' zone, as the dashboard shows it.
    assert!(mail.text.contains(" CET"), "{}", mail.text);
    assert!(!mail.text.contains("Z\n"), "{}", mail.text);
}

#[test]
fn a_late_purchase_closes_the_missed_order_alert_and_next_months_does_not() {
    let w = world();
    let late = w.create_order("eur", ScriptType::P2wpkh, "1");
    let later = w.create_order("chf", ScriptType::P2tr, "1");
    let settings = w.settings();
    let missed = |store: &Store, open_only: bool| -> Vec<_> {
        let alerts = store.alerts(!open_only).unwrap().into_iter();
        alerts.filter(|a| a.kind == "missed_order").collect()
    };
    let detect =
        |now: &str| reminders::detect_missed_orders(&w.store(), &settings, at(now)).unwrap();
    assert_eq!(detect("2026-12-06T09:00:00Z"), 2);
    // December's transfer of one order arrives on the 10th: late, but
    // December's. The other's arrives on 2 January: January's purchase.
    let purchase = |order: &Value, when: &str, amount: u32, currency: &str| {
        w.sandbox.post("/sandbox/clock", json!({"now": when}));
        let exchange = w.sandbox.post(
            "/sandbox/payments",
            json!({"reference": order["payment_method"]["creditor_reference"], "amount": amount, "currency": currency, "debitor_iban": IBAN}),
        );
        let fetched: pocket_dca::pocket::Exchange =
            serde_json::from_value(exchange.clone()).unwrap();
        let mut store = w.store();
        pocket_dca::reconcile::apply(&mut store, &fetched, None, &exchange.to_string(), at(when))
            .unwrap();
        fetched.id
    };
    let exchange = purchase(&late, "2026-12-10T07:00:00Z", 100, "eur");
    assert_eq!(detect("2026-12-10T09:00:00Z"), 0);
    let open = missed(&w.store(), true);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].order_id.as_deref(), later["id"].as_str());
    let closed = missed(&w.store(), false)
        .into_iter()
        .find(|a| a.order_id.as_deref() == late["id"].as_str())
        .unwrap();
    assert_eq!(closed.resolved_at, Some(at("2026-12-10T09:00:00Z")));
    assert_eq!(
        closed.resolution.as_deref(),
        Some(format!("a purchase arrived late (exchange {exchange})").as_str())
    );
    purchase(&later, "2027-01-02T07:00:00Z", 100, "chf");
    assert_eq!(detect("2027-01-02T09:00:00Z"), 0);
    let open = missed(&w.store(), true);
    assert_eq!(
        open.len(),
        1,
        "December stays missed for {}: {open:?}",
        later["id"]
    );
    assert!(open[0].resolved_at.is_none());
}

#[test]
fn the_outbox_receives_eml_files_instead_of_smtp() {
    let w = world_with("outbox_dir = \"outbox\"\n");
    let order = w.create_order("eur", ScriptType::P2wpkh, "15");
    let mut cmd = tool(w.dir.path());
    cmd.args(["remind", "send", order["id"].as_str().unwrap()]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("outbox"), "{out}");
    assert!(w.smtp.mails().is_empty());
    let files: Vec<_> = std::fs::read_dir(w.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().unwrap() == "eml");
    let mail = parse(&std::fs::read(&files[0]).unwrap());
    assert!(mail.subject.contains("transfer EUR 100.00"));

    // A preview is written without sending or recording anything.
    let html = w.dir.path().join("preview.html");
    let mut cmd = tool(w.dir.path());
    cmd.args([
        "remind",
        "preview",
        order["id"].as_str().unwrap(),
        "--period",
        "2027-01",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(run(&mut cmd).0, 0);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        text.contains("data:image/png;base64,"),
        "the QR code is embedded"
    );
    assert!(
        w.store()
            .reminder(&OrderId::from(order["id"].as_str().unwrap()), "2027-01")
            .unwrap()
            .is_none()
    );
    // `mail test` goes through the same transport.
    let mut cmd = tool(w.dir.path());
    cmd.args(["mail", "test", "other@example.com"]);
    assert_eq!(run(&mut cmd).0, 0);
    assert_eq!(
        std::fs::read_dir(w.dir.path().join("outbox"))
            .unwrap()
            .count(),
        2
    );
}

#[test]
fn tls_is_required_when_asked_for_and_spoken_from_the_first_byte_for_smtps() {
    // The test server speaks plain SMTP and offers no STARTTLS.
    let w = world();
    let config = w.dir.path().join("pocket-dca.toml");
    let plain = std::fs::read_to_string(&config).unwrap();
    let port = w.smtp.addr.port();
    for (url, expected) in [
        (
            format!("smtp://127.0.0.1:{port}?tls=required"),
            "does not offer STARTTLS",
        ),
        (
            format!("smtps://localhost:{port}"),
            "TLS with localhost failed",
        ),
    ] {
        std::fs::write(&config, plain.replace(&w.smtp.url(), &url)).unwrap();
        let started = std::time::Instant::now();
        let (code, _, err) = run(tool(w.dir.path()).args(["mail", "test", "me@example.com"]));
        assert_ne!(code, 0, "{url}");
        assert!(err.contains(expected), "{url}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "{url}"
        );
    }
    assert!(w.smtp.mails().is_empty(), "nothing went out in clear text");
}

#[test]
fn mail_test_over_smtp_and_a_clear_error_when_the_server_is_unreachable() {
    let w = world();
    let mut cmd = tool(w.dir.path());
    cmd.args(["mail", "test", "other@example.com"]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let mails = w.smtp.mails();
    assert_eq!(mails[0].to, ["other@example.com"]);
    assert_eq!(parse(&mails[0].data).subject, "pocket-dca test e-mail");
    // Nothing listens on port 9: one line that says so.
    let config = w.dir.path().join("pocket-dca.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&w.smtp.url(), "smtp://127.0.0.1:9");
    std::fs::write(&config, text).unwrap();
    let mut cmd = tool(w.dir.path());
    cmd.args(["mail", "test", "other@example.com"]);
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(
        err.starts_with("error: while sending the test e-mail"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
