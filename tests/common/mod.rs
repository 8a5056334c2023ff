//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod electrum;
pub mod reminders;
mod rig;
pub mod smtp;

// Not every test binary uses it.
#[allow(unused_imports)]
pub use rig::ServiceRig;

use std::path::PathBuf;

/// The folder of test data in this repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A public test-vector file from `tests/fixtures/vectors/`.
pub fn vectors(name: &str) -> serde_json::Value {
    let path = fixtures().join("vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON value as a string slice, for vector fields.
pub fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// The message of a signed-message vector: `message_hex` when present (exact
/// UTF-8 bytes), else `message`.
pub fn message_of(v: &serde_json::Value) -> String {
    match v.get("message_hex").and_then(|h| h.as_str()) {
        Some(hex_text) => String::from_utf8(hex::decode(hex_text).unwrap()).unwrap(),
        None => s(v, "message").to_string(),
    }
}

// ------------------------------------------------------------ live services

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use pocket_dca::sandbox::{self, Options};

/// A sandbox served from a runtime of its own on 127.0.0.1:0, so that a
/// test can run the real binary against it synchronously.
pub struct TestSandbox {
    pub runtime: tokio::runtime::Runtime,
    running: Option<sandbox::Running>,
    pub addr: SocketAddr,
    pub client_id: String,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl TestSandbox {
    pub fn start(options: Options) -> TestSandbox {
        TestSandbox::start_on(runtime(), options)
    }

    /// Starts on a runtime the test made (where other services run too).
    pub fn start_on(runtime: tokio::runtime::Runtime, options: Options) -> TestSandbox {
        let client_id = options.client_id.clone();
        let running = runtime
            .block_on(sandbox::start(
                options,
                None,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        TestSandbox {
            addr: running.addr,
            running: Some(running),
            runtime,
            client_id,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The sandbox chain's Electrum server, for `[chain] url`.
    pub fn electrum_url(&self) -> String {
        self.running.as_ref().unwrap().electrum_url()
    }

    /// The sandbox chain's Esplora API, for `[chain] url`.
    pub fn esplora_url(&self) -> String {
        self.running.as_ref().unwrap().esplora_url()
    }

    pub fn engine(&self) -> &sandbox::Engine {
        &self.running.as_ref().unwrap().engine
    }

    /// A request to the sandbox; `/v1` calls carry the client id.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base_url());
        let client_id = self.client_id.clone();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.runtime.block_on(async move {
            pocket_dca::pocket::install_crypto_provider();
            let mut request = reqwest::Client::new()
                .request(method, url)
                .header("authorization", format!("client_id {client_id}"));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
            )
        })
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, value) = self.request("POST", path, Some(body));
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {value}"
        );
        value
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let (status, value) = self.request("GET", path, None);
        assert!((200..300).contains(&status), "GET {path}: {status} {value}");
        value
    }

    /// Waits until every queued webhook is no longer pending.
    pub fn wait_for_deliveries(&self) -> Vec<serde_json::Value> {
        for _ in 0..500 {
            let v = self.get("/sandbox/webhooks");
            let deliveries = v["deliveries"].as_array().unwrap().clone();
            if deliveries.iter().all(|d| d["status"] != "pending") {
                return deliveries;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("webhooks still pending");
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.stop());
        }
    }
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: std::collections::HashMap<String, String>,
    pub body: String,
}

/// A webhook receiver on 127.0.0.1:0 that records what arrives and answers
/// 500 to the first `fail_first` requests.
pub struct WebhookSink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub fail_first: Arc<AtomicU32>,
}

impl WebhookSink {
    pub fn start(runtime: &tokio::runtime::Runtime) -> WebhookSink {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let fail_first = Arc::new(AtomicU32::new(0));
        let (r, f) = (received.clone(), fail_first.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (r, f) = (r.clone(), f.clone());
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| {
                            (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                        })
                        .collect();
                    r.lock().unwrap().push(Received { headers, body });
                    let failing = f
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            }),
        );
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookSink {
            addr,
            received,
            fail_first,
        }
    }

    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/hook", self.addr)).unwrap()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Writes a config for the tool next to its database in `dir`.
pub fn write_config(
    dir: &Path,
    base_url: &str,
    network: &str,
    client_id: &str,
) -> std::path::PathBuf {
    let path = dir.join("pocket-dca.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\npath = \"dca.sqlite3\"\n[bitcoin]\nnetwork = \"{network}\"\n[pocket]\nbase_url = \"{base_url}\"\nclient_id = \"{client_id}\"\n"
        ),
    )
    .unwrap();
    path
}

/// The binary with the config in `dir`, and no configuration from outside.
pub fn tool(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("pocket-dca").unwrap();
    cmd.current_dir(dir)
        .env("POCKET_DCA_CONFIG", dir.join("pocket-dca.toml"))
        .env_remove("POCKET_CLIENT_ID")
        .env_remove("POCKET_WEBHOOK_SECRET")
        .env_remove("SMTP_PASSWORD")
        .env_remove("RUST_LOG");
    cmd
}

/// Runs the binary; returns (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs the binary, expecting success, and parses its JSON output.
pub fn run_json(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

// ------------------------------------------------------------------ demo

/// A running `pocket-dca demo`, stopped (SIGTERM) when dropped.
pub struct RunningDemo {
    pub child: std::process::Child,
    pub dashboard: String,
    pub config: std::path::PathBuf,
    pub outbox: std::path::PathBuf,
}

impl RunningDemo {
    /// Starts the binary's demo in `dir` and waits for its three lines.
    pub fn start(dir: &Path) -> RunningDemo {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"))
            .args(["demo", "--dir", dir.to_str().unwrap()])
            .env_remove("POCKET_DCA_CONFIG")
            .env_remove("POCKET_CLIENT_ID")
            .env_remove("POCKET_WEBHOOK_SECRET")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut found = std::collections::HashMap::new();
        while found.len() < 3 {
            let line = lines.next().expect("demo printed its lines").unwrap();
            if let Some((key, value)) = line.split_once(": ")
                && ["dashboard", "config", "outbox"].contains(&key)
            {
                found.insert(key.to_string(), value.to_string());
            }
        }
        // Keep reading so the demo can write more.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        RunningDemo {
            child,
            dashboard: found["dashboard"].clone(),
            config: found["config"].clone().into(),
            outbox: found["outbox"].clone().into(),
        }
    }

    /// Stops it with SIGTERM; the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

/// GETs a URL; status and body.
pub fn http_get(url: &str) -> (u16, String) {
    pocket_dca::pocket::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

// ------------------------------------------------------- orders and webhooks

/// Creates an order through the CLI in `dir`, signed by `wallet`'s account
/// of `script_type` at 0/0: 100 a month in `currency` on `day`, paid from
/// DE75512108001245126199 at a 1.5 % fee; `extra` flags are added.
pub fn create_order(
    dir: &Path,
    wallet: &pocket_dca::sandbox::wallet::HotWallet,
    script_type: pocket_dca::wallet::ScriptType,
    currency: &str,
    day: &str,
    extra: &[&str],
) -> serde_json::Value {
    let descriptor = wallet.account_descriptor(script_type).unwrap();
    create_order_signed(
        dir,
        &descriptor,
        |path, _address, message| {
            wallet
                .sign(script_type, &path.parse().unwrap(), message)
                .unwrap()
        },
        &["--currency", currency, "--day", day],
        extra,
    )
}

/// `order challenge` then `order create` for `key` at 0/0, the challenge
/// signed by `sign(path, address, message)` — any wallet.
pub fn create_order_signed(
    dir: &Path,
    key: &str,
    sign: impl FnOnce(&str, &str, &str) -> String,
    plan: &[&str],
    extra: &[&str],
) -> serde_json::Value {
    let mut cmd = tool(dir);
    cmd.args([
        "order",
        "challenge",
        "--key",
        key,
        "--path",
        "0/0",
        "--json",
    ]);
    let challenge = run_json(&mut cmd);
    let signature = sign(
        challenge["path"].as_str().unwrap(),
        challenge["address"].as_str().unwrap(),
        challenge["message"].as_str().unwrap(),
    );
    let mut cmd = tool(dir);
    cmd.args(["order", "create", "--key", key, "--path", "0/0"])
        .args(plan)
        .args(["--amount", "100"])
        .args(["--iban", "DE75512108001245126199", "--fee-rate", "0.015"])
        .args(extra)
        .args([
            "--challenge",
            challenge["challenge_id"].as_str().unwrap(),
            "--signature",
            &signature,
            "--json",
        ]);
    run_json(&mut cmd)
}

/// Waits until the sandbox delivered every webhook and the service stored
/// in `db` processed them.
pub fn settle(sandbox: &TestSandbox, db: &Path) {
    sandbox.wait_for_deliveries();
    for _ in 0..500 {
        let store = pocket_dca::store::Store::open(db).unwrap();
        if store.pending_deliveries(1).unwrap().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("deliveries still unprocessed");
}
