//! Address derivation along one chain: the chain key is derived once, then
//! each address costs one child derivation (plus the taproot tweak for P2TR).

use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::key::CompressedPublicKey;
use bitcoin::secp256k1::{Secp256k1, VerifyOnly};
use bitcoin::{Address, Network, ScriptBuf};

use super::error::Error;
use super::path::{HARDENED, KeyPath, child_numbers};
use super::script::ScriptType;

/// An address derived from a payout key, with the path that leads to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedAddress {
    pub path: KeyPath,
    pub address: Address,
}

impl DerivedAddress {
    /// The child index of the address on its chain (5 for `0/5`).
    pub fn index(&self) -> u32 {
        self.path.index()
    }

    pub fn script_pubkey(&self) -> ScriptBuf {
        self.address.script_pubkey()
    }
}

/// The extended key of one chain below a payout key.
#[derive(Debug, Clone)]
pub struct Chain {
    key: Xpub,
    chain: Vec<u32>,
    script_type: ScriptType,
    network: Network,
    secp: Secp256k1<VerifyOnly>,
}

impl Chain {
    /// The key of `chain` below `xpub`, for addresses of `script_type` on `network`.
    pub(super) fn new(
        xpub: &Xpub,
        script_type: ScriptType,
        network: Network,
        chain: &[u32],
    ) -> Result<Chain, Error> {
        let secp = Secp256k1::verification_only();
        let steps = child_numbers(chain)?;
        let key = xpub
            .derive_pub(&secp, &steps)
            .map_err(|e| Error::Derivation {
                path: KeyPath::format_chain(chain),
                reason: e.to_string(),
            })?;
        Ok(Chain {
            key,
            chain: chain.to_vec(),
            script_type,
            network,
            secp,
        })
    }

    /// The extended public key of the chain itself.
    pub fn extended_key(&self) -> &Xpub {
        &self.key
    }

    /// The chain steps below the payout key (`[0]` for the receive chain).
    pub fn steps(&self) -> &[u32] {
        &self.chain
    }

    /// The address at `index` on this chain: one child derivation.
    pub fn address(&self, index: u32) -> Result<DerivedAddress, Error> {
        let path = || KeyPath::on_chain(&self.chain, index);
        if index >= HARDENED {
            return Err(Error::HardenedStep {
                path: format!("{}/{index}", KeyPath::format_chain(&self.chain)),
                step: format!("{}'", index - HARDENED),
            });
        }
        let child = ChildNumber::Normal { index };
        let child_key = self
            .key
            .ckd_pub(&self.secp, child)
            .map_err(|e| Error::Derivation {
                path: path().to_string(),
                reason: e.to_string(),
            })?;
        Ok(DerivedAddress {
            path: path(),
            address: self.address_of(child_key.public_key),
        })
    }

    /// `count` consecutive addresses from `start`.
    pub fn addresses(
        &self,
        start: u32,
        count: u32,
    ) -> Result<impl Iterator<Item = Result<DerivedAddress, Error>> + '_, Error> {
        let end = start
            .checked_add(count)
            .filter(|end| *end <= HARDENED)
            .ok_or(Error::IndexOverflow { start, count })?;
        Ok((start..end).map(move |i| self.address(i)))
    }

    fn address_of(&self, public_key: bitcoin::secp256k1::PublicKey) -> Address {
        let compressed = CompressedPublicKey(public_key);
        match self.script_type {
            ScriptType::P2pkh => Address::p2pkh(compressed, self.network),
            ScriptType::P2shP2wpkh => Address::p2shwpkh(&compressed, self.network),
            ScriptType::P2wpkh => Address::p2wpkh(&compressed, self.network),
            ScriptType::P2tr => Address::p2tr(
                &self.secp,
                public_key.x_only_public_key().0,
                None,
                self.network,
            ),
        }
    }
}
