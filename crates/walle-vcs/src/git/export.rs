//! Writing the tree of a commit into a directory: blobs straight from the object database, no
//! process per file, no checkout, no `.git`.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use git2::{FileMode, ObjectType, Repository, Tree};
use walle_core::ports::{ExportSummary, VcsError};

use crate::cache::io_error;
use crate::filter::{DirAction, PathFilter, is_vcs_metadata};

/// Why an export stopped.
#[derive(Debug)]
pub(super) enum ExportError {
    /// Reading the object database failed.
    Git(git2::Error),
    /// Writing failed, or the tree holds a name that cannot be written safely.
    Vcs(VcsError),
}

impl From<git2::Error> for ExportError {
    fn from(e: git2::Error) -> Self {
        ExportError::Git(e)
    }
}

impl From<VcsError> for ExportError {
    fn from(e: VcsError) -> Self {
        ExportError::Vcs(e)
    }
}

/// Writes `tree` into the empty directory `dest`.
pub(super) fn export_tree(
    repo: &Repository,
    tree: &Tree<'_>,
    dest: &Path,
    filter: &PathFilter,
) -> Result<(ExportSummary, Vec<String>), ExportError> {
    let mut writer = Writer {
        repo,
        filter,
        dest,
        summary: ExportSummary::default(),
        created: HashSet::from([PathBuf::new()]),
        submodules: Vec::new(),
    };
    writer.walk(tree, "", Path::new(""), false)?;
    Ok((writer.summary, writer.submodules))
}

struct Writer<'a> {
    repo: &'a Repository,
    filter: &'a PathFilter,
    dest: &'a Path,
    summary: ExportSummary,
    /// Directories (relative to `dest`) that exist; the empty path is `dest` itself.
    created: HashSet<PathBuf>,
    /// Submodule paths, which are not exported.
    submodules: Vec<String>,
}

impl Writer<'_> {
    /// `rel` is the `/`-separated path for the filter (lossy UTF-8), `fs_rel` the exact bytes.
    fn walk(
        &mut self,
        tree: &Tree<'_>,
        rel: &str,
        fs_rel: &Path,
        take_all: bool,
    ) -> Result<(), ExportError> {
        for entry in tree.iter() {
            let name = entry.name_bytes();
            check_name(name, rel)?;
            let fs_child = fs_rel.join(OsStr::from_bytes(name));
            let name = String::from_utf8_lossy(name);
            let child = if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            };
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let action = if !take_all {
                        self.filter.dir(&child)
                    } else if is_vcs_metadata(&child) {
                        DirAction::Skip
                    } else {
                        DirAction::TakeAll
                    };
                    if action == DirAction::Skip {
                        continue;
                    }
                    let subtree = self.repo.find_tree(entry.id())?;
                    if action == DirAction::TakeAll || self.filter.keeps_walked_dirs() {
                        self.ensure_dir(&fs_child)?;
                    }
                    self.walk(&subtree, &child, &fs_child, action == DirAction::TakeAll)?;
                }
                Some(ObjectType::Blob) => {
                    let take = if take_all {
                        !is_vcs_metadata(&child)
                    } else {
                        self.filter.file(&child)
                    };
                    if take {
                        self.ensure_dir(fs_rel)?;
                        self.write_blob(&fs_child, entry.id(), entry.filemode())?;
                    }
                }
                Some(ObjectType::Commit) => self.submodules.push(child),
                _ => {}
            }
        }
        Ok(())
    }

    fn write_blob(&mut self, fs_rel: &Path, id: git2::Oid, mode: i32) -> Result<(), ExportError> {
        let blob = self.repo.find_blob(id)?;
        let content = blob.content();
        let path = self.dest.join(fs_rel);
        if mode == i32::from(FileMode::Link) {
            std::os::unix::fs::symlink(OsStr::from_bytes(content), &path)
                .map_err(|e| io_error("create symlink", &path, &e))?;
        } else {
            let perm = if mode == i32::from(FileMode::BlobExecutable) {
                0o755
            } else {
                0o644
            };
            // `create_new` never follows or overwrites an existing entry, symlinks included.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(perm)
                .open(&path)
                .map_err(|e| io_error("create file", &path, &e))?;
            file.write_all(content)
                .map_err(|e| io_error("write file", &path, &e))?;
        }
        self.summary.files += 1;
        self.summary.bytes += content.len() as u64;
        Ok(())
    }

    /// Creates the directory `fs_rel` and its missing parents, each one `mkdir` (never through a symlink).
    fn ensure_dir(&mut self, fs_rel: &Path) -> Result<(), ExportError> {
        if self.created.contains(fs_rel) {
            return Ok(());
        }
        if let Some(parent) = fs_rel.parent() {
            self.ensure_dir(parent)?;
        }
        let path = self.dest.join(fs_rel);
        DirBuilder::new()
            .mode(0o755)
            .create(&path)
            .map_err(|e| io_error("create directory", &path, &e))?;
        self.created.insert(fs_rel.to_owned());
        Ok(())
    }
}

/// Refuses tree entry names that could escape `dest` (a crafted tree can hold them; git itself
/// would refuse to check them out).
fn check_name(name: &[u8], rel: &str) -> Result<(), ExportError> {
    let bad = name.is_empty()
        || name == b"."
        || name == b".."
        || name.contains(&b'/')
        || name.contains(&0);
    if bad {
        return Err(ExportError::Vcs(VcsError::Io {
            action: "export the tree",
            path: format!("{rel}/{}", String::from_utf8_lossy(name)),
            detail: "the repository holds an entry name that cannot be written safely".to_owned(),
        }));
    }
    Ok(())
}
