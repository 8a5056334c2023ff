//! What verifying a signed message says: the format that verified, or why
//! the signature does not prove control of the address.

use std::fmt;

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
    /// The signature names its key (BIP-322 carries it): another key made it.
    #[error(
        "the message was signed by {signer}, not by {address}; sign it with the key of {address}"
    )]
    SignedByOther { signer: String, address: String },
    /// A recoverable signature that does not recover `address`'s key: either
    /// the message is not the one signed, or another key signed it — from
    /// the signature alone the two cannot be told apart, so `recovered` (the
    /// key a wrong message would give) is for a caller that can recognise
    /// it (one of the user's own addresses), never to be shown as the signer.
    #[error(
        "the signature does not verify for {address} with this message: check first that the message is exactly the one shown (every space, the token in brackets), then that it was signed with the key of {address}"
    )]
    NoMatch { address: String, recovered: String },
    /// The signature verifies for a slightly different text.
    #[error(
        "the signature is for the message {difference}; sign the message exactly as shown, without adding or removing a character"
    )]
    MessageDiffers { difference: String },
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
