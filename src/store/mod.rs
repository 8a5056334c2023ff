//! SQLite storage: opening the database with durable settings (WAL, foreign
//! keys, `synchronous=FULL`), the append-only migrations of `migrations/`
//! under `PRAGMA user_version`, and one function per query. SQL lives only
//! in this module.

mod alerts;
mod deliveries;
mod exchanges;
mod orders;
mod reminders;

pub use alerts::{AlertRow, NewAlert, Severity};
pub use deliveries::{DeliveryRow, NewDelivery};
pub use exchanges::{ExchangeFilter, ExchangeRow, PayoutRow};
pub use orders::AddressRow;
pub use reminders::ReminderRow;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the database {path}: {cause}")]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("cannot create the folder {path} for the database: {cause}")]
    CreateDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not a SQLite database; check [database] path in the config")]
    NotADatabase { path: PathBuf },
    #[error(
        "the database {path} has schema version {found}, newer than this pocket-dca knows ({supported}); \
         run a newer pocket-dca, or restore a backup made with this version"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("migration {version} ({name}) failed, the database is unchanged: {cause}")]
    Migration {
        version: u32,
        name: &'static str,
        cause: rusqlite::Error,
    },
    #[error("{what} {id} is already in the database")]
    Duplicate { what: &'static str, id: String },
    #[error("no order {id} in the database; `pocket-dca order list` shows the orders")]
    NoSuchOrder { id: String },
    #[error("`{prefix}` matches several orders ({}); give more of the id", .matches.join(", "))]
    AmbiguousOrder {
        prefix: String,
        matches: Vec<String>,
    },
    #[error("cannot encode a value for the database: {0}")]
    Encode(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
}

/// An open, migrated database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Schema version and row counts, for `db status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub path: PathBuf,
    pub schema_version: u32,
    pub latest_version: u32,
    pub tables: Vec<TableCount>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCount {
    pub table: String,
    pub rows: i64,
}

impl Store {
    /// Opens (creating it and its folder if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Store, Error> {
        Store::open_with(path, MIGRATIONS)
    }

    /// Opens with a given migration list (tests exercise upgrades with it).
    pub fn open_with(path: &Path, migrations: &[Migration]) -> Result<Store, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|cause| Error::CreateDir {
                path: dir.to_path_buf(),
                cause,
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|cause| Error::Open {
            path: path.to_path_buf(),
            cause,
        })?;
        let mut conn = conn;
        configure(&mut conn).map_err(|e| classify(e, path))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate(migrations)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction (BEGIN IMMEDIATE … COMMIT), rolled back
    /// when it fails. `f` must not start a transaction of its own.
    pub fn transaction<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| E::from(Error::from(e)))?;
        match f(self) {
            Ok(value) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(E::from(Error::from(e)));
                }
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `f` inside a savepoint of the current transaction: its changes
    /// are undone when it fails, the transaction goes on.
    pub fn savepoint<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("SAVEPOINT step")
            .map_err(|e| E::from(Error::from(e)))?;
        match f(self) {
            Ok(value) => {
                self.conn
                    .execute_batch("RELEASE step")
                    .map_err(|e| E::from(Error::from(e)))?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO step; RELEASE step");
                Err(e)
            }
        }
    }

    /// Copies the database to `target` with SQLite's online backup, a few
    /// pages at a time, while it stays in use; `progress(done, total)` is
    /// called between steps.
    pub fn backup(&self, target: &Path, mut progress: impl FnMut(u64, u64)) -> Result<(), Error> {
        use rusqlite::backup::{Backup, StepResult};
        let mut destination = Connection::open(target).map_err(|cause| Error::Open {
            path: target.to_path_buf(),
            cause,
        })?;
        let backup = Backup::new(&self.conn, &mut destination)?;
        loop {
            let step = backup.step(256)?;
            let p = backup.progress();
            let total = p.pagecount.max(0) as u64;
            progress(total.saturating_sub(p.remaining.max(0) as u64), total);
            match step {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        drop(backup);
        destination
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .map_err(Error::from)
            .and_then(|verdict| {
                if verdict == "ok" {
                    Ok(())
                } else {
                    Err(Error::Encode(format!(
                        "the backup failed its integrity check: {verdict}"
                    )))
                }
            })
    }

    /// Writes the WAL back into the database file (on shutdown).
    pub fn checkpoint(&self) -> Result<(), Error> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, Error> {
        Ok(user_version(&self.conn)?)
    }

    fn migrate(&mut self, migrations: &[Migration]) -> Result<(), Error> {
        let latest = migrations.last().map_or(0, |m| m.version);
        let current = user_version(&self.conn).map_err(|e| classify(e, &self.path))?;
        if current > latest {
            return Err(Error::TooNew {
                path: self.path.clone(),
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
            let tx = self.conn.transaction().map_err(failed)?;
            tx.execute_batch(migration.sql).map_err(failed)?;
            tx.pragma_update(None, "user_version", migration.version)
                .map_err(failed)?;
            tx.commit().map_err(failed)?;
        }
        Ok(())
    }

    /// Schema version and the row count of every table.
    pub fn status(&self) -> Result<Status, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut tables = Vec::with_capacity(names.len());
        for table in names {
            // Table names come from sqlite_schema, quoted as identifiers.
            let rows = self.conn.query_row(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\"")),
                [],
                |row| row.get(0),
            )?;
            tables.push(TableCount { table, rows });
        }
        Ok(Status {
            path: self.path.clone(),
            schema_version: self.schema_version()?,
            latest_version: latest_version(),
            tables,
        })
    }
}

/// How long a writer waits for another connection's transaction, in 1 ms
/// steps (SQLite's own handler backs off to 100 ms sleeps, which shows in the
/// webhook path's tail latency).
const BUSY_RETRIES: i32 = 10_000;

fn busy(attempt: i32) -> bool {
    if attempt >= BUSY_RETRIES {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(busy))?;
    // journal_mode answers with the mode in effect; reading it also makes
    // SQLite read the header, so a file that is not a database fails here.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

fn classify(e: rusqlite::Error, path: &Path) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_path_buf(),
        },
        _ => Error::Open {
            path: path.to_path_buf(),
            cause: e,
        },
    }
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
