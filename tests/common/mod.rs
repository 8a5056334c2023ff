//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

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
