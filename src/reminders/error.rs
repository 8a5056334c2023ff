//! Why a reminder or an alert e-mail could not be made or sent.

use crate::mail;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Payment(#[from] crate::payment::Error),
    #[error(transparent)]
    Mail(#[from] mail::Error),
    #[error("cannot render the e-mail: {0}")]
    Template(String),
}

impl From<askama::Error> for Error {
    fn from(e: askama::Error) -> Self {
        Error::Template(e.to_string())
    }
}
