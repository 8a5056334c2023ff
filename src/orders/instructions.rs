//! Payment instructions of an order: who to pay, where, how much, with which
//! reference, and the payment code a banking app scans (EPC for EUR, Swiss
//! QR-bill for CHF, none for GBP). IBANs and references are checked (mod 97)
//! before anything is built.

use rust_decimal::Decimal;

use super::model::StoredOrder;
use crate::payment::{
    CreditorReference, EpcTransfer, Error, Iban, SwissAddress, SwissBill, SwissReference,
    parse_swiss,
};
use crate::pocket::Currency;

/// The scannable code of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentCode {
    /// EPC069-12 GiroCode payload.
    Epc(String),
    /// Swiss QR-bill payload (drawn with the Swiss cross).
    Swiss(String),
}

impl PaymentCode {
    pub fn payload(&self) -> &str {
        match self {
            PaymentCode::Epc(p) | PaymentCode::Swiss(p) => p,
        }
    }

    pub fn is_swiss(&self) -> bool {
        matches!(self, PaymentCode::Swiss(_))
    }

    /// What the code is called, as banking apps name it.
    pub fn name(&self) -> &'static str {
        match self {
            PaymentCode::Swiss(_) => "Swiss QR-bill",
            PaymentCode::Epc(_) => "EPC QR code (GiroCode)",
        }
    }
}

/// Everything a transfer to Pocket for one order needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instructions {
    pub currency: Currency,
    pub amount: Decimal,
    pub creditor_name: String,
    /// Street, postal code and town, country — as Pocket gives them.
    pub creditor_address: Vec<String>,
    pub iban: Iban,
    pub bic: Option<String>,
    pub bank: Option<String>,
    pub reference: CreditorReference,
    /// The account the transfer must come from.
    pub debitor_iban: String,
    pub code: Option<PaymentCode>,
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default().trim().to_string()
}

/// Builds the instructions for `amount`; `information` is the line shown to
/// the payer in the EPC code (e.g. "Bitcoin DCA December 2026").
pub fn for_order(
    order: &StoredOrder,
    amount: Decimal,
    information: &str,
) -> Result<Instructions, Error> {
    let pm = &order.payment_method;
    let iban = Iban::parse(&text(&pm.creditor_iban))?;
    let reference = CreditorReference::parse(&text(&pm.creditor_reference))?;
    let name = text(&pm.creditor_name);
    let street = text(&pm.creditor_street);
    let postal = text(&pm.creditor_postal_code);
    let town = text(&pm.creditor_town);
    let country = text(&pm.creditor_country);
    let bic = Some(text(&pm.creditor_bank_bic)).filter(|b| !b.is_empty());
    let code = match order.currency {
        Currency::Eur => Some(PaymentCode::Epc(
            EpcTransfer {
                bic: bic.clone(),
                name: name.clone(),
                iban: iban.clone(),
                amount,
                reference: reference.clone(),
                information: Some(information.chars().take(70).collect())
                    .filter(|i: &String| !i.is_empty()),
            }
            .payload()?,
        )),
        Currency::Chf => match pm.swiss_qr_bill_payload.as_deref().map(str::trim) {
            Some(payload) if !payload.is_empty() => {
                // Pocket's own payload is used verbatim, once it reads as a QR-bill.
                parse_swiss(payload)?;
                Some(PaymentCode::Swiss(payload.to_string()))
            }
            _ => Some(PaymentCode::Swiss(
                SwissBill {
                    account: iban.clone(),
                    creditor: SwissAddress::structured(&name, &street, &postal, &town, &country),
                    amount: Some(amount),
                    currency: "CHF".into(),
                    debtor: None,
                    reference: SwissReference::Scor(reference.clone()),
                    message: information.chars().take(140).collect(),
                    billing_information: String::new(),
                    alternative_procedures: Vec::new(),
                }
                .payload()?,
            )),
        },
        Currency::Gbp => None,
    };
    let address_line = [postal, town]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Instructions {
        currency: order.currency,
        amount,
        creditor_name: name,
        creditor_address: [street, address_line, country]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        iban,
        bic,
        bank: Some(text(&pm.creditor_bank_name)).filter(|b| !b.is_empty()),
        reference,
        debitor_iban: order.debitor_iban.clone(),
        code,
    })
}
