//! Never lose an acknowledged webhook: the real `serve` binary is killed with
//! SIGKILL while signed deliveries stream in, five times over; after each
//! kill every delivery that was answered 2xx is in the database.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pocket_dca::deliveries::writer::recover_unattended;
use pocket_dca::pocket::signature;
use pocket_dca::store::Store;

const SECRET: &str = "crash-test-secret";

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("pocket-dca.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\npath = \"dca.sqlite3\"\n[bitcoin]\nnetwork = \"testnet\"\n[pocket]\nwebhook_secret = \"{SECRET}\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n[sync]\ninterval_minutes = 0\n"
        ),
    )
    .unwrap();
    path
}

/// Starts `serve` and reads the webhook URL it prints.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"))
        .args(["--config", config(dir).to_str().unwrap(), "serve"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its URLs").unwrap();
        if let Some(url) = line.strip_prefix("webhooks: ") {
            break url.to_string();
        }
    };
    (child, url)
}

/// Streams signed deliveries from 16 senders to `url` until `stop`; each
/// answered 2xx goes into `acked`.
fn stream(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    cycle: usize,
    acked: &Arc<Mutex<HashSet<String>>>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..16)
        .map(|worker| {
            let (url, acked, stop) = (url.to_string(), acked.clone(), stop.clone());
            runtime.spawn(async move {
                let client = reqwest::Client::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let correlation = format!("c{cycle}-w{worker}-{n}");
                    let body = format!(
                        r#"{{"event": "exchange.executed", "payload": {{"exchange_id": "{correlation}", "order_id": "o", "cost": 100.00}}}}"#
                    );
                    let result = client
                        .post(&url)
                        .header("x-signature-256", signature::sign(SECRET, body.as_bytes()))
                        .header("x-correlation-id", &correlation)
                        .body(body)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match result {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().insert(correlation);
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            })
        })
        .collect()
}

#[test]
fn no_acknowledged_delivery_is_lost_when_the_process_is_killed() {
    // 5 cycles here; `POCKET_DCA_CRASH_CYCLES=20` for a longer run.
    let cycles: usize = std::env::var("POCKET_DCA_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let runtime = common::runtime();
    pocket_dca::pocket::install_crypto_provider();
    for cycle in 0..cycles {
        let (mut child, url) = serve(dir.path());
        let stop = Arc::new(AtomicBool::new(false));
        let before = acked.lock().unwrap().len();
        let senders = stream(&runtime, &url, cycle, &acked, &stop);
        // Kill it while deliveries are streaming in.
        let start = Instant::now();
        while acked.lock().unwrap().len() < before + 400
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        for sender in senders {
            runtime.block_on(sender).unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() >= before + 400,
            "cycle {cycle}: only {} deliveries acknowledged",
            acked.len() - before
        );
        // Every delivery acknowledged so far is stored: in the database, or
        // in the intake journal, from which the next command moves it in
        // (as `serve` does when it starts again).
        let db = dir.path().join("dca.sqlite3");
        let mut store = Store::open(&db).unwrap();
        let moved = recover_unattended(&mut store, &db).unwrap();
        let stored: HashSet<String> = store
            .deliveries(None)
            .unwrap()
            .into_iter()
            .filter_map(|d| d.correlation_id)
            .collect();
        let lost: Vec<&String> = acked.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}: {} of {} acknowledged deliveries lost, e.g. {:?}",
            lost.len(),
            acked.len(),
            lost.first()
        );
        eprintln!(
            "cycle {cycle}: {} acknowledged, all stored ({moved} from the intake journal)",
            acked.len()
        );
    }

    // After a restart the stored deliveries are processed.
    let (mut child, _) = serve(dir.path());
    let start = Instant::now();
    loop {
        let store = Store::open(&dir.path().join("dca.sqlite3")).unwrap();
        if store.pending_deliveries(1).unwrap().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "pending deliveries were not processed after restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_stops_gracefully_with_everything_stored_and_processed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(dir.path());
    let runtime = common::runtime();
    pocket_dca::pocket::install_crypto_provider();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for i in 0..20 {
            let body = format!(r#"{{"event": "exchange.executed", "payload": {{"exchange_id": "t{i}", "order_id": "o"}}}}"#);
            let response = client
                .post(&url)
                .header("x-signature-256", signature::sign(SECRET, body.as_bytes()))
                .body(body)
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    let store = Store::open(&dir.path().join("dca.sqlite3")).unwrap();
    assert_eq!(store.delivery_count().unwrap(), 20);
    assert!(
        store.pending_deliveries(1).unwrap().is_empty(),
        "processed before exit"
    );
    assert_eq!(store.exchanges(&Default::default()).unwrap().len(), 20);
}

#[test]
fn sigterm_right_after_start_up_still_stops_cleanly() {
    // The signal handlers are installed before the URLs are printed, so a
    // stop that follows at once (systemd, a script) is not a kill.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, _) = serve(dir.path());
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

#[test]
fn serve_logs_its_own_news_not_the_schedulers_internals() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"))
        .args(["--config", config(dir.path()).to_str().unwrap(), "serve"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("dashboard: ") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child.wait().unwrap();
    assert!(log.contains("serving"), "{log}");
    for internal in ["Uninited", "Job creator", "Init "] {
        assert!(!log.contains(internal), "{internal}: {log}");
    }
}

#[test]
fn deliveries_a_crash_left_in_the_intake_journal_are_listed_and_backed_up() {
    use pocket_dca::deliveries::journal::Journal;
    use pocket_dca::store::NewDelivery;
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let db = dir.path().join("dca.sqlite3");
    drop(Store::open(&db).unwrap());
    // As `serve` leaves them when it is killed right after answering a
    // burst: in the journal, not yet in the database.
    let (mut journal, _) = Journal::open(&db).unwrap();
    let batch: Vec<NewDelivery> = (0..3)
        .map(|i| NewDelivery {
            received_at: chrono::Utc::now(),
            correlation_id: Some(format!("left-{i}")),
            retry_count: None,
            body: br#"{"event": "exchange.executed", "payload": {"exchange_id": "x"}}"#.to_vec(),
        })
        .collect();
    journal.append(&batch).unwrap();
    drop(journal);
    assert_eq!(Store::open(&db).unwrap().delivery_count().unwrap(), 0);

    let listed = common::run_json(common::tool(dir.path()).args(["webhooks", "--json"]));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["correlation_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "{listed}");
    // Moved once: a second command finds them in the database, not twice.
    let (code, _, err) =
        common::run(common::tool(dir.path()).args(["db", "backup", "copy.sqlite3"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        Store::open(&dir.path().join("copy.sqlite3"))
            .unwrap()
            .delivery_count()
            .unwrap(),
        3
    );
}
