//! `pocket-dca db …`: database maintenance.

use std::process::ExitCode;

use super::context::{Context, print_json};

/// Check the database and show its schema version and row counts.
///
/// Runs SQLite's quick_check first: a damaged file is reported (exit 1) with
/// what to do. Creates and migrates the database if it does not exist yet.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  pocket-dca db status --json")]
pub struct StatusArgs {
    /// Print JSON: {"path", "schema_version", "latest_version", "tables": [{"table", "rows"}]}
    #[arg(long)]
    json: bool,
}

pub(super) fn status(ctx: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    // Damage first: the counts of a damaged file mean little.
    store.quick_check()?;
    let status = store.status()?;
    if args.json {
        print_json(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("database        {}", status.path.display());
    println!(
        "schema version  {} (this binary: {})",
        status.schema_version, status.latest_version
    );
    println!("integrity       ok (SQLite quick_check)");
    let width = status
        .tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(0);
    for table in &status.tables {
        println!("  {:width$}  {:>8} rows", table.table, table.rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// Copy the database to FILE while the service keeps running.
///
/// Uses SQLite's online backup, a few pages at a time, into a temporary file
/// that becomes FILE only after its integrity check (a failed backup leaves
/// nothing behind). The copy is readable by you only. Restore by stopping
/// the service and putting the copy in place of [database] path.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  pocket-dca db backup /var/backups/pocket-dca-$(date +%F).sqlite3"
)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist yet)
    file: std::path::PathBuf,
}

pub(super) fn backup(ctx: &Context, args: BackupArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    if args.file.exists() {
        anyhow::bail!(
            "{} exists already; give a new file name",
            args.file.display()
        );
    }
    let (_config, store) = ctx.store()?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} pages")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    store
        .backup(&args.file, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .with_context(|| format!("while backing up to {}", args.file.display()))?;
    bar.finish_and_clear();
    println!(
        "backed up {} to {}",
        store.path().display(),
        args.file.display()
    );
    Ok(ExitCode::SUCCESS)
}
