//! Verification of signed messages: proof that the holder of an address's
//! key signed a text. Legacy signatures (see `legacy`) and BIP-322 simple
//! and full (see `bip322`); this file reads which one a signature is.

pub mod bip322;
mod error;
mod legacy;
pub mod lightning;

use std::str::FromStr;

use bitcoin::Address;

pub use error::{SignatureFormat, VerifyError};
use legacy::{decode_base64, verify_legacy};

/// Parses an address of any network; the network is not part of what a
/// signature proves.
pub fn parse_address(text: &str) -> Result<Address, VerifyError> {
    let trimmed = text.trim();
    Address::from_str(trimmed)
        .map(|a| a.assume_checked())
        .map_err(|e| VerifyError::InvalidAddress {
            address: trimmed.to_string(),
            reason: e.to_string(),
        })
}

/// Verifies that `signature` over `message` was made by the key of `address`,
/// and says in which format. When it does not verify, the likely cause comes
/// first: if the signature fits the message with a space or a line break
/// more or less, the error says so.
pub fn verify_message(
    address: &Address,
    message: &str,
    signature: &str,
) -> Result<SignatureFormat, VerifyError> {
    let err = match verify_exact(address, message, signature) {
        Ok(format) => return Ok(format),
        Err(err) => err,
    };
    if matches!(
        err,
        VerifyError::NoMatch { .. } | VerifyError::Invalid { .. }
    ) {
        for (variant, difference) in variants(message) {
            if verify_exact(address, &variant, signature).is_ok() {
                return Err(VerifyError::MessageDiffers {
                    difference: difference.to_string(),
                });
            }
        }
    }
    Err(err)
}

/// The texts a wallet or a copy and paste commonly sign instead of the
/// message shown, each with how it differs.
fn variants(message: &str) -> Vec<(String, &'static str)> {
    let mut out = vec![
        (format!("{message} "), "with a space at the end"),
        (format!("{message}\n"), "with a line break at the end"),
        (
            format!("{message}\r\n"),
            "with a line break (CR LF) at the end",
        ),
        (format!(" {message}"), "with a space at the start"),
        (
            message.trim_end().to_string(),
            "without the space at the end",
        ),
        (
            message.trim_start().to_string(),
            "without the space at the start",
        ),
        (message.trim().to_string(), "without the spaces around it"),
        (
            message.split_whitespace().collect::<Vec<_>>().join(" "),
            "with its spaces changed",
        ),
    ];
    let mut seen = std::collections::HashSet::from([message.to_string()]);
    out.retain(|(variant, _)| seen.insert(variant.clone()));
    out
}

fn verify_exact(
    address: &Address,
    message: &str,
    signature: &str,
) -> Result<SignatureFormat, VerifyError> {
    let sig = signature.trim();
    if let Some(rest) = sig.strip_prefix("smp") {
        return bip322::verify_simple(address, message.as_bytes(), rest);
    }
    if let Some(rest) = sig.strip_prefix("ful") {
        return bip322::verify_full(address, message.as_bytes(), rest);
    }
    if sig.starts_with("pof") {
        return Err(VerifyError::Unsupported {
            what: "BIP-322 proof-of-funds signatures; sign with the simple or full format".into(),
        });
    }
    let bytes = decode_base64(sig)?;
    if bytes.len() == 65 {
        verify_legacy(address, message, &bytes)
    } else if is_witness_length(&bytes) {
        // An unprefixed BIP-322 signature is the simple format.
        bip322::verify_simple(address, message.as_bytes(), sig)
    } else {
        Err(VerifyError::WrongLength { len: bytes.len() })
    }
}

/// Whether the bytes could be a consensus-encoded witness stack (BIP-322
/// simple) rather than a mangled 65-byte legacy signature.
fn is_witness_length(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(1..=16)) && bytes.len() > 2
}
