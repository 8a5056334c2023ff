//! `serve` and the sandbox wired together in one process, with a folder
//! the CLI can run in: the rig most end-to-end tests stand on.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use super::{TestSandbox, create_order, run_json, runtime, settle, tool};
use pocket_dca::sandbox::Options;

/// `serve` started in-process on 127.0.0.1:0 with the sandbox posting its
/// signed webhooks to it; `dir` holds the database and `pocket-dca.toml`
/// pointing at the sandbox, so the CLI run there sees both.
pub struct ServiceRig {
    pub service: Option<pocket_dca::service::Running>,
    pub sandbox: TestSandbox,
    pub dir: tempfile::TempDir,
    /// The config written to `dir`.
    pub config: String,
    /// The wallet the rig's orders are signed with.
    pub wallet: pocket_dca::sandbox::wallet::HotWallet,
    /// The webhook secret shared by the sandbox and the service.
    pub secret: String,
}

impl ServiceRig {
    /// `seed` makes the rig's wallet; `server_extra` is added to the
    /// `[server]` table; `configure` adjusts the sandbox.
    pub fn start(
        client: &str,
        secret: &str,
        seed: u8,
        server_extra: &str,
        configure: impl FnOnce(&mut Options),
    ) -> ServiceRig {
        let config_text = |base_url: &str| {
            format!(
                "[database]\npath = \"dca.sqlite3\"\n[bitcoin]\nnetwork = \"testnet\"\n[pocket]\nbase_url = \"{base_url}\"\nclient_id = \"{client}\"\nwebhook_secret = \"{secret}\"\n[server]\nwebhook_listen = \"127.0.0.1:0\"\ndashboard_listen = \"127.0.0.1:0\"\n{server_extra}[sync]\ninterval_minutes = 0\n"
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let runtime = runtime();
        let no_env = |_: &str| None;
        // The service starts first, so the sandbox knows where to post.
        let config = pocket_dca::config::Config::parse(
            &config_text("http://127.0.0.1:9"),
            dir.path(),
            &no_env,
        )
        .unwrap();
        let running = runtime
            .block_on(pocket_dca::service::start(&config))
            .unwrap();
        let mut options = Options::new(client, pocket_dca::wallet::Network::Testnet);
        options.webhook_url = Some(
            format!("http://{}/webhooks/pocket", running.webhook_addr)
                .parse()
                .unwrap(),
        );
        options.webhook_secret = secret.into();
        options.retry_base = std::time::Duration::from_millis(100);
        configure(&mut options);
        let sandbox = TestSandbox::start_on(runtime, options);
        let config = config_text(&sandbox.base_url());
        std::fs::write(dir.path().join("pocket-dca.toml"), &config).unwrap();
        let network = pocket_dca::wallet::Network::Testnet;
        ServiceRig {
            service: Some(running),
            sandbox,
            dir,
            config,
            wallet: pocket_dca::sandbox::wallet::HotWallet::from_seed(&[seed; 32], network)
                .unwrap(),
            secret: secret.to_string(),
        }
    }

    /// Adds `[chain]` to the config the CLI reads: the sandbox's Electrum
    /// server or Esplora API (`backend`), and `extra` keys.
    pub fn use_chain(&self, backend: &str, extra: &str) {
        let url = match backend {
            "esplora" => self.sandbox.esplora_url(),
            _ => self.sandbox.electrum_url(),
        };
        let text = format!(
            "{}[chain]\nbackend = \"{backend}\"\nurl = \"{url}\"\n{extra}",
            self.config
        );
        std::fs::write(self.dir.path().join("pocket-dca.toml"), text).unwrap();
    }

    /// Restarts the service from the config the CLI reads, with `[chain]`
    /// on `backend` (as [`ServiceRig::use_chain`]) and its schedule, on the
    /// same webhook address: `serve` checks the chain by itself.
    pub fn serve_with_chain(&mut self, backend: &str, extra: &str) {
        self.use_chain(backend, extra);
        let old = self.service.take().unwrap();
        let addr = old.webhook_addr;
        self.sandbox.runtime.block_on(old.stop()).unwrap();
        let text = std::fs::read_to_string(self.dir.path().join("pocket-dca.toml")).unwrap();
        let config =
            pocket_dca::config::Config::parse(&text, self.dir.path(), &|_: &str| None).unwrap();
        let running = self.sandbox.runtime.block_on(async {
            let webhooks = tokio::net::TcpListener::bind(addr).await.unwrap();
            let dashboard = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            pocket_dca::service::start_on(&config, webhooks, dashboard, true)
                .await
                .unwrap()
        });
        self.service = Some(running);
    }

    pub fn exchanges(&self) -> Vec<serde_json::Value> {
        let mut cmd = tool(self.dir.path());
        cmd.args(["exchanges", "--json"]);
        run_json(&mut cmd).as_array().unwrap().clone()
    }

    pub fn exchange(&self, id: &str) -> serde_json::Value {
        self.exchanges()
            .into_iter()
            .find(|e| e["id"] == id)
            .unwrap()
    }

    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let mut cmd = tool(self.dir.path());
        cmd.args(["alerts", "--json"]);
        run_json(&mut cmd).as_array().unwrap().clone()
    }

    pub fn addresses(&self, order: &serde_json::Value) -> Vec<serde_json::Value> {
        let mut cmd = tool(self.dir.path());
        cmd.args(["addresses", order["id"].as_str().unwrap(), "--json"]);
        run_json(&mut cmd).as_array().unwrap().clone()
    }

    /// Posts a body straight to the webhook endpoint; the status.
    pub fn post_webhook(&self, body: &str, signature: Option<String>) -> u16 {
        let url = format!("http://{}/webhooks/pocket", self.running().webhook_addr);
        let body = body.to_string();
        self.sandbox.runtime.block_on(async move {
            let mut request = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .header("x-correlation-id", "test-correlation")
                .body(body);
            if let Some(signature) = signature {
                request = request.header("x-signature-256", signature);
            }
            request.send().await.unwrap().status().as_u16()
        })
    }

    pub fn post_signed(&self, body: &str) -> u16 {
        self.post_webhook(
            body,
            Some(pocket_dca::pocket::signature::sign(
                &self.secret,
                body.as_bytes(),
            )),
        )
    }

    /// A settled exchange of `order` paid to `address`, as Pocket would post it.
    pub fn settled_exchange(
        &self,
        order: &serde_json::Value,
        address: &str,
        txid: &str,
        vout: u32,
    ) -> pocket_dca::pocket::Exchange {
        let mut e: pocket_dca::pocket::Exchange = serde_json::from_str(&format!(
            r#"{{"id": "{}", "order_id": "{}", "fee_rate": 0.015, "pair": "btc/eur", "type": "buy", "cost": 100.00,
                "executed_on": "2026-12-01T10:00:00.000Z", "amount": 0.00197000, "rate": 50000.00, "fee": 1.50}}"#,
            uuid::Uuid::new_v4(),
            order["id"].as_str().unwrap()
        ))
        .unwrap();
        e.payout = Some(pocket_dca::pocket::Payout {
            txid: Some(txid.into()),
            outpoint: Some(vout),
            bitcoin_address: Some(address.into()),
            derivation_path: None,
            block_height: None,
            confirmed: Some(false),
            fee: Some(pocket_dca::pocket::Btc::from_sat(190)),
            amount: Some(pocket_dca::pocket::Btc::from_sat(196_810)),
            ..pocket_dca::pocket::Payout::default()
        });
        e
    }

    pub fn address_at(&self, script_type: pocket_dca::wallet::ScriptType, index: u32) -> String {
        let key = pocket_dca::wallet::PayoutKey::parse(
            &self.wallet.account_descriptor(script_type).unwrap(),
            None,
            None,
        )
        .unwrap();
        key.chain(&[0])
            .unwrap()
            .address(index)
            .unwrap()
            .address
            .to_string()
    }

    /// Creates an order through the CLI, signed by the rig's wallet.
    pub fn create_order(
        &self,
        currency: &str,
        script_type: pocket_dca::wallet::ScriptType,
        extra: &[&str],
    ) -> serde_json::Value {
        create_order(
            self.dir.path(),
            &self.wallet,
            script_type,
            currency,
            "1",
            extra,
        )
    }

    pub fn store(&self) -> pocket_dca::store::Store {
        pocket_dca::store::Store::open(&self.db()).unwrap()
    }

    /// The dashboard's root URL.
    pub fn dashboard_url(&self) -> String {
        format!("http://{}", self.running().dashboard_addr)
    }

    pub fn running(&self) -> &pocket_dca::service::Running {
        self.service.as_ref().unwrap()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("dca.sqlite3")
    }

    /// A bank transfer to the order, as the sandbox's bank would book it.
    pub fn pay(&self, order: &serde_json::Value, amount: &str, iban: &str) -> serde_json::Value {
        self.sandbox.post(
            "/sandbox/payments",
            serde_json::json!({
                "reference": order["payment_method"]["creditor_reference"],
                "amount": serde_json::from_str::<serde_json::Value>(amount).unwrap(),
                "currency": order["currency"],
                "debitor_iban": iban,
            }),
        )
    }

    /// Waits until the sandbox delivered everything and the service processed it.
    pub fn settle(&self) {
        settle(&self.sandbox, &self.db());
    }
}

impl Drop for ServiceRig {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            self.sandbox.runtime.block_on(service.stop()).unwrap();
        }
    }
}
