//! IBANs (ISO 13616), checked with the country's BBAN format and mod 97.

use std::fmt;
use std::str::FromStr;

use ::iban::{IbanLike, ParseBaseIbanError, ParseIbanError};

use super::error::Error;
use super::reference::group4;

/// A valid IBAN in electronic form (upper case, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN in electronic or print form.
    pub fn parse(text: &str) -> Result<Iban, Error> {
        let shown = text.trim().to_string();
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let invalid = |reason: &str| Error::InvalidIban {
            iban: shown.clone(),
            reason: reason.to_string(),
        };
        match ::iban::Iban::from_str(&compact) {
            Ok(iban) => Ok(Iban(iban.electronic_str().to_string())),
            Err(ParseIbanError::InvalidBaseIban {
                source: ParseBaseIbanError::InvalidChecksum,
            }) => Err(invalid(
                "the check digits do not match (mod 97); look for a typo",
            )),
            Err(ParseIbanError::InvalidBaseIban {
                source: ParseBaseIbanError::InvalidFormat,
            }) => Err(invalid(
                "it must be a country code, two check digits and up to 30 letters and digits",
            )),
            Err(ParseIbanError::InvalidBban(_)) => Err(invalid(
                "its length or account part does not fit the country's IBAN format",
            )),
            Err(ParseIbanError::UnknownCountry(_)) => {
                Err(invalid("its country code is not an IBAN country"))
            }
        }
    }

    /// Electronic form (`CH9400778214768302002`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Print form in groups of four (`CH94 0077 8214 7683 0200 2`).
    pub fn formatted(&self) -> String {
        group4(&self.0)
    }

    /// The two-letter country code.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// A Swiss or Liechtenstein QR-IBAN (institution id 30000–31999), which
    /// only takes QR references.
    pub fn is_qr_iban(&self) -> bool {
        matches!(self.country(), "CH" | "LI")
            && self.0.len() >= 9
            && self.0[4..9]
                .parse::<u32>()
                .is_ok_and(|iid| (30000..=31999).contains(&iid))
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
