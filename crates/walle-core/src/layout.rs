//! Where things live on a target host, which releases cleanup may remove, and the two small files
//! Walle keeps on each host: the release ledger and the deploy lock.
//!
//! ```text
//! <webroot>                      -> symlink to <releases_dir>/<release id>
//! <webroot parent>/.<name>.walle-switch   temporary link renamed over the webroot by a switch
//! <releases_dir>/<release id>/   one directory per release: {project}_{task}_{YYYYmmdd_HHMMSS}
//! <releases_dir>/shared/         files and directories linked into every release
//! <releases_dir>/.walle/ledger   the release ledger (one line per event, see [`LedgerLine`])
//! <releases_dir>/.walle/lock     the target-side deploy lock (see [`TargetLock`])
//! <releases_dir>/.walle/staging/ uploads in progress, moved into place when complete
//! ```
//!
//! Everything here computes paths and text; the engine reads and writes them through the
//! [`Session`](crate::ports::Session) port.

mod cleanup;
pub(crate) mod escape;
mod ledger;
mod lock;

pub use cleanup::{cmp_release_time, project_releases, releases_to_remove};
pub use ledger::{
    LEDGER_HEADER, LedgerLine, LedgerLineError, ParsedLedger, SkippedLine, append_ledger,
    ledger_state, live_before, live_release, parse_ledger,
};
pub use lock::{LockParseError, TargetLock};

use crate::model::ProjectSpec;
use crate::value::{AbsPath, RelPath, ReleaseId};

/// The directory of shared files and directories, inside the releases directory.
pub const SHARED_DIR: &str = "shared";
/// Walle's metadata directory, inside the releases directory.
pub const META_DIR: &str = ".walle";

/// The paths of one project on a target host, checked so that no release operation can touch the
/// webroot's own contents or walle's metadata by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseLayout {
    webroot: AbsPath,
    releases_dir: AbsPath,
}

/// Why a webroot and releases directory cannot be used together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// One of the paths is `/`.
    #[error("the {which} must not be '/'; use a directory such as /srv/www/app")]
    Root {
        /// `webroot` or `releases directory`.
        which: &'static str,
    },
    /// The two paths are the same.
    #[error(
        "the webroot and the releases directory are both {path}; the webroot must be a separate \
         path that walle turns into a symlink to a release"
    )]
    Same {
        /// The path.
        path: AbsPath,
    },
    /// The releases directory lies below the webroot, which is a symlink into a release.
    #[error(
        "the releases directory {releases_dir} lies inside the webroot {webroot}; the webroot becomes \
         a symlink to a release, so put the releases directory next to it (e.g. {suggestion})"
    )]
    ReleasesInsideWebroot {
        /// The webroot.
        webroot: AbsPath,
        /// The releases directory.
        releases_dir: AbsPath,
        /// A better releases directory.
        suggestion: String,
    },
    /// The webroot lies inside a release directory, the shared directory or walle's metadata.
    #[error(
        "the webroot {webroot} lies inside {managed}, which walle manages (releases, shared files, \
         metadata); put the webroot outside it, e.g. directly in {releases_dir} under another name, \
         or next to it"
    )]
    WebrootInsideManaged {
        /// The webroot.
        webroot: AbsPath,
        /// The managed directory it is in (or is).
        managed: AbsPath,
        /// The releases directory.
        releases_dir: AbsPath,
    },
}

/// Where the webroot symlink points, as read back from a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// There is no symlink (nothing deployed yet, or the webroot is not a link).
    Missing,
    /// It points at this release directory.
    Release(ReleaseId),
    /// It points somewhere walle did not put it.
    NotManaged {
        /// The link target as read.
        target: String,
        /// Why it is not a walle release.
        reason: String,
    },
}

impl std::fmt::Display for LinkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkState::Missing => f.write_str("no release is live (the webroot is not a symlink)"),
            LinkState::Release(id) => write!(f, "release {id} is live"),
            LinkState::NotManaged { target, reason } => {
                write!(
                    f,
                    "the webroot points at {target:?}, which is not managed by walle: {reason}"
                )
            }
        }
    }
}

impl ReleaseLayout {
    /// Checks and builds a layout: neither path is `/`, they differ, the releases directory is not
    /// inside the webroot, and the webroot is not inside a release directory, the shared directory
    /// or the metadata directory. The webroot may be a direct child of the releases directory
    /// (e.g. `<releases_dir>/current`) when its name is not `shared`, does not start with `.`
    /// and is not a release id.
    pub fn new(webroot: &AbsPath, releases_dir: &AbsPath) -> Result<Self, LayoutError> {
        if webroot.as_str() == "/" {
            return Err(LayoutError::Root { which: "webroot" });
        }
        if releases_dir.as_str() == "/" {
            return Err(LayoutError::Root {
                which: "releases directory",
            });
        }
        if webroot == releases_dir {
            return Err(LayoutError::Same {
                path: webroot.clone(),
            });
        }
        if webroot.contains(releases_dir) {
            return Err(LayoutError::ReleasesInsideWebroot {
                webroot: webroot.clone(),
                releases_dir: releases_dir.clone(),
                suggestion: format!("{webroot}-releases"),
            });
        }
        if releases_dir.contains(webroot) {
            let rest = &webroot.as_str()[releases_dir.as_str().len() + 1..];
            let first = rest.split('/').next().unwrap_or(rest);
            let managed = first == SHARED_DIR
                || first.starts_with('.')
                || ReleaseId::new(first).is_ok()
                || rest.contains('/');
            if managed {
                // The ancestor of the webroot that is a direct child of the releases directory.
                let mut top = webroot.clone();
                while let Some(parent) = top.parent() {
                    if &parent == releases_dir {
                        break;
                    }
                    top = parent;
                }
                return Err(LayoutError::WebrootInsideManaged {
                    webroot: webroot.clone(),
                    managed: top,
                    releases_dir: releases_dir.clone(),
                });
            }
        }
        Ok(Self {
            webroot: webroot.clone(),
            releases_dir: releases_dir.clone(),
        })
    }

    /// The layout of a project.
    pub fn of(spec: &ProjectSpec) -> Result<Self, LayoutError> {
        Self::new(&spec.webroot, &spec.releases_dir)
    }

    /// The webroot: the symlink to the live release.
    pub fn webroot(&self) -> &AbsPath {
        &self.webroot
    }

    /// The directory holding the release directories.
    pub fn releases_dir(&self) -> &AbsPath {
        &self.releases_dir
    }

    /// The directory of one release.
    pub fn release_dir(&self, id: &ReleaseId) -> AbsPath {
        child(&self.releases_dir, id.as_str())
    }

    /// The shared directory.
    pub fn shared_dir(&self) -> AbsPath {
        child(&self.releases_dir, SHARED_DIR)
    }

    /// A shared file or directory: `shared/<path>`.
    pub fn shared_path(&self, path: &RelPath) -> AbsPath {
        self.shared_dir().join(path)
    }

    /// Walle's metadata directory.
    pub fn meta_dir(&self) -> AbsPath {
        child(&self.releases_dir, META_DIR)
    }

    /// The release ledger of this host.
    pub fn ledger_file(&self) -> AbsPath {
        child(&self.meta_dir(), "ledger")
    }

    /// The target-side deploy lock (created exclusively, holds a [`TargetLock`]).
    pub fn lock_file(&self) -> AbsPath {
        child(&self.meta_dir(), "lock")
    }

    /// The directory of uploads in progress.
    pub fn staging_dir(&self) -> AbsPath {
        child(&self.meta_dir(), "staging")
    }

    /// Where a release is unpacked before it is complete; it is renamed to
    /// [`ReleaseLayout::release_dir`] (same filesystem) once unpacked, so a half-written release
    /// never appears under a release id.
    pub fn staging_release_dir(&self, id: &ReleaseId) -> AbsPath {
        child(&self.staging_dir(), id.as_str())
    }

    /// Where a release archive is uploaded when it is sent as a file rather than streamed.
    pub fn staging_archive(&self, id: &ReleaseId) -> AbsPath {
        child(&self.staging_dir(), &format!("{id}.tar"))
    }

    /// The temporary symlink of a switch of this webroot, see [`switch_temp_link`].
    pub fn switch_temp_link(&self) -> AbsPath {
        switch_temp_link(&self.webroot).unwrap_or_else(|| self.webroot.clone())
    }

    /// Reads the result of `readlink <webroot>` (`None` when it is not a symlink). Relative targets
    /// are resolved against the webroot's directory, lexically (`..` removes a component).
    pub fn parse_link(&self, readlink: Option<&str>) -> LinkState {
        let Some(target) = readlink else {
            return LinkState::Missing;
        };
        let not_managed = |reason: String| LinkState::NotManaged {
            target: target.to_owned(),
            reason,
        };
        if target.is_empty() || target.chars().any(char::is_control) {
            return not_managed("the target is empty or contains control characters".to_owned());
        }
        let base = self
            .webroot
            .parent()
            .unwrap_or_else(|| self.webroot.clone());
        let resolved = resolve(&base, target);
        let (dir, name) = match resolved.rsplit_once('/') {
            Some((dir, name)) => (if dir.is_empty() { "/" } else { dir }, name),
            None => ("/", resolved.as_str()),
        };
        if dir != self.releases_dir.as_str() {
            return not_managed(format!(
                "{resolved} is outside the releases directory {}",
                self.releases_dir
            ));
        }
        match ReleaseId::new(name) {
            Ok(id) => LinkState::Release(id),
            Err(_) => not_managed(format!("{name:?} in {dir} is not a release directory")),
        }
    }
}

/// The temporary symlink a switch creates next to `link` and renames over it: same directory
/// (so the rename is atomic), hidden name `.<name>.walle-switch`. `None` for `/`.
pub fn switch_temp_link(link: &AbsPath) -> Option<AbsPath> {
    let parent = link.parent()?;
    let name = link.file_name()?;
    Some(child(&parent, &format!(".{name}.walle-switch")))
}

/// `dir/name` for a name known to be one valid path component.
fn child(dir: &AbsPath, name: &str) -> AbsPath {
    let rel = RelPath::new(name).expect("layout names are single valid path components");
    dir.join(&rel)
}

/// Lexically resolves `target` (absolute, or relative to `base`) to a normalised absolute path.
fn resolve(base: &AbsPath, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base.as_str().split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests;
