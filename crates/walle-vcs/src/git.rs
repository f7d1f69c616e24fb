//! The git adapter: a bare mirror per project on the deploy host, updated by incremental fetches
//! through libgit2, and exports written straight from its object database.

mod export;
mod mirror;
mod remote;

use std::path::{Path, PathBuf};

use git2::{Commit, DiffOptions, ErrorCode, ObjectType, Oid, Repository, Sort};
use walle_core::Timestamp;
use walle_core::model::{FileFilter, RepoConfig};
use walle_core::ports::{
    BranchInfo, CommitInfo, ExportSummary, FileChange, RepoHandle, Revision, TagInfo, Vcs, VcsError,
};
use walle_core::value::{CommitId, RefName};

use crate::cache::ProjectCache;
use crate::known_hosts::KnownHosts;
use crate::url::Shown;
use crate::{export_dest, filter_for};

/// Settings of the git adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitConfig {
    /// Root of the per-project caches (`<cache_root>/<project id>/git` is a bare mirror).
    pub cache_root: PathBuf,
    /// Host key checking for ssh remotes.
    pub known_hosts: KnownHosts,
}

/// Git through libgit2, with a persistent bare mirror per project.
///
/// Every listing fetches first (branches are always fresh, deleted ones disappear), concurrent
/// operations on one project are serialised by a lock on its cache, a changed URL is followed and a
/// damaged mirror is rebuilt. Submodules are not exported (their paths are left out).
#[derive(Debug, Clone)]
pub struct GitVcs {
    config: GitConfig,
}

/// A failure inside an operation on an open mirror.
enum OpError {
    /// A final answer.
    Vcs(VcsError),
    /// An object the operation needs is not in the mirror: fetch and try again, else report this.
    Missing(VcsError),
    /// A libgit2 error: local damage triggers a rebuild, anything else is reported.
    Git(git2::Error),
}

impl From<git2::Error> for OpError {
    fn from(e: git2::Error) -> Self {
        OpError::Git(e)
    }
}

impl From<VcsError> for OpError {
    fn from(e: VcsError) -> Self {
        OpError::Vcs(e)
    }
}

impl From<export::ExportError> for OpError {
    fn from(e: export::ExportError) -> Self {
        match e {
            export::ExportError::Git(e) => OpError::Git(e),
            export::ExportError::Vcs(e) => OpError::Vcs(e),
        }
    }
}

impl GitVcs {
    /// A git adapter; nothing is touched until the first operation.
    pub fn new(config: GitConfig) -> GitVcs {
        GitVcs { config }
    }

    fn cache(&self, repo: &RepoHandle) -> ProjectCache {
        ProjectCache::new(&self.config.cache_root, repo.project)
    }

    /// Fetches into the mirror (creating, repointing or rebuilding it as needed). Call with the
    /// exclusive lock held.
    fn fetch_locked(&self, dir: &Path, config: &RepoConfig) -> Result<Repository, VcsError> {
        let shown = Shown::new(config);
        let repo = mirror::open_or_rebuild(dir, &config.url)?;
        let fetch = |repo: &Repository| {
            remote::fetch(
                repo,
                &config.credentials,
                &config.url,
                &self.config.known_hosts,
            )
        };
        match fetch(&repo) {
            Ok(()) => Ok(repo),
            Err(remote::FetchError::Git(e))
                if !mirror::healthy(&repo) || remote::is_mirror_damage(&e) =>
            {
                drop(repo);
                let repo = mirror::rebuild(dir, &config.url)?;
                fetch(&repo).map_err(|e| remote::fetch_error(e, &shown))?;
                Ok(repo)
            }
            Err(e) => Err(remote::fetch_error(e, &shown)),
        }
    }

    /// Fetches, then runs `op` under the exclusive lock.
    fn synced<T>(
        &self,
        handle: &RepoHandle,
        op: impl FnMut(&Repository) -> Result<T, OpError>,
    ) -> Result<T, VcsError> {
        let cache = self.cache(handle);
        let _lock = cache.lock_exclusive()?;
        self.fetch_and_run(
            handle,
            &cache.path("git"),
            "reading the repository cache",
            op,
        )
    }

    /// Runs `op` on the mirror as it is, under a shared lock; fetches first only when an object is
    /// missing (or there is no mirror yet), and rebuilds once on local damage.
    fn reading<T>(
        &self,
        handle: &RepoHandle,
        operation: &'static str,
        mut op: impl FnMut(&Repository) -> Result<T, OpError>,
    ) -> Result<T, VcsError> {
        let cache = self.cache(handle);
        let dir = cache.path("git");
        {
            let _lock = cache.lock_shared()?;
            if let Some(repo) = mirror::open_existing(&dir) {
                match op(&repo) {
                    Ok(v) => return Ok(v),
                    Err(OpError::Missing(_)) => {}
                    Err(OpError::Git(e)) if remote::is_local_damage(&e) => {}
                    Err(e) => return Err(self.final_error(e, handle, operation)),
                }
            }
        }
        let _lock = cache.lock_exclusive()?;
        self.fetch_and_run(handle, &dir, operation, op)
    }

    /// Fetches and runs `op`; when `op` meets local damage, or an object the refs point at is
    /// missing, rebuilds the mirror once and runs `op` again. Call with the exclusive lock held.
    fn fetch_and_run<T>(
        &self,
        handle: &RepoHandle,
        dir: &Path,
        operation: &'static str,
        mut op: impl FnMut(&Repository) -> Result<T, OpError>,
    ) -> Result<T, VcsError> {
        let repo = self.fetch_locked(dir, &handle.config)?;
        match op(&repo) {
            Ok(v) => return Ok(v),
            Err(OpError::Git(e)) if remote::is_local_damage(&e) => {}
            Err(OpError::Missing(e)) if mirror::healthy(&repo) => return Err(e),
            Err(OpError::Missing(_)) => {}
            Err(e) => return Err(self.final_error(e, handle, operation)),
        }
        drop(repo);
        mirror::rebuild(dir, &handle.config.url)?;
        let repo = self.fetch_locked(dir, &handle.config)?;
        op(&repo).map_err(|e| self.final_error(e, handle, operation))
    }

    fn final_error(&self, e: OpError, handle: &RepoHandle, operation: &'static str) -> VcsError {
        let shown = Shown::new(&handle.config);
        match e {
            OpError::Vcs(e) | OpError::Missing(e) => e,
            OpError::Git(e) => VcsError::Other {
                operation,
                repo: shown.url(),
                detail: shown.clean(e.message()),
            },
        }
    }
}

impl Vcs for GitVcs {
    fn sync(&self, repo: &RepoHandle) -> Result<(), VcsError> {
        self.synced(repo, |_| Ok(()))
    }

    fn branches(&self, repo: &RepoHandle) -> Result<Vec<BranchInfo>, VcsError> {
        self.synced(repo, |git| {
            let mut out = Vec::new();
            for reference in git.references_glob("refs/heads/*")? {
                let reference = reference?;
                let Some(name) = short_name(&reference, "refs/heads/") else {
                    continue;
                };
                let commit = reference.peel_to_commit()?;
                out.push(BranchInfo {
                    name,
                    head: commit_id(commit.id()),
                    updated_at: commit_time(&commit),
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    fn tags(&self, repo: &RepoHandle) -> Result<Vec<TagInfo>, VcsError> {
        self.synced(repo, |git| {
            let mut out = Vec::new();
            for reference in git.references_glob("refs/tags/*")? {
                let reference = reference?;
                let Some(name) = short_name(&reference, "refs/tags/") else {
                    continue;
                };
                // Tags of trees or blobs cannot be deployed; leave them out.
                let Ok(commit) = reference.peel_to_commit() else {
                    continue;
                };
                let tagger_time = reference
                    .peel(ObjectType::Tag)
                    .ok()
                    .and_then(|tag| tag.into_tag().ok())
                    .and_then(|tag| {
                        tag.tagger()
                            .map(|t| Timestamp::from_unix_secs(t.when().seconds()))
                    });
                out.push(TagInfo {
                    name,
                    commit: commit_id(commit.id()),
                    date: tagger_time.unwrap_or_else(|| commit_time(&commit)),
                });
            }
            out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.name.cmp(&a.name)));
            Ok(out)
        })
    }

    fn commits(
        &self,
        repo: &RepoHandle,
        branch: &RefName,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, VcsError> {
        self.synced(repo, |git| {
            let head = find_ref(git, repo, "branch", branch)?;
            let mut walk = git.revwalk()?;
            walk.set_sorting(Sort::TIME)?;
            walk.push(head)?;
            let mut out = Vec::new();
            for oid in walk.take(limit) {
                let commit = git.find_commit(oid?)?;
                out.push(commit_info(&commit));
            }
            Ok(out)
        })
    }

    fn resolve(&self, repo: &RepoHandle, rev: &Revision) -> Result<CommitId, VcsError> {
        match rev {
            Revision::Branch(name) => self.synced(repo, |git| {
                Ok(commit_id(find_ref(git, repo, "branch", name)?))
            }),
            Revision::Tag(name) => {
                self.synced(repo, |git| Ok(commit_id(find_ref(git, repo, "tag", name)?)))
            }
            Revision::Commit(id) => self.reading(repo, "resolving a commit", |git| {
                Ok(commit_id(find_commit(git, repo, id)?.id()))
            }),
        }
    }

    fn export(
        &self,
        repo: &RepoHandle,
        commit: &CommitId,
        dest: &Path,
        filter: &FileFilter,
    ) -> Result<ExportSummary, VcsError> {
        let filter = filter_for(filter, repo)?;
        export_dest::prepare(dest)?;
        self.reading(repo, "exporting", |git| {
            let tree = find_commit(git, repo, commit)?.tree()?;
            // A retry after a rebuild starts from an empty directory again.
            export_dest::clear(dest)?;
            let (summary, _submodules) = export::export_tree(git, &tree, dest, &filter)?;
            Ok(summary)
        })
    }

    fn changed_files(
        &self,
        repo: &RepoHandle,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Vec<FileChange>, VcsError> {
        self.reading(repo, "comparing commits", |git| {
            let old = find_commit(git, repo, from)?.tree()?;
            let new = find_commit(git, repo, to)?.tree()?;
            let mut options = DiffOptions::new();
            options.ignore_submodules(false).include_typechange(true);
            let diff = git.diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))?;
            let mut out = Vec::new();
            for delta in diff.deltas() {
                let path = |file: git2::DiffFile<'_>| {
                    file.path_bytes()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .unwrap_or_default()
                };
                match delta.status() {
                    git2::Delta::Added | git2::Delta::Copied => {
                        out.push(FileChange::Added(path(delta.new_file())));
                    }
                    git2::Delta::Deleted => out.push(FileChange::Deleted(path(delta.old_file()))),
                    git2::Delta::Renamed => {
                        out.push(FileChange::Deleted(path(delta.old_file())));
                        out.push(FileChange::Added(path(delta.new_file())));
                    }
                    _ => out.push(FileChange::Modified(path(delta.new_file()))),
                }
            }
            out.sort_by(|a, b| change_path(a).cmp(change_path(b)));
            Ok(out)
        })
    }
}

fn change_path(change: &FileChange) -> &str {
    match change {
        FileChange::Added(p) | FileChange::Modified(p) | FileChange::Deleted(p) => p,
    }
}

/// The short name of a branch or tag ref, `None` if it is not a name Walle accepts (such refs
/// cannot be deployed safely and are left out of listings).
fn short_name(reference: &git2::Reference<'_>, prefix: &str) -> Option<RefName> {
    let full = reference.name().ok()?;
    RefName::new(full.strip_prefix(prefix)?).ok()
}

/// The commit a branch or tag points at.
fn find_ref(
    git: &Repository,
    handle: &RepoHandle,
    kind: &'static str,
    name: &RefName,
) -> Result<Oid, OpError> {
    let full = match kind {
        "tag" => format!("refs/tags/{name}"),
        _ => format!("refs/heads/{name}"),
    };
    let no_such = || {
        OpError::Vcs(VcsError::NoSuchRef {
            repo: Shown::new(&handle.config).url(),
            kind,
            reference: name.to_string(),
        })
    };
    let reference = match git.find_reference(&full) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => {
            return Err(no_such());
        }
        Err(e) => return Err(e.into()),
    };
    match reference.peel_to_commit() {
        Ok(commit) => Ok(commit.id()),
        Err(e) if e.class() == git2::ErrorClass::Object && e.code() == ErrorCode::InvalidSpec => {
            Err(no_such())
        }
        Err(e) => Err(e.into()),
    }
}

/// A commit by full or abbreviated id (an annotated tag's id is peeled to its commit).
fn find_commit<'r>(
    git: &'r Repository,
    handle: &RepoHandle,
    id: &CommitId,
) -> Result<Commit<'r>, OpError> {
    let shown = Shown::new(&handle.config);
    let no_such = |why: Option<&str>| VcsError::NoSuchRef {
        repo: shown.url(),
        kind: "commit",
        reference: match why {
            Some(why) => format!("{id} ({why})"),
            None => id.to_string(),
        },
    };
    match git.find_object_by_prefix(id.as_str(), None) {
        Ok(object) => match object.peel_to_commit() {
            Ok(commit) => Ok(commit),
            Err(_) => Err(OpError::Vcs(no_such(Some("not a commit")))),
        },
        Err(e) if e.code() == ErrorCode::NotFound => Err(OpError::Missing(no_such(None))),
        Err(e) if e.code() == ErrorCode::Ambiguous => Err(OpError::Vcs(no_such(Some(
            "ambiguous: several objects start with these digits; give more of them",
        )))),
        Err(e) => Err(e.into()),
    }
}

fn commit_info(commit: &Commit<'_>) -> CommitInfo {
    let message = String::from_utf8_lossy(commit.message_bytes());
    CommitInfo {
        id: commit_id(commit.id()),
        author: String::from_utf8_lossy(commit.author().name_bytes()).into_owned(),
        date: commit_time(commit),
        subject: message.lines().next().unwrap_or("").trim().to_owned(),
    }
}

fn commit_time(commit: &Commit<'_>) -> Timestamp {
    Timestamp::from_unix_secs(commit.time().seconds())
}

fn commit_id(oid: Oid) -> CommitId {
    CommitId::new(&oid.to_string()).expect("a git object id is 40 or 64 lowercase hex digits")
}
