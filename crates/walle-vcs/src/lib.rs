#![doc = include_str!("../README.md")]

mod cache;
mod dispatch;
mod export_dest;
mod filter;
mod git;
mod known_hosts;
mod process;
mod svn;
mod url;

pub use dispatch::AnyVcs;
pub use git::{GitConfig, GitVcs};
pub use known_hosts::{KnownHosts, UnknownHostPolicy};
pub use svn::{SvnConfig, SvnVcs};

use walle_core::model::FileFilter;
use walle_core::ports::{RepoHandle, VcsError};

/// Compiles a project's package filter, reporting a bad pattern against its repository.
fn filter_for(filter: &FileFilter, repo: &RepoHandle) -> Result<filter::PathFilter, VcsError> {
    filter::PathFilter::new(filter).map_err(|e| VcsError::Other {
        operation: "applying the package filter",
        repo: url::redact_url(&repo.config.url),
        detail: format!("{e}; fix the project's include or exclude list"),
    })
}
