//! The per-project cache directory on the deploy host and its lock.
//!
//! Layout: `<cache_root>/<project id>/lock` (the lock file, never deleted) next to the adapter's data
//! (`git/` holds the bare mirror). The lock is an OS file lock (`flock`), which excludes other threads
//! of this process as well as other processes, because each acquisition opens its own file description.
//! Readers (export, diff, resolving a known commit) share it; fetching, repointing and rebuilding the
//! mirror take it exclusively. The lock is released when the guard is dropped, or by the kernel when
//! the process dies, so a crashed deploy never leaves a stale lock behind.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use walle_core::ProjectId;
use walle_core::ports::VcsError;

/// One project's cache directory.
#[derive(Debug, Clone)]
pub(crate) struct ProjectCache {
    dir: PathBuf,
}

/// A held lock on a project's cache; released on drop.
#[derive(Debug)]
pub(crate) struct CacheLock {
    _file: File,
}

impl ProjectCache {
    pub(crate) fn new(root: &Path, project: ProjectId) -> ProjectCache {
        ProjectCache {
            dir: root.join(project.get().to_string()),
        }
    }

    /// The directory holding an adapter's data, e.g. `git`.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Waits for the exclusive lock (fetch, rebuild).
    pub(crate) fn lock_exclusive(&self) -> Result<CacheLock, VcsError> {
        let file = self.lock_file()?;
        file.lock()
            .map_err(|e| io_error("lock the repository cache", &self.dir, &e))?;
        Ok(CacheLock { _file: file })
    }

    /// Waits for a shared lock (reading objects).
    pub(crate) fn lock_shared(&self) -> Result<CacheLock, VcsError> {
        let file = self.lock_file()?;
        file.lock_shared()
            .map_err(|e| io_error("lock the repository cache", &self.dir, &e))?;
        Ok(CacheLock { _file: file })
    }

    fn lock_file(&self) -> Result<File, VcsError> {
        create_private_dir(&self.dir)?;
        let path = self.dir.join("lock");
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("open the cache lock file", &path, &e))
    }
}

/// Creates a directory (and its parents) readable by the deploy user only: caches may hold URLs
/// with tokens in their config.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), VcsError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error("create directory", dir, &e))
}

/// Removes a directory tree (or whatever else is at `path`) if it exists.
pub(crate) fn remove_tree(path: &Path) -> Result<(), VcsError> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", path, &e)),
    }
}

/// A [`VcsError::Io`] for a local path.
pub(crate) fn io_error(action: &'static str, path: &Path, err: &io::Error) -> VcsError {
    VcsError::Io {
        action,
        path: path.display().to_string(),
        detail: err.to_string(),
    }
}
