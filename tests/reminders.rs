//! Reminders' content and calendar through a real SMTP conversation on
//! 127.0.0.1: the MIME message is parsed, the QR image decoded with a
//! decoder independent of the encoder, and its EPC / Swiss QR-bill fields
//! compared with the order's; when a reminder is due, skipped, missed, and
//! what a missed purchase raises and a late one closes. Time is an input:
//! the rules are driven with chosen instants.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::reminders::{IBAN, at, decode_qr, parse, world};
use common::{run, run_json, tool};
use pocket_dca::payment::{CreditorReference, Iban, parse_epc, parse_swiss};
use pocket_dca::pocket::OrderId;
use pocket_dca::reminders::{self, Outcome};
use pocket_dca::store::Store;
use pocket_dca::wallet::ScriptType;
use serde_json::{Value, json};

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
    let row = w.reminder(paid["id"].as_str().unwrap(), "2026-12");
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
    w.mail_alerts(at("2026-12-06T09:01:00Z"));
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
