//! The append-only migrations of `migrations/`, applied in one transaction
//! each under `PRAGMA user_version`; a database newer than this binary is
//! refused with what to do.

use std::path::Path;

use rusqlite::Connection;

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
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
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
