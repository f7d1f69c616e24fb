//! The version-control port: listing, resolving and exporting versions of a project's repository.

use std::path::Path;

use crate::ProjectId;
use crate::Timestamp;
use crate::model::{FileFilter, RepoConfig};
use crate::value::{CommitId, RefName};

/// A repository as the VCS adapter sees it: the project (the key of its cache on the deploy host)
/// and the repository settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoHandle {
    /// The project, naming the cache directory.
    pub project: ProjectId,
    /// URL, kind, mode and credentials.
    pub config: RepoConfig,
}

/// A version to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// The head of a branch (SVN: `trunk` or a branch name).
    Branch(RefName),
    /// A tag.
    Tag(RefName),
    /// An exact commit or revision (abbreviated git ids are expanded).
    Commit(CommitId),
}

/// A branch and its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchInfo {
    /// Name (`trunk` for SVN trunk).
    pub name: RefName,
    /// Head commit or revision.
    pub head: CommitId,
    /// Time of the head commit.
    pub updated_at: Timestamp,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    /// Name.
    pub name: RefName,
    /// The commit it points to (peeled).
    pub commit: CommitId,
    /// Tagger date for annotated tags, else the commit date.
    pub date: Timestamp,
}

/// A commit or revision in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full id.
    pub id: CommitId,
    /// Author name.
    pub author: String,
    /// Commit date.
    pub date: Timestamp,
    /// First line of the message.
    pub subject: String,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Files written (symlinks included).
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A file changed between two versions (paths relative to the repository root).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileChange {
    /// New file.
    Added(String),
    /// Changed content or mode.
    Modified(String),
    /// Removed file.
    Deleted(String),
}

/// Why a VCS operation failed. Messages name the repository (credentials stripped from the URL),
/// the ref, and what the user can do next. They never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcsError {
    /// The server could not be reached.
    #[error(
        "cannot reach repository {repo}: {detail}; check the URL, the network and that the server is running"
    )]
    Unreachable {
        /// Repository URL without credentials.
        repo: String,
        /// Underlying error.
        detail: String,
    },
    /// Authentication was refused.
    #[error(
        "authentication to {repo} failed: {detail}; check the project's credentials or the deploy host's SSH key"
    )]
    AuthFailed {
        /// Repository URL without credentials.
        repo: String,
        /// Underlying error.
        detail: String,
    },
    /// The server's SSH host key is unknown or changed.
    #[error("host key of {repo} not trusted: {detail}")]
    HostKey {
        /// Repository URL without credentials.
        repo: String,
        /// What was seen and how to trust it.
        detail: String,
    },
    /// No such branch, tag, commit or revision.
    #[error("no {kind} {reference:?} in {repo}; refresh the list and pick an existing one")]
    NoSuchRef {
        /// Repository URL without credentials.
        repo: String,
        /// `branch`, `tag`, `commit` or `revision`.
        kind: &'static str,
        /// What was asked for.
        reference: String,
    },
    /// The URL does not point to a repository.
    #[error("{repo} is not a {expected} repository: {detail}")]
    NotARepository {
        /// Repository URL without credentials.
        repo: String,
        /// `git` or `svn`.
        expected: &'static str,
        /// Underlying error.
        detail: String,
    },
    /// A local file-system error on the deploy host (cache or build directory).
    #[error("{action} failed for {path}: {detail}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The local path.
        path: String,
        /// Underlying error.
        detail: String,
    },
    /// Anything else.
    #[error("{operation} on {repo} failed: {detail}")]
    Other {
        /// What was being done.
        operation: &'static str,
        /// Repository URL without credentials.
        repo: String,
        /// Underlying error.
        detail: String,
    },
}

impl VcsError {
    /// True for network hiccups worth retrying.
    pub fn is_retryable(&self) -> bool {
        matches!(self, VcsError::Unreachable { .. })
    }
}

/// Version control for one kind of repository (or a dispatcher over several).
pub trait Vcs: Send + Sync {
    /// Updates the project's cache on the deploy host from the remote (incremental fetch for git).
    fn sync(&self, repo: &RepoHandle) -> Result<(), VcsError>;

    /// Branches, fetched fresh from the remote, sorted by name.
    fn branches(&self, repo: &RepoHandle) -> Result<Vec<BranchInfo>, VcsError>;

    /// Tags, newest first.
    fn tags(&self, repo: &RepoHandle) -> Result<Vec<TagInfo>, VcsError>;

    /// The last `limit` commits of a branch, newest first.
    fn commits(
        &self,
        repo: &RepoHandle,
        branch: &RefName,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, VcsError>;

    /// Resolves a branch, tag or (short) commit to a full commit id or revision.
    fn resolve(&self, repo: &RepoHandle, rev: &Revision) -> Result<CommitId, VcsError>;

    /// Writes the tree of `commit` into the empty directory `dest`, without VCS metadata,
    /// honouring the filter (`.git` and `.svn` are never written).
    fn export(
        &self,
        repo: &RepoHandle,
        commit: &CommitId,
        dest: &Path,
        filter: &FileFilter,
    ) -> Result<ExportSummary, VcsError>;

    /// The files changed from `from` to `to`, sorted by path.
    fn changed_files(
        &self,
        repo: &RepoHandle,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Vec<FileChange>, VcsError>;
}

impl<T: Vcs + ?Sized> Vcs for std::sync::Arc<T> {
    fn sync(&self, repo: &RepoHandle) -> Result<(), VcsError> {
        (**self).sync(repo)
    }
    fn branches(&self, repo: &RepoHandle) -> Result<Vec<BranchInfo>, VcsError> {
        (**self).branches(repo)
    }
    fn tags(&self, repo: &RepoHandle) -> Result<Vec<TagInfo>, VcsError> {
        (**self).tags(repo)
    }
    fn commits(
        &self,
        repo: &RepoHandle,
        branch: &RefName,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, VcsError> {
        (**self).commits(repo, branch, limit)
    }
    fn resolve(&self, repo: &RepoHandle, rev: &Revision) -> Result<CommitId, VcsError> {
        (**self).resolve(repo, rev)
    }
    fn export(
        &self,
        repo: &RepoHandle,
        commit: &CommitId,
        dest: &Path,
        filter: &FileFilter,
    ) -> Result<ExportSummary, VcsError> {
        (**self).export(repo, commit, dest, filter)
    }
    fn changed_files(
        &self,
        repo: &RepoHandle,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Vec<FileChange>, VcsError> {
        (**self).changed_files(repo, from, to)
    }
}
