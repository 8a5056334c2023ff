//! The database connection: opened with durable settings (WAL, foreign
//! keys, `synchronous=FULL`), migrated, transactions and savepoints, online
//! backup, checkpoint and status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params, Row};

use super::error::Error;
use super::migrate::{self, MIGRATIONS, Migration};

/// Prepared statements kept per connection: more than the store has.
const STATEMENT_CACHE: usize = 128;

/// An open, migrated database.
#[derive(Debug)]
pub struct Store {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    /// What a commit on this connection waits for unless told otherwise
    /// (`synchronous` FULL or NORMAL); see [`Store::buffer_commits`].
    pub(super) commits: Commit,
}

/// Whether a commit waits until the disk has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    Durable,
    /// Safe after a crash of the process; after a power loss the last such
    /// commits may be gone (the database stays consistent).
    Buffered,
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
    /// Runs one statement, prepared once per connection: parsing the SQL
    /// again each time was half of what processing a webhook cost.
    pub(super) fn execute(&self, sql: &str, params: impl Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// Reads one row through the statement cache, as [`Store::execute`].
    pub(super) fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, row)
    }

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
        private(path)?;
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
            commits: Commit::Durable,
        };
        migrate::migrate(&mut store.conn, &store.path, migrations)?;
        Ok(store)
    }

    /// From now on this connection's commits do not wait for the disk
    /// (`synchronous = NORMAL`: after a power loss the last of them may be
    /// gone, the file stays consistent). Only for a connection whose writes
    /// are durable elsewhere first: the webhook writer's, behind its intake
    /// journal.
    pub fn buffer_commits(&mut self) -> Result<(), Error> {
        self.set_commits(Commit::Buffered)
    }

    pub(super) fn set_commits(&mut self, commits: Commit) -> Result<(), Error> {
        if self.commits != commits {
            let mode = match commits {
                Commit::Durable => "PRAGMA synchronous = FULL",
                Commit::Buffered => "PRAGMA synchronous = NORMAL",
            };
            self.execute(mode, [])?;
            self.commits = commits;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's `quick_check` (every page and b-tree, not the indexes'
    /// contents): `Err(Damaged)` naming what it found.
    pub fn quick_check(&self) -> Result<(), Error> {
        let findings = self
            .conn
            .prepare("PRAGMA quick_check(5)")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            });
        let findings = match findings {
            Ok(lines) if lines == ["ok"] => return Ok(()),
            Ok(lines) => lines.join("; "),
            Err(e) => e.to_string(),
        };
        // One line: a finding can span several ("*** in database main ***\nTree 26 …").
        let findings = findings.split_whitespace().collect::<Vec<_>>().join(" ");
        Err(Error::Damaged {
            path: self.path.clone(),
            findings,
        })
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
    /// called between steps. The copy is written to a temporary file beside
    /// `target` and renamed only after its integrity check: a failed backup
    /// leaves nothing behind, and `target` is never overwritten.
    pub fn backup(&self, target: &Path, progress: impl FnMut(u64, u64)) -> Result<(), Error> {
        self.quick_check()?;
        let file_error = |cause: std::io::Error| Error::BackupFile {
            path: target.to_path_buf(),
            cause,
        };
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // 0600, and removed when dropped before the rename.
        let temporary = tempfile::Builder::new()
            .prefix(".pocket-dca-backup-")
            .tempfile_in(dir)
            .map_err(file_error)?;
        self.copy_to(temporary.path(), target, progress)?;
        temporary.as_file().sync_all().map_err(file_error)?;
        temporary
            .persist_noclobber(target)
            .map_err(|e| file_error(e.error))?;
        Ok(())
    }

    /// The online backup into the (empty) file `path`, checked; errors
    /// name `target`.
    fn copy_to(
        &self,
        path: &Path,
        target: &Path,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<(), Error> {
        use rusqlite::backup::{Backup, StepResult};
        let mut destination = Connection::open(path).map_err(|cause| Error::Open {
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
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        drop(backup);
        let verdict: String = destination.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(Error::BackupDamaged {
                path: target.to_path_buf(),
                verdict,
            });
        }
        Ok(())
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

/// The database file and its WAL and shared-memory files, 0600 (SQLite
/// gives the WAL and SHM files the database file's mode).
fn private(path: &Path) -> Result<(), Error> {
    let fail = |path: &Path, cause| Error::Private {
        path: path.to_path_buf(),
        cause,
    };
    crate::files::ensure_private(path).map_err(|e| fail(path, e))?;
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let companion = PathBuf::from(name);
        if companion.exists() {
            crate::files::restrict(&companion).map_err(|e| fail(&companion, e))?;
        }
    }
    Ok(())
}

fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    // Every statement goes through the cache (see `Store::execute`): the
    // store's distinct statements, with room to spare.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_handler(Some(busy))?;
    // journal_mode answers with the mode in effect; reading it also makes
    // SQLite read the header, so a file that is not a database fails here.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}
