//! How values are written for people: ids, money, bitcoin, currencies and
//! local times. One home for each, so that the CLI, the pages, the e-mails
//! and the exports agree (IBANs and references format themselves, in
//! `payment`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// Reads a decimal as people and payment slips write it: an optional sign,
/// digits, at most one `.`, at most 40 characters. Anything else (rust_decimal
/// would also take `_` separators, recursing once per `_`) is refused before
/// it reaches the parser.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let plain = !digits.is_empty()
        && text.len() <= 40
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(format!("`{text}` is not a number like 100 or 99.50"));
    }
    text.parse::<Decimal>()
        .map_err(|e| format!("`{text}` is not a number ({e})"))
}

/// The first 8 characters of a UUID, as the CLI shows ids.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// An amount with two decimals.
pub fn money(amount: Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    a.to_string()
}

/// A fee rate as a percentage with two decimals: `0.015` → `1.50 %`.
pub fn percent(rate: Decimal) -> String {
    format!("{} %", money(rate * Decimal::ONE_HUNDRED))
}

/// Digits grouped by thousands: `61234.50` → `61,234.50`.
pub fn grouped(number: &str) -> String {
    let (whole, fraction) = number
        .split_once('.')
        .map_or((number, None), |(w, f)| (w, Some(f)));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Bitcoin of an amount in satoshis, exactly: eight decimals.
pub fn btc_decimal(sats: u64) -> Decimal {
    Decimal::from_i128_with_scale(i128::from(sats), 8)
}

/// Bitcoin of an amount in satoshis as text with eight decimals (`0.00197000`).
pub fn btc(sats: u64) -> String {
    btc_decimal(sats).to_string()
}

/// The quote currency of a pair as its upper-case code: `btc/eur` → `EUR`.
pub fn currency_of_pair(pair: &str) -> String {
    pair.rsplit('/').next().unwrap_or("").to_ascii_uppercase()
}

/// An instant in a time zone, to the minute, with the zone's abbreviation.
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_without_separators_or_exponents() {
        let cases = [
            ("100", Some("100")),
            ("99.50", Some("99.50")),
            ("-0.5", Some("-0.5")),
            ("1_000", None),
            (&format!("1{}", "_".repeat(10_000)), None),
            ("1e5", None),
            ("", None),
            (".", None),
            ("1.2.3", None),
            ("12 34", None),
        ];
        for (text, expected) in cases {
            let parsed = parse_decimal(text).ok().map(|d| d.to_string());
            assert_eq!(parsed.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(money(Decimal::new(1005, 1)), "100.50");
        assert_eq!(percent(Decimal::new(15, 3)), "1.50 %");
        assert_eq!(percent(Decimal::new(45, 3)), "4.50 %");
        assert_eq!(grouped("61234.50"), "61,234.50");
        assert_eq!(grouped("-1234567"), "-1,234,567");
        assert_eq!(btc(197_000), "0.00197000");
        assert_eq!(currency_of_pair("btc/chf"), "CHF");
        assert_eq!(short_id("64decab6-4129-4fe7"), "64decab6");
    }
}
