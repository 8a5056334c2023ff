//! Dashboard sessions: a random session id in an `HttpOnly; SameSite=Strict`
//! cookie; a login with the argon2 password hash when one is configured
//! (without one the dashboard only listens on loopback and needs no login);
//! and a CSRF token — an HMAC of the session id under a per-process key —
//! on every state-changing form. The middleware and the login pages that use
//! them are in `session`.

use std::collections::HashMap;
use std::sync::Mutex;
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
/// A session unused this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept; the oldest go first.
const MAX_SESSIONS: usize = 1000;

struct Entry {
    authenticated: bool,
    last_seen: Instant,
}

pub struct Auth {
    password_hash: Option<Secret>,
    sessions: Mutex<HashMap<String, Entry>>,
    key: [u8; 32],
}

impl Auth {
    pub fn new(password_hash: Option<Secret>) -> Auth {
        Auth {
            password_hash,
            sessions: Mutex::default(),
            key: random::bytes(),
        }
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
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value.to_string())
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// Whether the session exists (and is logged in); touches it.
    pub fn lookup(&self, id: &str) -> Option<bool> {
        let mut sessions = self.sessions();
        sessions.retain(|_, s| s.last_seen.elapsed() < IDLE);
        let session = sessions.get_mut(id)?;
        session.last_seen = Instant::now();
        Some(session.authenticated)
    }

    /// A new session; its id.
    pub fn create(&self, authenticated: bool) -> String {
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
                authenticated,
                last_seen: Instant::now(),
            },
        );
        id
    }

    pub fn remove(&self, id: &str) {
        self.sessions().remove(id);
    }

    /// The `Set-Cookie` value for a session.
    pub fn cookie(id: &str) -> String {
        format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/")
    }

    /// The value that clears the cookie.
    pub fn clear_cookie() -> String {
        format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
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

    /// Checks a password against the configured argon2 hash.
    pub fn verify_password(&self, password: &str) -> bool {
        let Some(hash) = &self.password_hash else {
            return false;
        };
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
