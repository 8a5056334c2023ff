//! The migration mechanism on real SQLite files: new file, existing file,
//! reopening, a newer schema, a failing migration, a file that is no database.
#![allow(clippy::unwrap_used)]

use pocket_dca::store::{self, MIGRATIONS, Migration, Store};

fn conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

const EXTRA: Migration = Migration {
    version: 2,
    name: "notes",
    sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;
          INSERT INTO notes (text) VALUES ('added by migration 2');",
};

#[test]
fn migrations_apply_to_a_new_file_with_durable_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/db.sqlite3");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), store::latest_version());
    let c = conn(&path);
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let tables: Vec<String> = store
        .status()
        .unwrap()
        .tables
        .into_iter()
        .map(|t| t.table)
        .collect();
    assert!(tables.contains(&"orders".to_string()) && tables.contains(&"addresses".to_string()));
}

#[test]
fn an_existing_file_is_upgraded_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let first = [MIGRATIONS[0]];
    drop(Store::open_with(&path, &first).unwrap());
    conn(&path)
        .execute(
            "INSERT INTO orders VALUES ('o1', 'label', 1, 'eur', '0.015', '100', '1', '[]', 'k', 'k', 'p2wpkh', 'bitcoin', '0', 0, 'a', 10, 20, 'DE', '{}', '{}', 't', 't', 't')",
            [],
        )
        .unwrap();
    // Reopening with the same migrations changes nothing.
    let store = Store::open_with(&path, &first).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    drop(store);
    // A newer binary applies only the new migration, keeping the data.
    let store = Store::open_with(&path, &[MIGRATIONS[0], EXTRA]).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    let status = store.status().unwrap();
    let rows = |name: &str| status.tables.iter().find(|t| t.table == name).unwrap().rows;
    assert_eq!(rows("orders"), 1);
    assert_eq!(rows("notes"), 1);
    drop(store);
    // The older binary refuses the newer schema and leaves the file alone.
    let err = Store::open_with(&path, &first).unwrap_err();
    assert!(
        matches!(
            err,
            store::Error::TooNew {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    let version: u32 = conn(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

#[test]
fn a_failing_migration_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    drop(Store::open_with(&path, &[MIGRATIONS[0]]).unwrap());
    let broken = Migration {
        version: 2,
        name: "broken",
        sql: "CREATE TABLE half (x INTEGER) STRICT; INSERT INTO nowhere VALUES (1);",
    };
    let err = Store::open_with(&path, &[MIGRATIONS[0], broken]).unwrap_err();
    assert!(
        matches!(err, store::Error::Migration { version: 2, .. }),
        "{err}"
    );
    let c = conn(&path);
    let version: u32 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let half: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'half'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(half, 0, "the migration's first statement was rolled back");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "this is not sqlite, just a text file of some length ....................................................................").unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, store::Error::NotADatabase { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
