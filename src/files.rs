//! Files that hold the user's data — the database and its WAL, backups,
//! exports, reminder previews, the outbox, the config — are readable by
//! their owner only (0600), whatever the umask: they hold extended public
//! keys, IBANs and secrets.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for writing, creating it 0600; a file that existed keeps
/// its mode through `open`, so it is restricted after.
fn open_private(path: &Path, truncate: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    open_with(path, options)
}

/// Opens `path` for reading and writing, creating it empty and 0600 when it
/// does not exist.
pub fn open_private_read_write(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    open_with(path, options)
}

fn open_with(path: &Path, mut options: OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    restrict(path)?;
    Ok(file)
}

/// Creates (or truncates) `path` for writing, 0600.
pub fn create_private(path: &Path) -> io::Result<File> {
    open_private(path, true)
}

/// Creates `path` empty and 0600 when it does not exist, keeping what it
/// holds when it does; either way readable by its owner only.
pub fn ensure_private(path: &Path) -> io::Result<()> {
    open_private(path, false).map(drop)
}

/// Takes group and other access away from an existing file.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_that_was_open_to_all_is_made_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, "x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let fresh = dir.path().join("new.sqlite3");
        ensure_private(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
