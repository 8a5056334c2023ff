//! `/webhooks`: the newest webhook deliveries and what came of each.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono_tz::Tz;

use crate::format::local;
use crate::store::DeliveryRow;
use crate::web::auth::Session;
use crate::web::error::WebError;
use crate::web::state::{PageInfo, Shared};

/// How many deliveries the page lists.
const SHOWN: usize = 200;

struct DeliveryView {
    id: i64,
    received_at: String,
    status: String,
    event: String,
    exchange: String,
    correlation: String,
    retry: String,
    result: String,
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct WebhooksPage {
    page: PageInfo,
    deliveries: Vec<DeliveryView>,
    total: i64,
}

fn delivery_view(d: DeliveryRow, tz: Tz) -> DeliveryView {
    DeliveryView {
        id: d.id,
        received_at: local(d.received_at, tz),
        status: d.status,
        event: d.event.unwrap_or_default(),
        exchange: d
            .exchange_id
            .as_ref()
            .map(|e| e.short().to_string())
            .unwrap_or_default(),
        correlation: d.correlation_id.unwrap_or_default(),
        retry: d.retry_count.map(|r| r.to_string()).unwrap_or_default(),
        result: d.result.unwrap_or_default(),
    }
}

pub async fn deliveries(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
) -> Result<Response, WebError> {
    let store = state.store();
    let page = WebhooksPage {
        page: state.page("webhooks", &session, &store)?,
        total: store.delivery_count()?,
        deliveries: store
            .deliveries(Some(SHOWN))?
            .into_iter()
            .map(|d| delivery_view(d, state.tz()))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}
