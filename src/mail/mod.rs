//! Sending e-mail: over SMTP with a time limit on every step ([`smtp`]), or
//! as `.eml` files in `[email] outbox_dir` instead ([`outbox`]).

mod error;
mod outbox;
mod smtp;

pub use error::Error;

use std::path::PathBuf;

use lettre::Message;
use lettre::message::Mailbox;

use crate::config::EmailConfig;

enum Transport {
    Smtp(smtp::Smtp),
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
            let mut shown = url.clone();
            let _ = shown.set_username("");
            let password = email.smtp_password.as_ref().map(|p| p.expose());
            let smtp = smtp::Smtp::new(url, password, email.timeout)
                .map_err(|e| Error::NotConfigured(format!("email.smtp_url {shown}: {e}")))?;
            Transport::Smtp(smtp)
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
            Transport::Smtp(smtp) => smtp.send(message).await,
            Transport::Outbox(dir) => outbox::write(dir, message),
        }
    }
}
