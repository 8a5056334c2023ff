//! The dashboard's one error type: what went wrong, as an HTTP status and a
//! page. A missing thing is a 404, a bad request a 400, a refused one a 403;
//! anything else is a 500 whose page is generic while the cause goes to the
//! log.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::{export, reconcile, store};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("Not found: {0}")]
    NotFound(String),
    #[error("Bad request: {0}")]
    BadRequest(String),
    #[error("Forbidden: {0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Internal(String),
}

impl From<store::Error> for WebError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NoSuchOrder { id } => WebError::NotFound(format!("order {id}")),
            store::Error::AmbiguousOrder { prefix, .. } => {
                WebError::BadRequest(format!("`{prefix}` matches several orders"))
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<reconcile::Error> for WebError {
    fn from(e: reconcile::Error) -> Self {
        match e {
            reconcile::Error::Store(e) => e.into(),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<export::Error> for WebError {
    fn from(e: export::Error) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("cannot render the page: {e}"))
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    status: StatusCode,
    message: String,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            WebError::Internal(cause) => {
                tracing::error!(%cause, "dashboard error");
                "Something went wrong; the log says what.".to_string()
            }
            shown => shown.to_string(),
        };
        let page = ErrorPage { status, message };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        }
    }
}
