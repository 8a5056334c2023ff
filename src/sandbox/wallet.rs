//! The demo's hot wallet: signing with keys held in memory — for
//! `pocket-dca demo`, the sandbox and the tests only. It lives in the
//! sandbox, not in `wallet`, so that the tool's own key room stays
//! watch-only: nothing here reads a private key from the user, the config or
//! the database, and [`HotWallet`] never prints one.

use std::fmt;

use bitcoin::bip32::{ChildNumber, DerivationPath, Xpriv, Xpub};
use bitcoin::hashes::Hash as _;
use bitcoin::key::{CompressedPublicKey, Keypair, TapTweak};
use bitcoin::secp256k1::{All, Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::sign_message::{MessageSignature, signed_msg_hash};
use bitcoin::{Address, Amount, Network, NetworkKind};

use crate::wallet::bip322::{to_sign, to_spend, witness_of};
use crate::wallet::{KeyPath, PayoutKey, ScriptType};

/// Header style of a legacy signature for a segwit address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyStyle {
    /// Headers 31–34 for every compressed-key address (Electrum, Sparrow).
    Electrum,
    /// BIP-137 headers: 35–38 for P2SH-P2WPKH, 39–42 for P2WPKH.
    Bip137,
}

/// Why signing failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error("a legacy signature cannot prove a taproot address; use BIP-322")]
    LegacyForTaproot,
    #[error("BIP-322 simple signing supports P2WPKH and P2TR addresses, not {0}")]
    Unsupported(String),
    #[error("the key does not belong to {0}")]
    WrongKey(String),
    #[error("signing failed: {0}")]
    Failed(String),
}

/// A legacy (Bitcoin Core / Electrum / BIP-137) signature, base64.
pub fn sign_legacy(
    secret: &SecretKey,
    script_type: ScriptType,
    message: &str,
    style: LegacyStyle,
) -> Result<String, SignError> {
    let secp = Secp256k1::signing_only();
    let hash = signed_msg_hash(message);
    let msg = Message::from_digest(hash.to_byte_array());
    let signature = secp.sign_ecdsa_recoverable(&msg, secret);
    let mut bytes = MessageSignature::new(signature, true).serialize();
    match (script_type, style) {
        (ScriptType::P2tr, _) => return Err(SignError::LegacyForTaproot),
        (ScriptType::P2shP2wpkh, LegacyStyle::Bip137) => bytes[0] += 4,
        (ScriptType::P2wpkh, LegacyStyle::Bip137) => bytes[0] += 8,
        _ => {}
    }
    Ok(bitcoin::base64::Engine::encode(
        &bitcoin::base64::engine::general_purpose::STANDARD,
        bytes,
    ))
}

/// A lightning node's signature of `message`, as LND's `signmessage` writes
/// it (zbase32 of a recoverable signature over the double SHA-256 of
/// `"Lightning Signed Message:" + message`).
pub fn sign_node_message(secret: &SecretKey, message: &str) -> String {
    let digest = crate::wallet::message::lightning::digest(message);
    let signature =
        Secp256k1::signing_only().sign_ecdsa_recoverable(&Message::from_digest(digest), secret);
    let (id, compact) = signature.serialize_compact();
    let mut bytes = vec![31 + id.to_i32() as u8];
    bytes.extend_from_slice(&compact);
    crate::wallet::message::lightning::zbase32_encode(&bytes)
}

/// A BIP-322 simple signature (unprefixed base64 witness) for a P2WPKH or
/// P2TR (key path, BIP-86 tweak) address of `secret`.
pub fn sign_bip322_simple(
    secret: &SecretKey,
    address: &Address,
    message: &str,
) -> Result<String, SignError> {
    let secp = Secp256k1::new();
    let spk = address.script_pubkey();
    let spend = to_spend(&spk, message.as_bytes());
    let mut tx = to_sign(&spend, bitcoin::Witness::new());
    let failed = |e: &dyn fmt::Display| SignError::Failed(e.to_string());
    let witness = if spk.is_p2wpkh() {
        let key = CompressedPublicKey::from_private_key(
            &secp,
            &bitcoin::PrivateKey::new(*secret, NetworkKind::Main),
        )
        .map_err(|e| failed(&e))?;
        if key.wpubkey_hash().as_byte_array() != &spk.as_bytes()[2..22] {
            return Err(SignError::WrongKey(address.to_string()));
        }
        let sighash = SighashCache::new(&tx)
            .p2wpkh_signature_hash(0, &spk, Amount::ZERO, EcdsaSighashType::All)
            .map_err(|e| failed(&e))?;
        let signature = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), secret);
        let sig = bitcoin::ecdsa::Signature::sighash_all(signature).to_vec();
        witness_of(&[&sig, &key.to_bytes()])
    } else if spk.is_p2tr() {
        let keypair = Keypair::from_secret_key(&secp, secret);
        let tweaked = keypair.tap_tweak(&secp, None);
        let (output_key, _) = tweaked.to_keypair().x_only_public_key();
        if output_key.serialize() != spk.as_bytes()[2..34] {
            return Err(SignError::WrongKey(address.to_string()));
        }
        let prevouts = [spend.output[0].clone()];
        let sighash = SighashCache::new(&tx)
            .taproot_key_spend_signature_hash(0, &Prevouts::All(&prevouts), TapSighashType::Default)
            .map_err(|e| failed(&e))?;
        let sig = secp.sign_schnorr_no_aux_rand(
            &Message::from_digest(sighash.to_byte_array()),
            &tweaked.to_keypair(),
        );
        witness_of(&[sig.as_ref()])
    } else {
        return Err(SignError::Unsupported(address.to_string()));
    };
    tx.input[0].witness = witness;
    Ok(bitcoin::base64::Engine::encode(
        &bitcoin::base64::engine::general_purpose::STANDARD,
        bitcoin::consensus::serialize(&tx.input[0].witness),
    ))
}

/// A software wallet held in memory: the demo's wallet, and the tests' own
/// keys. Its `Debug` output never shows key material.
pub struct HotWallet {
    master: Xpriv,
    network: Network,
    secp: Secp256k1<All>,
}

impl fmt::Debug for HotWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotWallet")
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl HotWallet {
    /// A wallet from a BIP-32 seed (16–64 bytes).
    pub fn from_seed(seed: &[u8], network: Network) -> Result<HotWallet, SignError> {
        let master =
            Xpriv::new_master(network, seed).map_err(|e| SignError::Failed(e.to_string()))?;
        Ok(HotWallet {
            master,
            network,
            secp: Secp256k1::new(),
        })
    }

    /// A fresh wallet with a random 32-byte seed that exists only in memory.
    pub fn generate(network: Network) -> HotWallet {
        // A seed fails only when its HMAC is zero or above the curve order
        // (probability below 2^-127): then draw another.
        let master = loop {
            let mut seed = crate::random::bytes::<32>();
            let master = Xpriv::new_master(network, &seed);
            seed.fill(0);
            if let Ok(master) = master {
                break master;
            }
        };
        HotWallet {
            master,
            network,
            secp: Secp256k1::new(),
        }
    }

    pub fn network(&self) -> Network {
        self.network
    }

    /// The BIP-44/49/84/86 account path (`m/84'/1'/0'` for P2WPKH on a test network).
    pub fn account_path(&self, script_type: ScriptType) -> DerivationPath {
        let purpose = match script_type {
            ScriptType::P2pkh => 44,
            ScriptType::P2shP2wpkh => 49,
            ScriptType::P2wpkh => 84,
            ScriptType::P2tr => 86,
        };
        let coin = if self.network == Network::Bitcoin {
            0
        } else {
            1
        };
        [purpose, coin, 0]
            .into_iter()
            .map(|i| ChildNumber::Hardened { index: i })
            .collect::<Vec<_>>()
            .into()
    }

    fn account_xpriv(&self, script_type: ScriptType) -> Result<Xpriv, SignError> {
        self.master
            .derive_priv(&self.secp, &self.account_path(script_type))
            .map_err(|e| SignError::Failed(e.to_string()))
    }

    /// The account's extended public key.
    pub fn account_xpub(&self, script_type: ScriptType) -> Result<Xpub, SignError> {
        Ok(Xpub::from_priv(
            &self.secp,
            &self.account_xpriv(script_type)?,
        ))
    }

    /// The account as a ranged descriptor with origin, as a wallet exports it.
    pub fn account_descriptor(&self, script_type: ScriptType) -> Result<String, SignError> {
        let xpub = self.account_xpub(script_type)?;
        let text = format!(
            "{}([{}/{}]{xpub}/0/*){}",
            script_type.descriptor_function(),
            self.master.fingerprint(&self.secp),
            self.account_path(script_type),
            if script_type == ScriptType::P2shP2wpkh {
                ")"
            } else {
                ""
            }
        );
        // Round-trip through the parser to add the checksum.
        let key = PayoutKey::parse(&text, None, Some(self.network))
            .map_err(|e| SignError::Failed(e.to_string()))?;
        Ok(key.descriptor_string(&[0]))
    }

    /// The secret key of the address at `path` below the account.
    pub fn secret_key(
        &self,
        script_type: ScriptType,
        path: &KeyPath,
    ) -> Result<SecretKey, SignError> {
        let steps: Vec<ChildNumber> = path
            .chain()
            .iter()
            .chain(std::iter::once(&path.index()))
            .map(|&i| ChildNumber::Normal { index: i })
            .collect();
        let child = self
            .account_xpriv(script_type)?
            .derive_priv(&self.secp, &steps)
            .map_err(|e| SignError::Failed(e.to_string()))?;
        Ok(child.private_key)
    }

    /// Signs `message` for the address at `path` the way a wallet would:
    /// Electrum-style legacy for P2PKH and (nested) segwit v0, BIP-322
    /// simple for taproot.
    pub fn sign(
        &self,
        script_type: ScriptType,
        path: &KeyPath,
        message: &str,
    ) -> Result<String, SignError> {
        let secret = self.secret_key(script_type, path)?;
        match script_type {
            ScriptType::P2tr => {
                let key = PayoutKey::parse(
                    &self.account_descriptor(script_type)?,
                    None,
                    Some(self.network),
                )
                .map_err(|e| SignError::Failed(e.to_string()))?;
                let address = key
                    .address_at(path)
                    .map_err(|e| SignError::Failed(e.to_string()))?
                    .address;
                sign_bip322_simple(&secret, &address, message)
            }
            _ => sign_legacy(&secret, script_type, message, LegacyStyle::Electrum),
        }
    }
}
