//! Webhook signatures: `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw
//! body>`, keyed with the shared secret's UTF-8 bytes. Verification runs over
//! the raw bytes, before anything is parsed, in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-signature-256";
pub const CORRELATION_HEADER: &str = "x-correlation-id";
pub const RETRY_COUNT_HEADER: &str = "x-retry-count";
/// The user agent Pocket's deliveries carry.
pub const USER_AGENT: &str = "Pocket-Webhook/1.0";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC-SHA256 takes keys of any length")
}

/// The header value for a body: `sha256=` and the lowercase hex digest.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body` under any of `secrets`
/// (several during a rotation). The `sha256=` prefix is optional; the
/// digest must be 32 bytes of hex; the comparison is constant time.
pub fn verify<S: AsRef<[u8]>>(
    secrets: impl IntoIterator<Item = S>,
    header: &str,
    body: &[u8],
) -> bool {
    let value = header.trim();
    let hex_digest = value.strip_prefix("sha256=").unwrap_or(value);
    let Ok(presented) = hex::decode(hex_digest) else {
        return false;
    };
    if presented.len() != 32 {
        return false;
    }
    let mut valid = false;
    for secret in secrets {
        let mut m = mac(secret.as_ref());
        m.update(body);
        // verify_slice compares in constant time; every secret is tried so
        // the time does not tell which one matched.
        valid |= m.verify_slice(&presented).is_ok();
    }
    valid
}
