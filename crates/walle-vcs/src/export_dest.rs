//! The build directory an export writes into.

use std::fs;
use std::path::Path;

use walle_core::ports::{ExportSummary, VcsError};

use crate::cache::io_error;
use crate::filter::{DirAction, PathFilter, is_vcs_metadata};

/// Creates `dest` if needed and checks that it is an empty directory.
pub(crate) fn prepare(dest: &Path) -> Result<(), VcsError> {
    fs::create_dir_all(dest).map_err(|e| io_error("create the export directory", dest, &e))?;
    let mut entries =
        fs::read_dir(dest).map_err(|e| io_error("read the export directory", dest, &e))?;
    if entries.next().is_some() {
        return Err(VcsError::Io {
            action: "export",
            path: dest.display().to_string(),
            detail: "the directory is not empty; export needs a fresh build directory".to_owned(),
        });
    }
    Ok(())
}

/// Removes everything inside `dest` (after a failed attempt), keeping `dest` itself.
pub(crate) fn clear(dest: &Path) -> Result<(), VcsError> {
    let entries =
        fs::read_dir(dest).map_err(|e| io_error("read the export directory", dest, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("read the export directory", dest, &e))?;
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let removed = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|e| io_error("clean the export directory", &path, &e))?;
    }
    Ok(())
}

/// Applies the package filter to a tree already written into `dest` (SVN exports), deleting what
/// it leaves out, and counts what stays. Symlinks are never followed.
pub(crate) fn apply_filter(dest: &Path, filter: &PathFilter) -> Result<ExportSummary, VcsError> {
    let mut summary = ExportSummary::default();
    prune(dest, "", filter, false, &mut summary)?;
    Ok(summary)
}

/// Returns whether anything stays in `dir`.
fn prune(
    dir: &Path,
    rel: &str,
    filter: &PathFilter,
    take_all: bool,
    summary: &mut ExportSummary,
) -> Result<bool, VcsError> {
    let entries = fs::read_dir(dir).map_err(|e| io_error("read directory", dir, &e))?;
    let mut kept = false;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("read directory", dir, &e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let child = if rel.is_empty() {
            name.into_owned()
        } else {
            format!("{rel}/{name}")
        };
        let file_type = entry
            .file_type()
            .map_err(|e| io_error("inspect", &path, &e))?;
        if file_type.is_dir() {
            let action = if !take_all {
                filter.dir(&child)
            } else if is_vcs_metadata(&child) {
                DirAction::Skip
            } else {
                DirAction::TakeAll
            };
            match action {
                DirAction::Skip => {
                    fs::remove_dir_all(&path)
                        .map_err(|e| io_error("remove filtered directory", &path, &e))?;
                }
                DirAction::TakeAll => {
                    prune(&path, &child, filter, true, summary)?;
                    kept = true;
                }
                DirAction::Walk => {
                    if prune(&path, &child, filter, false, summary)? || filter.keeps_walked_dirs() {
                        kept = true;
                    } else {
                        fs::remove_dir(&path)
                            .map_err(|e| io_error("remove empty directory", &path, &e))?;
                    }
                }
            }
        } else {
            let take = if take_all {
                !is_vcs_metadata(&child)
            } else {
                filter.file(&child)
            };
            if take {
                let meta = entry
                    .metadata()
                    .map_err(|e| io_error("inspect", &path, &e))?;
                summary.files += 1;
                summary.bytes += meta.len();
                kept = true;
            } else {
                fs::remove_file(&path).map_err(|e| io_error("remove filtered file", &path, &e))?;
            }
        }
    }
    Ok(kept)
}
