//! Random bytes from the operating system's generator (through the `rand`
//! that secp256k1 brings), for session ids, keys, tokens and the sandbox's
//! ids: one place that draws them.

use bitcoin::secp256k1::rand::RngCore;

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    bitcoin::secp256k1::rand::thread_rng().fill_bytes(&mut out);
    out
}

/// `N` random bytes as lower-case hex (`2 × N` characters).
pub fn hex<const N: usize>() -> String {
    hex::encode(bytes::<N>())
}

/// `len` characters drawn from `alphabet` (a few bits of bias for an
/// alphabet that does not divide 256 evenly: fine for tokens, not for keys).
pub fn token(len: usize, alphabet: &[u8]) -> String {
    let mut raw = vec![0u8; len];
    bitcoin::secp256k1::rand::thread_rng().fill_bytes(&mut raw);
    raw.into_iter()
        .map(|b| alphabet[b as usize % alphabet.len()] as char)
        .collect()
}
