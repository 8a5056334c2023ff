//! Verification of signed messages: proof that the holder of an address's
//! key signed a text. Legacy "Bitcoin Signed Message" signatures (base64, 65
//! bytes) with P2PKH headers 27–34, BIP-137 segwit headers 35–42 and
//! Electrum-style headers 31–34 for segwit; BIP-322 simple and full (see
//! `bip322`).

use std::fmt;
use std::str::FromStr;

use bitcoin::base64::Engine as _;
use bitcoin::base64::engine::general_purpose::STANDARD as BASE64;
use bitcoin::hashes::Hash as _;
use bitcoin::key::CompressedPublicKey;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::sign_message::signed_msg_hash;
use bitcoin::{Address, Network, PublicKey};

use super::ScriptType;
use super::bip322;

/// Which signature format verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFormat {
    /// Bitcoin Core's format for a P2PKH address (headers 27–34).
    Legacy,
    /// Electrum/Sparrow style: a compressed-key header (31–34) for a segwit address.
    Electrum,
    /// BIP-137 headers for segwit (35–38 P2SH-P2WPKH, 39–42 P2WPKH).
    Bip137,
    Bip322Simple,
    Bip322Full,
}

impl SignatureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureFormat::Legacy => "legacy",
            SignatureFormat::Electrum => "electrum",
            SignatureFormat::Bip137 => "bip137",
            SignatureFormat::Bip322Simple => "bip322-simple",
            SignatureFormat::Bip322Full => "bip322-full",
        }
    }
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature does not prove control of an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("`{address}` is not a bitcoin address: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("the signature is not valid base64 ({reason}); copy it again from the wallet, whole")]
    BadBase64 { reason: String },
    #[error("the signature is {len} bytes long; a legacy signature has 65 bytes")]
    WrongLength { len: usize },
    #[error("unknown signature header {header}; legacy signatures use headers 27 to 42")]
    UnknownHeader { header: u8 },
    #[error(
        "the message was signed by {signer}, not by {address}; sign it with the key of {address}"
    )]
    SignedByOther { signer: String, address: String },
    #[error(
        "header {header} is for an uncompressed key, which cannot own the segwit address {address}; \
         sign again with a wallet that uses compressed keys"
    )]
    UncompressedForSegwit { header: u8, address: String },
    #[error(
        "the signature does not match this message and address: {reason}; check that the message was copied exactly"
    )]
    Invalid { reason: String },
    #[error("unsupported: {what}")]
    Unsupported { what: String },
}

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
/// and says in which format.
pub fn verify_message(
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

pub(super) fn decode_base64(sig: &str) -> Result<Vec<u8>, VerifyError> {
    if sig.is_empty() {
        return Err(VerifyError::BadBase64 {
            reason: "the signature is empty (signature too short)".into(),
        });
    }
    BASE64.decode(sig).map_err(|e| VerifyError::BadBase64 {
        reason: e.to_string(),
    })
}

fn verify_legacy(
    address: &Address,
    message: &str,
    bytes: &[u8],
) -> Result<SignatureFormat, VerifyError> {
    let header = bytes[0];
    if !(27..=42).contains(&header) {
        return Err(VerifyError::UnknownHeader { header });
    }
    let compressed = header >= 31;
    let recovery =
        RecoveryId::from_i32(i32::from((header - 27) & 3)).map_err(|e| VerifyError::Invalid {
            reason: e.to_string(),
        })?;
    let signature = RecoverableSignature::from_compact(&bytes[1..65], recovery).map_err(|e| {
        VerifyError::Invalid {
            reason: format!("malformed signature ({e})"),
        }
    })?;
    let hash = signed_msg_hash(message);
    let msg = bitcoin::secp256k1::Message::from_digest(hash.to_byte_array());
    let secp = Secp256k1::verification_only();
    let recovered = secp
        .recover_ecdsa(&msg, &signature)
        .map_err(|_| VerifyError::Invalid {
            reason: "no public key can be recovered from it".into(),
        })?;
    let network = network_of(address);
    let script_type = ScriptType::of_address(address).ok_or_else(|| VerifyError::Unsupported {
        what: format!(
            "legacy signatures for {address}; only P2PKH, P2SH-P2WPKH and P2WPKH addresses can be checked this way"
        ),
    })?;
    let signer = match script_type {
        ScriptType::P2pkh => {
            let key = PublicKey {
                inner: recovered,
                compressed,
            };
            Address::p2pkh(key, network)
        }
        ScriptType::P2shP2wpkh | ScriptType::P2wpkh => {
            if !compressed {
                return Err(VerifyError::UncompressedForSegwit {
                    header,
                    address: address.to_string(),
                });
            }
            let key = CompressedPublicKey(recovered);
            if script_type == ScriptType::P2wpkh {
                Address::p2wpkh(&key, network)
            } else {
                Address::p2shwpkh(&key, network)
            }
        }
        ScriptType::P2tr => {
            return Err(VerifyError::Unsupported {
                what: format!(
                    "a legacy signature for the taproot address {address}; taproot addresses are signed with BIP-322"
                ),
            });
        }
    };
    if signer.script_pubkey() != address.script_pubkey() {
        return Err(VerifyError::SignedByOther {
            signer: signer.to_string(),
            address: address.to_string(),
        });
    }
    Ok(match (script_type, header) {
        (ScriptType::P2pkh, _) => SignatureFormat::Legacy,
        (_, 35..=42) => SignatureFormat::Bip137,
        _ => SignatureFormat::Electrum,
    })
}

/// The network an address is written for, to render a signer's address
/// the same way.
pub(super) fn network_of(address: &Address) -> Network {
    [Network::Bitcoin, Network::Regtest, Network::Testnet]
        .into_iter()
        .find(|n| address.as_unchecked().is_valid_for_network(*n))
        .unwrap_or(Network::Bitcoin)
}
