//! The fuzz targets (`fuzz/targets.rs`) over their corpus and their
//! regressions, in every `cargo test`: the seeds from the test vectors, the
//! inputs libFuzzer kept, and each input that once crashed a target. The
//! long runs are `cargo fuzz run TARGET` (fuzz/README.md).
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_target_survives_its_corpus_and_regressions() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for target in targets::TARGETS {
        let corpus = inputs(&fuzz.join("corpus").join(target));
        assert!(!corpus.is_empty(), "no corpus for {target}");
        let regressions = inputs(&fuzz.join("regressions").join(target));
        for file in corpus.iter().chain(&regressions) {
            // A long fuzzing run may drop a file meanwhile.
            let Ok(data) = std::fs::read(file) else {
                continue;
            };
            let outcome = std::panic::catch_unwind(|| targets::run(target, &data));
            assert!(outcome.is_ok(), "{target} panicked on {}", file.display());
        }
    }
}

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target)
        .join(name);
    let data = std::fs::read(&path).unwrap();
    targets::run(target, &data);
    data
}

/// A fee of 10^27 BTC overflowed the conversion to satoshis (a panic in
/// the processor); now the exchange cannot be read, with the reason.
#[test]
fn webhook_crash_501e538a_a_fee_beyond_any_amount_is_refused() {
    let data = regression("webhook", "crash-501e538ae2c5fbffebecbf7e3f8c8f80a433c898");
    let (_, reason) = pocket_dca::deliveries::parse(&data).err().unwrap();
    assert!(reason.contains("out of range"), "{reason}");
}

/// An EPC amount element cut after three bytes inside a character.
#[test]
fn payment_crash_75558c6e_an_epc_amount_cut_inside_a_character() {
    let data = regression("payment", "crash-75558c6ed9d81fc574bc60c9040c293abe8a02c6");
    let text = String::from_utf8(data).unwrap();
    assert!(pocket_dca::payment::parse_epc(&text).is_err());
}

/// An EPC amount with thousands of `_`: rust_decimal reads `_` as a digit
/// separator, one recursion each, and overflowed the stack (in a debug
/// build, where the corpus smoke test found it); now refused by shape.
#[test]
fn payment_stack_overflow_36e70ae8_thousands_of_underscores_in_an_amount() {
    let data = regression(
        "payment",
        "stack-overflow-36e70ae84f90884174c5c9db8a6c7f841abd4cb8",
    );
    let text = String::from_utf8(data).unwrap();
    assert!(pocket_dca::payment::parse_epc(&text).is_err());
}

/// The same `_` recursion through a webhook: Pocket's decimals may come as
/// strings, and rust_decimal read `"1____…"` one frame per `_`; now the
/// exchange cannot be read, with the reason, and nothing overflows.
#[test]
fn webhook_stack_overflow_underscores_in_a_decimal_string() {
    let data = regression("webhook", "stack-overflow-underscores-in-a-decimal-string");
    let (_, reason) = pocket_dca::deliveries::parse(&data).err().unwrap();
    assert!(reason.contains("is not a number"), "{reason}");
}
