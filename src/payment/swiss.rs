//! The Swiss QR-bill payload (Swiss Payments Code, SPC version 0200).

use rust_decimal::Decimal;

use super::epc::euro_amount;
use super::error::Error;
use super::iban::Iban;
use super::reference::{CreditorReference, qr_reference_is_valid};

/// A structured (`S`) or, when read, combined (`K`) address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SwissAddress {
    pub address_type: String,
    pub name: String,
    pub street_or_line1: String,
    pub building_number_or_line2: String,
    pub postal_code: String,
    pub town: String,
    pub country: String,
}

impl SwissAddress {
    /// A structured address; a house number at the end of `street` is moved
    /// to the building-number field (`Industriestrasse 33`).
    pub fn structured(
        name: &str,
        street: &str,
        postal_code: &str,
        town: &str,
        country: &str,
    ) -> SwissAddress {
        let street = street.trim();
        let (street, number) = match street.rsplit_once(' ') {
            Some((s, n)) if n.starts_with(|c: char| c.is_ascii_digit()) && n.len() <= 16 => (s, n),
            _ => (street, ""),
        };
        SwissAddress {
            address_type: "S".into(),
            name: name.trim().into(),
            street_or_line1: street.into(),
            building_number_or_line2: number.into(),
            postal_code: postal_code.trim().into(),
            town: town.trim().into(),
            country: country.trim().to_ascii_uppercase(),
        }
    }

    fn lines(&self) -> [&str; 7] {
        [
            &self.address_type,
            &self.name,
            &self.street_or_line1,
            &self.building_number_or_line2,
            &self.postal_code,
            &self.town,
            &self.country,
        ]
    }

    fn is_empty(&self) -> bool {
        self.lines().iter().all(|l| l.is_empty())
    }
}

/// The reference of a QR-bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwissReference {
    /// A 27-digit QR reference; only with a QR-IBAN.
    Qrr(String),
    /// An ISO 11649 creditor reference; only with an ordinary IBAN.
    Scor(CreditorReference),
    None,
}

impl SwissReference {
    pub fn type_code(&self) -> &'static str {
        match self {
            SwissReference::Qrr(_) => "QRR",
            SwissReference::Scor(_) => "SCOR",
            SwissReference::None => "NON",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            SwissReference::Qrr(r) => r,
            SwissReference::Scor(r) => r.as_str(),
            SwissReference::None => "",
        }
    }
}

/// A QR-bill, as built for a reminder or read from a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwissBill {
    pub account: Iban,
    pub creditor: SwissAddress,
    /// `None` leaves the amount to the payer.
    pub amount: Option<Decimal>,
    /// `CHF` or `EUR`.
    pub currency: String,
    pub debtor: Option<SwissAddress>,
    pub reference: SwissReference,
    pub message: String,
    pub billing_information: String,
    pub alternative_procedures: Vec<String>,
}

impl SwissBill {
    /// Checks the rules a bank app enforces: CH/LI account, QR-IBAN exactly
    /// with QRR, valid references, amount and currency, field lengths.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Error::InvalidPayload(reason);
        if !matches!(self.account.country(), "CH" | "LI") {
            return Err(bad(format!(
                "a QR-bill account must be a Swiss or Liechtenstein IBAN, not {}",
                self.account
            )));
        }
        match (&self.reference, self.account.is_qr_iban()) {
            (SwissReference::Qrr(r), true) if !qr_reference_is_valid(r) => {
                return Err(bad(format!("`{r}` is not a valid 27-digit QR reference")));
            }
            (SwissReference::Qrr(_), true) => {}
            (SwissReference::Qrr(_), false) => {
                return Err(bad(format!(
                    "reference type QRR needs a QR-IBAN, and {} is an ordinary IBAN: use SCOR with an RF reference",
                    self.account
                )));
            }
            (_, true) => {
                return Err(bad(format!(
                    "{} is a QR-IBAN, which requires reference type QRR",
                    self.account
                )));
            }
            _ => {}
        }
        if !matches!(self.currency.as_str(), "CHF" | "EUR") {
            return Err(bad(format!(
                "the currency must be CHF or EUR, not {}",
                self.currency
            )));
        }
        if let Some(amount) = self.amount {
            euro_amount(amount)?;
        }
        for (field, value, max) in [
            ("creditor name", &self.creditor.name, 70),
            ("creditor street", &self.creditor.street_or_line1, 70),
            (
                "creditor building number",
                &self.creditor.building_number_or_line2,
                16,
            ),
            ("creditor postal code", &self.creditor.postal_code, 16),
            ("creditor town", &self.creditor.town, 35),
            ("message", &self.message, 140),
        ] {
            if value.chars().count() > max {
                return Err(Error::TooLong {
                    field,
                    value: value.clone(),
                    max,
                });
            }
        }
        if self.creditor.name.is_empty()
            || self.creditor.town.is_empty()
            || self.creditor.country.len() != 2
        {
            return Err(bad(
                "the creditor needs a name, a town and a two-letter country".into(),
            ));
        }
        Ok(())
    }

    /// The payload, lines separated by LF, no separator after the last one.
    pub fn payload(&self) -> Result<String, Error> {
        self.validate()?;
        let amount = match self.amount {
            Some(a) => euro_amount(a)?,
            None => String::new(),
        };
        let empty = SwissAddress::default();
        let debtor = self.debtor.as_ref().unwrap_or(&empty);
        let mut lines: Vec<&str> = vec!["SPC", "0200", "1", self.account.as_str()];
        lines.extend(self.creditor.lines());
        lines.extend([""; 7]);
        lines.push(&amount);
        lines.push(&self.currency);
        lines.extend(debtor.lines());
        lines.push(self.reference.type_code());
        lines.push(self.reference.text());
        lines.push(&self.message);
        lines.push("EPD");
        if !self.billing_information.is_empty() || !self.alternative_procedures.is_empty() {
            lines.push(&self.billing_information);
        }
        for procedure in &self.alternative_procedures {
            lines.push(procedure);
        }
        Ok(lines.join("\n"))
    }
}

/// Parses a QR-bill payload (CR LF or LF) and validates it.
pub fn parse_swiss(text: &str) -> Result<SwissBill, Error> {
    let lines: Vec<&str> = text
        .trim_end_matches(['\n', '\r'])
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let bad = |reason: &str| Error::InvalidPayload(format!("not a Swiss QR-bill: {reason}"));
    if lines.len() < 31 {
        return Err(bad("it has fewer than 31 lines"));
    }
    if lines[0] != "SPC" || lines[1] != "0200" || lines[2] != "1" {
        return Err(bad("the header is not SPC / 0200 / 1"));
    }
    if lines[30] != "EPD" {
        return Err(bad("line 31 is not the trailer EPD"));
    }
    if lines.len() > 34 {
        return Err(bad("it has more than two alternative procedures"));
    }
    let address = |start: usize| SwissAddress {
        address_type: lines[start].into(),
        name: lines[start + 1].into(),
        street_or_line1: lines[start + 2].into(),
        building_number_or_line2: lines[start + 3].into(),
        postal_code: lines[start + 4].into(),
        town: lines[start + 5].into(),
        country: lines[start + 6].into(),
    };
    if lines[11..18].iter().any(|l| !l.is_empty()) {
        return Err(bad("the ultimate creditor is reserved and must be empty"));
    }
    let amount = match lines[18] {
        "" => None,
        text => {
            let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
            if decimals.len() != 2 || whole.is_empty() {
                return Err(bad("the amount must have exactly two decimals"));
            }
            Some(
                crate::format::parse_decimal(text)
                    .map_err(|_| bad("the amount is not a number"))?,
            )
        }
    };
    let reference = match lines[27] {
        "QRR" => SwissReference::Qrr(lines[28].into()),
        "SCOR" => SwissReference::Scor(CreditorReference::parse(lines[28])?),
        "NON" if lines[28].is_empty() => SwissReference::None,
        "NON" => return Err(bad("reference type NON takes no reference")),
        other => return Err(bad(&format!("unknown reference type `{other}`"))),
    };
    let debtor = address(20);
    let bill = SwissBill {
        account: Iban::parse(lines[3])?,
        creditor: address(4),
        amount,
        currency: lines[19].into(),
        debtor: (!debtor.is_empty()).then_some(debtor),
        reference,
        message: lines[29].into(),
        billing_information: lines.get(31).copied().unwrap_or("").into(),
        alternative_procedures: lines.iter().skip(32).map(|l| l.to_string()).collect(),
    };
    bill.validate()?;
    Ok(bill)
}
