//! `pocket-dca exchanges`: the exchanges as reconciled.

use std::process::ExitCode;

use serde::Serialize;

use super::context::{Context, print_json};
use crate::format::{currency_of_pair, grouped, money, short_id};
use crate::pocket::{ExchangeId, OrderId, timestamp};
use crate::reconcile::State;
use crate::store::{ExchangeFilter, ExchangeRow, OnchainRow};

/// List exchanges with their state, amounts, payout and reconciliation.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  pocket-dca exchanges --order 64decab6 --state settled --json")]
pub struct Args {
    /// Only this order's (a unique prefix of its id is enough)
    #[arg(long)]
    order: Option<String>,

    /// Only this state: interrupted, executed, refunded, settled or confirmed
    #[arg(long, value_parser = ["interrupted", "executed", "refunded", "settled", "confirmed"])]
    state: Option<String>,

    /// Print JSON: [{"id", "order_id", "state", "cost", "fee", "rate", "amount_sat", "payout", "reconciliation", "warnings", …}]
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct PayoutView {
    /// `lightning`, or absent on chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    /// A lightning payout's status (`pending`, `completed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    txid: String,
    vout: u32,
    address: String,
    index: Option<u32>,
    amount_sat: Option<u64>,
    fee_sat: Option<u64>,
    block_height: Option<u64>,
    /// What the chain server says ([chain]); null without a backend.
    onchain: Option<OnchainView>,
}

#[derive(Serialize)]
struct OnchainView {
    status: String,
    confirmations: u32,
    block_height: Option<u32>,
    block_time: Option<String>,
    checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// The transaction that spent the output ([chain] alert_on_spend).
    #[serde(skip_serializing_if = "Option::is_none")]
    spent_by: Option<String>,
}

fn onchain_view(row: &OnchainRow) -> OnchainView {
    OnchainView {
        status: row.status.clone(),
        confirmations: row.confirmations,
        block_height: row.block_height,
        block_time: row.block_time.as_ref().map(timestamp::format),
        checked_at: timestamp::format(&row.checked_at),
        detail: row.detail.clone(),
        spent_by: row.spent_by.clone(),
    }
}

#[derive(Serialize)]
pub(super) struct ExchangeView {
    id: ExchangeId,
    order_id: Option<OrderId>,
    known_order: bool,
    state: State,
    pair: Option<String>,
    executed_on: Option<String>,
    fee_rate: Option<String>,
    cost: Option<String>,
    fee: Option<String>,
    rate: Option<String>,
    amount_sat: Option<u64>,
    action: Option<String>,
    reason: Option<String>,
    payout: Option<PayoutView>,
    reconciliation: String,
    warnings: Vec<String>,
    /// The event name of the last delivery applied.
    event: Option<String>,
}

pub(super) fn view(row: &ExchangeRow, onchain: Option<&OnchainRow>) -> ExchangeView {
    let text = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string());
    ExchangeView {
        id: row.id.clone(),
        order_id: row.order_id.clone(),
        known_order: row.known_order,
        state: row.state,
        pair: row.pair.clone(),
        executed_on: row.executed_on.as_ref().map(timestamp::format),
        fee_rate: text(row.fee_rate),
        cost: text(row.cost),
        fee: text(row.fee),
        rate: text(row.rate),
        amount_sat: row.amount_sat,
        action: row.action_code.clone(),
        reason: row.reason_code.clone(),
        payout: row.payout.as_ref().map(|p| PayoutView {
            kind: p.kind.clone(),
            status: p.status.clone(),
            txid: p.txid.clone(),
            vout: p.vout,
            address: p.address.clone(),
            index: row.address_index,
            amount_sat: p.amount_sat,
            fee_sat: p.fee_sat,
            block_height: p.block_height,
            onchain: onchain.filter(|o| o.txid == p.txid).map(onchain_view),
        }),
        reconciliation: row.reconciliation.clone(),
        warnings: row.warnings.clone(),
        event: row.last_event.clone(),
    }
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let order_id = args
        .order
        .as_deref()
        .map(|o| store.resolve_order_id(o))
        .transpose()?;
    let state = args
        .state
        .as_deref()
        .map(str::parse::<State>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let rows = store.exchanges(&ExchangeFilter { order_id, state })?;
    if args.json {
        let views = rows
            .iter()
            .map(|r| Ok(view(r, store.onchain(&r.id)?.as_ref())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no exchanges yet");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<8}  {:<8}  {:<11}  {:<24}  {:>12}  {:>10}  {:>14}  {:>11}  {:<6}  PAYOUT",
        "ID", "ORDER", "STATE", "EXECUTED", "COST", "FEE", "RATE", "SATS", "INDEX"
    );
    for row in &rows {
        let currency = row
            .pair
            .as_deref()
            .map(currency_of_pair)
            .unwrap_or_default();
        // Every money column with its currency, to the cent; rates too.
        let in_currency = |d: Option<rust_decimal::Decimal>| {
            d.map_or_else(
                || "-".into(),
                |d| format!("{currency} {}", grouped(&money(d))),
            )
        };
        println!(
            "{:<8}  {:<8}  {:<11}  {:<24}  {:>12}  {:>10}  {:>14}  {:>11}  {:<6}  {}{}",
            short_id(&row.id),
            row.order_id.as_deref().map(short_id).unwrap_or("-"),
            row.state.as_str(),
            row.executed_on
                .as_ref()
                .map_or("-".into(), timestamp::format),
            in_currency(row.cost),
            in_currency(row.fee),
            in_currency(row.rate),
            row.amount_sat
                .map(|a| grouped(&a.to_string()))
                .unwrap_or_else(|| "-".into()),
            row.address_index
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into()),
            payout_column(row),
            if row.warnings.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} warning{})",
                    row.warnings.len(),
                    if row.warnings.len() == 1 { "" } else { "s" }
                )
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The reconciliation, and a lightning payout's status.
fn payout_column(row: &ExchangeRow) -> String {
    match row.payout.as_ref().and_then(|p| p.status.as_deref()) {
        Some(status) => format!("{} {status}", row.reconciliation),
        None => row.reconciliation.clone(),
    }
}
