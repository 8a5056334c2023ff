//! [`PayoutKey`]: the extended public key, script type and network that an
//! order's payout addresses derive from, read from a bare extended key in
//! any serialisation or from an output descriptor.

use bitcoin::base58;
use bitcoin::bip32::{DerivationPath, Fingerprint, Xpub};
use bitcoin::{Network, NetworkKind};

use super::derive::{Chain, DerivedAddress};
use super::descriptor;
use super::error::Error;
use super::path::KeyPath;
use super::script::{ScriptType, network_name};
use super::slip132::{decode_extended, version_for};

/// How the user gave the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyForm {
    /// A bare extended key; `prefix` is how it was serialised (xpub, zpub, …).
    Extended { prefix: &'static str },
    /// An output descriptor; `chains` are the chain prefixes its key allows
    /// (one, or two for a `<0;1>` multipath key).
    Descriptor { chains: Vec<Vec<u32>> },
}

/// The key that payout addresses derive from: an extended public key, the
/// script type of its addresses and the network they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutKey {
    xpub: Xpub,
    script_type: ScriptType,
    network: Network,
    origin: Option<(Fingerprint, DerivationPath)>,
    form: KeyForm,
}

impl PayoutKey {
    /// Parses an extended public key or a descriptor.
    ///
    /// `script_type` applies to a plain xpub/tpub (default P2PKH); a SLIP-132
    /// prefix or a descriptor fixes the type, and a different explicit one is
    /// refused. `network`, when known (from the config), must match the key;
    /// otherwise the key's own network is used (testnet for a tpub).
    pub fn parse(
        input: &str,
        script_type: Option<ScriptType>,
        network: Option<Network>,
    ) -> Result<PayoutKey, Error> {
        let text = input.trim();
        if text.is_empty() {
            return Err(Error::Empty);
        }
        let key = if text.contains('(') {
            PayoutKey::from_descriptor(descriptor::parse(text, script_type)?)
        } else {
            let (xpub, version) = decode_extended(text)?;
            let resolved = match (version.script_type, script_type) {
                (Some(implied), Some(given)) if implied != given => {
                    return Err(Error::ScriptTypeConflict {
                        given,
                        implied,
                        source_form: version.prefix,
                    });
                }
                (Some(implied), _) => implied,
                (None, given) => given.unwrap_or(ScriptType::P2pkh),
            };
            PayoutKey {
                xpub,
                script_type: resolved,
                network: default_network(xpub.network),
                origin: None,
                form: KeyForm::Extended {
                    prefix: version.prefix,
                },
            }
        };
        key.on_network(network)
    }

    fn from_descriptor(parts: descriptor::Parts) -> PayoutKey {
        PayoutKey {
            xpub: parts.xpub,
            script_type: parts.script_type,
            network: default_network(parts.xpub.network),
            origin: parts.origin,
            form: KeyForm::Descriptor {
                chains: parts.chains,
            },
        }
    }

    fn on_network(mut self, network: Option<Network>) -> Result<PayoutKey, Error> {
        if let Some(network) = network {
            if NetworkKind::from(network) != self.xpub.network {
                return Err(Error::NetworkMismatch {
                    key_network: match self.xpub.network {
                        NetworkKind::Main => "mainnet (xpub/ypub/zpub)",
                        NetworkKind::Test => "a test network (tpub/upub/vpub)",
                    },
                    expected: network_name(network),
                });
            }
            self.network = network;
        }
        Ok(self)
    }

    /// The same key read as another script type: to recognise the key's
    /// other addresses (a payout sent where it should not go).
    pub fn with_script_type(&self, script_type: ScriptType) -> PayoutKey {
        PayoutKey {
            script_type,
            ..self.clone()
        }
    }

    /// The extended public key in plain BIP-32 form.
    pub fn xpub(&self) -> &Xpub {
        &self.xpub
    }

    pub fn script_type(&self) -> ScriptType {
        self.script_type
    }

    pub fn network(&self) -> Network {
        self.network
    }

    pub fn form(&self) -> &KeyForm {
        &self.form
    }

    /// Key origin (master fingerprint and account path), when a descriptor gave one.
    pub fn origin(&self) -> Option<&(Fingerprint, DerivationPath)> {
        self.origin.as_ref()
    }

    /// The key in plain BIP-32 form (`xpub…`/`tpub…`).
    pub fn plain_string(&self) -> String {
        self.xpub.to_string()
    }

    /// The key in the serialisation that names its script type: zpub for
    /// P2WPKH, ypub for P2SH-P2WPKH, xpub for P2PKH (and vpub/upub/tpub on
    /// test networks). P2TR has no SLIP-132 prefix: plain xpub/tpub.
    pub fn slip132_string(&self) -> String {
        let implied = match self.script_type {
            ScriptType::P2shP2wpkh | ScriptType::P2wpkh => Some(self.script_type),
            ScriptType::P2pkh | ScriptType::P2tr => None,
        };
        let mut data = self.xpub.encode();
        data[0..4].copy_from_slice(&version_for(self.xpub.network, implied).bytes);
        base58::encode_check(&data)
    }

    /// A descriptor for the receive chain, for importing into a wallet
    /// (`wpkh([fp/84'/0'/0']xpub…/0/*)#checksum`).
    pub fn descriptor_string(&self, chain: &[u32]) -> String {
        descriptor::render(&self.xpub, self.script_type, self.origin.as_ref(), chain)
    }

    /// The path used when none is given: index 0 of the first chain
    /// (`0/0` for a bare extended key).
    pub fn default_path(&self) -> KeyPath {
        let chain = match &self.form {
            KeyForm::Extended { .. } => vec![0],
            KeyForm::Descriptor { chains } => chains.first().cloned().unwrap_or_default(),
        };
        KeyPath::on_chain(&chain, 0)
    }

    /// Parses a path below the key. For a descriptor the path must lie on one
    /// of its chains (`0/5` for `…/0/*`).
    pub fn parse_path(&self, text: &str) -> Result<KeyPath, Error> {
        let path: KeyPath = text.parse()?;
        self.check_path(&path)?;
        Ok(path)
    }

    /// Checks that a path lies on one of the key's chains.
    pub fn check_path(&self, path: &KeyPath) -> Result<(), Error> {
        if let KeyForm::Descriptor { chains } = &self.form
            && !chains.iter().any(|c| c.as_slice() == path.chain())
        {
            let shown: Vec<String> = chains
                .iter()
                .map(|c| {
                    let p = KeyPath::format_chain(c);
                    if p.is_empty() {
                        "*".into()
                    } else {
                        format!("{p}/*")
                    }
                })
                .collect();
            let first = chains.first().cloned().unwrap_or_default();
            let example = if first.is_empty() {
                "5".to_string()
            } else {
                format!("{}/5", KeyPath::format_chain(&first))
            };
            return Err(Error::PathNotInDescriptor {
                path: path.to_string(),
                chains: shown.join(" or "),
                example,
            });
        }
        Ok(())
    }

    /// Derives the key of one chain, once, for deriving a run of addresses
    /// with one child derivation each.
    pub fn chain(&self, chain: &[u32]) -> Result<Chain, Error> {
        Chain::new(&self.xpub, self.script_type, self.network, chain)
    }

    /// The address at one path.
    pub fn address_at(&self, path: &KeyPath) -> Result<DerivedAddress, Error> {
        self.check_path(path)?;
        self.chain(path.chain())?.address(path.index())
    }
}

fn default_network(kind: NetworkKind) -> Network {
    match kind {
        NetworkKind::Main => Network::Bitcoin,
        NetworkKind::Test => Network::Testnet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIP84_ZPUB: &str = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

    #[test]
    fn slip132_prefix_fixes_the_script_type_and_round_trips() {
        let key = PayoutKey::parse(BIP84_ZPUB, None, None).unwrap();
        assert_eq!(key.script_type(), ScriptType::P2wpkh);
        assert_eq!(key.network(), Network::Bitcoin);
        assert_eq!(key.slip132_string(), BIP84_ZPUB);
        assert!(key.plain_string().starts_with("xpub"));
        let err = PayoutKey::parse(BIP84_ZPUB, Some(ScriptType::P2pkh), None).unwrap_err();
        assert!(matches!(err, Error::ScriptTypeConflict { .. }));
    }

    #[test]
    fn wrong_network_is_refused_naming_both() {
        let err = PayoutKey::parse(BIP84_ZPUB, None, Some(Network::Testnet)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mainnet") && text.contains("testnet"),
            "{text}"
        );
    }

    #[test]
    fn wif_is_refused_as_private() {
        let err = PayoutKey::parse(
            "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1",
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(err, Error::PrivateKey { kind: "WIF" });
    }
}
