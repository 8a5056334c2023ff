//! The fuzz targets' bodies, shared by the cargo-fuzz binaries in
//! `fuzz_targets/` (coverage-guided, for long runs) and by
//! `tests/fuzz_corpus.rs` (every corpus file, in each `cargo test`). Each
//! takes arbitrary bytes, must never panic, and checks what must hold of
//! whatever it accepts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use pocket_dca::config::Config;
use pocket_dca::deliveries;
use pocket_dca::payment::{CreditorReference, Iban, parse_epc, parse_swiss};
use pocket_dca::pocket::Exchange;
use pocket_dca::reconcile::checks::{check_amounts, check_fields};
use pocket_dca::reconcile::rules::observe;
use pocket_dca::wallet::{PayoutKey, parse_address, verify_message};

/// The names of the targets, as in `fuzz_targets/` and `corpus/`.
pub const TARGETS: [&str; 6] = ["webhook", "key", "message", "config", "payment", "journal"];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "webhook" => webhook(data),
        "key" => key(data),
        "message" => message(data),
        "config" => config(data),
        "payment" => payment(data),
        "journal" => journal(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// A webhook body: the envelope or exchange parser, then the state read
/// from it; what is stored reads back to the same state.
pub fn webhook(data: &[u8]) {
    let Ok(parsed) = deliveries::parse(data) else {
        return;
    };
    let state = observe(&parsed.exchange, parsed.event.as_deref());
    let _ = check_fields(&parsed.exchange, None);
    let _ = check_amounts(&parsed.exchange);
    // As reconciliation reads a stored exchange back.
    let again: Exchange =
        serde_json::from_str(&parsed.json).expect("the stored exchange reads back");
    assert_eq!(observe(&again, parsed.event.as_deref()), state);
}

/// An extended public key or descriptor (first line) and a path (second
/// line): a key that parses derives its first address and the path.
pub fn key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (key_text, path_text) = text.split_once('\n').unwrap_or((text, "0/0"));
    let Ok(key) = PayoutKey::parse(key_text, None, None) else {
        return;
    };
    let receive = |k: &PayoutKey| {
        k.chain(&[0])
            .and_then(|chain| chain.address(0))
            .expect("a parsed key derives")
            .address
    };
    // Its plain form (xpub/tpub with the script type) is the same key.
    let again = PayoutKey::parse(
        &key.plain_string(),
        Some(key.script_type()),
        Some(key.network()),
    )
    .expect("its plain form parses");
    assert_eq!(receive(&again), receive(&key));
    if let Ok(path) = key.parse_path(path_text) {
        let _ = key.address_at(&path);
    }
}

/// An address, a message and a signature, separated by NUL bytes: parsed
/// and verified, never a panic.
pub fn message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let (Some(address), Some(message), Some(signature)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    if let Ok(address) = parse_address(address) {
        let _ = verify_message(&address, message, signature);
    }
}

/// A config file, with no environment: parsed, and what parses describes
/// itself.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text, Path::new("/etc/pocket-dca"), &|_: &str| None) {
        let _ = config.describe();
        let _ = config.notes();
    }
}

/// An IBAN, a creditor reference, an EPC payload and a Swiss QR-bill
/// payload read from the same text; what parses prints in a form that
/// parses back to the same value.
pub fn payment(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(iban) = Iban::parse(text) {
        assert_eq!(Iban::parse(&iban.formatted()).unwrap(), iban);
        assert_eq!(Iban::parse(iban.as_str()).unwrap(), iban);
    }
    if let Ok(reference) = CreditorReference::parse(text) {
        assert_eq!(
            CreditorReference::parse(&reference.formatted()).unwrap(),
            reference
        );
    }
    let _ = parse_epc(text);
    let _ = parse_swiss(text);
}

/// An intake journal file as a crash or a power loss may leave it: the
/// records read back are numbered 1, 2, 3… and the database holding the
/// last of them lacks none.
pub fn journal(data: &[u8]) {
    let found = deliveries::journal::scan(data);
    for (i, (seq, _)) in found.records.iter().enumerate() {
        assert_eq!(*seq, i as i64 + 1);
    }
    let position = found.position();
    assert!(found.missing_from(position).is_empty());
}
