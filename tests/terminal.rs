//! The binary on a pseudo-terminal, as a user at a shell meets it: `--key -`
//! prompts and reads the key without echoing it (an xpub on the screen is a
//! wallet's history in a screenshot), and the interactive `order create`
//! asks for the key and then the signature.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{TestSandbox, write_config};
use pocket_dca::sandbox::Options;
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::wallet::{Network, ScriptType};

const BIP84_TPUB: &str = "tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M";
const PROMPT: &str = "Paste the extended public key or descriptor, then Enter";

fn binary(dir: &std::path::Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("pocket-dca"));
    command
        .current_dir(dir)
        .env("POCKET_DCA_CONFIG", dir.join("pocket-dca.toml"))
        .env_remove("RUST_LOG");
    command
}

#[test]
fn key_dash_on_a_terminal_prompts_and_does_not_echo_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = binary(dir.path());
    command
        .env_remove("POCKET_DCA_CONFIG")
        .args(["derive", "-", "--count", "2"]);
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    session.exp_string(PROMPT).unwrap();
    session.send_line(BIP84_TPUB).unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("0/1 "), "{rest}");
    assert!(
        !rest.contains(&BIP84_TPUB[..20]),
        "the key was echoed: {rest}"
    );
}

#[test]
fn interactive_order_create_asks_for_the_key_then_the_signature() {
    let sandbox = TestSandbox::start(Options::new("tty-client", Network::Testnet));
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sandbox.base_url(), "testnet", "tty-client");
    let wallet = HotWallet::from_seed(&[81; 32], Network::Testnet).unwrap();
    let key = wallet.account_descriptor(ScriptType::P2wpkh).unwrap();
    let mut command = binary(dir.path());
    command
        .args(["order", "create", "--key", "-", "--currency", "eur"])
        .args(["--iban", "DE75512108001245126199", "--fee-rate", "0.015"])
        .args(["--amount", "100", "--day", "1"]);
    let mut session = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
    session.exp_string(PROMPT).unwrap();
    session.send_line(&key).unwrap();
    session.exp_string("message    ").unwrap();
    let message = session.read_line().unwrap().trim().to_string();
    assert!(
        message.starts_with("I confirm my bitcoin wallet. ["),
        "{message}"
    );
    let shown = session.exp_string("Paste the signature").unwrap();
    let signature = wallet
        .sign(ScriptType::P2wpkh, &"0/0".parse().unwrap(), &message)
        .unwrap();
    session.send_line(&signature).unwrap();
    let rest = session.exp_eof().unwrap();
    assert!(rest.contains("created at Pocket"), "{rest}");
    let xpub = key.split(']').nth(1).unwrap();
    assert!(
        !shown.contains(&xpub[..20]) && !rest.contains(&xpub[..20]),
        "the key was echoed: {shown}{rest}"
    );
    assert_eq!(sandbox.engine().orders().unwrap().len(), 1);
}
