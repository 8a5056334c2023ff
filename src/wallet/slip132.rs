//! The serialisations of extended keys: BIP-32 xpub/tpub and the SLIP-132
//! ypub/zpub/upub/vpub that name a script type. Decodes any single-key public
//! form to a plain [`Xpub`], and refuses private and multisig forms by name.

use bitcoin::NetworkKind::{self, Main, Test};
use bitcoin::base58;
use bitcoin::bip32::Xpub;

use super::error::Error;
use super::script::ScriptType::{self, P2shP2wpkh, P2wpkh};

/// One registered extended-key serialisation (BIP-32 and SLIP-132).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Version {
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

pub(super) const VERSIONS: &[Version] = &[
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

pub(super) fn version_for(
    network: NetworkKind,
    script_type: Option<ScriptType>,
) -> &'static Version {
    VERSIONS
        .iter()
        .find(|v| !v.private && !v.multisig && v.network == network && v.script_type == script_type)
        .unwrap_or(&VERSIONS[0])
}

/// Decodes an extended public key in any single-key serialisation, checking
/// what `Xpub::decode` leaves out (BIP-32 test vector 5).
pub(super) fn decode_extended(text: &str) -> Result<(Xpub, &'static Version), Error> {
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
pub(super) fn abbreviate(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 16 {
        text.to_string()
    } else {
        format!("{}…", chars[..12].iter().collect::<String>())
    }
}
