//! The session of every page, and the login and logout pages: the
//! middleware that finds (or, without a password, creates) a request's
//! session, the login form and its limited check, and logging out.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::auth::{Auth, COOKIE, LOGIN_COOKIE, Session};
use super::error::WebError;
use super::state::Shared;
use crate::random;

fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The peer's address (loopback when the router runs without a socket, as
/// in tests).
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip()),
        ))
    }
}

/// Every page but the login, the stylesheet and health: a session, logged
/// in when a password is configured.
pub async fn session(
    State(auth): State<Arc<Auth>>,
    Peer(peer): Peer,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = Auth::cookie_session(request.headers()).filter(|id| auth.lookup(id));
    let (id, new) = match existing {
        Some(id) => (id, false),
        None if auth.password_required() => {
            return if request.method() == axum::http::Method::GET {
                Redirect::to("/login").into_response()
            } else {
                (StatusCode::UNAUTHORIZED, "log in first\n").into_response()
            };
        }
        None => (auth.create(), true),
    };
    let (_, https) = auth.client(peer, request.headers());
    let csrf = auth.csrf(&id);
    request.extensions_mut().insert(Session {
        id: id.clone(),
        csrf,
    });
    let response = next.run(request).await;
    if new {
        with_cookie(response, &Auth::cookie(COOKIE, &id, https))
    } else {
        response
    }
}

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
}

/// The login form. Nothing is kept on the server: its CSRF token is bound
/// to a random value in a cookie of its own.
pub async fn login_form(
    State(state): State<Shared>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let auth = &state.auth;
    if !auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let existing = Auth::cookie_value(&headers, LOGIN_COOKIE);
    let nonce = existing.clone().unwrap_or_else(random::hex::<32>);
    let page = LoginPage {
        csrf: auth.login_csrf(&nonce),
        error: None,
    };
    let response = Html(page.render()?).into_response();
    let (_, https) = auth.client(peer, &headers);
    Ok(match existing {
        None => with_cookie(response, &Auth::cookie(LOGIN_COOKIE, &nonce, https)),
        Some(_) => response,
    })
}

/// The login: refused before any password check while the client (or
/// everyone) has guessed wrong too often; then the CSRF token; then the
/// password, off the async threads and at most two at once.
pub async fn login(
    State(state): State<Shared>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let auth = state.auth.clone();
    if !auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let (client, https) = auth.client(peer, &headers);
    if let Err(wait) = auth.limiter.check(client, Instant::now()) {
        return too_many(wait);
    }
    let Some(nonce) = Auth::cookie_value(&headers, LOGIN_COOKIE) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let token = form.get("csrf").map(String::as_str).unwrap_or("");
    if !auth.check_login_csrf(&nonce, token) {
        return Err(WebError::Forbidden(
            "the form's CSRF token is missing or wrong; reload the page",
        ));
    }
    let password = form.get("password").cloned().unwrap_or_default();
    let right = {
        let _permit = auth.checks.acquire().await;
        let auth = auth.clone();
        tokio::task::spawn_blocking(move || auth.verify_password(&password))
            .await
            .unwrap_or(false)
    };
    if !right {
        auth.limiter.failed(client, Instant::now());
        tracing::warn!(%client, "dashboard login failed");
        let error = match auth.limiter.check(client, Instant::now()) {
            Ok(()) => "Wrong password.".to_string(),
            Err(wait) => format!(
                "Wrong password. Too many tries: wait {} before the next.",
                minutes(wait)
            ),
        };
        let page = LoginPage {
            csrf: auth.login_csrf(&nonce),
            error: Some(error),
        };
        return Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    }
    auth.limiter.succeeded(client);
    let fresh = auth.create();
    let response = with_cookie(
        Redirect::to("/").into_response(),
        &Auth::clear_cookie(LOGIN_COOKIE),
    );
    Ok(with_cookie(response, &Auth::cookie(COOKIE, &fresh, https)))
}

/// `429` with the wait, in `Retry-After` and in words.
fn too_many(wait: Duration) -> Result<Response, WebError> {
    let seconds = whole_seconds(wait);
    let page = LoginPage {
        csrf: String::new(),
        error: Some(format!(
            "Too many wrong passwords. Try again in {}.",
            minutes(wait)
        )),
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Html(page.render()?)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    Ok(response)
}

/// A wait in seconds, rounded up.
fn whole_seconds(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis().div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `45 s`, `2 min`.
fn minutes(wait: Duration) -> String {
    let seconds = whole_seconds(wait);
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds.div_ceil(60))
    }
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
        &Auth::clear_cookie(COOKIE),
    ))
}
