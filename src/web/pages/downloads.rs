//! The downloads: exchanges as CSV (all, or one order's) and wallet labels
//! as BIP-329 JSON lines.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::export;
use crate::pocket::OrderId;
use crate::web::error::WebError;
use crate::web::state::Shared;

#[derive(serde::Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    order: String,
}

fn attachment(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn csv(
    State(state): State<Shared>,
    Query(query): Query<CsvQuery>,
) -> Result<Response, WebError> {
    let store = state.store();
    let order = Some(OrderId::from(query.order)).filter(|o| !o.is_empty());
    if let Some(id) = &order
        && store.order(id)?.is_none()
    {
        return Err(WebError::NotFound(format!("order {}", id.short())));
    }
    let mut body = Vec::new();
    export::csv(&store, order.as_ref(), &mut body)?;
    Ok(attachment(
        body,
        "text/csv; charset=utf-8",
        "pocket-dca-exchanges.csv",
    ))
}

pub async fn labels(State(state): State<Shared>) -> Result<Response, WebError> {
    let store = state.store();
    let mut body = Vec::new();
    export::write_labels(&export::labels(&store)?, &mut body)?;
    Ok(attachment(
        body,
        "application/jsonl; charset=utf-8",
        "pocket-dca-labels.jsonl",
    ))
}
