//! The sandbox's arithmetic, as Pocket's examples show it: the fee is
//! `cost × fee_rate` in cents, the bitcoin `(cost − fee) / rate` rounded down
//! to satoshis; a payout batch pays one output per order once the network
//! fee is below 20 % of it, the fee shared among the exchanges it pays.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::pocket::{Btc, ExchangeId};

/// Fee and bitcoin amount of a purchase.
pub fn execute(cost: Decimal, fee_rate: Decimal, rate: Decimal) -> Result<(Decimal, Btc), String> {
    if rate <= Decimal::ZERO {
        return Err("the price must be positive".into());
    }
    let fee = (cost * fee_rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let btc = ((cost - fee) / rate).round_dp_with_strategy(8, RoundingStrategy::ToZero);
    Ok((fee, Btc::from_decimal(btc)?))
}

/// One exchange waiting for its payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub exchange_id: ExchangeId,
    pub amount: Btc,
}

/// An output of a payout batch: the exchanges it pays and each one's share
/// of the network fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOutput {
    pub shares: Vec<(ExchangeId, Btc, Btc)>,
    pub value: Btc,
}

/// Plans the output of one order: `None` while payout protection holds it
/// (the network fee is not below `protection` of the amount).
pub fn plan_output(
    pending: &[Pending],
    network_fee: Btc,
    protection: Decimal,
) -> Option<PlannedOutput> {
    let total: u64 = pending.iter().map(|p| p.amount.to_sat()).sum();
    if total == 0 {
        return None;
    }
    let fee = network_fee.to_sat();
    if Decimal::from(fee) >= Decimal::from(total) * protection {
        return None;
    }
    let mut shares = Vec::with_capacity(pending.len());
    let mut assigned = 0u64;
    for (i, p) in pending.iter().enumerate() {
        let share = if i + 1 == pending.len() {
            fee - assigned
        } else {
            // Proportional share, rounded down; the last takes the remainder.
            (u128::from(fee) * u128::from(p.amount.to_sat()) / u128::from(total)) as u64
        };
        assigned += share;
        shares.push((
            p.exchange_id.clone(),
            Btc::from_sat(share),
            Btc::from_sat(p.amount.to_sat() - share),
        ));
    }
    Some(PlannedOutput {
        value: Btc::from_sat(total - fee),
        shares,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn documented_example_arithmetic() {
        let (fee, amount) = execute(d("100.00"), d("0.015"), d("50000.00")).unwrap();
        assert_eq!(fee, d("1.50"));
        assert_eq!(amount.to_sat(), 197_000);
    }

    #[test]
    fn small_payouts_are_held_and_paid_together() {
        let fee = Btc::from_sat(190);
        let small = [Pending {
            exchange_id: "a".into(),
            amount: Btc::from_sat(900),
        }];
        assert_eq!(plan_output(&small, fee, d("0.2")), None);
        let two = [
            Pending {
                exchange_id: "a".into(),
                amount: Btc::from_sat(900),
            },
            Pending {
                exchange_id: "b".into(),
                amount: Btc::from_sat(1_000),
            },
        ];
        let out = plan_output(&two, fee, d("0.2")).unwrap();
        assert_eq!(out.value.to_sat(), 1_900 - 190);
        let fees: u64 = out.shares.iter().map(|s| s.1.to_sat()).sum();
        assert_eq!(fees, 190);
        for (i, (_, share, paid)) in out.shares.iter().enumerate() {
            assert_eq!(share.to_sat() + paid.to_sat(), two[i].amount.to_sat());
        }
    }
}
