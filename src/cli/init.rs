//! `pocket-dca init`: write a commented config and create the database.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use super::context::{Context, open_store};
use crate::config::{self, Config};
use crate::wallet::{network_name, parse_network};

/// Write a commented config file and create the database.
///
/// The config goes to --config (or $POCKET_DCA_CONFIG, else ./pocket-dca.toml).
/// An existing file is kept unless --force is given; the database is created
/// and migrated either way.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca init
  pocket-dca --config /etc/pocket-dca/pocket-dca.toml init --network testnet")]
pub struct Args {
    /// The bitcoin network: bitcoin, testnet, signet or regtest
    #[arg(long, default_value = "bitcoin")]
    network: String,

    /// Overwrite an existing config file
    #[arg(long)]
    force: bool,
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let network = parse_network(&args.network)?;
    let (path, _) = ctx.config_path();
    let existed = path.exists();
    if existed && !args.force {
        println!(
            "kept the existing config {} (--force overwrites it)",
            path.display()
        );
    } else {
        let text = config::EXAMPLE.replacen(
            "network = \"bitcoin\"",
            &format!("network = \"{}\"", network_name(network)),
            1,
        );
        write_private(&path, &text)
            .with_context(|| format!("while writing the config {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let config = Config::load(&path, ctx.env)?;
    let store = open_store(&config.database.path)?;
    println!(
        "database {} ready (schema version {})",
        config.database.path.display(),
        store.schema_version()?
    );
    println!(
        "\nNext steps:\n  \
         1. set ${} (and ${} for webhooks, $SMTP_PASSWORD for mail) in the environment\n  \
         2. fill in [email] in the config, then run `pocket-dca config check`\n  \
         3. `pocket-dca derive YOUR_ZPUB` shows the addresses payouts will go to",
        config::CLIENT_ID_ENV,
        config::WEBHOOK_SECRET_ENV
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a file readable only by its owner: a config may come to hold secrets.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = crate::files::create_private(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
