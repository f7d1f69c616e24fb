//! What a target host holds for a project, read straight from its file system (not through Walle).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use walle_core::ServerId;
use walle_core::layout;
use walle_core::model::{LedgerEntry, Project};
use walle_core::value::ReleaseId;

/// One host's state for one project, read from the host's `/srv` as the test sees it.
#[derive(Debug, Clone)]
pub struct View {
    /// The host's name (`wl1`), for messages.
    pub name: String,
    /// The host's server id.
    pub server: ServerId,
    /// Where the host's `/srv` is from the test (`None`: the deploy host itself).
    root: Option<PathBuf>,
    webroot: String,
    releases_dir: String,
}

impl View {
    /// A view of `project` on a host whose `/srv` is `srv_root` (or the deploy host itself for
    /// `None`: paths are used as they are).
    pub fn new(name: &str, server: ServerId, srv_root: Option<PathBuf>, project: &Project) -> View {
        View {
            name: name.to_owned(),
            server,
            root: srv_root,
            webroot: project.spec.webroot.to_string(),
            releases_dir: project.spec.releases_dir.to_string(),
        }
    }

    /// Where the host's path `abs` is, seen from the test (symlinks in it are not followed).
    #[track_caller]
    pub fn path(&self, abs: &str) -> PathBuf {
        match &self.root {
            None => PathBuf::from(abs),
            Some(root) if abs == "/srv" => root.clone(),
            Some(root) => {
                let rest = abs
                    .strip_prefix("/srv/")
                    .unwrap_or_else(|| panic!("{abs} is not under /srv on {}", self.name));
                root.join(rest)
            }
        }
    }

    /// Like [`View::path`], with the symlinks in `abs` resolved as the host sees them (an
    /// absolute link target is a path on the host, not on the test's machine).
    #[track_caller]
    pub fn resolve(&self, abs: &str) -> PathBuf {
        let mut done = String::new();
        let mut todo: Vec<String> = abs
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_owned)
            .collect();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.truncate(done.rfind('/').unwrap_or(0));
                    continue;
                }
                _ => {}
            }
            let next = format!("{done}/{c}");
            match std::fs::read_link(self.path(&next)) {
                Ok(target) => {
                    hops += 1;
                    assert!(hops < 40, "too many symlinks in {abs} on {}", self.name);
                    let target = target.to_string_lossy().into_owned();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    todo.extend(
                        target
                            .split('/')
                            .filter(|c| !c.is_empty())
                            .rev()
                            .map(str::to_owned),
                    );
                }
                Err(_) => done = next,
            }
        }
        self.path(&done)
    }

    /// The release the webroot points at, `None` when the webroot is not a symlink. Panics when
    /// it points somewhere else than into the releases directory.
    #[track_caller]
    pub fn live(&self) -> Option<String> {
        let link = self.path(&self.webroot);
        let target = match std::fs::read_link(&link) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) if e.raw_os_error() == Some(22) => {
                panic!("{} on {} is not a symlink", self.webroot, self.name)
            }
            Err(e) => panic!("readlink {} on {}: {e}", link.display(), self.name),
        };
        let target = target.to_string_lossy().into_owned();
        let prefix = format!("{}/", self.releases_dir);
        let Some(id) = target.strip_prefix(&prefix) else {
            panic!(
                "{} on {} points at {target}, outside {}",
                self.webroot, self.name, self.releases_dir
            );
        };
        assert!(
            self.path(&target).is_dir(),
            "{} on {} points at {target}, which is not a directory",
            self.webroot,
            self.name
        );
        Some(id.to_owned())
    }

    /// The release directories present (names that are release ids).
    #[track_caller]
    pub fn releases(&self) -> BTreeSet<String> {
        let dir = self.path(&self.releases_dir);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeSet::new(),
            Err(e) => panic!("list {} on {}: {e}", dir.display(), self.name),
        };
        entries
            .map(|e| {
                e.expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| ReleaseId::new(n).is_ok())
            .collect()
    }

    /// The path of `rel` inside release `release` on the host, seen from the test (symlinks
    /// followed as on the host; a final symlink is followed too).
    pub fn release_file(&self, release: &str, rel: &str) -> PathBuf {
        self.resolve(&format!("{}/{release}/{rel}", self.releases_dir))
    }

    /// The contents of `rel` as served through the webroot, `None` when it does not exist.
    #[track_caller]
    pub fn served(&self, rel: &str) -> Option<String> {
        let live = self.live()?;
        match std::fs::read_to_string(self.release_file(&live, rel)) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("read {rel} of {live} on {}: {e}", self.name),
        }
    }

    /// The inode of `rel` in `release` (hard links share it).
    #[track_caller]
    pub fn inode(&self, release: &str, rel: &str) -> u64 {
        let p = self.release_file(release, rel);
        std::fs::symlink_metadata(&p)
            .unwrap_or_else(|e| panic!("stat {} on {}: {e}", p.display(), self.name))
            .ino()
    }

    /// The ledger file's text (empty when there is none).
    #[track_caller]
    pub fn ledger_text(&self) -> String {
        let p = self.path(&format!(
            "{}/{}/ledger",
            self.releases_dir,
            layout::META_DIR
        ));
        match std::fs::read_to_string(&p) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("read {} on {}: {e}", p.display(), self.name),
        }
    }

    /// The ledger's entries; panics on unreadable lines.
    #[track_caller]
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let text = self.ledger_text();
        let parsed = layout::parse_ledger(&text, self.server);
        assert!(
            parsed.skipped.is_empty() && parsed.truncated.is_none(),
            "ledger on {} has bad lines: {parsed:?}\n{text}",
            self.name
        );
        parsed.entries()
    }

    /// True when the target-side deploy lock file exists.
    pub fn locked(&self) -> bool {
        self.path(&format!("{}/{}/lock", self.releases_dir, layout::META_DIR))
            .exists()
    }
}

/// Asserts that every host's webroot points at `expected` (`None`: at nothing).
#[track_caller]
pub fn assert_live(views: &[View], expected: Option<&ReleaseId>) {
    for v in views {
        assert_eq!(
            v.live().as_deref(),
            expected.map(ReleaseId::as_str),
            "live release on {}",
            v.name
        );
    }
}
