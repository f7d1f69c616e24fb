//! The workspace port: build directories and release archives on the deploy host.

use std::io::Read;

use crate::value::{AbsPath, ReleaseId};

/// One file of a release, as listed in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManifestEntry {
    /// Path relative to the release root, `/`-separated, without a leading `./`.
    pub path: String,
    /// SHA-256 of the contents, lowercase hex (for symlinks: of the link target text).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Unix permission bits (0o755 for executables, 0o644 otherwise; 0o777 for symlinks).
    pub mode: u32,
    /// True for a symbolic link.
    pub symlink: bool,
}

/// A packaged release: the build output listed file by file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The release it was built for.
    pub release: ReleaseId,
    /// The build directory the archive is streamed from.
    pub root: AbsPath,
    /// Every file, sorted by path.
    pub files: Vec<ManifestEntry>,
    /// SHA-256 over the manifest (identifies the whole release content).
    pub checksum: String,
}

/// Why a workspace operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} {path} on the deploy host failed: {detail}")]
pub struct WorkspaceError {
    /// What was being done.
    pub action: &'static str,
    /// The local path.
    pub path: String,
    /// Underlying error.
    pub detail: String,
}

/// Build directories and archives on the deploy host.
pub trait Workspace: Send + Sync {
    /// The repository cache directory of a project (where pre-deploy hooks run).
    fn cache_dir(&self, project: crate::ProjectId) -> Result<AbsPath, WorkspaceError>;
    /// Creates a fresh, empty build directory for a release and returns it.
    fn create_build_dir(&self, release: &ReleaseId) -> Result<AbsPath, WorkspaceError>;
    /// Lists the build directory file by file with checksums.
    fn package(&self, release: &ReleaseId, build_dir: &AbsPath)
    -> Result<Artifact, WorkspaceError>;
    /// A tar stream of the artifact: every file, or only `only` (paths from the manifest).
    fn tar_stream(
        &self,
        artifact: &Artifact,
        only: Option<&[String]>,
    ) -> Result<Box<dyn Read + Send>, WorkspaceError>;
    /// Removes a release's build directory.
    fn remove_build_dir(&self, release: &ReleaseId) -> Result<(), WorkspaceError>;
}
