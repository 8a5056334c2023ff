//! Why a database operation failed, with what to do.

use std::path::{Path, PathBuf};

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
    #[error(
        "no exchange starts with `{id}`; `pocket-dca exchanges` lists them (or `pocket-dca exchange fetch ID` gets one from Pocket)"
    )]
    NoSuchExchange { id: String },
    #[error("`{prefix}` matches several exchanges ({}); give more of the id", .matches.join(", "))]
    AmbiguousExchange {
        prefix: String,
        matches: Vec<String>,
    },
    #[error("cannot encode a value for the database: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(
        "the backup {path} failed its integrity check ({verdict}); it is not usable: try again, and check the disk"
    )]
    BackupDamaged { path: PathBuf, verdict: String },
    #[error(
        "the database {path} is damaged ({findings}); stop pocket-dca, keep the damaged file aside and put your last backup (`pocket-dca db backup`) in its place"
    )]
    Damaged { path: PathBuf, findings: String },
    #[error(
        "the database is damaged ({0}); stop pocket-dca and run `pocket-dca db status`, which checks it and says what to do"
    )]
    Corrupt(rusqlite::Error),
    #[error("cannot make {path} readable by its owner only: {cause}; check who owns the file")]
    Private {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot write the backup {path}: {cause}")]
    BackupFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt) => Error::Corrupt(e),
            _ => Error::Sqlite(e),
        }
    }
}

impl Error {
    /// An error opening `path`: "not a database" named as such.
    pub(super) fn classify(e: rusqlite::Error, path: &Path) -> Error {
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
}
