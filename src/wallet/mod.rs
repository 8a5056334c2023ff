//! Watch-only keys: parsing extended public keys (xpub/ypub/zpub/tpub/upub/vpub)
//! and output descriptors, deriving payout addresses, and verifying signed
//! messages (legacy, BIP-137, Electrum-style and BIP-322).
//!
//! No I/O happens here, and no private key is ever accepted as input: the
//! signing helpers in [`sign`] exist for the demo and for tests only, and take
//! keys that live in memory.

pub mod bip322;
mod derive;
mod descriptor;
mod extended;
mod message;
mod path;
pub mod sign;

use std::fmt;
use std::str::FromStr;

pub use bitcoin::{Address, Network};
pub use derive::{Chain, DerivedAddress};
pub use extended::{KeyForm, PayoutKey};
pub use message::{SignatureFormat, VerifyError, parse_address, verify_message};
pub use path::KeyPath;

/// The script type of the payout addresses, which Pocket reads from the
/// signed `bitcoin_address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptType {
    /// Legacy pay-to-pubkey-hash (`1…`, BIP-44).
    P2pkh,
    /// Nested segwit (`3…`, BIP-49).
    P2shP2wpkh,
    /// Native segwit v0 (`bc1q…`, BIP-84).
    P2wpkh,
    /// Taproot key path (`bc1p…`, BIP-86).
    P2tr,
}

impl ScriptType {
    /// All supported script types, in the order the CLI lists them.
    pub const ALL: [ScriptType; 4] = [
        ScriptType::P2pkh,
        ScriptType::P2shP2wpkh,
        ScriptType::P2wpkh,
        ScriptType::P2tr,
    ];

    /// The name used on the command line, in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptType::P2pkh => "p2pkh",
            ScriptType::P2shP2wpkh => "p2sh-p2wpkh",
            ScriptType::P2wpkh => "p2wpkh",
            ScriptType::P2tr => "p2tr",
        }
    }

    /// The descriptor function that produces this script type.
    pub fn descriptor_function(self) -> &'static str {
        match self {
            ScriptType::P2pkh => "pkh",
            ScriptType::P2shP2wpkh => "sh(wpkh",
            ScriptType::P2wpkh => "wpkh",
            ScriptType::P2tr => "tr",
        }
    }

    /// The script type of an address, when it is one a payout can go to.
    pub fn of_address(address: &Address) -> Option<ScriptType> {
        use bitcoin::AddressType;
        match address.address_type()? {
            AddressType::P2pkh => Some(ScriptType::P2pkh),
            // A P2SH address could wrap anything; P2SH-P2WPKH is the only
            // single-key form wallets use for it.
            AddressType::P2sh => Some(ScriptType::P2shP2wpkh),
            AddressType::P2wpkh => Some(ScriptType::P2wpkh),
            AddressType::P2tr => Some(ScriptType::P2tr),
            _ => None,
        }
    }
}

impl serde::Serialize for ScriptType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for ScriptType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScriptType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ScriptType::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| Error::InvalidScriptType(s.to_string()))
    }
}

/// Parses a network name as the config and `--network` flags spell it.
pub fn parse_network(s: &str) -> Result<Network, Error> {
    match s.trim().to_ascii_lowercase().as_str() {
        "bitcoin" | "mainnet" | "main" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" | "test" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        _ => Err(Error::InvalidNetwork(s.to_string())),
    }
}

/// The name of a network as the config spells it.
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "bitcoin",
        Network::Testnet => "testnet",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

/// What can be wrong with a key, a descriptor or a derivation path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("no key given: pass an extended public key (xpub/ypub/zpub…) or an output descriptor")]
    Empty,
    #[error(
        "this is a private key ({kind}); pocket-dca is watch-only and never takes a private key: \
         export the account's extended public key (xpub/ypub/zpub) or a descriptor with it from your wallet instead"
    )]
    PrivateKey { kind: &'static str },
    #[error(
        "`{input}` is not an extended public key or output descriptor ({reason}); \
         copy the account xpub/ypub/zpub or descriptor from your wallet"
    )]
    NotAKey { input: String, reason: String },
    #[error(
        "the extended key has an invalid base58 checksum; it was mistyped or truncated: copy it again"
    )]
    BadChecksum,
    #[error(
        "the extended key has unknown version bytes {version}; expected xpub, ypub, zpub, tpub, upub or vpub"
    )]
    UnknownVersion { version: String },
    #[error("{prefix} is a multisig key (SLIP-132); only single-key payouts are supported")]
    MultisigKey { prefix: &'static str },
    #[error("invalid extended public key: {reason}")]
    InvalidExtendedKey { reason: String },
    #[error(
        "the key is for {key_network} but the configured network is {expected}; \
         use a key of the {expected} network or set [bitcoin] network"
    )]
    NetworkMismatch {
        key_network: &'static str,
        expected: &'static str,
    },
    #[error(
        "the {source_form} fixes the script type {implied}, but {given} was asked for; drop --script-type or use a matching key"
    )]
    ScriptTypeConflict {
        given: ScriptType,
        implied: ScriptType,
        source_form: &'static str,
    },
    #[error("invalid script type `{0}`; expected p2pkh, p2sh-p2wpkh, p2wpkh or p2tr")]
    InvalidScriptType(String),
    #[error("invalid network `{0}`; expected bitcoin, testnet, signet or regtest")]
    InvalidNetwork(String),
    #[error(
        "the descriptor checksum is wrong ({reason}): the text was changed or mistyped; copy the descriptor again"
    )]
    DescriptorChecksum { reason: String },
    #[error("invalid descriptor: {reason}")]
    InvalidDescriptor { reason: String },
    #[error(
        "unsupported descriptor: {what}; payouts need pkh(), sh(wpkh()), wpkh() or tr() with one extended public key"
    )]
    UnsupportedDescriptor { what: String },
    #[error(
        "the descriptor is not ranged: end the key with /0/* (or /<0;1>/*) so that fresh addresses can be derived"
    )]
    DescriptorNotRanged,
    #[error(
        "descriptors take the BIP-32 form xpub/tpub, not {prefix}; the script type comes from the \
         descriptor function: re-encode the key as xpub/tpub (or pass the {prefix} alone, without a descriptor)"
    )]
    Slip132InDescriptor { prefix: &'static str },
    #[error("invalid derivation path `{path}`: {reason}")]
    InvalidPath { path: String, reason: String },
    #[error(
        "derivation path `{path}` has the hardened step {step}; an extended public key can only derive \
         non-hardened children: use a path like 0/5 below the account key"
    )]
    HardenedStep { path: String, step: String },
    #[error(
        "derivation path `{path}` is not on the descriptor's chain {chains}; use a path like {example}"
    )]
    PathNotInDescriptor {
        path: String,
        chains: String,
        example: String,
    },
    #[error("deriving {count} addresses from index {start} runs past the last index 2147483647")]
    IndexOverflow { start: u32, count: u32 },
    #[error("could not derive the child key at {path}: {reason}")]
    Derivation { path: String, reason: String },
}
