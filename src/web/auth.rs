//! Dashboard sessions: a random session id in an `HttpOnly; SameSite=Strict`
//! cookie (`Secure` when the request came over https through a trusted
//! proxy); a login with the argon2 password hash when one is configured
//! (without one the dashboard only listens on loopback and needs no login),
//! its guesses limited ([`super::limit`]); and a CSRF token — an HMAC of the
//! session id under a per-process key — on every state-changing form.
//!
//! A session exists only once logged in: the login form's CSRF token is
//! bound to a random value in a cookie of its own (a signed double submit),
//! not to a session, so no number of visits to the login page can push a
//! logged-in session out of the table. The middleware and the login pages
//! that use all this are in `session`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::WebError;
use crate::config::Secret;
use crate::random;

/// The session cookie's name.
pub const COOKIE: &str = "pdca_session";
/// The login form's cookie: the value its CSRF token is bound to.
pub const LOGIN_COOKIE: &str = "pdca_login";
/// A session unused this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept; the oldest go first.
const MAX_SESSIONS: usize = 1000;

/// A session: only logged-in ones exist (or, without a password, any
/// visitor's on loopback).
struct Entry {
    last_seen: Instant,
}

pub struct Auth {
    password_hash: Option<Secret>,
    sessions: Mutex<HashMap<String, Entry>>,
    key: [u8; 32],
    /// Reverse proxies whose forwarding headers are believed.
    trusted_proxies: Vec<IpAddr>,
    /// The login's limits, and the password checks at once.
    pub limiter: super::limit::Limiter,
    pub checks: tokio::sync::Semaphore,
    verifications: AtomicU64,
}

impl Auth {
    pub fn new(password_hash: Option<Secret>) -> Auth {
        Auth {
            password_hash,
            sessions: Mutex::default(),
            key: random::bytes(),
            trusted_proxies: Vec::new(),
            limiter: super::limit::Limiter::default(),
            checks: tokio::sync::Semaphore::new(super::limit::CONCURRENT_CHECKS),
            verifications: AtomicU64::new(0),
        }
    }

    /// Believes `X-Forwarded-For`/`-Proto` from these addresses.
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpAddr>) -> Auth {
        self.trusted_proxies = proxies;
        self
    }

    /// How many passwords were checked against the hash so far.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// The client's address and whether it came over https: the peer, or
    /// what a trusted proxy says of the client.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, bool) {
        if !self.trusted_proxies.contains(&peer) {
            return (peer, false);
        }
        let header = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect::<Vec<_>>()
        };
        // The nearest address that is not one of our proxies.
        let client = header("x-forwarded-for")
            .iter()
            .rev()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .find(|a| !self.trusted_proxies.contains(a))
            .unwrap_or(peer);
        let https = header("x-forwarded-proto")
            .last()
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        (client, https)
    }

    /// Whether a login is needed (a password hash is configured).
    pub fn password_required(&self) -> bool {
        self.password_hash.is_some()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session id the request's cookie names.
    pub fn cookie_session(headers: &HeaderMap) -> Option<String> {
        Auth::cookie_value(headers, COOKIE)
    }

    /// A 64-hex-digit cookie value.
    pub fn cookie_value(headers: &HeaderMap, cookie: &str) -> Option<String> {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == cookie)
            .map(|(_, value)| value.to_string())
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// Whether the session exists; touches it.
    pub fn lookup(&self, id: &str) -> bool {
        let mut sessions = self.sessions();
        sessions.retain(|_, s| s.last_seen.elapsed() < IDLE);
        match sessions.get_mut(id) {
            Some(session) => {
                session.last_seen = Instant::now();
                true
            }
            None => false,
        }
    }

    /// A new (logged-in) session; its id.
    pub fn create(&self) -> String {
        let id = random::hex::<32>();
        let mut sessions = self.sessions();
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            id.clone(),
            Entry {
                last_seen: Instant::now(),
            },
        );
        id
    }

    pub fn remove(&self, id: &str) {
        self.sessions().remove(id);
    }

    /// The `Set-Cookie` value for `name=value`, `Secure` over https.
    pub fn cookie(name: &str, value: &str, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/{secure}")
    }

    /// The value that clears the cookie `name`.
    pub fn clear_cookie(name: &str) -> String {
        format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }

    /// The login form's CSRF token for the value in its cookie.
    pub fn login_csrf(&self, nonce: &str) -> String {
        self.csrf(&format!("login:{nonce}"))
    }

    /// Checks the login form's token against its cookie, in constant time.
    pub fn check_login_csrf(&self, nonce: &str, token: &str) -> bool {
        self.check_csrf(&format!("login:{nonce}"), token)
    }

    fn mac(&self, session: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(session.as_bytes());
        mac
    }

    /// The CSRF token of a session.
    pub fn csrf(&self, session: &str) -> String {
        hex::encode(self.mac(session).finalize().into_bytes())
    }

    /// Checks a form's CSRF token against the session, in constant time.
    pub fn check_csrf(&self, session: &str, token: &str) -> bool {
        match hex::decode(token) {
            Ok(bytes) => self.mac(session).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    /// Checks a password against the configured argon2 hash (slow on
    /// purpose: call it off the async threads, under [`Auth::checks`]).
    pub fn verify_password(&self, password: &str) -> bool {
        let Some(hash) = &self.password_hash else {
            return false;
        };
        self.verifications.fetch_add(1, Ordering::Relaxed);
        match PasswordHash::new(hash.expose()) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// An argon2id hash of `password` in PHC form, for `dashboard_password_hash`.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The session of a request, set by [`session`].
#[derive(Clone)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

impl Session {
    /// Checks a form's CSRF token against the session.
    pub fn check_csrf(&self, auth: &Auth, form: &HashMap<String, String>) -> Result<(), WebError> {
        let token = form.get("csrf").map(String::as_str).unwrap_or("");
        if auth.check_csrf(&self.id, token) {
            Ok(())
        } else {
            Err(WebError::Forbidden(
                "the form's CSRF token is missing or wrong; reload the page and try again",
            ))
        }
    }
}
