//! A real Electrum wallet, made at run time with Debian's `electrum` package
//! (offline, testnet, in a temporary folder): a wallet no one here wrote,
//! to check the tool against. Where Electrum is missing the tests say they
//! were skipped and how to install it; with `POCKET_DCA_REQUIRE_ELECTRUM=1`
//! (CI) they fail instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const INSTALL: &str = "sudo apt-get install --no-install-recommends electrum";

/// Electrum's Python with its code on the path, read from the `electrum`
/// script's first line (a pyenv `python3` earlier on PATH has no Electrum).
fn python_of(electrum: &Path) -> PathBuf {
    std::fs::read_to_string(electrum)
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.strip_prefix("#!"))
                .map(|l| PathBuf::from(l.split_whitespace().next().unwrap_or("python3")))
        })
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn find_electrum() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("electrum"))
        .find(|candidate| candidate.is_file())
}

/// A testnet Electrum wallet in a temporary folder.
pub struct Electrum {
    dir: tempfile::TempDir,
    executable: PathBuf,
    python: PathBuf,
}

impl Electrum {
    /// A new wallet of `seed_type` (`segwit` or `standard`), or `None` with a
    /// note on standard error when Electrum is not installed.
    pub fn create(seed_type: &str) -> Option<Electrum> {
        let Some(executable) = find_electrum() else {
            if std::env::var_os("POCKET_DCA_REQUIRE_ELECTRUM").is_some() {
                panic!("electrum is required here but not installed: {INSTALL}");
            }
            eprintln!("skipped: Electrum is not installed ({INSTALL})");
            return None;
        };
        let electrum = Electrum {
            dir: tempfile::tempdir().expect("a temporary folder"),
            python: python_of(&executable),
            executable,
        };
        electrum.run(&["create", "--seed_type", seed_type]);
        Some(electrum)
    }

    pub fn wallet_file(&self) -> PathBuf {
        self.dir.path().join("wallet")
    }

    /// Runs an Electrum command on the wallet; its standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let data = self.dir.path().join("data");
        let output = Command::new(&self.executable)
            .args(["--testnet", "--offline", "-D"])
            .arg(&data)
            .arg("-w")
            .arg(self.wallet_file())
            .args(args)
            .output()
            .expect("electrum runs");
        assert!(
            output.status.success(),
            "electrum {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.run(args)).expect("electrum prints JSON")
    }

    /// The wallet's master public key (vpub for segwit, tpub for standard).
    pub fn master_public_key(&self) -> String {
        self.run(&["getmpk"]).trim().to_string()
    }

    fn addresses(&self, flag: &str) -> Vec<String> {
        self.json(&["listaddresses", flag])
            .as_array()
            .expect("a list")
            .iter()
            .map(|a| a.as_str().expect("an address").to_string())
            .collect()
    }

    /// Receiving addresses, in Electrum's order (index 0 first).
    pub fn receiving(&self) -> Vec<String> {
        self.addresses("--receiving")
    }

    /// Change addresses, in Electrum's order.
    pub fn change(&self) -> Vec<String> {
        self.addresses("--change")
    }

    /// `signmessage`: Electrum's base64 signature.
    pub fn sign(&self, address: &str, message: &str) -> String {
        self.run(&["signmessage", address, message])
            .trim()
            .to_string()
    }

    /// Imports a labels file with Electrum's own `import_labels` (what
    /// Wallet → Labels → Import does) and returns every label it then has.
    pub fn import_labels(&self, file: &Path) -> serde_json::Value {
        const SCRIPT: &str = r#"
import json, sys
from electrum import constants
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.wallet_db import WalletDB
from electrum.wallet import Wallet
constants.set_testnet()
wallet_path, labels_path, data_dir = sys.argv[1:4]
config = SimpleConfig({'testnet': True, 'electrum_path': data_dir, 'offline': True})
storage = WalletStorage(wallet_path)
db = WalletDB(storage.read(), manual_upgrades=False)
wallet = Wallet(db, storage, config=config)
wallet.import_labels(labels_path)
wallet.save_db()
print(json.dumps(wallet.get_all_labels()))
"#;
        let output = Command::new(&self.python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(self.wallet_file())
            .arg(file)
            .arg(self.dir.path().join("data"))
            .output()
            .expect("Electrum's python runs");
        assert!(
            output.status.success(),
            "import_labels: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("labels as JSON")
    }
}
