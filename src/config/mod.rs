//! The configuration: one TOML file (shape documented in `example.toml`),
//! secrets from environment variables, validated into [`Config`] with errors
//! that name the key. Relative paths are resolved from the file's folder, so
//! the same file works from a shell and under systemd.
//!
//! The raw file is in [`raw`], the typed sections and their defaults in
//! [`sections`], one validation function per section in [`validate`];
//! secrets are wrapped in [`Secret`], which prints as `***`.

mod chain;
mod describe;
mod raw;
mod secret;
mod sections;
mod syntax;
mod validate;

use std::path::{Path, PathBuf};

pub use secret::{
    CLIENT_ID_ENV, Env, ProcessEnv, SMTP_PASSWORD_ENV, Secret, Source, WEBHOOK_SECRET_ENV,
};
pub use sections::*;
pub use validate::Problem;

use raw::RawFile;
use secret::env_value;
use validate::Problems;

/// The file used when neither `--config` nor `$POCKET_DCA_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "pocket-dca.toml";
/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "POCKET_DCA_CONFIG";

/// The commented config that `pocket-dca init` writes; also the shape test.
pub const EXAMPLE: &str = include_str!("../../example.toml");

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from; `None` for built-in defaults.
    pub file: Option<PathBuf>,
    pub database: DatabaseConfig,
    pub bitcoin: BitcoinConfig,
    pub pocket: PocketConfig,
    pub server: ServerConfig,
    pub email: EmailConfig,
    pub reminders: RemindersConfig,
    pub sync: SyncConfig,
    pub chain: ChainConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no config file at {path}; run `pocket-dca init` to create one, or pass --config FILE (or set ${CONFIG_ENV})"
    )]
    NotFound { path: PathBuf },
    #[error("cannot read the config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {}", format_problems(.problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which config file to use: the flag, else `$POCKET_DCA_CONFIG`, else
/// `pocket-dca.toml` in the working directory. `explicit` is false only for
/// the last, where a missing file is not an error for commands that can run
/// without one.
pub fn locate(flag: Option<&Path>, env: &dyn Env) -> (PathBuf, bool) {
    if let Some(path) = flag {
        return (path.to_path_buf(), true);
    }
    if let Some(path) = env_value(env, CONFIG_ENV) {
        return (PathBuf::from(path), true);
    }
    (PathBuf::from(DEFAULT_CONFIG_FILE), false)
}

impl Config {
    /// Loads and validates a config file.
    pub fn load(path: &Path, env: &dyn Env) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                Error::Read {
                    path: path.to_path_buf(),
                    cause,
                }
            }
        })?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = absolute
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut config = Config::parse(&text, &base, env).map_err(|e| match e {
            Error::Syntax { message, .. } => Error::Syntax {
                path: path.to_path_buf(),
                message,
            },
            Error::Invalid { problems, .. } => Error::Invalid {
                path: path.to_path_buf(),
                problems,
            },
            other => other,
        })?;
        config.file = Some(absolute);
        Ok(config)
    }

    /// Built-in defaults with relative paths under `base` (no file).
    pub fn defaults(base: &Path, env: &dyn Env) -> Result<Config, Error> {
        Config::parse("", base, env)
    }

    /// Parses config text; relative paths are resolved from `base`.
    pub fn parse(text: &str, base: &Path, env: &dyn Env) -> Result<Config, Error> {
        let raw: RawFile = toml::from_str(text).map_err(|e| Error::Syntax {
            path: PathBuf::from("config"),
            message: syntax::explain(text, &e),
        })?;
        let mut problems = Problems::default();
        let database = validate::database(raw.database, base);
        let bitcoin = validate::bitcoin(raw.bitcoin, &mut problems);
        let pocket = validate::pocket(raw.pocket, env, &mut problems);
        let server = validate::server(raw.server, &mut problems);
        let email = validate::email(raw.email, env, base, &mut problems);
        let reminders = validate::reminders(raw.reminders, &mut problems);
        let sync = validate::sync(raw.sync, &mut problems);
        let chain = chain::validate(raw.chain, &mut problems);
        let (Some(pocket), Some(server), true) = (pocket, server, problems.0.is_empty()) else {
            return Err(Error::Invalid {
                path: PathBuf::from("config"),
                problems: problems.0,
            });
        };
        Ok(Config {
            file: None,
            database,
            bitcoin,
            pocket,
            server,
            email,
            reminders,
            sync,
            chain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn example_toml_loads_with_its_documented_defaults() {
        let config = Config::parse(EXAMPLE, Path::new("/etc/pocket-dca"), &no_env).unwrap();
        assert_eq!(
            config.database.path,
            Path::new("/etc/pocket-dca").join(DEFAULT_DATABASE_PATH)
        );
        assert_eq!(config.bitcoin.network, DEFAULT_NETWORK);
        assert_eq!(
            config.pocket.base_url.as_str(),
            "https://api.pocketbitcoin.com/"
        );
        assert_eq!(
            config.server.webhook_listen.to_string(),
            DEFAULT_WEBHOOK_LISTEN
        );
        assert_eq!(
            config.server.dashboard_listen.to_string(),
            DEFAULT_DASHBOARD_LISTEN
        );
        assert_eq!(config.reminders.timezone, chrono_tz::Europe::Zurich);
        assert_eq!(config.reminders.hour, DEFAULT_REMINDER_HOUR);
        assert!(config.pocket.client_id.is_none());
        assert!(config.pocket.webhook_secrets.is_empty());
    }

    #[test]
    fn example_toml_documents_every_key() {
        let config = Config::parse(EXAMPLE, Path::new("/"), &no_env).unwrap();
        for key in config.describe().keys() {
            if *key == "email.smtp_password" {
                continue; // environment only
            }
            let (section, name) = key.split_once('.').unwrap();
            assert!(EXAMPLE.contains(&format!("[{section}]")), "{section}");
            assert!(
                EXAMPLE.lines().any(|l| l.starts_with(&format!("{name} ="))),
                "{key} is not in example.toml"
            );
        }
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = Config::parse("[bitcoin]\nnetwrk = \"bitcoin\"\n", Path::new("/"), &no_env)
            .unwrap_err();
        assert!(err.to_string().contains("netwrk"), "{err}");
        let err = Config::parse("[smtp]\nhost = \"x\"\n", Path::new("/"), &no_env).unwrap_err();
        assert!(err.to_string().contains("smtp"), "{err}");
    }

    #[test]
    fn every_problem_is_named() {
        let text = r#"
[bitcoin]
network = "mainet"
[pocket]
base_url = "ftp://x"
[server]
webhook_listen = "localhost"
[email]
from = "not an address"
smtp_url = "smtp://me:hunter2@mail.example.com"
[reminders]
timezone = "Mars/Olympus"
hour = 24
"#;
        let Error::Invalid { problems, .. } =
            Config::parse(text, Path::new("/"), &no_env).unwrap_err()
        else {
            panic!("not a validation error")
        };
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "bitcoin.network",
                "pocket.base_url",
                "server.webhook_listen",
                "email.from",
                "email.smtp_url",
                "reminders.timezone",
                "reminders.hour"
            ]
        );
        // The SMTP password in the URL is not repeated in the message.
        assert!(!format!("{problems:?}").contains("hunter2"));
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_print() {
        let env = |name: &str| match name {
            CLIENT_ID_ENV => Some("client-123".to_string()),
            WEBHOOK_SECRET_ENV => Some("new-secret, old-secret".to_string()),
            SMTP_PASSWORD_ENV => Some("smtp-pass".to_string()),
            _ => None,
        };
        let text = "[pocket]\nclient_id = \"from-file\"\nwebhook_secret = \"file-secret\"\n";
        let config = Config::parse(text, Path::new("/"), &env).unwrap();
        let (client_id, source) = config.pocket.client_id.clone().unwrap();
        assert_eq!(client_id.expose(), "client-123");
        assert_eq!(source, Source::Env(CLIENT_ID_ENV));
        let secrets: Vec<_> = config
            .pocket
            .webhook_secrets
            .iter()
            .map(Secret::expose)
            .collect();
        assert_eq!(secrets, ["new-secret", "old-secret"]);
        let shown = format!("{:?} {:?}", config, config.describe());
        for secret in ["client-123", "new-secret", "old-secret", "smtp-pass"] {
            assert!(!shown.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn webhook_secret_may_be_a_list_and_to_a_single_address() {
        let text = "[pocket]\nwebhook_secret = [\"a\", \"b\"]\n[email]\nto = \"me@example.com\"\n";
        let config = Config::parse(text, Path::new("/"), &no_env).unwrap();
        assert_eq!(config.pocket.webhook_secrets.len(), 2);
        assert_eq!(config.email.to.len(), 1);
    }
}
