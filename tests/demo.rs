//! `pocket-dca demo` on a fresh folder: it starts, prints where things are,
//! and its dashboard and CSV show what its database holds.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{RunningDemo, http_get};
use pocket_dca::portfolio;
use pocket_dca::reconcile::State;
use pocket_dca::store::{ExchangeFilter, Store};
use rust_decimal::Decimal;

/// The text of the element with `id` in a page.
fn element(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
    html[at..at + html[at..].find('<').unwrap()].to_string()
}

fn number(text: &str) -> Decimal {
    text.split_whitespace()
        .find_map(|w| w.replace(',', "").parse::<Decimal>().ok())
        .unwrap()
}

#[test]
fn the_demo_runs_a_year_and_its_dashboard_matches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let demo = RunningDemo::start(&demo_dir);
    assert!(demo.config.starts_with(&demo_dir));
    let store = Store::open(&demo_dir.join("pocket-dca.sqlite3")).unwrap();
    let orders = store.orders().unwrap();
    assert_eq!(orders.len(), 2);
    let rows = store.exchanges(&ExchangeFilter::default()).unwrap();
    let purchases: Vec<_> = rows.iter().filter(|r| portfolio::is_purchase(r)).collect();
    // Twelve months of two orders, and this month's whose day is past.
    let this_month = purchases
        .iter()
        .filter(|r| {
            r.executed_on.is_some_and(|t| {
                t.format("%Y-%m").to_string() == Utc::now().format("%Y-%m").to_string()
            })
        })
        .count();
    assert!(this_month <= 2, "{this_month} this month");
    assert_eq!(
        purchases.len(),
        24 + this_month,
        "twelve months, two orders"
    );
    // Today the demo's orders miss nothing.
    let alerts = store.alerts(false).unwrap();
    assert!(
        alerts.iter().all(|a| a.kind != "missed_order"),
        "{alerts:?}"
    );
    assert!(
        rows.iter().any(|r| r.state == State::Refunded),
        "the refund"
    );
    assert!(
        rows.iter()
            .any(|r| r.action_code.is_none() && r.cost == Some(Decimal::new(1200, 0))),
        "the identified top-up"
    );
    assert!(
        purchases.iter().all(|r| r.reconciliation == "matched"),
        "every payout matched"
    );
    // Reminders went to the outbox: one per order and month, at least.
    let mails = std::fs::read_dir(&demo.outbox).unwrap().count();
    assert!(mails >= 24, "{mails} e-mails in the outbox");

    // The overview shows the database's totals.
    let summary = portfolio::portfolio(&store).unwrap();
    let (status, overview) = http_get(&demo.dashboard);
    assert_eq!(status, 200);
    assert_eq!(
        number(&element(&overview, "total-received-btc")),
        Decimal::from_i128_with_scale(i128::from(summary.received_sat), 8)
    );
    for total in &summary.by_currency {
        let id = format!("total-spent-{}", total.currency.as_str());
        assert_eq!(number(&element(&overview, &id)), total.fiat_spent, "{id}");
    }
    // Each order page shows its results and reference.
    for o in &summary.orders {
        let (status, page) = http_get(&format!("{}/orders/{}", demo.dashboard, o.order.id));
        assert_eq!(status, 200);
        assert_eq!(number(&element(&page, "order-spent")), o.stats.fiat_spent);
        let reference = o.order.payment_method.creditor_reference.clone().unwrap();
        let grouped = pocket_dca::payment::CreditorReference::parse(&reference)
            .unwrap()
            .formatted();
        assert_eq!(element(&page, "reference"), grouped);
    }
    // The CSV has a row per exchange and sums to the same.
    let (status, csv_text) = http_get(&format!("{}/export/exchanges.csv", demo.dashboard));
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), rows.len());
    let spent_chf: Decimal = records
        .iter()
        .filter(|r| {
            &r[col("pair")] == "btc/chf"
                && ["settled", "confirmed", "executed"].contains(&&r[col("state")])
        })
        .map(|r| r[col("cost")].parse::<Decimal>().unwrap())
        .sum();
    let chf = summary
        .by_currency
        .iter()
        .find(|t| t.currency.as_str() == "chf")
        .unwrap();
    assert_eq!(spent_chf, chf.fiat_spent);
    drop(store);
    assert!(
        demo.stop().success(),
        "Ctrl-C / SIGTERM stops the demo cleanly"
    );
}

#[test]
fn running_the_demo_again_recreates_its_folder_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let first = RunningDemo::start(&demo_dir);
    assert!(first.stop().success());
    let second = RunningDemo::start(&demo_dir);
    let store = Store::open(&demo_dir.join("pocket-dca.sqlite3")).unwrap();
    assert_eq!(
        store.orders().unwrap().len(),
        2,
        "a fresh database, not four orders"
    );
    drop(store);
    assert!(second.stop().success());
    // A folder with other content is not deleted.
    let other = dir.path().join("mine");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    let out = assert_cmd::Command::cargo_bin("pocket-dca")
        .unwrap()
        .args(["demo", "--dir", other.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a pocket-dca demo folder"), "{err}");
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn sigterm_during_the_replay_stops_the_demo_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"))
        .args(["demo", "--dir", demo_dir.to_str().unwrap()])
        .env_remove("POCKET_DCA_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The folder is prepared first; the year's replay follows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !demo_dir.join("outbox").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}
