//! ISO 11649 creditor references (`RF18 GW8K 79`) and Swiss 27-digit QR
//! references.

use std::fmt;

use super::error::Error;

/// An ISO 11649 creditor reference, stored in electronic form (upper case,
/// no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditorReference(String);

impl CreditorReference {
    /// Parses a reference in electronic or print form; spaces are ignored and
    /// letters may be lower case.
    pub fn parse(text: &str) -> Result<CreditorReference, Error> {
        let invalid = |reason: &str| Error::InvalidReference {
            reference: text.trim().to_string(),
            reason: reason.to_string(),
        };
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !compact.starts_with("RF") {
            return Err(invalid("it must start with RF"));
        }
        if !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("only letters and digits are allowed"));
        }
        if compact.len() < 5 {
            return Err(invalid(
                "it needs RF, two check digits and at least one character",
            ));
        }
        if compact.len() > 25 {
            return Err(invalid("it is longer than 25 characters"));
        }
        if !compact[2..4].bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the two characters after RF must be check digits"));
        }
        let rotated = format!("{}{}", &compact[4..], &compact[..4]);
        if mod97(&rotated) != 1 {
            return Err(invalid(
                "the check digits do not match (mod 97); look for a typo",
            ));
        }
        Ok(CreditorReference(compact))
    }

    /// Makes a reference from its body (1 to 21 letters and digits).
    pub fn create(body: &str) -> Result<CreditorReference, Error> {
        let body: String = body
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if body.is_empty() || body.len() > 21 || !body.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::InvalidReference {
                reference: body,
                reason: "the body must be 1 to 21 letters and digits".into(),
            });
        }
        let check = 98 - mod97(&format!("{body}RF00"));
        CreditorReference::parse(&format!("RF{check:02}{body}"))
    }

    /// Electronic form, as it goes into the payment.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Print form in groups of four (`RF18 GW8K 79`).
    pub fn formatted(&self) -> String {
        group4(&self.0)
    }
}

impl fmt::Display for CreditorReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits into groups of four characters separated by spaces.
pub(super) fn group4(text: &str) -> String {
    text.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// ISO 7064 MOD 97-10 over letters (A=10 … Z=35) and digits.
pub(super) fn mod97(text: &str) -> u32 {
    text.chars().fold(0u32, |acc, c| {
        let value = c.to_digit(36).unwrap_or(0);
        if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        }
    })
}

/// Whether a 27-digit Swiss QR reference has a valid mod-10 recursive check digit.
pub fn qr_reference_is_valid(reference: &str) -> bool {
    const TABLE: [usize; 10] = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];
    let digits: Vec<usize> = reference
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10).map(|d| d as usize))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if digits.len() != 27 {
        return false;
    }
    let carry = digits[..26]
        .iter()
        .fold(0, |carry, d| TABLE[(carry + d) % 10]);
    (10 - carry) % 10 == digits[26]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pocket_reference_is_valid_and_groups_by_four() {
        let r = CreditorReference::parse("RF18GW8K79").unwrap();
        assert_eq!(r.formatted(), "RF18 GW8K 79");
        assert!(CreditorReference::parse("RF18GW8K78").is_err());
    }

    #[test]
    fn qr_reference_check_digit() {
        assert!(qr_reference_is_valid("210000000003139471430009017"));
        assert!(!qr_reference_is_valid("210000000003139471430009018"));
    }
}
