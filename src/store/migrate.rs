//! The append-only migrations of `migrations/`, applied in one transaction
//! each under `PRAGMA user_version`; a database newer than this binary is
//! refused with what to do.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::error::Error;

/// One numbered migration file, applied in its own transaction.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration of `migrations/`, in order. Append only: a released
/// migration is never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "orders",
        sql: include_str!("../../migrations/0001_orders.sql"),
    },
    Migration {
        version: 2,
        name: "exchanges",
        sql: include_str!("../../migrations/0002_exchanges.sql"),
    },
    Migration {
        version: 3,
        name: "reminders",
        sql: include_str!("../../migrations/0003_reminders.sql"),
    },
    Migration {
        version: 4,
        name: "payout_kinds",
        sql: include_str!("../../migrations/0004_payout_kinds.sql"),
    },
    Migration {
        version: 5,
        name: "chain",
        sql: include_str!("../../migrations/0005_chain.sql"),
    },
    Migration {
        version: 6,
        name: "claims",
        sql: include_str!("../../migrations/0006_claims.sql"),
    },
    Migration {
        version: 7,
        name: "spent",
        sql: include_str!("../../migrations/0007_spent.sql"),
    },
    Migration {
        version: 8,
        name: "intake",
        sql: include_str!("../../migrations/0008_intake.sql"),
    },
];

/// The schema version this binary writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the migrations newer than the file's `user_version`, one
/// transaction each; a file newer than `migrations` is refused.
pub(super) fn migrate(
    conn: &mut Connection,
    path: &Path,
    migrations: &[Migration],
) -> Result<(), Error> {
    let latest = migrations.last().map_or(0, |m| m.version);
    let current = user_version(conn).map_err(|e| Error::classify(e, path))?;
    if current > latest {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: current,
            supported: latest,
        });
    }
    for migration in migrations.iter().filter(|m| m.version > current) {
        let failed = |cause| Error::Migration {
            version: migration.version,
            name: migration.name,
            cause,
        };
        // Foreign keys off while a migration runs (SQLite's procedure for
        // rebuilding a table: a DROP would otherwise cascade to its
        // children), checked before it commits, and on again after.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(failed)?;
        let applied = apply(conn, migration);
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(failed)?;
        applied.map_err(failed)?;
    }
    Ok(())
}

fn apply(conn: &mut Connection, migration: &Migration) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(migration.sql)?;
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("a row of {table} lost its parent")),
        ));
    }
    tx.pragma_update(None, "user_version", migration.version)?;
    tx.commit()
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "versions are consecutive from 1");
        }
    }
}
