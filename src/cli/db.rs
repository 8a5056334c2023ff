//! `pocket-dca db …`: database maintenance.

use std::process::ExitCode;

use super::{Context, print_json};

/// Show the database's schema version and row counts.
///
/// Creates and migrates the database if it does not exist yet.
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
