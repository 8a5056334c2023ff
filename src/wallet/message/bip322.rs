//! BIP-322 generic signed messages for the single-key address types a payout
//! can go to: P2WPKH and P2TR (key path) in the simple and full formats,
//! P2PKH and P2SH-P2WPKH in the full format. Multisig, P2WSH, script paths
//! and proof-of-funds are refused as unsupported.
//!
//! The virtual `to_spend` transaction commits to the message and the
//! address's script; the signature is the witness (simple) or the whole
//! `to_sign` transaction (full) spending it, checked with the ordinary
//! signature hash of its script type.

use bitcoin::consensus::deserialize;
use bitcoin::hashes::{Hash, HashEngine, hash160, sha256};
use bitcoin::key::CompressedPublicKey;
use bitcoin::opcodes::OP_0;
use bitcoin::opcodes::all::OP_RETURN;
use bitcoin::script::{Builder, Instruction};
use bitcoin::secp256k1::{Message, Secp256k1, VerifyOnly, XOnlyPublicKey};
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, OutPoint, PublicKey, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut,
    Txid, Witness, absolute::LockTime,
};

use super::error::{SignatureFormat, VerifyError};
use super::legacy::{decode_base64, network_of};
use crate::wallet::script::ScriptType;

const TAG: &[u8] = b"BIP0322-signed-message";

/// The tagged hash of the message that `to_spend` commits to.
pub fn message_hash(message: &[u8]) -> [u8; 32] {
    let tag = sha256::Hash::hash(TAG);
    let mut engine = sha256::Hash::engine();
    engine.input(tag.as_ref());
    engine.input(tag.as_ref());
    engine.input(message);
    sha256::Hash::from_engine(engine).to_byte_array()
}

/// The virtual transaction whose only output the signature spends.
pub fn to_spend(script_pubkey: &Script, message: &[u8]) -> Transaction {
    let script_sig = Builder::new()
        .push_opcode(OP_0)
        .push_slice(message_hash(message))
        .into_script();
    Transaction {
        version: Version(0),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::all_zeros(),
                vout: 0xFFFF_FFFF,
            },
            script_sig,
            sequence: Sequence::ZERO,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: script_pubkey.to_owned(),
        }],
    }
}

/// The simple-format `to_sign` transaction carrying `witness`.
pub fn to_sign(to_spend: &Transaction, witness: Witness) -> Transaction {
    Transaction {
        version: Version(0),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: to_spend.compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ZERO,
            witness,
        }],
        output: vec![TxOut {
            value: Amount::ZERO,
            script_pubkey: op_return(),
        }],
    }
}

fn op_return() -> ScriptBuf {
    Builder::new().push_opcode(OP_RETURN).into_script()
}

/// Verifies a simple signature (a base64 consensus-encoded witness stack).
pub(super) fn verify_simple(
    address: &Address,
    message: &[u8],
    signature: &str,
) -> Result<SignatureFormat, VerifyError> {
    let bytes = decode_base64(signature)?;
    let witness: Witness = deserialize(&bytes).map_err(|_| VerifyError::Invalid {
        reason: "it is not a BIP-322 simple signature (its witness stack cannot be decoded)".into(),
    })?;
    let spk = address.script_pubkey();
    if spk.is_p2pkh() || spk.is_p2sh() {
        return Err(VerifyError::Unsupported {
            what: format!(
                "a BIP-322 simple signature for {address}; legacy and P2SH addresses need the legacy or the full format"
            ),
        });
    }
    let spend = to_spend(&spk, message);
    let sign = to_sign(&spend, witness);
    verify_input(&sign, &spend.output[0], address)?;
    Ok(SignatureFormat::Bip322Simple)
}

/// Verifies a full signature (a base64 consensus-encoded `to_sign` transaction).
pub(super) fn verify_full(
    address: &Address,
    message: &[u8],
    signature: &str,
) -> Result<SignatureFormat, VerifyError> {
    let bytes = decode_base64(signature)?;
    let tx: Transaction = deserialize(&bytes).map_err(|_| VerifyError::Invalid {
        reason: "it is not a BIP-322 full signature (error parsing signature as full variant)"
            .into(),
    })?;
    let spk = address.script_pubkey();
    let spend = to_spend(&spk, message);
    match tx.input.len() {
        0 => {
            return Err(VerifyError::Invalid {
                reason: "the to_sign transaction has no input".into(),
            });
        }
        1 => {}
        _ => {
            return Err(VerifyError::Unsupported {
                what: "BIP-322 proof-of-funds signatures (to_sign with several inputs)".into(),
            });
        }
    }
    let expected = OutPoint {
        txid: spend.compute_txid(),
        vout: 0,
    };
    if tx.input[0].previous_output != expected {
        return Err(VerifyError::Invalid {
            reason: "it was made for another message or address (to_sign does not spend this message's to_spend)".into(),
        });
    }
    if tx.output.len() != 1
        || tx.output[0].value != Amount::ZERO
        || tx.output[0].script_pubkey != op_return()
    {
        return Err(VerifyError::Invalid {
            reason: "to_sign must have exactly one output: zero value, OP_RETURN".into(),
        });
    }
    verify_input(&tx, &spend.output[0], address)?;
    Ok(SignatureFormat::Bip322Full)
}

/// Checks that input 0 of `tx` validly spends `prevout` for the single-key
/// script types.
fn verify_input(tx: &Transaction, prevout: &TxOut, address: &Address) -> Result<(), VerifyError> {
    let secp = Secp256k1::verification_only();
    let spk = &prevout.script_pubkey;
    let input = &tx.input[0];
    if spk.is_p2wpkh() {
        require_empty_script_sig(input)?;
        verify_p2wpkh(&secp, tx, spk, &spk.as_bytes()[2..22], address)
    } else if spk.is_p2tr() {
        require_empty_script_sig(input)?;
        verify_p2tr_key_path(&secp, tx, prevout, address)
    } else if spk.is_p2sh() {
        let pushes = pushes(&input.script_sig).ok_or_else(|| VerifyError::Invalid {
            reason: "the P2SH scriptSig must hold only pushes".into(),
        })?;
        let redeem = pushes.last().ok_or_else(|| VerifyError::Invalid {
            reason: "the P2SH scriptSig is empty: it must push the redeem script".into(),
        })?;
        if hash160::Hash::hash(redeem).as_byte_array() != &spk.as_bytes()[2..22] {
            return Err(VerifyError::Invalid {
                reason: format!("its redeem script belongs to another address than {address}"),
            });
        }
        let redeem = ScriptBuf::from_bytes(redeem.clone());
        if !redeem.is_p2wpkh() {
            return Err(VerifyError::Unsupported {
                what: "P2SH addresses other than P2SH-P2WPKH (multisig, P2SH-P2WSH)".into(),
            });
        }
        if pushes.len() != 1 {
            return Err(VerifyError::Invalid {
                reason: "a P2SH-P2WPKH scriptSig is a single push of the redeem script".into(),
            });
        }
        verify_p2wpkh(&secp, tx, &redeem, &redeem.as_bytes()[2..22], address)
    } else if spk.is_p2pkh() {
        verify_p2pkh(&secp, tx, spk, address)
    } else if spk.is_p2wsh() {
        Err(VerifyError::Unsupported {
            what: "P2WSH addresses (multisig or scripts); payouts go to single-key addresses"
                .into(),
        })
    } else {
        Err(VerifyError::Unsupported {
            what: format!("BIP-322 signatures for {address}"),
        })
    }
}

fn require_empty_script_sig(input: &TxIn) -> Result<(), VerifyError> {
    if input.script_sig.is_empty() {
        Ok(())
    } else {
        Err(VerifyError::Invalid {
            reason: "a segwit input must have an empty scriptSig".into(),
        })
    }
}

/// The data pushes of a push-only script, or `None` if it has another opcode.
fn pushes(script: &Script) -> Option<Vec<Vec<u8>>> {
    script
        .instructions()
        .map(|i| match i {
            Ok(Instruction::PushBytes(bytes)) => Some(bytes.as_bytes().to_vec()),
            _ => None,
        })
        .collect()
}

fn invalid_signature(address: &Address) -> VerifyError {
    VerifyError::Invalid {
        reason: format!(
            "invalid signature: it was not made by the key of {address} over this message"
        ),
    }
}

fn verify_p2wpkh(
    secp: &Secp256k1<VerifyOnly>,
    tx: &Transaction,
    script_code_source: &Script,
    program: &[u8],
    address: &Address,
) -> Result<(), VerifyError> {
    let witness = &tx.input[0].witness;
    if witness.len() != 2 {
        return Err(VerifyError::Invalid {
            reason: format!(
                "invalid signature: a P2WPKH witness has 2 items (signature, public key), this one has {}",
                witness.len()
            ),
        });
    }
    let (Some(sig_bytes), Some(key_bytes)) = (witness.nth(0), witness.nth(1)) else {
        return Err(invalid_signature(address));
    };
    let key = CompressedPublicKey::from_slice(key_bytes).map_err(|_| VerifyError::Invalid {
        reason: "invalid signature: the witness public key is not a compressed key".into(),
    })?;
    if key.wpubkey_hash().as_byte_array() != program {
        let network = network_of(address);
        let signer = if ScriptType::of_address(address) == Some(ScriptType::P2shP2wpkh) {
            Address::p2shwpkh(&key, network)
        } else {
            Address::p2wpkh(&key, network)
        };
        return Err(VerifyError::SignedByOther {
            signer: signer.to_string(),
            address: address.to_string(),
        });
    }
    let sig =
        bitcoin::ecdsa::Signature::from_slice(sig_bytes).map_err(|e| VerifyError::Invalid {
            reason: format!("invalid signature encoding ({e})"),
        })?;
    let sighash = SighashCache::new(tx)
        .p2wpkh_signature_hash(0, script_code_source, Amount::ZERO, sig.sighash_type)
        .map_err(|e| VerifyError::Invalid {
            reason: e.to_string(),
        })?;
    secp.verify_ecdsa(
        &Message::from_digest(sighash.to_byte_array()),
        &sig.signature,
        &key.0,
    )
    .map_err(|_| invalid_signature(address))
}

fn verify_p2tr_key_path(
    secp: &Secp256k1<VerifyOnly>,
    tx: &Transaction,
    prevout: &TxOut,
    address: &Address,
) -> Result<(), VerifyError> {
    let witness = &tx.input[0].witness;
    match witness.len() {
        1 => {}
        0 => return Err(invalid_signature(address)),
        _ => {
            return Err(VerifyError::Unsupported {
                what: "taproot script-path (or annex) signatures; sign with the key path".into(),
            });
        }
    }
    let sig_bytes = witness.nth(0).ok_or_else(|| invalid_signature(address))?;
    let sig =
        bitcoin::taproot::Signature::from_slice(sig_bytes).map_err(|e| VerifyError::Invalid {
            reason: format!("invalid schnorr signature encoding ({e})"),
        })?;
    let output_key = XOnlyPublicKey::from_slice(&prevout.script_pubkey.as_bytes()[2..34])
        .map_err(|_| invalid_signature(address))?;
    let sighash = SighashCache::new(tx)
        .taproot_key_spend_signature_hash(0, &Prevouts::All(&[prevout]), sig.sighash_type)
        .map_err(|e| VerifyError::Invalid {
            reason: e.to_string(),
        })?;
    secp.verify_schnorr(
        &sig.signature,
        &Message::from_digest(sighash.to_byte_array()),
        &output_key,
    )
    .map_err(|_| invalid_signature(address))
}

fn verify_p2pkh(
    secp: &Secp256k1<VerifyOnly>,
    tx: &Transaction,
    spk: &Script,
    address: &Address,
) -> Result<(), VerifyError> {
    let input = &tx.input[0];
    if !input.witness.is_empty() {
        return Err(VerifyError::Invalid {
            reason: "a P2PKH input has no witness".into(),
        });
    }
    let pushes = pushes(&input.script_sig).unwrap_or_default();
    let [sig_bytes, key_bytes] = pushes.as_slice() else {
        return Err(VerifyError::Invalid {
            reason: "invalid signature: a P2PKH scriptSig is <signature> <public key>".into(),
        });
    };
    let key = PublicKey::from_slice(key_bytes).map_err(|_| VerifyError::Invalid {
        reason: "invalid signature: the scriptSig public key is invalid".into(),
    })?;
    if key.pubkey_hash().as_byte_array() != &spk.as_bytes()[3..23] {
        return Err(VerifyError::SignedByOther {
            signer: Address::p2pkh(key, network_of(address)).to_string(),
            address: address.to_string(),
        });
    }
    let sig =
        bitcoin::ecdsa::Signature::from_slice(sig_bytes).map_err(|e| VerifyError::Invalid {
            reason: format!("invalid signature encoding ({e})"),
        })?;
    let sighash = SighashCache::new(tx)
        .legacy_signature_hash(0, spk, sig.sighash_type.to_u32())
        .map_err(|e| VerifyError::Invalid {
            reason: e.to_string(),
        })?;
    secp.verify_ecdsa(
        &Message::from_digest(sighash.to_byte_array()),
        &sig.signature,
        &key.inner,
    )
    .map_err(|_| invalid_signature(address))
}

/// Builds a witness stack from items (for signing).
pub fn witness_of(items: &[&[u8]]) -> Witness {
    let mut witness = Witness::new();
    for item in items {
        witness.push(item);
    }
    witness
}
