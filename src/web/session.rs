//! The session of every page, and the login and logout pages: the
//! middleware that finds (or, without a password, creates) a request's
//! session, the login form and its check, and logging out.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::auth::{Auth, Session};
use super::error::WebError;
use super::state::Shared;

fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Every page but the login, the stylesheet and health: a session, logged
/// in when a password is configured.
pub async fn session(State(auth): State<Arc<Auth>>, mut request: Request, next: Next) -> Response {
    let existing = Auth::cookie_session(request.headers())
        .and_then(|id| auth.lookup(&id).map(|authenticated| (id, authenticated)));
    let (id, new) = match existing {
        Some((id, true)) => (id, false),
        Some((_, false)) | None if auth.password_required() => {
            return if request.method() == axum::http::Method::GET {
                Redirect::to("/login").into_response()
            } else {
                (StatusCode::UNAUTHORIZED, "log in first\n").into_response()
            };
        }
        _ => (auth.create(true), true),
    };
    let csrf = auth.csrf(&id);
    request.extensions_mut().insert(Session {
        id: id.clone(),
        csrf,
    });
    let response = next.run(request).await;
    if new {
        with_cookie(response, &Auth::cookie(&id))
    } else {
        response
    }
}

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
}

/// The login form, with a fresh pre-login session for its CSRF token.
pub async fn login_form(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let auth = &state.auth;
    if !auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let existing = Auth::cookie_session(&headers).filter(|id| auth.lookup(id).is_some());
    let id = existing.clone().unwrap_or_else(|| auth.create(false));
    let page = LoginPage {
        csrf: auth.csrf(&id),
        error: None,
    };
    let response = Html(page.render()?).into_response();
    Ok(match existing {
        None => with_cookie(response, &Auth::cookie(&id)),
        Some(_) => response,
    })
}

pub async fn login(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let auth = &state.auth;
    if !auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let Some(id) = Auth::cookie_session(&headers).filter(|id| auth.lookup(id).is_some()) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let token = form.get("csrf").map(String::as_str).unwrap_or("");
    if !auth.check_csrf(&id, token) {
        return Err(WebError::Forbidden(
            "the form's CSRF token is missing or wrong; reload the page",
        ));
    }
    let password = form.get("password").map(String::as_str).unwrap_or("");
    if !auth.verify_password(password) {
        tracing::warn!("dashboard login failed");
        // Slows guessing down.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let page = LoginPage {
            csrf: auth.csrf(&id),
            error: Some("Wrong password."),
        };
        return Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    }
    // A new session id on login: a session fixed before cannot be used.
    auth.remove(&id);
    let fresh = auth.create(true);
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        &Auth::cookie(&fresh),
    ))
}

pub async fn logout(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.check_csrf(&state.auth, &form)?;
    state.auth.remove(&session.id);
    Ok(with_cookie(
        Redirect::to("/login").into_response(),
        &Auth::clear_cookie(),
    ))
}
