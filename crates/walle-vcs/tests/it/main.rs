//! Integration tests of walle-vcs against real repositories served by the test infrastructure
//! (`file://`, `git://`, `ssh://` and `svn://`; see docs/TESTING.md).

mod cache;
mod export;
mod git;
mod ssh;
mod support;
mod svn;
