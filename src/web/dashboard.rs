//! The dashboard's pages: overview, order, exchanges, alerts, webhook
//! deliveries, downloads and the login. Server-rendered HTML from the askama
//! templates in `templates/dashboard/`, no script. Handlers read what they
//! show from the store and the domain modules, and format it; the only
//! state-changing request is acknowledging an alert (POST with CSRF token).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use askama::Template;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::auth::Auth;
use super::charts;
use crate::export;
use crate::format::short_id;
use crate::format::{btc, currency_of_pair, grouped, local, local_text, money};
use crate::orders::instructions::{self, PaymentCode};
use crate::orders::model::StoredOrder;
use crate::payment::{Iban, QrImage};
use crate::portfolio::{self, OrderStats};
use crate::reconcile;
use crate::reconcile::State as ExchangeState;
use crate::reminders::{self, Settings};
use crate::store::{AlertRow, ExchangeFilter, ExchangeRow, Store};
use crate::wallet::{Network, network_name};

/// What the dashboard needs.
pub struct DashboardState {
    store: Mutex<Store>,
    pub auth: Auth,
    settings: Settings,
    network: Network,
}

impl DashboardState {
    pub fn new(store: Store, auth: Auth, settings: Settings, network: Network) -> DashboardState {
        DashboardState {
            store: Mutex::new(store),
            auth,
            settings,
            network,
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Shared = Arc<DashboardState>;

/// The session of a request, set by [`session`].
#[derive(Clone)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

/// An error page: 5xx bodies are generic, the cause goes to the log.
pub enum WebError {
    NotFound(String),
    Forbidden(&'static str),
    Internal(String),
}

impl<E: std::fmt::Display> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            WebError::NotFound(what) => (StatusCode::NOT_FOUND, format!("Not found: {what}")),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, format!("Forbidden: {why}")),
            WebError::Internal(cause) => {
                tracing::error!(%cause, "dashboard error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong; the log says what.".to_string(),
                )
            }
        };
        (
            status,
            Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><p>{}</p><p><a href=\"/\">Back to the overview</a></p></main></body></html>",
                status,
                escape(&text)
            )),
        )
            .into_response()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Every page: adds the security headers.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Every page but the login, the stylesheet and health: a session, logged
/// in when a password is configured.
pub async fn session(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
    let existing = Auth::cookie_session(request.headers()).and_then(|id| {
        state
            .auth
            .lookup(&id)
            .map(|authenticated| (id, authenticated))
    });
    let (id, new) = match existing {
        Some((id, true)) => (id, false),
        Some((_, false)) | None if state.auth.password_required() => {
            return if request.method() == axum::http::Method::GET {
                Redirect::to("/login").into_response()
            } else {
                (StatusCode::UNAUTHORIZED, "log in first\n").into_response()
            };
        }
        _ => (state.auth.create(true), true),
    };
    let csrf = state.auth.csrf(&id);
    request.extensions_mut().insert(Session {
        id: id.clone(),
        csrf,
    });
    let mut response = next.run(request).await;
    if new && let Ok(value) = HeaderValue::from_str(&Auth::cookie(&id)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The parts of every page.
pub struct PageInfo {
    tab: &'static str,
    csrf: String,
    login: bool,
    open_alerts: usize,
    version: &'static str,
    network: &'static str,
    now: String,
}

impl DashboardState {
    fn page(
        &self,
        tab: &'static str,
        session: &Session,
        store: &Store,
    ) -> Result<PageInfo, WebError> {
        Ok(PageInfo {
            tab,
            csrf: session.csrf.clone(),
            login: self.auth.password_required(),
            open_alerts: store.alerts(false)?.len(),
            version: env!("CARGO_PKG_VERSION"),
            network: network_name(self.network),
            now: self.local(Utc::now()),
        })
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        local(at, self.settings.timezone)
    }
}

pub struct AlertView {
    id: i64,
    kind: String,
    severity: String,
    message: String,
    created_at: String,
    acknowledged: bool,
}

fn alert_view(a: AlertRow, tz: Tz) -> AlertView {
    AlertView {
        id: a.id,
        kind: a.kind,
        severity: a.severity,
        message: a.message,
        created_at: local_text(&a.created_at, tz),
        acknowledged: a.acknowledged,
    }
}

pub struct ExchangeView {
    id: String,
    executed: String,
    order: Option<String>,
    order_name: String,
    state: &'static str,
    note: Option<String>,
    cost: String,
    fee: String,
    rate: String,
    sats: String,
    payout: Option<String>,
    reconciliation: String,
    warnings: Vec<String>,
}

fn exchange_view(e: &ExchangeRow, names: &HashMap<String, String>, tz: Tz) -> ExchangeView {
    let currency = e.pair.as_deref().map(currency_of_pair).unwrap_or_default();
    let amount = |d: Option<Decimal>| {
        d.map(|d| format!("{currency} {}", grouped(&money(d))))
            .unwrap_or_else(|| "–".into())
    };
    let known = e.order_id.as_ref().filter(|id| names.contains_key(*id));
    ExchangeView {
        id: e.id.clone(),
        executed: e
            .executed_on
            .as_deref()
            .map(|t| local_text(t, tz))
            .unwrap_or_else(|| format!("seen {}", local_text(&e.first_seen_at, tz))),
        order: known.cloned(),
        order_name: known
            .and_then(|id| names.get(id))
            .cloned()
            .unwrap_or_default(),
        state: e.state.as_str(),
        note: e.action_code.clone().or_else(|| e.reason_code.clone()),
        cost: amount(e.cost),
        fee: amount(e.fee),
        rate: amount(e.rate),
        sats: e
            .amount_sat
            .map(|s| grouped(&s.to_string()))
            .unwrap_or_else(|| "–".into()),
        payout: e.payout.as_ref().map(|p| {
            format!(
                "{}:{}{}",
                p.txid,
                p.vout,
                e.address_index
                    .map(|i| format!(" → #{i}"))
                    .unwrap_or_default()
            )
        }),
        reconciliation: e.reconciliation.clone(),
        warnings: e.warnings.clone(),
    }
}

fn order_names(store: &Store) -> Result<HashMap<String, String>, WebError> {
    Ok(store
        .orders()?
        .into_iter()
        .map(|o| (o.id.clone(), o.name()))
        .collect())
}

// -------------------------------------------------------------- overview

pub struct CurrencyView {
    code: &'static str,
    spent: String,
    fees: String,
    average: String,
}

pub struct TotalsView {
    received_btc: String,
    received_sats: String,
    pending_sats: String,
    currencies: Vec<CurrencyView>,
}

pub struct CardView {
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
    alerts: Vec<AlertView>,
    totals: TotalsView,
    chart: String,
    cards: Vec<CardView>,
}

fn average(stats: &OrderStats, currency: &str) -> String {
    stats
        .average_price
        .map(|p| format!("{currency} {}/BTC", grouped(&money(p))))
        .unwrap_or_else(|| "–".into())
}

fn next_reminder(store: &Store, order: &StoredOrder, settings: &Settings) -> String {
    let now = Utc::now();
    match reminders::next_due(store, order, settings, now) {
        Ok(Some(at)) if at <= now => format!("{} (due, being sent)", local(at, settings.timezone)),
        Ok(Some(at)) => local(at, settings.timezone),
        Ok(None) => "none (paused)".into(),
        Err(_) => "–".into(),
    }
}

pub async fn overview(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
) -> Result<Response, WebError> {
    let store = state.store();
    let tz = state.settings.timezone;
    let portfolio = portfolio::portfolio(&store)?;
    let all: Vec<&ExchangeRow> = portfolio
        .orders
        .iter()
        .flat_map(|o| o.exchanges.iter())
        .collect();
    let page = OverviewPage {
        page: state.page("overview", &session, &store)?,
        alerts: store
            .alerts(false)?
            .into_iter()
            .map(|a| alert_view(a, tz))
            .collect(),
        totals: TotalsView {
            received_btc: btc(portfolio.received_sat),
            received_sats: grouped(&portfolio.received_sat.to_string()),
            pending_sats: grouped(&portfolio.pending_sat.to_string()),
            currencies: portfolio
                .by_currency
                .iter()
                .map(|c| CurrencyView {
                    code: c.currency.code(),
                    spent: money(c.fiat_spent),
                    fees: money(c.fees_paid),
                    average: c
                        .average_price
                        .map(|p| format!("{}/BTC", grouped(&money(p))))
                        .unwrap_or_else(|| "–".into()),
                })
                .collect(),
        },
        chart: charts::accumulation(&portfolio::accumulation(all)),
        cards: portfolio
            .orders
            .iter()
            .map(|o| CardView {
                id: o.order.id.clone(),
                name: o.order.name(),
                state: if o.order.active { "active" } else { "paused" },
                currency: o.order.currency.code(),
                amount: money(o.order.amount),
                day: o.order.day.to_string(),
                next_reminder: next_reminder(&store, &o.order, &state.settings),
                received_btc: btc(o.stats.received_sat),
                spent: money(o.stats.fiat_spent),
                purchases: o.stats.purchases,
                fees: money(o.stats.fees_paid),
                average: average(&o.stats, o.order.currency.code()),
                last_exchange: o
                    .stats
                    .last_exchange
                    .as_deref()
                    .map(|t| local_text(t, tz))
                    .unwrap_or_else(|| "none yet".into()),
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

// ----------------------------------------------------------------- order

pub struct OrderDetail {
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
    script_type: &'static str,
    network: &'static str,
    signed_address: String,
    path: String,
    gap_limit: u32,
    wallet_gap_limit: u32,
    key: String,
}

pub struct PayView {
    creditor: String,
    iban: String,
    bic: String,
    debitor: String,
    reference: String,
    qr: Option<String>,
    code_name: &'static str,
}

pub struct StatsView {
    received_btc: String,
    bought_sats: String,
    purchases: usize,
    spent: String,
    fees: String,
    network_fees: String,
    average: String,
}

pub struct HeadroomView {
    text: String,
}

pub struct AddressView {
    index: u32,
    path: String,
    address: String,
    status: &'static str,
    exchanges: Vec<(String, String)>,
    sats: String,
    outputs: String,
}

#[derive(Template)]
#[template(path = "dashboard/order.html")]
struct OrderPage {
    page: PageInfo,
    order: OrderDetail,
    pay: Option<PayView>,
    pay_error: String,
    stats: StatsView,
    headroom: HeadroomView,
    chart: String,
    addresses: Vec<AddressView>,
    exchanges: Vec<ExchangeView>,
}

pub async fn order(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let store = state.store();
    let tz = state.settings.timezone;
    let order = store
        .order(&id)?
        .ok_or_else(|| WebError::NotFound(format!("order {}", short_id(&id))))?;
    let rows = store.exchanges(&ExchangeFilter {
        order_id: Some(order.id.clone()),
        state: None,
    })?;
    let stats = portfolio::stats(&rows);
    let currency = order.currency.code();
    let (pay, pay_error) = match instructions::for_order(&order, order.amount, "Bitcoin DCA") {
        Ok(info) => {
            let qr = match &info.code {
                Some(code) => Some(QrImage::new(code.payload(), code.is_swiss())?.to_svg(220)),
                None => None,
            };
            let code_name = match &info.code {
                Some(PaymentCode::Swiss(_)) => "Swiss QR-bill",
                Some(PaymentCode::Epc(_)) => "EPC QR code (GiroCode)",
                None => "",
            };
            (
                Some(PayView {
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
                    code_name,
                }),
                String::new(),
            )
        }
        Err(e) => (
            None,
            format!("The payment details from Pocket are not usable: {e}"),
        ),
    };
    let headroom = reconcile::headroom(&store, &order)?;
    let addresses = reconcile::window::addresses(&store, &order.id)?
        .into_iter()
        .map(|a| {
            let sats = a.received_sat;
            AddressView {
                index: a.index,
                path: a.path,
                address: a.address,
                status: a.status,
                exchanges: a
                    .exchange_ids
                    .iter()
                    .map(|id| (id.clone(), short_id(id).to_string()))
                    .collect(),
                sats: if sats > 0 {
                    grouped(&sats.to_string())
                } else {
                    String::new()
                },
                outputs: a.outputs.join(" "),
            }
        })
        .collect();
    let names = order_names(&store)?;
    let page = OrderPage {
        page: state.page("order", &session, &store)?,
        order: OrderDetail {
            id: order.id.clone(),
            name: order.name(),
            state: if order.active { "active" } else { "paused" },
            currency,
            amount: money(order.amount),
            day: order.day.to_string(),
            fee_rate: format!("{} %", (order.fee_rate * Decimal::from(100)).normalize()),
            next_reminder: next_reminder(&store, &order, &state.settings),
            recipients: if order.emails.is_empty() {
                "[email] to".into()
            } else {
                order.emails.join(", ")
            },
            created_on: local_text(&order.created_on, tz),
            script_type: order.script_type.as_str(),
            network: network_name(order.network),
            signed_address: order.signed_address.clone(),
            path: order.derivation_path().to_string(),
            gap_limit: order.gap_limit,
            wallet_gap_limit: order.wallet_gap_limit,
            key: order.key.clone(),
        },
        pay,
        pay_error,
        stats: StatsView {
            received_btc: btc(stats.received_sat),
            bought_sats: grouped(&stats.bought_sat.to_string()),
            purchases: stats.purchases,
            spent: money(stats.fiat_spent),
            fees: money(stats.fees_paid),
            network_fees: grouped(&stats.network_fees_sat.to_string()),
            average: average(&stats, currency),
        },
        headroom: HeadroomView {
            text: format!(
                "{} unused in a row at most; your wallet scans {} ({} to spare){}",
                headroom.longest_gap,
                headroom.wallet_gap_limit,
                headroom.remaining,
                if headroom.is_tight() {
                    " — raise the wallet's gap limit"
                } else {
                    ""
                }
            ),
        },
        chart: charts::prices(&portfolio::prices(&rows), currency),
        addresses,
        exchanges: rows.iter().map(|e| exchange_view(e, &names, tz)).collect(),
    };
    Ok(Html(page.render()?).into_response())
}

// ------------------------------------------------------------- exchanges

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
        order_id: Some(query.order.clone()).filter(|o| !o.is_empty()),
        state: query.state.parse::<ExchangeState>().ok(),
    };
    let rows = store.exchanges(&filter)?;
    let mut orders: Vec<(String, String, bool)> = names
        .iter()
        .map(|(k, v)| (k.clone(), v.clone(), *k == query.order))
        .collect();
    orders.sort_by(|a, b| a.1.cmp(&b.1));
    let page = ExchangesPage {
        page: state.page("exchanges", &session, &store)?,
        orders,
        states: [
            "interrupted",
            "executed",
            "refunded",
            "settled",
            "confirmed",
        ]
        .into_iter()
        .map(|s| (s, filter.state.map(ExchangeState::as_str) == Some(s)))
        .collect(),
        filter_order: query.order,
        exchanges: rows
            .iter()
            .rev()
            .map(|e| exchange_view(e, &names, state.settings.timezone))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

// ---------------------------------------------------------------- alerts

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
            .map(|a| alert_view(a, state.settings.timezone))
            .collect(),
        show_all,
    };
    Ok(Html(page.render()?).into_response())
}

fn check_csrf(
    state: &DashboardState,
    session: &Session,
    form: &HashMap<String, String>,
) -> Result<(), WebError> {
    let token = form.get("csrf").map(String::as_str).unwrap_or("");
    if state.auth.check_csrf(&session.id, token) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "the form's CSRF token is missing or wrong; reload the page and try again",
        ))
    }
}

pub async fn acknowledge(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &form)?;
    let store = state.store();
    if !store.acknowledge_alert(id, Utc::now())? {
        return Err(WebError::NotFound(format!("alert {id}")));
    }
    // Back where the button was (same origin only).
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/alerts".into());
    Ok(Redirect::to(&back).into_response())
}

// -------------------------------------------------------------- webhooks

pub struct DeliveryView {
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

pub async fn webhooks(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
) -> Result<Response, WebError> {
    let store = state.store();
    let tz = state.settings.timezone;
    let page = WebhooksPage {
        page: state.page("webhooks", &session, &store)?,
        total: store.delivery_count()?,
        deliveries: store
            .deliveries(Some(200))?
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                received_at: local_text(&d.received_at, tz),
                status: d.status,
                event: d.event.unwrap_or_default(),
                exchange: d
                    .exchange_id
                    .as_deref()
                    .map(|e| short_id(e).to_string())
                    .unwrap_or_default(),
                correlation: d.correlation_id.unwrap_or_default(),
                retry: d.retry_count.map(|r| r.to_string()).unwrap_or_default(),
                result: d.result.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

// ------------------------------------------------------------- downloads

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
    let order = Some(query.order).filter(|o| !o.is_empty());
    if let Some(id) = &order
        && store.order(id)?.is_none()
    {
        return Err(WebError::NotFound(format!("order {}", short_id(id))));
    }
    let mut body = Vec::new();
    export::csv(&store, order.as_deref(), &mut body)?;
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

// ----------------------------------------------------------------- login

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
    if !state.auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let existing = Auth::cookie_session(&headers).filter(|id| state.auth.lookup(id).is_some());
    let id = existing.clone().unwrap_or_else(|| state.auth.create(false));
    let page = LoginPage {
        csrf: state.auth.csrf(&id),
        error: None,
    };
    let mut response = Html(page.render()?).into_response();
    if existing.is_none()
        && let Ok(value) = HeaderValue::from_str(&Auth::cookie(&id))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn login(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    if !state.auth.password_required() {
        return Ok(Redirect::to("/").into_response());
    }
    let Some(id) = Auth::cookie_session(&headers).filter(|id| state.auth.lookup(id).is_some())
    else {
        return Ok(Redirect::to("/login").into_response());
    };
    let token = form.get("csrf").map(String::as_str).unwrap_or("");
    if !state.auth.check_csrf(&id, token) {
        return Err(WebError::Forbidden(
            "the form's CSRF token is missing or wrong; reload the page",
        ));
    }
    let password = form.get("password").map(String::as_str).unwrap_or("");
    if !state.auth.verify_password(password) {
        tracing::warn!("dashboard login failed");
        // Slows guessing down.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let page = LoginPage {
            csrf: state.auth.csrf(&id),
            error: Some("Wrong password."),
        };
        return Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response());
    }
    // A new session id on login: a session fixed before cannot be used.
    state.auth.remove(&id);
    let fresh = state.auth.create(true);
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&Auth::cookie(&fresh)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn logout(
    State(state): State<Shared>,
    axum::Extension(session): axum::Extension<Session>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &form)?;
    state.auth.remove(&session.id);
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&Auth::clear_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}
