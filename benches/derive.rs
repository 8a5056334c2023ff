//! Address derivation throughput: 100,000 P2WPKH addresses from a zpub
//! (one child derivation each, the chain key derived once), next to a
//! baseline of 100,000 raw secp256k1 public-key tweak-additions — the
//! elliptic-curve core of each child derivation.
//!
//! Run with `cargo bench --bench derive`; divan reports items per second.
#![allow(clippy::unwrap_used)]

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{PublicKey, Scalar, Secp256k1};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use pocket_dca::wallet::PayoutKey;

const COUNT: u32 = 100_000;
const BIP84_ZPUB: &str = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn derive_p2wpkh_addresses(bencher: Bencher) {
    let key = PayoutKey::parse(BIP84_ZPUB, None, None).unwrap();
    let chain = key.chain(&[0]).unwrap();
    bencher.counter(ItemsCount::new(COUNT)).bench(|| {
        for derived in chain.addresses(0, COUNT).unwrap() {
            black_box(derived.unwrap().address);
        }
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn derive_and_format_p2wpkh_addresses(bencher: Bencher) {
    let key = PayoutKey::parse(BIP84_ZPUB, None, None).unwrap();
    let chain = key.chain(&[0]).unwrap();
    bencher.counter(ItemsCount::new(COUNT)).bench(|| {
        for derived in chain.addresses(0, COUNT).unwrap() {
            black_box(derived.unwrap().address.to_string());
        }
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn baseline_secp256k1_tweak_add(bencher: Bencher) {
    let secp = Secp256k1::verification_only();
    let key = PayoutKey::parse(BIP84_ZPUB, None, None).unwrap();
    let point: PublicKey = key.xpub().public_key;
    // Full-width tweaks, as HMAC-SHA512 gives them: a small scalar would let
    // the multiplication skip most of its work and flatter the baseline.
    let tweaks: Vec<Scalar> = (1..=COUNT)
        .map(|i| {
            Scalar::from_be_bytes(sha256::Hash::hash(&i.to_be_bytes()).to_byte_array()).unwrap()
        })
        .collect();
    bencher.counter(ItemsCount::new(COUNT)).bench(|| {
        for tweak in &tweaks {
            black_box(point.add_exp_tweak(&secp, tweak).unwrap());
        }
    });
}
