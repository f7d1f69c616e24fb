//! The bare mirror in a project's cache: opening it, following URL changes, checking its health and
//! rebuilding it when it is damaged (so nobody has to `rm -rf` a cache by hand, walle #1027).

use std::path::Path;

use git2::{ObjectType, Repository, RepositoryInitOptions};
use walle_core::ports::VcsError;

use super::remote::{REFSPECS, REMOTE};
use crate::cache::{create_private_dir, remove_tree};

/// More pack files than this make object lookups slow (libgit2 cannot repack); the mirror is then
/// rebuilt, which leaves a single pack.
const MAX_PACKS: usize = 64;

/// Opens the mirror in `dir`, pointing its remote at `url`; creates or rebuilds it when it is
/// missing, damaged or fragmented.
pub(super) fn open_or_rebuild(dir: &Path, url: &str) -> Result<Repository, VcsError> {
    if dir.exists()
        && let Ok(repo) = open_for_fetch(dir, url)
    {
        return Ok(repo);
    }
    rebuild(dir, url)
}

/// Opens an existing mirror for reading; `None` if there is none or it cannot be opened.
pub(super) fn open_existing(dir: &Path) -> Option<Repository> {
    if !dir.exists() {
        return None;
    }
    Repository::open_bare(dir).ok().filter(Repository::is_bare)
}

/// Deletes the mirror and creates an empty one with the remote set to `url`.
pub(super) fn rebuild(dir: &Path, url: &str) -> Result<Repository, VcsError> {
    let failed = |e: git2::Error| VcsError::Io {
        action: "create the repository cache",
        path: dir.display().to_string(),
        detail: e.message().to_owned(),
    };
    remove_tree(dir)?;
    create_private_dir(dir)?;
    let repo = Repository::init_opts(
        dir,
        RepositoryInitOptions::new()
            .bare(true)
            .no_reinit(true)
            .initial_head("main"),
    )
    .map_err(failed)?;
    repo.remote_with_fetch(REMOTE, url, REFSPECS[0])
        .map_err(failed)?;
    repo.remote_add_fetch(REMOTE, REFSPECS[1]).map_err(failed)?;
    repo.config()
        .and_then(|mut c| c.set_bool("core.logAllRefUpdates", false))
        .map_err(failed)?;
    Ok(repo)
}

/// True when every branch and tag of the mirror points at an object it has.
pub(super) fn healthy(repo: &Repository) -> bool {
    let Ok(refs) = repo.references() else {
        return false;
    };
    for reference in refs {
        let Ok(reference) = reference else {
            return false;
        };
        let Ok(resolved) = reference.resolve() else {
            return false;
        };
        let Some(oid) = resolved.target() else {
            return false;
        };
        if repo.find_object(oid, None).is_err() {
            return false;
        }
        if resolved.peel(ObjectType::Any).is_err() {
            return false;
        }
    }
    true
}

fn open_for_fetch(dir: &Path, url: &str) -> Result<Repository, git2::Error> {
    let repo = Repository::open_bare(dir)?;
    if !repo.is_bare() {
        return Err(git2::Error::from_str("the cache is not a bare repository"));
    }
    let current = repo.find_remote(REMOTE)?.url().ok().map(str::to_owned);
    if current.as_deref() != Some(url) {
        // The project's URL changed: follow it. Branches and tags the new remote lacks are pruned
        // by the next fetch; objects already here are reused.
        repo.remote_set_url(REMOTE, url)?;
    }
    if pack_count(dir) > MAX_PACKS {
        return Err(git2::Error::from_str("too many pack files"));
    }
    Ok(repo)
}

fn pack_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("objects/pack")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
            .count()
    })
}
