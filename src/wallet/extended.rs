//! Extended public keys in every serialisation a wallet exports (BIP-32
//! xpub/tpub and the SLIP-132 ypub/zpub/upub/vpub), and [`PayoutKey`]: the
//! key, script type and network that an order's payout addresses derive from.

use bitcoin::base58;
use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::{Network, NetworkKind};

use super::derive::Chain;
use super::path::KeyPath;
use super::{Error, ScriptType, descriptor, network_name};

/// One registered extended-key serialisation (BIP-32 and SLIP-132).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    pub bytes: [u8; 4],
    pub prefix: &'static str,
    pub network: NetworkKind,
    /// The script type the prefix implies; `None` for xpub/tpub.
    pub script_type: Option<ScriptType>,
    pub private: bool,
    pub multisig: bool,
}

const fn v(
    bytes: u32,
    prefix: &'static str,
    network: NetworkKind,
    script_type: Option<ScriptType>,
    private: bool,
    multisig: bool,
) -> Version {
    Version {
        bytes: bytes.to_be_bytes(),
        prefix,
        network,
        script_type,
        private,
        multisig,
    }
}

use NetworkKind::{Main, Test};
use ScriptType::{P2shP2wpkh, P2wpkh};

pub(crate) const VERSIONS: &[Version] = &[
    v(0x0488_b21e, "xpub", Main, None, false, false),
    v(0x0488_ade4, "xprv", Main, None, true, false),
    v(0x049d_7cb2, "ypub", Main, Some(P2shP2wpkh), false, false),
    v(0x049d_7878, "yprv", Main, Some(P2shP2wpkh), true, false),
    v(0x04b2_4746, "zpub", Main, Some(P2wpkh), false, false),
    v(0x04b2_430c, "zprv", Main, Some(P2wpkh), true, false),
    v(0x0435_87cf, "tpub", Test, None, false, false),
    v(0x0435_8394, "tprv", Test, None, true, false),
    v(0x044a_5262, "upub", Test, Some(P2shP2wpkh), false, false),
    v(0x044a_4e28, "uprv", Test, Some(P2shP2wpkh), true, false),
    v(0x045f_1cf6, "vpub", Test, Some(P2wpkh), false, false),
    v(0x045f_18bc, "vprv", Test, Some(P2wpkh), true, false),
    v(0x0295_b43f, "Ypub", Main, None, false, true),
    v(0x02aa_7ed3, "Zpub", Main, None, false, true),
    v(0x0242_89ef, "Upub", Test, None, false, true),
    v(0x0257_5483, "Vpub", Test, None, false, true),
];

fn version_for(network: NetworkKind, script_type: Option<ScriptType>) -> &'static Version {
    VERSIONS
        .iter()
        .find(|v| !v.private && !v.multisig && v.network == network && v.script_type == script_type)
        .unwrap_or(&VERSIONS[0])
}

/// Decodes an extended public key in any single-key serialisation, checking
/// what `Xpub::decode` leaves out (BIP-32 test vector 5).
pub(crate) fn decode_extended(text: &str) -> Result<(Xpub, &'static Version), Error> {
    let data = base58::decode_check(text).map_err(|e| match e {
        base58::Error::IncorrectChecksum(_) => Error::BadChecksum,
        other => Error::NotAKey {
            input: abbreviate(text),
            reason: format!("not valid base58: {other}"),
        },
    })?;
    if is_wif(&data) {
        return Err(Error::PrivateKey { kind: "WIF" });
    }
    if data.len() != 78 {
        return Err(Error::InvalidExtendedKey {
            reason: format!("it decodes to {} bytes, an extended key has 78", data.len()),
        });
    }
    let version = VERSIONS
        .iter()
        .find(|v| data[0..4] == v.bytes)
        .ok_or_else(|| Error::UnknownVersion {
            version: hex::encode(&data[0..4]),
        })?;
    if version.private {
        return Err(Error::PrivateKey {
            kind: version.prefix,
        });
    }
    if version.multisig {
        return Err(Error::MultisigKey {
            prefix: version.prefix,
        });
    }
    let depth = data[4];
    if depth == 0 && data[5..9] != [0; 4] {
        return Err(Error::InvalidExtendedKey {
            reason: "zero depth with non-zero parent fingerprint".into(),
        });
    }
    if depth == 0 && data[9..13] != [0; 4] {
        return Err(Error::InvalidExtendedKey {
            reason: "zero depth with non-zero index".into(),
        });
    }
    let key_prefix = data[45];
    if key_prefix != 0x02 && key_prefix != 0x03 {
        return Err(Error::InvalidExtendedKey {
            reason: if key_prefix == 0x00 {
                "it holds private key data under a public version (pubkey version / prvkey mismatch)"
                    .into()
            } else {
                format!("invalid pubkey prefix {key_prefix:02x}")
            },
        });
    }
    let mut plain = [0u8; 78];
    plain.copy_from_slice(&data);
    plain[0..4].copy_from_slice(&version_for(version.network, None).bytes);
    let xpub = Xpub::decode(&plain).map_err(|_| Error::InvalidExtendedKey {
        reason: format!("invalid pubkey {}", hex::encode(&data[45..78])),
    })?;
    Ok((xpub, version))
}

/// Base58check payloads of WIF private keys: a version byte and 32 key bytes,
/// plus a compression flag.
fn is_wif(data: &[u8]) -> bool {
    matches!(
        (data.len(), data.first(), data.get(33)),
        (33, Some(0x80 | 0xef), _) | (34, Some(0x80 | 0xef), Some(0x01))
    )
}

/// Shortens an input for an error message; an xpub is private data and the
/// full string must not end up in logs.
pub(crate) fn abbreviate(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 16 {
        text.to_string()
    } else {
        format!("{}…", chars[..12].iter().collect::<String>())
    }
}

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
            descriptor::parse(text, script_type)?
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

    pub(crate) fn from_descriptor_parts(
        xpub: Xpub,
        script_type: ScriptType,
        origin: Option<(Fingerprint, DerivationPath)>,
        chains: Vec<Vec<u32>>,
    ) -> PayoutKey {
        PayoutKey {
            xpub,
            script_type,
            network: default_network(xpub.network),
            origin,
            form: KeyForm::Descriptor { chains },
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
        descriptor::render(self, chain)
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
        Chain::new(self, chain)
    }

    /// The address at one path.
    pub fn address_at(&self, path: &KeyPath) -> Result<super::DerivedAddress, Error> {
        self.check_path(path)?;
        self.chain(path.chain())?.address(path.index())
    }

    pub(crate) fn child_numbers(path: &[u32]) -> Result<Vec<ChildNumber>, Error> {
        path.iter()
            .map(|&i| {
                ChildNumber::from_normal_idx(i).map_err(|e| Error::Derivation {
                    path: KeyPath::format_chain(path),
                    reason: e.to_string(),
                })
            })
            .collect()
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
