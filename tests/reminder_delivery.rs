//! Reminders delivered against mail servers that misbehave, on 127.0.0.1:
//! failing, slow, silent, TLS-only; several passes at once and a service
//! that restarts never send a reminder twice; the outbox instead of SMTP;
//! `mail test`.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::reminders::{at, parse, world, world_with};
use common::{run, tool};
use pocket_dca::pocket::OrderId;
use pocket_dca::reminders::{self, Outcome, Period};
use pocket_dca::wallet::ScriptType;

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
    let row = w.reminder(&id, "2026-12");
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
    let row = w.reminder(&id, "2026-12");
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
    assert_eq!(w.mail_alerts(due + Duration::minutes(4)), 0);
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
        let mailer = w.mailer();
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
