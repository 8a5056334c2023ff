//! Output descriptors (BIP-380/381/382/386/389) for single-key payouts:
//! `pkh(KEY)`, `sh(wpkh(KEY))`, `wpkh(KEY)` and `tr(KEY)`, where KEY is one
//! extended public key, ranged (`/0/*`) or multipath (`/<0;1>/*`).
//! Everything else is refused with a reason.

use std::str::FromStr;

use miniscript::descriptor::checksum::{self, Engine};
use miniscript::descriptor::{
    Descriptor, DescriptorPublicKey, DescriptorXKey, ShInner, Wildcard, WshInner,
};

use bitcoin::bip32::{DerivationPath, Fingerprint, Xpub};

use super::error::Error;
use super::path::KeyPath;
use super::script::ScriptType;
use super::slip132::{VERSIONS, decode_extended};

/// What a payout descriptor says: the key, its script type, its origin and
/// the chains it allows (one, or two for a `<0;1>` multipath key).
#[derive(Debug, Clone)]
pub(super) struct Parts {
    pub xpub: Xpub,
    pub script_type: ScriptType,
    pub origin: Option<(Fingerprint, DerivationPath)>,
    pub chains: Vec<Vec<u32>>,
}

/// Parses a descriptor into the parts of the payout key it describes.
pub(super) fn parse(text: &str, requested: Option<ScriptType>) -> Result<Parts, Error> {
    let body = checksum::verify_checksum(text).map_err(|e| Error::DescriptorChecksum {
        reason: e.to_string(),
    })?;
    if let Some(name) = [
        "raw(",
        "addr(",
        "combo(",
        "multi(",
        "sortedmulti(",
        "rawtr(",
    ]
    .into_iter()
    .find(|name| body.starts_with(name))
    {
        return Err(unsupported(&format!("{name}…)")));
    }
    scan_keys(body)?;
    let descriptor = Descriptor::<DescriptorPublicKey>::from_str(text).map_err(|e| {
        Error::InvalidDescriptor {
            reason: e.to_string(),
        }
    })?;
    let (key, script_type) = match &descriptor {
        Descriptor::Pkh(pkh) => (pkh.as_inner(), ScriptType::P2pkh),
        Descriptor::Wpkh(wpkh) => (wpkh.as_inner(), ScriptType::P2wpkh),
        Descriptor::Sh(sh) => match sh.as_inner() {
            ShInner::Wpkh(wpkh) => (wpkh.as_inner(), ScriptType::P2shP2wpkh),
            ShInner::Wsh(wsh) => return Err(unsupported_wsh(wsh.as_inner(), "sh(wsh())")),
            ShInner::SortedMulti(_) => return Err(unsupported("multisig (sh(sortedmulti()))")),
            ShInner::Ms(_) => return Err(unsupported("a script in sh()")),
        },
        Descriptor::Tr(tr) => {
            if tr.tap_tree().is_some() {
                return Err(unsupported(
                    "taproot script paths (tr() with a script tree); use tr(KEY) with a key path only",
                ));
            }
            (tr.internal_key(), ScriptType::P2tr)
        }
        Descriptor::Wsh(wsh) => return Err(unsupported_wsh(wsh.as_inner(), "wsh()")),
        Descriptor::Bare(_) => return Err(unsupported("a bare script (pk() or raw script)")),
    };
    if let Some(given) = requested
        && given != script_type
    {
        return Err(Error::ScriptTypeConflict {
            given,
            implied: script_type,
            source_form: "descriptor",
        });
    }
    match key {
        DescriptorPublicKey::Single(_) => Err(unsupported(
            "a single public key; payouts need fresh addresses from an extended key (xpub…/0/*)",
        )),
        DescriptorPublicKey::XPub(xkey) => {
            let chains = vec![chain_of(xkey.derivation_path.as_ref(), xkey.wildcard)?];
            Ok(payout_key(xkey, chains, script_type))
        }
        DescriptorPublicKey::MultiXPub(multi) => {
            let chains = multi
                .derivation_paths
                .paths()
                .iter()
                .map(|p| chain_of(p.as_ref(), multi.wildcard))
                .collect::<Result<Vec<_>, _>>()?;
            let single = DescriptorXKey {
                origin: multi.origin.clone(),
                xkey: multi.xkey,
                derivation_path: Default::default(),
                wildcard: multi.wildcard,
            };
            Ok(payout_key(&single, chains, script_type))
        }
    }
}

fn payout_key(
    xkey: &DescriptorXKey<Xpub>,
    chains: Vec<Vec<u32>>,
    script_type: ScriptType,
) -> Parts {
    Parts {
        xpub: xkey.xkey,
        script_type,
        origin: xkey.origin.clone(),
        chains,
    }
}

fn chain_of(steps: &[bitcoin::bip32::ChildNumber], wildcard: Wildcard) -> Result<Vec<u32>, Error> {
    match wildcard {
        Wildcard::None => return Err(Error::DescriptorNotRanged),
        Wildcard::Hardened => {
            return Err(Error::HardenedStep {
                path: "*'".into(),
                step: "*'".into(),
            });
        }
        Wildcard::Unhardened => {}
    }
    steps
        .iter()
        .map(|step| match step {
            bitcoin::bip32::ChildNumber::Normal { index } => Ok(*index),
            bitcoin::bip32::ChildNumber::Hardened { index } => Err(Error::HardenedStep {
                path: steps
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                step: format!("{index}'"),
            }),
        })
        .collect()
}

fn unsupported(what: &str) -> Error {
    Error::UnsupportedDescriptor {
        what: what.to_string(),
    }
}

fn unsupported_wsh<Pk: miniscript::MiniscriptKey>(inner: &WshInner<Pk>, form: &str) -> Error {
    match inner {
        WshInner::SortedMulti(_) => unsupported(&format!("multisig ({form} with sortedmulti())")),
        WshInner::Ms(_) => unsupported(&format!("a script ({form})")),
    }
}

/// Looks at every key expression before handing the text to miniscript, to
/// refuse private keys (watch-only) and SLIP-132 keys with a precise reason.
fn scan_keys(body: &str) -> Result<(), Error> {
    for token in body.split(['(', ')', ',', '{', '}']) {
        let key = match token.rfind(']') {
            Some(end) => &token[end + 1..],
            None => token,
        };
        let key = key.split('/').next().unwrap_or(key).trim();
        if key.len() < 50 {
            continue;
        }
        if let Some(version) = VERSIONS.iter().find(|v| key.starts_with(v.prefix)) {
            if version.private {
                return Err(Error::PrivateKey {
                    kind: version.prefix,
                });
            }
            if version.script_type.is_some() {
                return Err(Error::Slip132InDescriptor {
                    prefix: version.prefix,
                });
            }
            // A plain xpub/tpub: let decode_extended name what is wrong with it
            // (checksum, BIP-32 test vector 5 cases) before miniscript does.
            decode_extended(key)?;
        } else if let Err(Error::PrivateKey { kind }) = decode_extended(key) {
            return Err(Error::PrivateKey { kind });
        }
    }
    Ok(())
}

/// Renders a ranged descriptor for one chain of a key, with its checksum.
pub(super) fn render(
    xpub: &Xpub,
    script_type: ScriptType,
    origin: Option<&(Fingerprint, DerivationPath)>,
    chain: &[u32],
) -> String {
    let origin = origin
        .map(|(fingerprint, path)| {
            if path.is_empty() {
                format!("[{fingerprint}]")
            } else {
                format!("[{fingerprint}/{path}]")
            }
        })
        .unwrap_or_default();
    let chain = KeyPath::format_chain(chain);
    let suffix = if chain.is_empty() {
        "/*".to_string()
    } else {
        format!("/{chain}/*")
    };
    let inner = format!("{origin}{xpub}{suffix}");
    let text = match script_type {
        ScriptType::P2pkh => format!("pkh({inner})"),
        ScriptType::P2shP2wpkh => format!("sh(wpkh({inner}))"),
        ScriptType::P2wpkh => format!("wpkh({inner})"),
        ScriptType::P2tr => format!("tr({inner})"),
    };
    let mut engine = Engine::new();
    match engine.input(&text) {
        Ok(()) => format!("{text}#{}", engine.checksum()),
        // Only non-descriptor characters fail, and the text is built from
        // base58, digits and punctuation.
        Err(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::PayoutKey;

    const BIP84_DESC: &str = "wpkh([73c5da0a/84'/0'/0']xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/0/*)";

    #[test]
    fn ranged_wpkh_descriptor_parses_and_renders_back() {
        let key = PayoutKey::parse(BIP84_DESC, None, None).unwrap();
        assert_eq!(key.script_type(), ScriptType::P2wpkh);
        let rendered = key.descriptor_string(&[0]);
        let (body, checksum) = rendered.split_once('#').unwrap();
        assert_eq!(body, BIP84_DESC);
        assert_eq!(checksum.len(), 8);
        // The rendered checksum is accepted by the parser.
        PayoutKey::parse(&rendered, None, None).unwrap();
    }

    #[test]
    fn non_ranged_and_multisig_are_refused() {
        let single = BIP84_DESC.replace("/0/*", "/0/5");
        assert_eq!(
            PayoutKey::parse(&single, None, None).unwrap_err(),
            Error::DescriptorNotRanged
        );
        let multi = "wsh(sortedmulti(1,03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd,0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600))";
        assert!(matches!(
            PayoutKey::parse(multi, None, None).unwrap_err(),
            Error::UnsupportedDescriptor { .. }
        ));
    }
}
