//! `/orders/{id}`: one order — its plan, payout key, results, payment
//! instructions with the QR code, the price chart, the address window and
//! its exchanges.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};

use super::views::{
    Clip, ExchangeView, average, exchange_view, next_reminder, onchain_by_exchange, order_names,
};
use crate::format::{btc, grouped, local, money, percent};
use crate::orders::instructions::{self, Instructions};
use crate::orders::model::StoredOrder;
use crate::payment::{Iban, QrImage};
use crate::pocket::OrderId;
use crate::portfolio::{self, OrderStats};
use crate::reconcile::{self, Headroom};
use crate::store::{ExchangeFilter, Store};
use crate::wallet::network_name;
use crate::web::auth::Session;
use crate::web::charts;
use crate::web::error::WebError;
use crate::web::state::{DashboardState, PageInfo, Shared};

struct OrderDetail {
    id: String,
    name: String,
    state: &'static str,
    currency: &'static str,
    amount: String,
    day: String,
    fee_rate: String,
    next_reminder: String,
    recipients: String,
    created_on: String,
    payout: String,
    network: &'static str,
    signed_address: String,
    path: String,
    node_pubkey: String,
    /// Payouts go to fresh addresses derived from a key.
    derives: bool,
    gap_limit: u32,
    wallet_gap_limit: u32,
    key: String,
}

struct PayView {
    creditor: String,
    iban: String,
    bic: String,
    debitor: String,
    reference: String,
    qr: Option<String>,
    code_name: &'static str,
}

struct StatsView {
    received_btc: String,
    bought_sats: String,
    purchases: usize,
    spent: String,
    fees: String,
    network_fees: String,
    average: String,
}

struct HeadroomView {
    text: String,
}

struct AddressView {
    index: u32,
    path: String,
    address: Clip,
    status: &'static str,
    exchanges: Vec<(String, String)>,
    sats: String,
    outputs: Vec<Clip>,
}

#[derive(Template)]
#[template(path = "dashboard/order.html")]
struct OrderPage {
    page: PageInfo,
    chain_confirmed: Option<String>,
    order: OrderDetail,
    pay: Option<PayView>,
    pay_error: String,
    stats: StatsView,
    headroom: HeadroomView,
    chart: String,
    addresses: Vec<AddressView>,
    exchanges: Vec<ExchangeView>,
}

/// The bitcoin of the order's payouts the chain confirmed, when a chain
/// server was ever asked.
fn chain_confirmed(
    rows: &[crate::store::ExchangeRow],
    onchain: &std::collections::HashMap<crate::pocket::ExchangeId, crate::store::OnchainRow>,
) -> Option<String> {
    let checked: Vec<_> = rows
        .iter()
        .filter_map(|e| Some((e.payout.as_ref()?, onchain.get(&e.id)?)))
        .filter(|(p, o)| o.txid == p.txid)
        .collect();
    if checked.is_empty() {
        return None;
    }
    let confirmed: u64 = checked
        .iter()
        .filter(|(_, o)| o.status == "confirmed")
        .filter_map(|(p, _)| p.amount_sat)
        .sum();
    Some(format!(
        "{} BTC confirmed on the chain ({} of {} payouts)",
        btc(confirmed),
        checked
            .iter()
            .filter(|(_, o)| o.status == "confirmed")
            .count(),
        checked.len()
    ))
}

fn detail(order: &StoredOrder, store: &Store, state: &DashboardState) -> OrderDetail {
    OrderDetail {
        id: order.id.to_string(),
        name: order.name(),
        state: if order.active { "active" } else { "paused" },
        currency: order.currency.code(),
        amount: money(order.amount),
        day: order.day.to_string(),
        fee_rate: percent(order.fee_rate),
        next_reminder: next_reminder(store, order, &state.settings),
        recipients: match (order.emails.is_empty(), state.default_recipients.is_empty()) {
            (false, _) => order.emails.join(", "),
            (true, false) => state.default_recipients.join(", "),
            (true, true) => "nobody: set [email] to, or `pocket-dca order set ID --email …`".into(),
        },
        created_on: local(order.created_on, state.tz()),
        payout: order.payout_description(),
        network: network_name(order.network),
        signed_address: order
            .signed_address
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        path: order
            .derivation_path()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        node_pubkey: order.node_pubkey.clone().unwrap_or_default(),
        derives: order.derives(),
        gap_limit: order.gap_limit,
        wallet_gap_limit: order.wallet_gap_limit,
        key: order.key.clone(),
    }
}

fn pay_view(info: &Instructions) -> Result<PayView, WebError> {
    let qr = match &info.code {
        Some(code) => Some(
            QrImage::new(code.payload(), code.is_swiss())
                .map_err(|e| WebError::Internal(e.to_string()))?
                .to_svg(220),
        ),
        None => None,
    };
    Ok(PayView {
        creditor: std::iter::once(info.creditor_name.clone())
            .chain(info.creditor_address.iter().cloned())
            .collect::<Vec<_>>()
            .join(", "),
        iban: info.iban.formatted(),
        bic: match (&info.bic, &info.bank) {
            (Some(bic), Some(bank)) => format!("{bic} ({bank})"),
            (Some(bic), None) => bic.clone(),
            _ => "–".into(),
        },
        debitor: Iban::parse(&info.debitor_iban)
            .map(|i| i.formatted())
            .unwrap_or(info.debitor_iban.clone()),
        reference: info.reference.formatted(),
        qr,
        code_name: info.code.as_ref().map_or("", |c| c.name()),
    })
}

fn stats_view(stats: &OrderStats, currency: &str) -> StatsView {
    StatsView {
        received_btc: btc(stats.received_sat),
        bought_sats: grouped(&stats.bought_sat.to_string()),
        purchases: stats.purchases,
        spent: grouped(&money(stats.fiat_spent)),
        fees: grouped(&money(stats.fees_paid)),
        network_fees: grouped(&stats.network_fees_sat.to_string()),
        average: average(stats, currency),
    }
}

fn headroom_view(h: &Headroom) -> HeadroomView {
    let skipped = match h.longest_gap {
        0 => "Pocket has skipped no address so far".to_string(),
        1 => "Pocket has skipped 1 address in a row at most".to_string(),
        n => format!("Pocket has skipped {n} addresses in a row at most"),
    };
    HeadroomView {
        text: format!(
            "{skipped}; your wallet looks {} ahead: {} to spare{}",
            h.wallet_gap_limit,
            h.remaining.max(0),
            if h.is_tight() {
                ". Raise the wallet's gap limit (Sparrow: Settings → Advanced → Gap limit; Electrum: `wallet.change_gap_limit(…)` in the console)"
            } else {
                "."
            }
        ),
    }
}

fn address_views(store: &Store, order_id: &OrderId) -> Result<Vec<AddressView>, WebError> {
    Ok(reconcile::window::addresses(store, order_id)?
        .into_iter()
        .map(|a| AddressView {
            index: a.index,
            path: a.path.to_string(),
            address: Clip::new(&a.address.to_string()),
            status: a.status,
            exchanges: a
                .exchange_ids
                .iter()
                .map(|id| (id.to_string(), id.short().to_string()))
                .collect(),
            sats: if a.received_sat > 0 {
                grouped(&a.received_sat.to_string())
            } else {
                String::new()
            },
            outputs: a.outputs.iter().map(|o| Clip::new(o)).collect(),
        })
        .collect())
}

pub async fn order(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let store = state.store();
    let id = OrderId::from(id);
    let order = store
        .order(&id)?
        .ok_or_else(|| WebError::NotFound(format!("order {}", id.short())))?;
    let rows = store.exchanges(&ExchangeFilter {
        order_id: Some(order.id.clone()),
        state: None,
    })?;
    let currency = order.currency.code();
    let (pay, pay_error) = match instructions::for_order(&order, order.amount, "Bitcoin DCA") {
        Ok(info) => (Some(pay_view(&info)?), String::new()),
        Err(e) => (
            None,
            format!("The payment details from Pocket are not usable: {e}"),
        ),
    };
    let names = order_names(&store)?;
    let onchain = onchain_by_exchange(&store)?;
    let page = OrderPage {
        page: state.page("order", &session, &store)?,
        chain_confirmed: chain_confirmed(&rows, &onchain),
        order: detail(&order, &store, &state),
        pay,
        pay_error,
        stats: stats_view(&portfolio::stats(&rows), currency),
        headroom: headroom_view(&reconcile::headroom(&store, &order)?),
        chart: charts::prices(&portfolio::prices(&rows), currency),
        addresses: address_views(&store, &order.id)?,
        exchanges: rows
            .iter()
            .map(|e| exchange_view(e, &names, onchain.get(&e.id), state.tz()))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}
