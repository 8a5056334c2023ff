//! What `config check` shows: the settings in effect, key by key (secrets
//! as `***`), and notes on what a feature will miss.

use std::collections::BTreeMap;

use lettre::message::Mailbox;
use url::Url;

use super::Config;
use super::secret::{CLIENT_ID_ENV, SMTP_PASSWORD_ENV, Secret, WEBHOOK_SECRET_ENV};
use crate::wallet::network_name;

fn shown(value: Option<String>) -> String {
    value.unwrap_or_else(|| "(not set)".into())
}

fn list<T: ToString>(items: &[T]) -> String {
    if items.is_empty() {
        "(not set)".into()
    } else {
        items
            .iter()
            .map(T::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Config {
    /// The effective settings as `key → value`, secrets shown as `***`.
    pub fn describe(&self) -> BTreeMap<&'static str, String> {
        let (pocket, server, email) = (&self.pocket, &self.server, &self.email);
        let secrets = vec!["***"; pocket.webhook_secrets.len()];
        let webhook_secret = match secrets.is_empty() {
            true => shown(None),
            false => format!("{} ({})", secrets.join(", "), pocket.webhook_secret_source),
        };
        BTreeMap::from([
            ("database.path", self.database.path.display().to_string()),
            ("bitcoin.network", network_name(self.bitcoin.network).into()),
            ("pocket.base_url", pocket.base_url.to_string()),
            ("pocket.timeout_secs", pocket.timeout.as_secs().to_string()),
            (
                "pocket.client_id",
                shown(
                    pocket
                        .client_id
                        .as_ref()
                        .map(|(s, src)| format!("{s} ({src})")),
                ),
            ),
            ("pocket.webhook_secret", webhook_secret),
            ("server.webhook_listen", server.webhook_listen.to_string()),
            (
                "server.dashboard_listen",
                server.dashboard_listen.to_string(),
            ),
            (
                "server.dashboard_password_hash",
                shown(
                    server
                        .dashboard_password_hash
                        .as_ref()
                        .map(Secret::to_string),
                ),
            ),
            (
                "server.public_url",
                shown(server.public_url.as_ref().map(Url::to_string)),
            ),
            (
                "server.dashboard_note",
                shown(server.dashboard_note.clone()),
            ),
            ("server.dashboard_hosts", list(&server.dashboard_hosts)),
            ("server.trusted_proxies", list(&server.trusted_proxies)),
            (
                "email.from",
                shown(email.from.as_ref().map(Mailbox::to_string)),
            ),
            ("email.to", list(&email.to)),
            (
                "email.smtp_url",
                shown(email.smtp_url.as_ref().map(Url::to_string)),
            ),
            (
                "email.smtp_password",
                shown(
                    email
                        .smtp_password
                        .as_ref()
                        .map(|s| format!("{s} (${SMTP_PASSWORD_ENV})")),
                ),
            ),
            ("email.timeout_secs", email.timeout.as_secs().to_string()),
            (
                "email.outbox_dir",
                shown(email.outbox_dir.as_ref().map(|p| p.display().to_string())),
            ),
            ("reminders.timezone", self.reminders.timezone.name().into()),
            ("reminders.hour", self.reminders.hour.to_string()),
            (
                "reminders.missed_after_days",
                self.reminders.missed_after_days.to_string(),
            ),
        ])
        .into_iter()
        .chain(self.describe_chain())
        .collect()
    }

    /// The `[sync]` and `[chain]` settings in effect.
    fn describe_chain(&self) -> [(&'static str, String); 8] {
        let chain = &self.chain;
        [
            (
                "sync.interval_minutes",
                self.sync.interval_minutes.to_string(),
            ),
            ("chain.backend", chain.backend.as_str().to_string()),
            ("chain.url", shown(chain.url.as_ref().map(Url::to_string))),
            ("chain.proxy", shown(chain.proxy.clone())),
            (
                "chain.min_confirmations",
                chain.min_confirmations.to_string(),
            ),
            (
                "chain.unseen_after_hours",
                chain.unseen_after_hours.to_string(),
            ),
            ("chain.interval_minutes", chain.interval_minutes.to_string()),
            ("chain.alert_on_spend", chain.alert_on_spend.to_string()),
        ]
    }

    /// What the config leaves out that a feature will need, with the fix.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.chain.is_public() {
            notes.push(format!(
                "chain.url {} is a public server: it learns every address of your wallets and when you check them; use your own node's Electrum server or mempool, or reach it over Tor (chain.proxy)",
                self.chain.url.as_ref().map(Url::to_string).unwrap_or_default()
            ));
        }
        if self.pocket.client_id.is_none() {
            notes.push(format!(
                "pocket.client_id is not set: orders cannot be created or fetched; set ${CLIENT_ID_ENV} (Pocket gives the id to approved developers)"
            ));
        }
        if self.pocket.webhook_secrets.is_empty() {
            notes.push(format!(
                "pocket.webhook_secret is not set: webhooks will be refused; set ${WEBHOOK_SECRET_ENV} to the secret agreed with Pocket"
            ));
        }
        if self.email.smtp_url.is_none() && self.email.outbox_dir.is_none() {
            notes.push(
                "neither email.smtp_url nor email.outbox_dir is set: reminders and alerts cannot be delivered".into(),
            );
        } else if self.email.from.is_none() {
            notes.push("email.from is not set: e-mails need a sender address".into());
        }
        if self.email.to.is_empty() {
            notes.push(
                "email.to is not set: reminders go only to orders that have their own --email"
                    .into(),
            );
        }
        if !self.server.dashboard_listen.ip().is_loopback()
            && self.server.dashboard_password_hash.is_none()
        {
            notes.push(format!(
                "server.dashboard_listen {} is not a loopback address and no dashboard_password_hash is set: `serve` will refuse to start",
                self.server.dashboard_listen
            ));
        }
        notes
    }
}
