//! What every subcommand may need: the config and its database, a Pocket
//! client, keys read from the argument or standard input, JSON output, and
//! the shutdown signal of the long-running commands.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::{self, Config, Env};
use crate::store::Store;

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call,
/// not when the future is first polled: a signal that comes while the
/// caller is still starting (systemd stopping a unit just started, a test
/// stopping the demo as soon as it printed its URL) stops it cleanly
/// instead of killing it. Call it inside the runtime.
pub(super) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let wait = |kind: SignalKind| {
            let stream = signal(kind);
            async move {
                match stream {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            }
        };
        let interrupt = wait(SignalKind::interrupt());
        let terminate = wait(SignalKind::terminate());
        async move {
            tokio::select! {
                () = interrupt => {},
                () = terminate => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What every command may need: where the config is, and the environment.
pub(super) struct Context<'a> {
    pub(super) config_flag: Option<PathBuf>,
    pub(super) env: &'a dyn Env,
}

impl Context<'_> {
    /// The config file path and whether it was named explicitly.
    pub(super) fn config_path(&self) -> (PathBuf, bool) {
        config::locate(self.config_flag.as_deref(), self.env)
    }

    /// The config, which must exist.
    pub(super) fn config(&self) -> anyhow::Result<Config> {
        let (path, _) = self.config_path();
        Ok(Config::load(&path, self.env)?)
    }

    /// The config if there is one: a missing default file is not an error
    /// (commands like `derive` work without one), a missing named file is.
    pub(super) fn config_if_present(&self) -> anyhow::Result<Option<Config>> {
        let (path, explicit) = self.config_path();
        if !explicit && !path.exists() {
            return Ok(None);
        }
        Ok(Some(Config::load(&path, self.env)?))
    }

    /// A Pocket client for the configured API root and client id.
    pub(super) fn pocket_client(&self, config: &Config) -> anyhow::Result<crate::pocket::Client> {
        let Some((client_id, _)) = &config.pocket.client_id else {
            anyhow::bail!(
                "no Pocket client id: set ${} (or [pocket] client_id in the config)",
                config::CLIENT_ID_ENV
            );
        };
        Ok(crate::pocket::Client::with_options(
            &config.pocket.base_url,
            client_id,
            config.pocket.timeout,
            crate::pocket::RetryPolicy::default(),
        )?)
    }

    /// The config and its database, created and migrated on first use.
    pub(super) fn store(&self) -> anyhow::Result<(Config, Store)> {
        let config = self.config()?;
        let store = open_store(&config.database.path)?;
        Ok((config, store))
    }
}

pub(super) fn open_store(path: &Path) -> anyhow::Result<Store> {
    let mut store = Store::open(path)
        .with_context(|| format!("while opening the database {}", path.display()))?;
    // Deliveries a crash left in the intake journal only: in before anything
    // reads or copies the database. A failure is reported, not fatal: `db
    // status` must still be able to say what is wrong.
    if let Err(e) = crate::deliveries::writer::recover_unattended(&mut store, path) {
        tracing::warn!(error = %e, "cannot move deliveries from the intake journal; `pocket-dca serve` tries again");
    }
    Ok(store)
}

/// What the key prompt says.
pub(super) const KEY_PROMPT: &str = "Paste the extended public key or descriptor, then Enter: ";

/// Reads a key argument; `-` reads it from standard input so that it stays
/// out of the shell history (an xpub reveals the wallet's whole history).
/// On a terminal, `-` prompts and reads one line without echoing it (off the
/// screen and any recording too), leaving standard input to later prompts.
pub(super) fn read_key(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    if std::io::stdin().is_terminal() {
        let text = rpassword::prompt_password(KEY_PROMPT)
            .context("while reading the key from the terminal")?;
        if text.trim().is_empty() {
            anyhow::bail!("no key was pasted; paste the xpub/zpub or descriptor at the prompt");
        }
        return Ok(text.trim().to_string());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("while reading the key from standard input")?;
    Ok(text.trim().to_string())
}

/// Reads a key argument (or `-`), parses it with the optional script type
/// on the network, and the path below it (the key's default when `None`).
pub(super) fn parse_key(
    key: &str,
    script_type: Option<&str>,
    path: Option<&str>,
    network: Option<crate::wallet::Network>,
) -> anyhow::Result<(String, crate::wallet::PayoutKey, crate::wallet::KeyPath)> {
    let script_type = script_type
        .map(str::parse::<crate::wallet::ScriptType>)
        .transpose()?;
    let text = read_key(key)?;
    let parsed = crate::wallet::PayoutKey::parse(&text, script_type, network)?;
    let path = match path {
        Some(p) => parsed.parse_path(p)?,
        None => parsed.default_path(),
    };
    Ok((text, parsed, path))
}

/// Prints a value as pretty JSON on standard output.
pub(super) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A clap value parser for counts and limits: a whole number of 1 or more,
/// with an error that names the value.
pub(crate) fn whole_number(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of 1 or more")),
    }
}
