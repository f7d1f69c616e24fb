//! The package filter: which paths of an exported tree are written.
//!
//! Patterns are globs relative to the repository root, one per line, with `.gitignore`-like anchoring:
//! a pattern without `/` (`*.log`, `node_modules`) matches a name at any depth; a pattern with a `/`
//! (`vendor/**`, `config/local.php`, `/build`) is anchored at the root. `*` and `?` stop at `/`, `**`
//! crosses directories, and a trailing `/` matches directories only. A pattern that matches a directory
//! covers everything below it, like tar's `--exclude`. Blank lines and `#` comments are ignored.
//! `.git` and `.svn` are never written, whatever the filter says.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use walle_core::model::{FileFilter, FilterMode};

/// Names that are never exported, at any depth.
const VCS_METADATA: [&str; 2] = [".git", ".svn"];

/// A compiled [`FileFilter`].
#[derive(Debug, Clone)]
pub(crate) struct PathFilter {
    mode: FilterMode,
    any: GlobSet,
    dirs: GlobSet,
}

/// What to do with a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirAction {
    /// Write it and everything below it without asking again.
    TakeAll,
    /// Write nothing below it.
    Skip,
    /// Look at each entry below it.
    Walk,
}

/// A pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter pattern {pattern:?}: {reason}")]
pub(crate) struct InvalidPattern {
    pub(crate) pattern: String,
    pub(crate) reason: String,
}

impl PathFilter {
    /// Compiles the patterns.
    pub(crate) fn new(filter: &FileFilter) -> Result<PathFilter, InvalidPattern> {
        let mut any = GlobSetBuilder::new();
        let mut dirs = GlobSetBuilder::new();
        for raw in &filter.patterns {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let invalid = |reason: &str| InvalidPattern {
                pattern: line.to_owned(),
                reason: reason.to_owned(),
            };
            let dir_only = line.ends_with('/');
            let body = line.trim_end_matches('/');
            let anchored = body.contains('/');
            let body = body.trim_start_matches('/');
            if body.is_empty() {
                return Err(invalid("matches nothing; name a file, directory or glob"));
            }
            if body
                .split('/')
                .any(|c| c == ".." || c == "." || c.is_empty())
            {
                return Err(invalid("has an empty, '.' or '..' component"));
            }
            let glob = if anchored {
                body.to_owned()
            } else {
                format!("**/{body}")
            };
            let glob = GlobBuilder::new(&glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| invalid(&e.kind().to_string()))?;
            if dir_only {
                dirs.add(glob);
            } else {
                any.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| InvalidPattern {
                pattern: e.glob().unwrap_or("").to_owned(),
                reason: e.kind().to_string(),
            })
        };
        Ok(PathFilter {
            mode: filter.mode,
            any: build(any)?,
            dirs: build(dirs)?,
        })
    }

    /// What to do with the directory at `path` (relative, `/`-separated, not inside a taken directory).
    pub(crate) fn dir(&self, path: &str) -> DirAction {
        if is_vcs_metadata(path) {
            return DirAction::Skip;
        }
        let matched = self.any.is_match(path) || self.dirs.is_match(path);
        match (self.mode, matched) {
            (FilterMode::Exclude, true) => DirAction::Skip,
            (FilterMode::Include, true) => DirAction::TakeAll,
            (_, false) => DirAction::Walk,
        }
    }

    /// Whether the file (or symlink) at `path` is written, when no directory above it decided.
    pub(crate) fn file(&self, path: &str) -> bool {
        if is_vcs_metadata(path) {
            return false;
        }
        let matched = self.any.is_match(path);
        match self.mode {
            FilterMode::Exclude => !matched,
            FilterMode::Include => matched,
        }
    }

    /// True when directories that contain nothing to write are still created (exclude mode, like tar).
    pub(crate) fn keeps_walked_dirs(&self) -> bool {
        self.mode == FilterMode::Exclude
    }
}

/// True when the last component of `path` is `.git` or `.svn` (any case).
pub(crate) fn is_vcs_metadata(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    VCS_METADATA.iter().any(|m| m.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;
