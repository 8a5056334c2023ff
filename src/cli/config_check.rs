//! `pocket-dca config check`: validate the config and show what is in effect.

use std::process::ExitCode;

use serde_json::json;

use super::context::{Context, print_json};

/// Validate the config file and print the settings in effect (secrets as ***).
///
/// Exits 1 and names every wrong key when the file is invalid; notes what is
/// missing for features that need it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  POCKET_CLIENT_ID=… pocket-dca --config /etc/pocket-dca.toml config check")]
pub struct Args {
    /// Print JSON: {"file", "settings", "notes"}
    #[arg(long)]
    json: bool,
}

pub(super) fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let settings = config.describe();
    let notes = config.notes();
    let file = config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if args.json {
        print_json(&json!({"file": file, "settings": settings, "notes": notes}))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("ok: {file}");
    let width = settings.keys().map(|k| k.len()).max().unwrap_or(0);
    for (key, value) in &settings {
        println!("  {key:width$}  {value}");
    }
    if !notes.is_empty() {
        println!("notes:");
        for note in &notes {
            println!("  - {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
