//! EPC069-12 "GiroCode": the SEPA credit-transfer QR payload for EUR.

use rust_decimal::Decimal;

use super::error::Error;
use super::iban::Iban;
use super::reference::CreditorReference;

/// The most bytes an EPC payload may have (QR version 13, level M).
const MAX_BYTES: usize = 331;

/// A SEPA credit transfer with a structured creditor reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcTransfer {
    pub bic: Option<String>,
    pub name: String,
    pub iban: Iban,
    pub amount: Decimal,
    pub reference: CreditorReference,
    /// Beneficiary-to-originator information shown to the payer (≤ 70).
    pub information: Option<String>,
}

impl EpcTransfer {
    /// The payload: version 002, UTF-8, SCT, the RF reference in the
    /// structured-reference element and no unstructured text.
    pub fn payload(&self) -> Result<String, Error> {
        let amount = euro_amount(self.amount)?;
        check_len("beneficiary name", &self.name, 70)?;
        if self.name.trim().is_empty() {
            return Err(Error::InvalidPayload(
                "the beneficiary name is empty".into(),
            ));
        }
        let bic = self.bic.clone().unwrap_or_default();
        check_len("BIC", &bic, 11)?;
        let information = self.information.clone().unwrap_or_default();
        check_len("information to the payer", &information, 70)?;
        let lines = [
            "BCD",
            "002",
            "1",
            "SCT",
            bic.as_str(),
            self.name.as_str(),
            self.iban.as_str(),
            &format!("EUR{amount}"),
            "",
            self.reference.as_str(),
            "",
            information.as_str(),
        ];
        let text = lines.join("\n").trim_end_matches('\n').to_string();
        if text.len() > MAX_BYTES {
            return Err(Error::InvalidPayload(format!(
                "the EPC payload is {} bytes, at most {MAX_BYTES} fit",
                text.len()
            )));
        }
        Ok(text)
    }
}

/// An amount in euros with exactly two decimals, 0.01 to 999999999.99.
pub(super) fn euro_amount(amount: Decimal) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidAmount {
        amount: amount.to_string(),
        reason: reason.to_string(),
    };
    if amount.normalize().scale() > 2 {
        return Err(invalid("a transfer amount has at most two decimals"));
    }
    if amount < Decimal::new(1, 2) || amount > Decimal::new(99_999_999_999, 2) {
        return Err(invalid("it must be between 0.01 and 999999999.99"));
    }
    let mut rounded = amount;
    rounded.rescale(2);
    Ok(rounded.to_string())
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    if value.chars().count() > max {
        return Err(Error::TooLong {
            field,
            value: value.to_string(),
            max,
        });
    }
    Ok(())
}

/// The elements of an EPC payload, absent trailing ones read as empty and the
/// amount split into currency and a two-decimal amount.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EpcFields {
    pub service_tag: String,
    pub version: String,
    pub character_set: String,
    pub identification: String,
    pub bic: String,
    pub name: String,
    pub iban: String,
    pub purpose: String,
    pub structured_reference: String,
    pub unstructured_remittance: String,
    pub information: String,
    pub currency: String,
    pub amount: String,
}

/// Parses an EPC payload (LF or CR LF separated) and checks its rules.
pub fn parse_epc(text: &str) -> Result<EpcFields, Error> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let get = |i: usize| lines.get(i).copied().unwrap_or("").to_string();
    let bad = |reason: String| Error::InvalidPayload(format!("not an EPC payload: {reason}"));
    if lines.len() > 12 && lines[12..].iter().any(|l| !l.is_empty()) {
        return Err(bad("it has more than 12 elements".into()));
    }
    let amount_element = get(7);
    let (currency, amount) = if amount_element.is_empty() {
        (String::new(), String::new())
    } else {
        // The currency is three letters; anything else is not split on.
        let at = amount_element
            .char_indices()
            .nth(3)
            .map_or(amount_element.len(), |(i, _)| i);
        let (cur, value) = amount_element.split_at(at);
        let value: Decimal = crate::format::parse_decimal(value)
            .map_err(|_| bad(format!("the amount `{amount_element}` is not a number")))?;
        (cur.to_string(), euro_amount(value)?)
    };
    let fields = EpcFields {
        service_tag: get(0),
        version: get(1),
        character_set: get(2),
        identification: get(3),
        bic: get(4),
        name: get(5),
        iban: get(6),
        purpose: get(8),
        structured_reference: get(9),
        unstructured_remittance: get(10),
        information: get(11),
        currency,
        amount,
    };
    if fields.service_tag != "BCD" {
        return Err(bad("the service tag is not BCD".into()));
    }
    if fields.version != "001" && fields.version != "002" {
        return Err(bad(format!("unknown version `{}`", fields.version)));
    }
    if fields.identification != "SCT" {
        return Err(bad("the identification is not SCT".into()));
    }
    if fields.version == "001" && fields.bic.is_empty() {
        return Err(bad("version 001 needs a BIC".into()));
    }
    if !fields.currency.is_empty() && fields.currency != "EUR" {
        return Err(bad(format!("the currency is {}, not EUR", fields.currency)));
    }
    if !fields.structured_reference.is_empty() && !fields.unstructured_remittance.is_empty() {
        return Err(bad(
            "it has both a structured reference and unstructured text".into(),
        ));
    }
    Iban::parse(&fields.iban)?;
    Ok(fields)
}
