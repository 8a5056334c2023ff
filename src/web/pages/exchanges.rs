//! `/exchanges`: every exchange, newest first, filtered by order and state.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};

use super::views::{ExchangeView, exchange_view, onchain_by_exchange, order_names};
use crate::pocket::OrderId;
use crate::reconcile::State as ExchangeState;
use crate::store::ExchangeFilter;
use crate::web::auth::Session;
use crate::web::error::WebError;
use crate::web::state::{PageInfo, Shared};

#[derive(Template)]
#[template(path = "dashboard/exchanges.html")]
struct ExchangesPage {
    page: PageInfo,
    /// (id, name, selected)
    orders: Vec<(String, String, bool)>,
    /// (state, selected)
    states: Vec<(&'static str, bool)>,
    filter_order: String,
    exchanges: Vec<ExchangeView>,
}

#[derive(serde::Deserialize)]
pub struct ExchangeQuery {
    #[serde(default)]
    order: String,
    #[serde(default)]
    state: String,
}

pub async fn exchanges(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Query(query): Query<ExchangeQuery>,
) -> Result<Response, WebError> {
    let store = state.store();
    let names = order_names(&store)?;
    let filter = ExchangeFilter {
        order_id: Some(OrderId::from(query.order.as_str())).filter(|o| !o.is_empty()),
        state: query.state.parse::<ExchangeState>().ok(),
    };
    let rows = store.exchanges(&filter)?;
    let mut orders: Vec<(String, String, bool)> = names
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone(), *k == query.order.as_str()))
        .collect();
    orders.sort_by(|a, b| a.1.cmp(&b.1));
    let onchain = onchain_by_exchange(&store)?;
    let page = ExchangesPage {
        page: state.page("exchanges", &session, &store)?,
        orders,
        states: ExchangeState::ALL
            .into_iter()
            .map(|s| (s.as_str(), filter.state == Some(s)))
            .collect(),
        filter_order: query.order,
        exchanges: rows
            .iter()
            .rev()
            .map(|e| exchange_view(e, &names, onchain.get(&e.id), state.tz()))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}
