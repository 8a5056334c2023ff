//! What can be wrong with a key, a descriptor or a derivation path.

use super::script::{NameError, ScriptType};

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
    #[error(transparent)]
    Name(#[from] NameError),
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
