//! How an order and its payment instructions are printed.

use anyhow::Context as _;

use crate::cli::context::print_json;
use crate::orders::instructions::{self, Instructions};
use crate::orders::model::StoredOrder;
use crate::payment::{Iban, QrImage, render_terminal};

/// Payment instructions and the QR code, for the terminal.
pub(super) fn print_instructions(order: &StoredOrder) -> anyhow::Result<()> {
    let info = instructions::for_order(order, order.amount, "Bitcoin DCA")
        .context("while building the payment instructions")?;
    print_instruction_lines(order, &info);
    if let Some(code) = &info.code {
        let image = QrImage::new(code.payload(), code.is_swiss())?;
        println!("\n{} (scan it in your banking app):", code.name());
        print!("{}", render_terminal(&image));
    }
    Ok(())
}

fn print_instruction_lines(order: &StoredOrder, info: &Instructions) {
    println!(
        "Pay {} {} every month (day {}) by bank transfer:",
        info.currency.code(),
        info.amount,
        order.day
    );
    println!("  to         {}", info.creditor_name);
    for line in &info.creditor_address {
        println!("             {line}");
    }
    println!("  IBAN       {}", info.iban.formatted());
    match (&info.bic, &info.bank) {
        (Some(bic), Some(bank)) => println!("  BIC        {bic} ({bank})"),
        (Some(bic), None) => println!("  BIC        {bic}"),
        _ => {}
    }
    println!(
        "  reference  {}   <- put it in the payment's reference field, or Pocket cannot match your payment",
        info.reference.formatted()
    );
    if let Ok(iban) = Iban::parse(&info.debitor_iban) {
        println!(
            "  from       {} (a payment from any other account is refunded)",
            iban.formatted()
        );
    }
}

pub(super) fn print_order(order: &StoredOrder) {
    println!("order      {}", order.id);
    if let Some(label) = &order.label {
        println!("label      {label}");
    }
    println!(
        "state      {}",
        if order.active { "active" } else { "paused" }
    );
    println!(
        "plan       {} {} on day {} of the month",
        order.currency.code(),
        crate::format::money(order.amount),
        order.day
    );
    println!("fee rate   {}", crate::format::percent(order.fee_rate));
    let network = crate::wallet::network_name(order.network);
    match (
        order.derivation_path(),
        &order.signed_address,
        &order.node_pubkey,
    ) {
        (Some(path), _, _) => println!(
            "payout     {} from {network} at {path} (gap limit {}, wallet {})",
            order.payout_description(),
            order.gap_limit,
            order.wallet_gap_limit
        ),
        (None, Some(address), _) => println!("payout     every purchase to {address} ({network})"),
        (None, None, node) => println!(
            "payout     over lightning to node {}",
            node.as_deref().unwrap_or("-")
        ),
    }
    if let (Some(address), true) = (&order.signed_address, order.derives()) {
        println!("signed     {address}");
    }
    if !order.emails.is_empty() {
        println!("reminders  {}", order.emails.join(", "));
    }
}

pub(super) fn print_brief(order: &StoredOrder, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&order.view(false))
    } else {
        print_order(order);
        Ok(())
    }
}

/// When the order's first payment reminder goes out (none for a paused
/// order), in the reminders' time zone.
pub(super) fn print_first_reminder(
    store: &crate::store::Store,
    order: &StoredOrder,
    config: &crate::config::Config,
) -> anyhow::Result<()> {
    let settings = crate::reminders::Settings::from_config(config);
    let now = chrono::Utc::now();
    match crate::reminders::next_due(store, order, &settings, now)? {
        Some(due) => {
            let period = crate::reminders::Period::of(due, settings.timezone);
            println!(
                "\nFirst payment reminder: {} (for {}){}",
                crate::format::local(due, settings.timezone),
                period.name(),
                if due > now && period > crate::reminders::Period::of(now, settings.timezone) {
                    "; this month's transfer day has passed, so none is sent for this month"
                } else {
                    ""
                }
            );
        }
        None => println!("\nNo payment reminders while the order is paused."),
    }
    Ok(())
}
