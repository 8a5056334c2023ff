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

/// Back where the button was: the path of the `Referer` when it is a plain
/// path of this dashboard, else the alerts page.
fn back(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .filter(|p| same_site_path(p))
        .unwrap_or_else(|| "/alerts".into())
}

/// A path a browser cannot read as another site: one leading `/` (not
/// `//`, not `/\`, which browsers treat as `//`), then only the characters
/// of the dashboard's own paths and queries.
fn same_site_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~?=&%".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_of_the_dashboard_are_redirected_to() {
        let cases = [
            ("http://127.0.0.1:8471/", "/"),
            (
                "http://127.0.0.1:8471/orders/64decab6-4129?x=1",
                "/orders/64decab6-4129?x=1",
            ),
            ("http://127.0.0.1:8471/\\evil.example/x", "/alerts"),
            ("http://127.0.0.1:8471//evil.example/x", "/alerts"),
            ("http://127.0.0.1:8471/%0d%0aSet-Cookie:x", "/alerts"),
            ("http://127.0.0.1:8471/a\\b", "/alerts"),
            ("http://127.0.0.1:8471/a b", "/alerts"),
            ("no scheme", "/alerts"),
        ];
        for (referer, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::REFERER, referer.parse().unwrap());
            assert_eq!(back(&headers), expected, "{referer}");
        }
    }
}
