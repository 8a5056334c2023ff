//! Script types of payout addresses and the names of networks, as the
//! config, the command line and the database spell them.

use std::fmt;
use std::str::FromStr;

use bitcoin::{Address, Network};

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
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ScriptType::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| NameError::ScriptType(s.to_string()))
    }
}

/// Parses a network name as the config and `--network` flags spell it.
pub fn parse_network(s: &str) -> Result<Network, NameError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "bitcoin" | "mainnet" | "main" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" | "test" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        _ => Err(NameError::Network(s.to_string())),
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

/// A script type or network name that is not one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("invalid script type `{0}`; expected p2pkh, p2sh-p2wpkh, p2wpkh or p2tr")]
    ScriptType(String),
    #[error("invalid network `{0}`; expected bitcoin, testnet, signet or regtest")]
    Network(String),
}
