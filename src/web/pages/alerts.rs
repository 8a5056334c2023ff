//! `/alerts`: open alerts (or all), and acknowledging one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;

use super::views::{AlertView, alert_view};
use crate::web::auth::Session;
use crate::web::error::WebError;
use crate::web::state::{PageInfo, Shared};

#[derive(Template)]
#[template(path = "dashboard/alerts.html")]
struct AlertsPage {
    page: PageInfo,
    alerts: Vec<AlertView>,
    show_all: bool,
}

#[derive(serde::Deserialize)]
pub struct AlertsQuery {
    #[serde(default)]
    all: Option<String>,
}

pub async fn alerts(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Query(query): Query<AlertsQuery>,
) -> Result<Response, WebError> {
    let store = state.store();
    let show_all = query.all.is_some();
    let page = AlertsPage {
        page: state.page("alerts", &session, &store)?,
        alerts: store
            .alerts(show_all)?
            .into_iter()
            .map(|a| alert_view(a, state.tz()))
            .collect(),
        show_all,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn acknowledge(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.check_csrf(&state.auth, &form)?;
    if !state.store().acknowledge_alert(id, Utc::now())? {
        return Err(WebError::NotFound(format!("alert {id}")));
    }
    Ok(Redirect::to(&back(&headers)).into_response())
}

/// Back where the button was: the path of the `Referer` (same origin
/// only), else the alerts page.
fn back(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/alerts".into())
}
