//! One [`Vcs`] for every project: picks the git or the SVN adapter by the project's repository kind.

use std::path::Path;

use walle_core::model::{FileFilter, RepoKind};
use walle_core::ports::{
    BranchInfo, CommitInfo, ExportSummary, FileChange, RepoHandle, Revision, TagInfo, Vcs, VcsError,
};
use walle_core::value::{CommitId, RefName};

use crate::git::{GitConfig, GitVcs};
use crate::svn::{SvnConfig, SvnVcs};

/// Git and SVN behind one [`Vcs`], chosen per call by [`walle_core::model::RepoConfig::kind`].
#[derive(Debug, Clone)]
pub struct AnyVcs {
    git: GitVcs,
    svn: SvnVcs,
}

impl AnyVcs {
    /// Both adapters. They may share a cache root: their data lives in different subdirectories.
    pub fn new(git: GitConfig, svn: SvnConfig) -> AnyVcs {
        AnyVcs {
            git: GitVcs::new(git),
            svn: SvnVcs::new(svn),
        }
    }

    fn pick(&self, repo: &RepoHandle) -> &dyn Vcs {
        match repo.config.kind {
            RepoKind::Git => &self.git,
            RepoKind::Svn => &self.svn,
        }
    }
}

impl Vcs for AnyVcs {
    fn sync(&self, repo: &RepoHandle) -> Result<(), VcsError> {
        self.pick(repo).sync(repo)
    }

    fn branches(&self, repo: &RepoHandle) -> Result<Vec<BranchInfo>, VcsError> {
        self.pick(repo).branches(repo)
    }

    fn tags(&self, repo: &RepoHandle) -> Result<Vec<TagInfo>, VcsError> {
        self.pick(repo).tags(repo)
    }

    fn commits(
        &self,
        repo: &RepoHandle,
        branch: &RefName,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, VcsError> {
        self.pick(repo).commits(repo, branch, limit)
    }

    fn resolve(&self, repo: &RepoHandle, rev: &Revision) -> Result<CommitId, VcsError> {
        self.pick(repo).resolve(repo, rev)
    }

    fn export(
        &self,
        repo: &RepoHandle,
        commit: &CommitId,
        dest: &Path,
        filter: &FileFilter,
    ) -> Result<ExportSummary, VcsError> {
        self.pick(repo).export(repo, commit, dest, filter)
    }

    fn changed_files(
        &self,
        repo: &RepoHandle,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Vec<FileChange>, VcsError> {
        self.pick(repo).changed_files(repo, from, to)
    }
}
