//! The database connection: opened with durable settings (WAL, foreign
//! keys, `synchronous=FULL`), migrated, transactions and savepoints, online
//! backup, checkpoint and status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::Error;
use super::migrate::{self, MIGRATIONS, Migration};

/// An open, migrated database.
#[derive(Debug)]
pub struct Store {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
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
        configure(&mut conn).map_err(|e| Error::classify(e, path))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        migrate::migrate(&mut store.conn, &store.path, migrations)?;
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
                    Err(Error::BackupDamaged {
                        path: target.to_path_buf(),
                        verdict,
                    })
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
        Ok(migrate::user_version(&self.conn)?)
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
            latest_version: migrate::latest_version(),
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
