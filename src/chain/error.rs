//! Why the chain could not be asked, or did not answer believably.

use super::proof::ProofError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no chain server is configured; set [chain] backend and url (see example.toml)")]
    NotConfigured,
    #[error(
        "cannot reach the chain server {0}: {1}; check [chain] url (and proxy), and that the server runs"
    )]
    Connect(String, String),
    #[error("the chain server answered with an error: {0}")]
    Server(String),
    #[error("the chain server's proof does not hold: {0}")]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("the chain check stopped: {0}")]
    Task(String),
}
