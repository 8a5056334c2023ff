//! The checks of an exchange's fields, as pure functions: each field as
//! Pocket documents it, and the documented arithmetic between the amounts.
//! A problem is a sentence, stored as a warning on the exchange.

use rust_decimal::Decimal;

use crate::pocket::{Currency, Exchange, MAX_FEE_RATE, MIN_FEE_RATE};

/// The fields of an exchange checked as Pocket documents them — a `txid` of
/// 64 hex digits, a pair in the order's currency, no negative amount, a fee
/// rate of 1.2 % to 4.5 %, bitcoin in whole satoshis — each problem as a
/// sentence. `currency` is the order's, when the order is known.
pub fn check_fields(exchange: &Exchange, currency: Option<Currency>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(txid) = exchange.payout.as_ref().and_then(|p| p.txid.as_deref())
        && !(txid.len() == 64 && txid.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        problems.push(format!("the payout txid `{txid}` is not 64 hex digits"));
    }
    if let (Some(pair), Some(currency)) = (&exchange.pair, currency)
        && !pair.eq_ignore_ascii_case(&format!("btc/{}", currency.as_str()))
    {
        problems.push(format!(
            "the pair `{pair}` is not btc/{} of the order's currency",
            currency.as_str()
        ));
    }
    for (name, value) in [
        ("cost", exchange.cost),
        ("fee", exchange.fee),
        ("rate", exchange.rate),
    ] {
        if let Some(v) = value.filter(|v| v.is_sign_negative() && !v.is_zero()) {
            problems.push(format!("the {name} {v} is negative"));
        }
    }
    if let Some(rate) = exchange.fee_rate
        && !(MIN_FEE_RATE..=MAX_FEE_RATE).contains(&rate)
    {
        problems.push(format!(
            "the fee rate {rate} is outside Pocket's 0.012 to 0.045"
        ));
    }
    let payout = exchange.payout.as_ref();
    for (name, value) in [
        ("amount", exchange.amount),
        ("payout amount", payout.and_then(|p| p.amount)),
        ("payout fee", payout.and_then(|p| p.fee)),
    ] {
        match value.and_then(|v| v.written().map(|w| (v, w))) {
            Some((_, written)) if written.is_sign_negative() => {
                problems.push(format!("the {name} {written} BTC is negative; read as 0"));
            }
            Some((v, written)) => problems.push(format!(
                "the {name} {written} BTC has more than 8 decimals; rounded to {} sat",
                v.to_sat()
            )),
            None => {}
        }
    }
    problems
}

/// Whether `a` and `b` differ by at most `by` (not when the difference is
/// out of range).
fn within(a: Decimal, b: Decimal, by: Decimal) -> bool {
    a.checked_sub(b).is_some_and(|d| d.abs() <= by)
}

/// The amount checks of an exchange, with its own fee rate: each mismatch
/// as a sentence.
pub fn check_amounts(exchange: &Exchange) -> Vec<String> {
    let mut warnings = Vec::new();
    let cent = Decimal::new(1, 2);
    if let (Some(cost), Some(fee), Some(fee_rate)) =
        (exchange.cost, exchange.fee, exchange.fee_rate)
    {
        // Numbers too large to multiply are no amounts either.
        match cost.checked_mul(fee_rate) {
            Some(expected) if within(expected, fee, cent) => {}
            Some(expected) => warnings.push(format!(
                "fee {fee} is not cost × fee rate ({cost} × {fee_rate} = {})",
                expected.normalize()
            )),
            None => warnings.push(format!(
                "cost × fee rate ({cost} × {fee_rate}) is out of range"
            )),
        }
    }
    if let (Some(cost), Some(fee), Some(rate), Some(amount)) =
        (exchange.cost, exchange.fee, exchange.rate, exchange.amount)
    {
        let value = amount
            .to_decimal()
            .checked_mul(rate)
            .and_then(|v| v.checked_add(fee));
        let one_sat = rate / Decimal::from(100_000_000u64);
        match value {
            Some(value) if within(value, cost, cent + one_sat) => {}
            Some(value) => warnings.push(format!(
                "amount × rate + fee is {}, not the cost {cost}",
                value.round_dp(2)
            )),
            None => warnings.push(format!("amount × rate + fee is out of range (rate {rate})")),
        }
    }
    if let (Some(amount), Some(payout)) = (exchange.amount, &exchange.payout)
        && let (Some(paid), Some(fee)) = (payout.amount, payout.fee)
        && paid.to_sat().checked_add(fee.to_sat()) != Some(amount.to_sat())
    {
        warnings.push(format!(
            "payout {} sat + network fee {} sat is not the amount bought, {} sat",
            paid.to_sat(),
            fee.to_sat(),
            amount.to_sat()
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pocket::Btc;

    #[test]
    fn fields_are_checked_as_pocket_documents_them() {
        let base: Exchange = serde_json::from_str(
            r#"{"id": "e", "pair": "btc/eur", "fee_rate": 0.015, "cost": 100.00, "amount": 0.00197,
                "payout": {"txid": "c01c7a0fd270aa3876119098c0e2d51687a795efab99787e214d8a93ab9f8342"}}"#,
        )
        .unwrap();
        assert!(check_fields(&base, Some(Currency::Eur)).is_empty());
        let cases: &[(&str, &str, &str)] = &[
            (
                "a txid that is not hex",
                r#""payout": {"txid": "not-a-txid"}"#,
                "64 hex digits",
            ),
            ("another currency's pair", r#""pair": "btc/usd""#, "btc/eur"),
            ("a negative cost", r#""cost": -100.00"#, "negative"),
            (
                "a fee rate out of range",
                r#""fee_rate": 0.5"#,
                "0.012 to 0.045",
            ),
            (
                "nine decimals",
                r#""amount": 0.001970001"#,
                "rounded to 197000 sat",
            ),
            (
                "a negative payout",
                r#""payout": {"amount": -0.001}"#,
                "negative; read as 0",
            ),
        ];
        for (what, field, expected) in cases {
            let mut value = serde_json::to_value(&base).unwrap();
            let patch: serde_json::Value = serde_json::from_str(&format!("{{{field}}}")).unwrap();
            for (k, v) in patch.as_object().unwrap() {
                value[k] = v.clone();
            }
            let e: Exchange = serde_json::from_value(value).unwrap();
            let problems = check_fields(&e, Some(Currency::Eur));
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{what}: {problems:?}"
            );
        }
    }

    #[test]
    fn documented_example_amounts_add_up() {
        let e: Exchange = serde_json::from_str(
            r#"{"id": "a", "fee_rate": 0.015, "cost": 100.00, "amount": 0.00197000, "rate": 50000.00, "fee": 1.50,
                "payout": {"fee": 0.00000190, "amount": 0.0019681}}"#,
        )
        .unwrap();
        assert!(check_amounts(&e).is_empty(), "{:?}", check_amounts(&e));
        let mut wrong = e.clone();
        wrong.payout.as_mut().unwrap().amount = Some(Btc::from_sat(196_000));
        wrong.fee = Some("2.50".parse().unwrap());
        assert_eq!(check_amounts(&wrong).len(), 3);
    }
}
