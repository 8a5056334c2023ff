//! `/`: the totals, open alerts, bitcoin accumulated, and a card per order.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono_tz::Tz;

use super::views::{AlertView, alert_view, average, next_reminder};
use crate::format::{btc, grouped, local, money};
use crate::portfolio::{self, OrderSummary, Portfolio};
use crate::store::{ExchangeRow, Store};
use crate::web::auth::Session;
use crate::web::charts;
use crate::web::error::WebError;
use crate::web::state::{DashboardState, PageInfo, Shared};

struct CurrencyView {
    code: &'static str,
    spent: String,
    fees: String,
    average: String,
}

struct TotalsView {
    received_btc: String,
    received_sats: String,
    pending_sats: String,
    currencies: Vec<CurrencyView>,
}

struct CardView {
    id: String,
    name: String,
    state: &'static str,
    currency: &'static str,
    amount: String,
    day: String,
    next_reminder: String,
    received_btc: String,
    spent: String,
    purchases: usize,
    fees: String,
    average: String,
    last_exchange: String,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    page: PageInfo,
    /// `[server] dashboard_note`.
    note: Option<String>,
    alerts: Vec<AlertView>,
    totals: TotalsView,
    chart: String,
    cards: Vec<CardView>,
}

fn totals(portfolio: &Portfolio) -> TotalsView {
    TotalsView {
        received_btc: btc(portfolio.received_sat),
        received_sats: grouped(&portfolio.received_sat.to_string()),
        pending_sats: grouped(&portfolio.pending_sat.to_string()),
        currencies: portfolio
            .by_currency
            .iter()
            .map(|c| CurrencyView {
                code: c.currency.code(),
                spent: grouped(&money(c.fiat_spent)),
                fees: grouped(&money(c.fees_paid)),
                average: c
                    .average_price
                    .map(|p| format!("{}/BTC", grouped(&money(p))))
                    .unwrap_or_else(|| "–".into()),
            })
            .collect(),
    }
}

fn card(o: &OrderSummary, store: &Store, state: &DashboardState, tz: Tz) -> CardView {
    CardView {
        id: o.order.id.to_string(),
        name: o.order.name(),
        state: if o.order.active { "active" } else { "paused" },
        currency: o.order.currency.code(),
        amount: money(o.order.amount),
        day: o.order.day.to_string(),
        next_reminder: next_reminder(store, &o.order, &state.settings),
        received_btc: btc(o.stats.received_sat),
        spent: grouped(&money(o.stats.fiat_spent)),
        purchases: o.stats.purchases,
        fees: grouped(&money(o.stats.fees_paid)),
        average: average(&o.stats, o.order.currency.code()),
        last_exchange: o
            .stats
            .last_exchange
            .map(|t| local(t, tz))
            .unwrap_or_else(|| "none yet".into()),
    }
}

pub async fn overview(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
) -> Result<Response, WebError> {
    let store = state.store();
    let tz = state.tz();
    let portfolio = portfolio::portfolio(&store)?;
    let all: Vec<&ExchangeRow> = portfolio
        .orders
        .iter()
        .flat_map(|o| o.exchanges.iter())
        .collect();
    let page = OverviewPage {
        page: state.page("overview", &session, &store)?,
        note: state.note.clone(),
        alerts: store
            .alerts(false)?
            .into_iter()
            .map(|a| alert_view(a, tz))
            .collect(),
        totals: totals(&portfolio),
        chart: charts::accumulation(&portfolio::accumulation(all)),
        cards: portfolio
            .orders
            .iter()
            .map(|o| card(o, &store, &state, tz))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}
