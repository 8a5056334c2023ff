//! Decimals from Pocket's JSON, exactly and safely: a JSON number as
//! written (serde_json keeps its digits) or a string of one, in plain
//! (`100.50`) or scientific (`1e-8`) form. Anything else — `_` separators
//! among them, which rust_decimal's own reader takes with one recursion
//! each and which a long run turns into a stack overflow — is refused by
//! its shape before any parser sees it.

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// The longest number read (Decimal holds 28 digits; more is no amount).
const MAX_LEN: usize = 64;
/// The largest magnitude read: 10^15 of any currency is no price or amount,
/// and sums of millions of amounts below it never overflow a Decimal.
const MAX_MAGNITUDE: i64 = 1_000_000_000_000_000;

/// Reads the text of a JSON number or string as a decimal.
pub fn parse(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let shape = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E');
    if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(shape) {
        return Err(format!("`{}` is not a number", shown(text)));
    }
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        text.parse::<Decimal>()
    };
    let value = parsed.map_err(|e| format!("`{text}` is not a number Decimal can hold ({e})"))?;
    if value.abs() >= Decimal::from(MAX_MAGNITUDE) {
        return Err(format!("`{text}` is out of range for an amount"));
    }
    Ok(value)
}

/// At most 40 characters of a value, for an error message.
fn shown(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn text_of<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::String(s) => Ok(Some(s)),
        other => Err(D::Error::custom(format!("{other} is not a number"))),
    }
}

/// `deserialize_with` for a `Decimal`.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = text_of(d)?.ok_or_else(|| D::Error::custom("null is not a number"))?;
    parse(&text).map_err(D::Error::custom)
}

/// `deserialize_with` for an `Option<Decimal>` (null, or an empty string,
/// is none).
pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match text_of(d)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => parse(&text).map(Some).map_err(D::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_pocket_writes_them_and_nothing_else() {
        let long = format!("1{}", "_".repeat(20_000));
        let cases = [
            ("100.00", Some("100.00")),
            ("0.00197000", Some("0.00197000")),
            ("-1.5", Some("-1.5")),
            ("1e-8", Some("0.00000001")),
            ("1_000", None),
            (long.as_str(), None),
            ("12 34", None),
            ("", None),
            ("1e400", None),
            ("99999999999999999999999999999999", None),
            ("1000000000000000", None),
            ("999999999999999.99", Some("999999999999999.99")),
        ];
        for (text, expected) in cases {
            let parsed = parse(text).ok().map(|d| d.to_string());
            assert_eq!(parsed.as_deref(), expected, "{}", shown(text));
        }
    }
}
