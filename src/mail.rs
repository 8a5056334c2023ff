//! Sending e-mail: SMTP through lettre (`smtp://` plain, `smtp://…?tls=required`
//! STARTTLS, `smtps://` TLS; the user from the URL, the password from
//! `$SMTP_PASSWORD`), or `.eml` files in `[email] outbox_dir` instead.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SMTP_PASSWORD_ENV};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

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

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// Sends messages through the configured transport.
pub struct Mailer {
    transport: Transport,
    pub from: Mailbox,
    /// `[email] to`: recipients when an order names none.
    pub to: Vec<Mailbox>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The configured transport; the outbox wins when both are set.
    pub fn from_config(email: &EmailConfig) -> Result<Mailer, Error> {
        let from = email.from.clone().ok_or_else(|| {
            Error::NotConfigured("set [email] from, the sender of reminders and alerts".into())
        })?;
        let transport = if let Some(dir) = &email.outbox_dir {
            Transport::Outbox(dir.clone())
        } else if let Some(url) = &email.smtp_url {
            crate::pocket::install_crypto_provider();
            let mut shown = url.clone();
            let _ = shown.set_username("");
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
                .map_err(|e| Error::NotConfigured(format!("email.smtp_url {shown}: {e}")))?
                .timeout(Some(SMTP_TIMEOUT));
            if !url.username().is_empty() {
                let user = url.username().to_string();
                let password = email.smtp_password.as_ref().ok_or_else(|| {
                    Error::NotConfigured(format!(
                        "email.smtp_url names the user {user} but ${SMTP_PASSWORD_ENV} is not set"
                    ))
                })?;
                builder =
                    builder.credentials(Credentials::new(user, password.expose().to_string()));
            }
            Transport::Smtp(builder.build())
        } else {
            return Err(Error::NotConfigured(
                "set [email] smtp_url, or outbox_dir to write .eml files instead".into(),
            ));
        };
        Ok(Mailer {
            transport,
            from,
            to: email.to.clone(),
        })
    }

    /// Where messages go, for messages to the user.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Outbox(dir) => format!("the outbox {}", dir.display()),
        }
    }

    /// Sends one message; returns where it went (the SMTP answer or the file).
    pub async fn send(&self, message: &Message) -> Result<String, Error> {
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message.clone())
                .await
                .map(|response| {
                    response
                        .message()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(200)
                        .collect()
                })
                .map_err(|e| Error::Smtp(e.to_string())),
            Transport::Outbox(dir) => write_outbox(dir, message),
        }
    }
}

/// A subject as a file name: its words (letters, digits, `.` and `-`)
/// joined by `-`, whole words only, at most `max` characters.
fn file_name_words(subject: &str, max: usize) -> String {
    let mut name = String::new();
    for word in subject.split_whitespace() {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        let word = word.trim_matches(['.', '-']);
        if word.is_empty() {
            continue;
        }
        let needed = word.chars().count() + usize::from(!name.is_empty());
        if name.chars().count() + needed > max {
            break;
        }
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(word);
    }
    name
}

/// Writes `message` as an `.eml` file, atomically (temporary file, then rename).
fn write_outbox(dir: &std::path::Path, message: &Message) -> Result<String, Error> {
    let fail = |path: &std::path::Path, cause: std::io::Error| Error::Outbox {
        path: path.display().to_string(),
        cause: cause.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let subject = file_name_words(
        &message
            .headers()
            .get::<lettre::message::header::Subject>()
            .map(|s| s.as_ref().to_string())
            .unwrap_or_default(),
        60,
    );
    let name = format!(
        "{}-{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
        subject,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let path = dir.join(name);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(dir, e))?;
    std::io::Write::write_all(&mut tmp, &message.formatted()).map_err(|e| fail(&path, e))?;
    tmp.persist(&path).map_err(|e| fail(&path, e.error))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_names_end_at_a_word() {
        let cases = [
            (
                "Bitcoin purchase December 2026: transfer EUR 100.00, reference RF38 WPXF 5HWR EB",
                "Bitcoin-purchase-December-2026-transfer-EUR-100.00-reference",
            ),
            (
                "[pocket-dca] Critical: Bitcoin was paid to an address that is not yours",
                "pocket-dca-Critical-Bitcoin-was-paid-to-an-address-that-is",
            ),
            ("Über · café", "Über-café"),
            ("", ""),
        ];
        for (subject, expected) in cases {
            let name = file_name_words(subject, 60);
            assert_eq!(name, expected);
            assert!(name.chars().count() <= 60);
        }
    }
}
