//! Legacy "Bitcoin Signed Message" signatures: base64, 65 bytes, with P2PKH
//! headers 27–34, BIP-137 segwit headers 35–42, and Electrum-style headers
//! 31–34 for segwit addresses.

use bitcoin::base64::Engine as _;
use bitcoin::base64::engine::general_purpose::STANDARD as BASE64;
use bitcoin::hashes::Hash as _;
use bitcoin::key::CompressedPublicKey;
use bitcoin::secp256k1::Secp256k1;
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::sign_message::signed_msg_hash;
use bitcoin::{Address, Network, PublicKey};

use super::error::{SignatureFormat, VerifyError};
use crate::wallet::script::ScriptType;

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

pub(super) fn verify_legacy(
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
        return Err(VerifyError::NoMatch {
            address: address.to_string(),
            recovered: signer.to_string(),
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
