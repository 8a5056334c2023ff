//! The wording of the alerts that reconciliation raises: what happened, to
//! which order and exchange, and what the user can do.

use super::matching::Headroom;
use super::rules::State;
use crate::alerts::{AlertKind, NewAlert};
use crate::format::currency_of_pair;
use crate::orders::model::StoredOrder;
use crate::pocket::codes::{action_meaning, refund_meaning};
use crate::pocket::{Exchange, ExchangeId, OrderId};
use crate::wallet::KeyPath;

fn about(
    kind: AlertKind,
    order_id: Option<&OrderId>,
    exchange_id: &ExchangeId,
    message: String,
) -> NewAlert {
    NewAlert {
        kind,
        order_id: order_id.cloned(),
        exchange_id: Some(exchange_id.clone()),
        message,
        subject: exchange_id.to_string(),
    }
}

/// A short name of the exchange's order: its label, else the start of its id.
pub(super) fn order_name(exchange: &Exchange, order: Option<&StoredOrder>) -> String {
    order.map(StoredOrder::name).unwrap_or_else(|| {
        exchange
            .order_id
            .as_ref()
            .map(|id| id.short().to_string())
            .unwrap_or_else(|| "?".into())
    })
}

/// A refund reported for an exchange already paid out.
pub(super) fn refund_after_settlement(exchange: &Exchange, stored: State) -> NewAlert {
    let reason = exchange
        .reason
        .as_ref()
        .map_or("no reason", |r| r.code.as_str());
    about(
        AlertKind::RefundAfterSettlement,
        exchange.order_id.as_ref(),
        &exchange.id,
        format!(
            "Pocket reports exchange {} as refunded ({reason}), but it was already {stored}; the stored payout is kept. Check the exchange in the Pocket app.",
            exchange.id.short(),
        ),
    )
}

/// What the user must act on when an exchange is interrupted or refunded.
pub(super) fn state_alert(exchange: &Exchange, state: State, name: &str) -> Option<NewAlert> {
    let amount = match (exchange.cost, &exchange.pair) {
        (Some(cost), Some(pair)) => format!(" of {} {cost}", currency_of_pair(pair)),
        _ => String::new(),
    };
    let (kind, message) = match state {
        State::Interrupted => {
            let action = exchange.action.clone().unwrap_or_default();
            let what =
                action_meaning(&action.code).unwrap_or("Pocket needs you to act before it buys");
            let how = match (&action.url, &action.identification_id) {
                (Some(url), _) => format!(" Open {url}."),
                (None, Some(id)) => format!(" Identification id: {id}."),
                _ => String::new(),
            };
            let code = &action.code;
            (
                AlertKind::Interrupted,
                format!("Order {name}: the purchase{amount} is on hold ({code}): {what}.{how}"),
            )
        }
        State::Refunded => {
            let code = exchange
                .reason
                .as_ref()
                .map(|r| r.code.clone())
                .unwrap_or_default();
            let why = refund_meaning(&code).unwrap_or("Pocket gave no reason it knows");
            (
                AlertKind::Refunded,
                format!("Order {name}: the payment{amount} was refunded ({code}): {why}."),
            )
        }
        _ => return None,
    };
    Some(about(
        kind,
        exchange.order_id.as_ref(),
        &exchange.id,
        message,
    ))
}

/// An exchange whose order this database does not know.
pub(super) fn unknown_order(exchange: &Exchange, name: &str) -> NewAlert {
    about(
        AlertKind::UnknownOrder,
        exchange.order_id.as_ref(),
        &exchange.id,
        format!(
            "Exchange {} belongs to order {name}, which is not in this database; it is stored and flagged. If it is yours, run `pocket-dca order import {}` with its key.",
            exchange.id.short(),
            exchange.order_id.as_deref().unwrap_or("ID")
        ),
    )
}

/// A payout to the order's chain beyond the expected window.
pub(super) fn outside_window(
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    address: &str,
    index: u32,
) -> NewAlert {
    about(
        AlertKind::OutsideWindow,
        Some(&order.id),
        exchange_id,
        format!(
            "Order {}: exchange {} was paid to {address}, your address at index {index}, outside the expected window. A wallet that scans fewer addresses may not show it; raise the wallet's gap limit if it is missing.",
            order.name(),
            exchange_id.short()
        ),
    )
}

/// A payout to an address an earlier output already paid.
pub(super) fn address_reuse(
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    address: &str,
    index: u32,
    previous: &str,
) -> NewAlert {
    about(
        AlertKind::AddressReuse,
        Some(&order.id),
        exchange_id,
        format!(
            "Order {}: exchange {} was paid to {address} (index {index}), which output {previous} already paid to: address reuse harms your privacy. Ask Pocket why it did not use a fresh address.",
            order.name(),
            exchange_id.short()
        ),
    )
}

/// A payout to an address of another order.
pub(super) fn other_order(
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    address: &str,
    owner: &OrderId,
    index: u32,
) -> NewAlert {
    about(
        AlertKind::OtherOrderAddress,
        Some(&order.id),
        exchange_id,
        format!(
            "Order {}: exchange {} was paid to {address}, an address of order {} (index {index}). The coins are yours, but the two orders now share addresses.",
            order.name(),
            exchange_id.short(),
            owner.short()
        ),
    )
}

/// A payout to an address the order's key does not derive.
pub(super) fn foreign(
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    address: &str,
    searched: u32,
) -> NewAlert {
    about(
        AlertKind::ForeignAddress,
        Some(&order.id),
        exchange_id,
        format!(
            "Order {}: exchange {} was paid to {address}, which your key does not derive (searched {searched} addresses of chain {}): the coins went to an address that is not yours. Contact Pocket now with the exchange id {exchange_id}.",
            order.name(),
            exchange_id.short(),
            KeyPath::format_chain(&order.chain),
        ),
    )
}

/// The gap between payouts nears the wallet's gap limit.
pub(super) fn gap_headroom(order: &StoredOrder, h: &Headroom) -> NewAlert {
    NewAlert {
        kind: AlertKind::GapHeadroom,
        order_id: Some(order.id.clone()),
        exchange_id: None,
        message: format!(
            "Order {}: {} unused addresses lie between payouts, close to your wallet's gap limit of {}; the wallet may stop finding later payouts. Raise the gap limit — Sparrow: Settings → Advanced → Gap limit; Electrum: Console → wallet.change_gap_limit(100) — then `pocket-dca order set {} --wallet-gap-limit 100`.",
            order.name(),
            h.longest_gap,
            h.wallet_gap_limit,
            order.id.short()
        ),
        subject: format!("{}:{}:{}", order.id, h.wallet_gap_limit, h.longest_gap),
    }
}

/// Fields of an exchange that are not as Pocket documents them.
pub(super) fn exchange_fields(exchange: &Exchange, problems: &[String]) -> NewAlert {
    about(
        AlertKind::ExchangeFields,
        exchange.order_id.as_ref(),
        &exchange.id,
        format!(
            "Exchange {} is not as Pocket documents it: {}. It is stored with these warnings; check it in the Pocket app.",
            exchange.id.short(),
            problems.join("; ")
        ),
    )
}

/// A payout for an exchange stored as refunded.
pub(super) fn payout_after_refund(exchange: &Exchange, name: &str) -> NewAlert {
    about(
        AlertKind::PayoutAfterRefund,
        exchange.order_id.as_ref(),
        &exchange.id,
        format!(
            "Order {name}: Pocket reported exchange {} as refunded, and now reports a payout for it. The payout is applied and checked; look in the Pocket app whether the money was refunded as well.",
            exchange.id.short()
        ),
    )
}

/// A settled exchange whose payout names another output.
pub(super) fn payout_changed(exchange: &Exchange, name: &str) -> NewAlert {
    let payout = exchange.payout.as_ref();
    let output = payout
        .map(|p| {
            format!(
                "{}:{} to {}",
                p.txid.as_deref().unwrap_or("?"),
                p.outpoint.unwrap_or(0),
                p.bitcoin_address.as_deref().unwrap_or("?")
            )
        })
        .unwrap_or_default();
    NewAlert {
        subject: format!("{}:{output}", exchange.id),
        ..about(
            AlertKind::PayoutChanged,
            exchange.order_id.as_ref(),
            &exchange.id,
            format!(
                "Order {name}: the payout transaction of exchange {} changed; it is now {output} (a replaced transaction, or Pocket's correction). The old match is undone and the new payout checked.",
                exchange.id.short()
            ),
        )
    }
}

/// What to do for an executed exchange of a lightning order.
pub(super) fn lightning_payout(order: &StoredOrder, exchange: &Exchange) -> NewAlert {
    let sats = exchange.amount.map(|a| a.to_sat()).unwrap_or_default();
    about(
        AlertKind::LightningPayout,
        Some(&order.id),
        &exchange.id,
        format!(
            "Order {}: exchange {} bought {sats} sat, paid out over lightning once you ask: make an invoice of {sats} sat on your node {} and run `pocket-dca exchange payout {} --invoice LNBC…` (or `--channel` to open a channel).",
            order.name(),
            exchange.id.short(),
            order.node_pubkey.as_deref().unwrap_or("?"),
            exchange.id
        ),
    )
}

/// A payout to the order's key, but not where Pocket should pay.
pub(super) fn payout_elsewhere(
    order: &StoredOrder,
    exchange_id: &ExchangeId,
    address: &str,
    place: &str,
) -> NewAlert {
    about(
        AlertKind::PayoutElsewhere,
        Some(&order.id),
        exchange_id,
        format!(
            "Order {}: exchange {} was paid to {address}, {place}. The coins are yours, but not where your wallet looks for Pocket's payouts: make sure your wallet shows that address.",
            order.name(),
            exchange_id.short()
        ),
    )
}
