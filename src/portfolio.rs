//! What the purchases came to, per order and in total: bitcoin bought and
//! received, fiat spent, fees, average price, and the series the charts
//! draw. Pure arithmetic over the stored exchanges; the dashboard and the
//! exports show the same numbers.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::format::btc_decimal;
use crate::orders::model::StoredOrder;
use crate::pocket::Currency;
use crate::reconcile::State;
use crate::store::{self, ExchangeFilter, ExchangeRow, Store};

/// Whether an exchange bought bitcoin (executed, settled or confirmed).
pub fn is_purchase(row: &ExchangeRow) -> bool {
    matches!(
        row.state,
        State::Executed | State::Settled | State::Confirmed
    )
}

/// The numbers of one order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderStats {
    pub purchases: usize,
    /// Fiat paid for the purchases, Pocket's fee included.
    pub fiat_spent: Decimal,
    /// Pocket's fees, in fiat.
    pub fees_paid: Decimal,
    /// Bitcoin bought (before the network fee of the payout).
    pub bought_sat: u64,
    /// Bitcoin paid out to the wallet.
    pub received_sat: u64,
    /// Network fees deducted from payouts.
    pub network_fees_sat: u64,
    /// Bought, not paid out yet.
    pub pending_sat: u64,
    /// Fiat spent per bitcoin bought, fees included.
    pub average_price: Option<Decimal>,
    pub last_exchange: Option<DateTime<Utc>>,
}

/// Fiat per bitcoin: `fiat / (sats / 10^8)`, to the cent.
pub fn price(fiat: Decimal, sats: u64) -> Option<Decimal> {
    if sats == 0 {
        return None;
    }
    Some((fiat / btc_decimal(sats)).round_dp(2))
}

/// The rate of purchases paid together: Pocket's `rate` as it reported it
/// when there is one purchase, or when every purchase has the same rate;
/// else the average, `(cost − fees) / bitcoin`.
pub fn rate_of(rows: &[&ExchangeRow]) -> Option<Decimal> {
    let rates: Vec<Decimal> = rows.iter().filter_map(|r| r.rate).collect();
    match rates.as_slice() {
        [] => None,
        [first, rest @ ..] if rest.iter().all(|r| r == first) && rates.len() == rows.len() => {
            Some(*first)
        }
        _ => {
            let cost: Decimal = rows.iter().filter_map(|r| r.cost).sum();
            let fees: Decimal = rows.iter().filter_map(|r| r.fee).sum();
            let sats: u64 = rows.iter().filter_map(|r| r.amount_sat).sum();
            price(cost - fees, sats)
        }
    }
}

/// Sums the exchanges of one order.
pub fn stats(rows: &[ExchangeRow]) -> OrderStats {
    let purchases: Vec<&ExchangeRow> = rows.iter().filter(|r| is_purchase(r)).collect();
    let fiat_spent: Decimal = purchases.iter().filter_map(|r| r.cost).sum();
    let bought_sat: u64 = purchases.iter().filter_map(|r| r.amount_sat).sum();
    let received_sat: u64 = purchases
        .iter()
        .filter_map(|r| r.payout.as_ref().and_then(|p| p.amount_sat))
        .sum();
    let network_fees_sat: u64 = purchases
        .iter()
        .filter_map(|r| r.payout.as_ref().and_then(|p| p.fee_sat))
        .sum();
    let pending_sat: u64 = purchases
        .iter()
        .filter(|r| r.payout.is_none())
        .filter_map(|r| r.amount_sat)
        .sum();
    OrderStats {
        purchases: purchases.len(),
        fiat_spent,
        fees_paid: purchases.iter().filter_map(|r| r.fee).sum(),
        bought_sat,
        received_sat,
        network_fees_sat,
        pending_sat,
        average_price: price(fiat_spent, bought_sat),
        last_exchange: rows
            .iter()
            .map(|r| r.executed_on.unwrap_or(r.first_seen_at))
            .max(),
    }
}

/// An order and its numbers.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub order: StoredOrder,
    pub stats: OrderStats,
    pub exchanges: Vec<ExchangeRow>,
}

/// Totals in one currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub fiat_spent: Decimal,
    pub fees_paid: Decimal,
    pub bought_sat: u64,
    pub average_price: Option<Decimal>,
}

/// Every order with its numbers, and the totals (fiat per currency).
#[derive(Debug, Clone)]
pub struct Portfolio {
    pub orders: Vec<OrderSummary>,
    pub received_sat: u64,
    pub bought_sat: u64,
    pub pending_sat: u64,
    pub by_currency: Vec<CurrencyTotal>,
}

pub fn portfolio(store: &Store) -> Result<Portfolio, store::Error> {
    let mut orders = Vec::new();
    for order in store.orders()? {
        let exchanges = store.exchanges(&ExchangeFilter {
            order_id: Some(order.id.clone()),
            state: None,
        })?;
        orders.push(OrderSummary {
            stats: stats(&exchanges),
            order,
            exchanges,
        });
    }
    let mut by_currency: Vec<CurrencyTotal> = Vec::new();
    for summary in &orders {
        let s = &summary.stats;
        match by_currency
            .iter_mut()
            .find(|t| t.currency == summary.order.currency)
        {
            Some(t) => {
                t.fiat_spent += s.fiat_spent;
                t.fees_paid += s.fees_paid;
                t.bought_sat += s.bought_sat;
            }
            None => by_currency.push(CurrencyTotal {
                currency: summary.order.currency,
                fiat_spent: s.fiat_spent,
                fees_paid: s.fees_paid,
                bought_sat: s.bought_sat,
                average_price: None,
            }),
        }
    }
    for t in &mut by_currency {
        t.average_price = price(t.fiat_spent, t.bought_sat);
    }
    Ok(Portfolio {
        received_sat: orders.iter().map(|o| o.stats.received_sat).sum(),
        bought_sat: orders.iter().map(|o| o.stats.bought_sat).sum(),
        pending_sat: orders.iter().map(|o| o.stats.pending_sat).sum(),
        by_currency,
        orders,
    })
}

/// A point of the accumulation chart: bitcoin bought up to a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulated {
    pub at: DateTime<Utc>,
    pub total_sat: u64,
}

/// Bitcoin bought over time, across the given exchanges, by execution time.
pub fn accumulation<'a>(rows: impl IntoIterator<Item = &'a ExchangeRow>) -> Vec<Accumulated> {
    let mut purchases: Vec<&ExchangeRow> = rows
        .into_iter()
        .filter(|r| is_purchase(r) && r.executed_on.is_some())
        .collect();
    purchases.sort_by_key(|r| r.executed_on);
    let mut total = 0;
    purchases
        .into_iter()
        .map(|r| {
            total += r.amount_sat.unwrap_or(0);
            Accumulated {
                at: r.executed_on.unwrap_or(r.first_seen_at),
                total_sat: total,
            }
        })
        .collect()
}

/// A point of the price chart: what one purchase paid per bitcoin (fees
/// included) against the running average cost so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    pub at: DateTime<Utc>,
    pub paid: Decimal,
    pub average: Decimal,
}

/// The price series of one order's purchases.
pub fn prices(rows: &[ExchangeRow]) -> Vec<PricePoint> {
    let mut purchases: Vec<&ExchangeRow> = rows
        .iter()
        .filter(|r| is_purchase(r) && r.executed_on.is_some())
        .collect();
    purchases.sort_by_key(|r| r.executed_on);
    let (mut fiat, mut sats) = (Decimal::ZERO, 0u64);
    purchases
        .into_iter()
        .filter_map(|r| {
            let (cost, amount) = (r.cost?, r.amount_sat?);
            fiat += cost;
            sats += amount;
            Some(PricePoint {
                at: r.executed_on.unwrap_or(r.first_seen_at),
                paid: price(cost, amount)?,
                average: price(fiat, sats)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(day: &str) -> DateTime<Utc> {
        format!("{day}T12:00:00Z").parse().unwrap()
    }

    fn row(state: State, cost: &str, fee: &str, sats: u64, at: &str) -> ExchangeRow {
        ExchangeRow {
            id: at.into(),
            order_id: Some("o".into()),
            known_order: true,
            state,
            pair: Some("btc/eur".into()),
            fee_rate: None,
            cost: Some(cost.parse().unwrap()),
            fee: Some(fee.parse().unwrap()),
            rate: None,
            amount_sat: Some(sats),
            executed_on: Some(time(at)),
            action_code: None,
            action_url: None,
            action_id: None,
            reason_code: None,
            payout: None,
            address_index: None,
            reconciliation: "pending".into(),
            warnings: vec![],
            json: String::new(),
            last_event: None,
            first_seen_at: time(at),
            updated_at: time(at),
        }
    }

    #[test]
    fn the_rate_is_pockets_unless_purchases_differ() {
        let with_rate = |rate: Option<&str>, cost: &str, fee: &str, sats: u64| ExchangeRow {
            rate: rate.map(|r| r.parse().unwrap()),
            ..row(State::Settled, cost, fee, sats, "2026-11-25")
        };
        let a = with_rate(Some("61234.57"), "100", "1.50", 160_857);
        let b = with_rate(Some("61234.57"), "50", "0.75", 80_428);
        let c = with_rate(Some("50000.00"), "100", "1.50", 197_000);
        let unrated = with_rate(None, "100", "1.50", 197_000);
        let cases: [(&str, Vec<&ExchangeRow>, Option<&str>); 5] = [
            ("one purchase: as reported", vec![&a], Some("61234.57")),
            (
                "same rate twice: as reported",
                vec![&a, &b],
                Some("61234.57"),
            ),
            (
                "different rates: the average",
                vec![&a, &c],
                Some("55049.92"),
            ),
            (
                "one without a rate: the average",
                vec![&a, &unrated],
                Some("55049.92"),
            ),
            ("none", vec![], None),
        ];
        for (what, rows, expected) in cases {
            let got = rate_of(&rows).map(|r| r.to_string());
            assert_eq!(got.as_deref(), expected, "{what}");
        }
    }
    #[test]
    fn refunds_and_interruptions_are_not_purchases() {
        let rows = vec![
            row(State::Executed, "100.00", "1.50", 197_000, "2026-01-01"),
            row(State::Refunded, "100.00", "0", 0, "2026-01-02"),
            row(State::Executed, "100.00", "1.50", 98_500, "2026-02-01"),
        ];
        let s = stats(&rows);
        assert_eq!(s.purchases, 2);
        assert_eq!(s.fiat_spent.to_string(), "200.00");
        assert_eq!(s.fees_paid.to_string(), "3.00");
        assert_eq!(s.bought_sat, 295_500);
        assert_eq!(s.average_price.unwrap().to_string(), "67681.90");
        let p = prices(&rows);
        assert_eq!(p[1].paid.to_string(), "101522.84");
        assert_eq!(p[1].average, s.average_price.unwrap());
        assert_eq!(accumulation(&rows).last().unwrap().total_sat, 295_500);
    }
}
