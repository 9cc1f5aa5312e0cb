//! Online backups of the embedded database: a consistent copy taken while the service goes on
//! writing, with SQLite's `VACUUM INTO`.
//!
//! Why `VACUUM INTO` and not the online backup API (`sqlite3_backup_*`, rusqlite's `backup`
//! feature, which would add no dependency): the backup API copies pages in steps, and when
//! another connection writes between two steps it starts over, so under a steady stream of
//! webhooks a large database may never finish (rusqlite's `Connection::backup` steps 100 pages
//! at a time); copying in one step holds one read transaction, which is what `VACUUM INTO` does
//! anyway. `VACUUM INTO` reads the whole database in one read transaction (in WAL mode that
//! blocks no writer and is never restarted), writes a compacted copy without free pages, and
//! is plain SQL. It does not fsync its output, so this module does: the copy is written beside
//! the target under a temporary name, checked (`PRAGMA quick_check`), synced, made readable by
//! its owner only, and then renamed into place, so a backup file is never half written.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{Result, StoreError};

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Copies the database at `database` to `to`, consistently, while others may write to it.
/// Refuses to replace an existing `to` unless `force`.
pub fn backup(database: &Path, to: &Path, force: bool) -> Result<BackupInfo> {
    if !database.is_file() {
        return Err(StoreError(format!(
            "there is no database at `{}`",
            database.display()
        )));
    }
    if to.exists() {
        if same_file(database, to) {
            return Err(StoreError(format!(
                "`{}` is the database itself",
                to.display()
            )));
        }
        if !force {
            return Err(StoreError(format!(
                "`{}` exists already; say --force to replace it",
                to.display()
            )));
        }
        if to.is_dir() {
            return Err(StoreError(format!("`{}` is a directory", to.display())));
        }
    }
    let name = to
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| StoreError(format!("`{}` is not a file name", to.display())))?;
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let partial = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = copy(database, &partial).and_then(|()| {
        std::fs::rename(&partial, to)
            .map_err(|e| StoreError(format!("cannot move the copy to `{}`: {e}", to.display())))
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    // The rename is durable once the directory is.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    let bytes = std::fs::metadata(to)
        .map_err(|e| StoreError(format!("cannot read `{}`: {e}", to.display())))?
        .len();
    Ok(BackupInfo {
        path: to.to_path_buf(),
        bytes,
    })
}

/// `VACUUM INTO` a new file at `partial`, then checks and syncs it.
fn copy(database: &Path, partial: &Path) -> Result<()> {
    let target = partial
        .to_str()
        .ok_or_else(|| StoreError(format!("`{}` is not UTF-8", partial.display())))?;
    if partial.exists() {
        std::fs::remove_file(partial)
            .map_err(|e| StoreError(format!("cannot remove `{}`: {e}", partial.display())))?;
    }
    // Never creates a database where there was none; reads only.
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    source.execute("VACUUM INTO ?1", [target])?;
    drop(source);

    let copy = Connection::open_with_flags(partial, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    drop(copy);
    if check != "ok" {
        return Err(StoreError(format!("the copy fails its check: {check}")));
    }
    let file = std::fs::File::open(partial)
        .map_err(|e| StoreError(format!("cannot open `{}`: {e}", partial.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError(format!("cannot restrict `{}`: {e}", partial.display())))?;
    }
    file.sync_all()
        .map_err(|e| StoreError(format!("cannot sync `{}`: {e}", partial.display())))?;
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
