//! Why an e-mail did not go out.

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("e-mail is not set up: {0}")]
    NotConfigured(String),
    #[error(
        "no recipient: set [email] to, or give the order its own with `order set ID --email ADDRESS`"
    )]
    NoRecipient,
    #[error("cannot build the e-mail: {0}")]
    Build(String),
    #[error("the SMTP server refused or failed: {0}")]
    Smtp(String),
    #[error("cannot write the e-mail to {path}: {cause}")]
    Outbox { path: String, cause: String },
}
