//! The reminder and alert e-mails: subject, a plain-text part and an HTML
//! part from the askama templates in `templates/email/`, and the payment QR
//! code as an inline PNG referenced by `cid:` from the HTML.

use askama::Template;
use bitcoin::base64::Engine as _;
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rust_decimal::Decimal;

use super::error::Error;
use super::schedule::Period;
use crate::format::{btc_decimal, grouped, money};
use crate::orders::instructions::{self, PaymentCode};
use crate::orders::model::StoredOrder;
use crate::payment::{Iban, QrImage};
use crate::portfolio::rate_of;
use crate::reconcile::State;
use crate::store::{AlertRow, ExchangeFilter, Store};
use crate::wallet::KeyPath;

/// The `Content-ID` of the QR image.
pub const IMAGE_CID: &str = "payment-qr";
/// Pixels per QR module in the PNG.
const PNG_SCALE: usize = 8;

/// A composed e-mail, before addressing.
#[derive(Debug, Clone)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The payment code and its PNG.
    pub qr: Option<(PaymentCode, Vec<u8>)>,
}

/// What last month's purchases came to.
#[derive(Debug, Clone)]
pub struct LastMonth {
    pub period_name: String,
    pub summary: String,
}

/// What a reminder says; both of its templates read it.
struct ReminderView<'a> {
    subject: &'a str,
    period_name: &'a str,
    label: Option<&'a str>,
    currency: &'a str,
    amount: &'a str,
    creditor_name: &'a str,
    creditor_address: &'a [String],
    iban: &'a str,
    bic: Option<&'a str>,
    bank: Option<&'a str>,
    reference: &'a str,
    debitor_iban: &'a str,
    code_name: Option<&'a str>,
    image_cid: &'a str,
    next_address: Option<&'a str>,
    last_month: Option<&'a LastMonth>,
    order_id: &'a str,
    day: &'a str,
}

#[derive(Template)]
#[template(path = "email/reminder.txt", escape = "none")]
struct ReminderText<'a> {
    v: &'a ReminderView<'a>,
}

#[derive(Template)]
#[template(path = "email/reminder.html")]
struct ReminderHtml<'a> {
    v: &'a ReminderView<'a>,
}

/// The subject of a reminder, e.g. `Bitcoin purchase December 2026: transfer
/// EUR 100.00, reference RF18 GW8K 79`.
pub fn subject(period: Period, currency: &str, amount: &str, reference: &str) -> String {
    format!(
        "Bitcoin purchase {}: transfer {currency} {amount}, reference {reference}",
        period.name()
    )
}

/// The next address Pocket will pay to: after the highest used one, or the
/// signed one when none is used yet.
pub fn next_address(store: &Store, order: &StoredOrder) -> Result<KeyPath, Error> {
    let next = store
        .used_indexes(&order.id)?
        .into_iter()
        .max()
        .map_or(order.start_index, |i| i.saturating_add(1));
    Ok(KeyPath::on_chain(&order.chain, next))
}

/// What the order's purchases of `period` came to; `None` when the order did
/// not exist yet.
pub fn month_result(
    store: &Store,
    order: &StoredOrder,
    period: Period,
    tz: Tz,
) -> Result<Option<LastMonth>, Error> {
    let (from, to) = (period.start(tz), period.next().start(tz));
    if order.created_on >= to {
        return Ok(None);
    }
    let rows: Vec<_> = store
        .exchanges(&ExchangeFilter {
            order_id: Some(order.id.clone()),
            state: None,
        })?
        .into_iter()
        .filter(|e| !matches!(e.state, State::Refunded | State::Interrupted))
        .filter(|e| e.executed_on.is_some_and(|t| t >= from && t < to))
        .collect();
    let currency = order.currency.code();
    let summary = if rows.is_empty() {
        "no purchase arrived.".to_string()
    } else {
        let sats: u64 = rows.iter().filter_map(|e| e.amount_sat).sum();
        let cost: Decimal = rows.iter().filter_map(|e| e.cost).sum();
        let fee: Decimal = rows.iter().filter_map(|e| e.fee).sum();
        let btc = btc_decimal(sats);
        // Pocket's rate as it reported it (the dashboard and the CSV show
        // the same), not one recomputed from satoshis.
        let price = rate_of(&rows.iter().collect::<Vec<_>>())
            .map(|rate| format!(" at {} {currency}/BTC", grouped(&money(rate))))
            .unwrap_or_default();
        let paid: u64 = rows
            .iter()
            .filter_map(|e| e.payout.as_ref().and_then(|p| p.amount_sat))
            .sum();
        format!(
            "{} bought {btc} BTC ({} sats) for {currency} {}{price}, fee {currency} {}{}.",
            if rows.len() == 1 {
                "you".to_string()
            } else {
                format!("{} purchases", rows.len())
            },
            grouped(&sats.to_string()),
            money(cost),
            money(fee),
            if paid > 0 {
                format!(
                    "; {} sats arrived in your wallet",
                    grouped(&paid.to_string())
                )
            } else {
                String::new()
            }
        )
    };
    Ok(Some(LastMonth {
        period_name: period.name(),
        summary,
    }))
}

/// Composes the reminder of `order` for `period`.
pub fn reminder(
    store: &Store,
    order: &StoredOrder,
    period: Period,
    tz: Tz,
) -> Result<Composed, Error> {
    let info = instructions::for_order(
        order,
        order.amount,
        &format!("Bitcoin DCA {}", period.name()),
    )?;
    let amount = money(info.amount);
    let currency = info.currency.code();
    let reference = info.reference.formatted();
    let iban = info.iban.formatted();
    let debitor = Iban::parse(&info.debitor_iban)
        .map(|i| i.formatted())
        .unwrap_or_else(|_| info.debitor_iban.clone());
    let code_name = info.code.as_ref().map(PaymentCode::name);
    let next_text = match order.derives() {
        true => {
            let next = next_address(store, order)?;
            Some(format!("{} ({})", next.index(), next))
        }
        false => None,
    };
    let last = month_result(store, order, period.previous(), tz)?;
    let day = order.day.to_string();
    let subject = subject(period, currency, &amount, &reference);
    let period_name = period.name();
    let view = ReminderView {
        subject: &subject,
        period_name: &period_name,
        label: order.label.as_deref(),
        currency,
        amount: &amount,
        creditor_name: &info.creditor_name,
        creditor_address: &info.creditor_address,
        iban: &iban,
        bic: info.bic.as_deref(),
        bank: info.bank.as_deref(),
        reference: &reference,
        debitor_iban: &debitor,
        code_name,
        image_cid: IMAGE_CID,
        next_address: next_text.as_deref(),
        last_month: last.as_ref(),
        order_id: &order.id,
        day: &day,
    };
    let text = ReminderText { v: &view }.render()?;
    let html = ReminderHtml { v: &view }.render()?;
    let qr = match info.code {
        Some(code) => {
            let png = QrImage::new(code.payload(), code.is_swiss())?.to_png(PNG_SCALE)?;
            Some((code, png))
        }
        None => None,
    };
    Ok(Composed {
        subject,
        text,
        html,
        qr,
    })
}

/// What an alert e-mail says; both of its templates read it.
struct AlertView<'a> {
    headline: &'a str,
    message: &'a str,
    kind: &'a str,
    severity: &'a str,
    order: Option<&'a str>,
    exchange: Option<&'a str>,
    created_at: &'a str,
    id: i64,
}

#[derive(Template)]
#[template(path = "email/alert.txt", escape = "none")]
struct AlertText<'a> {
    v: &'a AlertView<'a>,
}

#[derive(Template)]
#[template(path = "email/alert.html")]
struct AlertHtml<'a> {
    v: &'a AlertView<'a>,
}

/// The headline of an alert e-mail.
fn alert_headline(alert: &AlertRow) -> String {
    let what = match alert.kind.as_str() {
        "interrupted" => "A purchase is on hold: Pocket needs you",
        "refunded" => "A payment was refunded",
        "foreign_address" => "Bitcoin was paid to an address that is not yours",
        "address_reuse" => "An address of yours was paid twice",
        "gap_headroom" => "Your wallet may stop finding payouts",
        "missed_order" => "No purchase arrived this month",
        "refund_after_settlement" => "A settled purchase was reported refunded",
        "reminder_failed" => "A payment reminder could not be sent",
        "chain_mismatch" => "The blockchain does not show the payout Pocket reported",
        "chain_unseen" => "A payout Pocket reported is not on the blockchain",
        "chain_reorganised" => "A confirmed payout lost its confirmations",
        "coins_without_webhook" => "Coins arrived that no Pocket report explains",
        "chain_replaced" => "A payout transaction was replaced",
        "payout_spent" => "The coins of a payout were spent",
        other => other,
    };
    if alert.severity == "critical" {
        format!("Critical: {what}")
    } else {
        what.to_string()
    }
}

/// Composes the e-mail of an alert; its time in `tz`, as the reminders and
/// the dashboard show times.
pub fn alert(alert: &AlertRow, tz: Tz) -> Result<Composed, Error> {
    let headline = alert_headline(alert);
    let order = alert.order_id.as_deref().map(crate::format::short_id);
    let exchange = alert.exchange_id.as_deref();
    let view = AlertView {
        headline: &headline,
        message: &alert.message,
        kind: &alert.kind,
        severity: &alert.severity,
        order,
        exchange,
        created_at: &crate::format::local(alert.created_at, tz),
        id: alert.id,
    };
    let text = AlertText { v: &view }.render()?;
    let html = AlertHtml { v: &view }.render()?;
    Ok(Composed {
        subject: format!("[pocket-dca] {headline}"),
        text,
        html,
        qr: None,
    })
}

#[derive(Template)]
#[template(path = "email/test.txt", escape = "none")]
struct TestText<'a> {
    transport: &'a str,
}

/// The message of `mail test`.
pub fn test(from: &Mailbox, to: &Mailbox, transport: &str) -> Result<Message, Error> {
    let text = TestText { transport }.render()?;
    Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject("pocket-dca test e-mail")
        .date_now()
        .message_id(None)
        .singlepart(SinglePart::plain(text))
        .map_err(|e| Error::Mail(crate::mail::Error::Build(e.to_string())))
}

/// The MIME message: `multipart/alternative` of the text and, with the QR
/// code, a `multipart/related` HTML part carrying the inline PNG.
pub fn message(composed: &Composed, from: &Mailbox, to: &[Mailbox]) -> Result<Message, Error> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(composed.subject.clone())
        .date_now()
        .message_id(None);
    for recipient in to {
        builder = builder.to(recipient.clone());
    }
    let text = SinglePart::plain(composed.text.clone());
    let html = SinglePart::html(composed.html.clone());
    let body = match &composed.qr {
        Some((_, png)) => {
            let image_type = ContentType::parse("image/png")
                .map_err(|e| Error::Mail(crate::mail::Error::Build(e.to_string())))?;
            MultiPart::alternative().singlepart(text).multipart(
                MultiPart::related().singlepart(html).singlepart(
                    Attachment::new_inline(IMAGE_CID.to_string()).body(png.clone(), image_type),
                ),
            )
        }
        None => MultiPart::alternative().singlepart(text).singlepart(html),
    };
    builder
        .multipart(body)
        .map_err(|e| Error::Mail(crate::mail::Error::Build(e.to_string())))
}

/// The HTML part on its own, the QR code embedded as a `data:` URI (for
/// `remind preview --out FILE.html`).
pub fn standalone_html(composed: &Composed) -> String {
    match &composed.qr {
        Some((_, png)) => composed.html.replace(
            &format!("cid:{IMAGE_CID}"),
            &format!(
                "data:image/png;base64,{}",
                bitcoin::base64::engine::general_purpose::STANDARD.encode(png)
            ),
        ),
        None => composed.html.clone(),
    }
}
