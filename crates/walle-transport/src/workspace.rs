//! The `Workspace` port on the deploy host's file system: repository caches, build directories,
//! manifests with SHA-256 checksums, and tar streams produced on the fly (no archive file on disk).

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use walle_core::ProjectId;
use walle_core::ports::{Artifact, ManifestEntry, Workspace, WorkspaceError};
use walle_core::value::{AbsPath, ReleaseId};

/// Build directories under `<root>/builds/<release>`, caches under `<root>/cache/<project>`.
#[derive(Debug, Clone)]
pub struct LocalWorkspace {
    root: PathBuf,
}

impl LocalWorkspace {
    /// A workspace rooted at an absolute directory (created when needed).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn dir(&self, kind: &str, name: &str) -> Result<AbsPath, WorkspaceError> {
        let p = self.root.join(kind).join(name);
        let s = p
            .to_str()
            .ok_or_else(|| err("use", &p, "path is not UTF-8"))?;
        AbsPath::new(s).map_err(|e| err("use", &p, e))
    }
}

fn err(action: &'static str, path: &Path, detail: impl std::fmt::Display) -> WorkspaceError {
    WorkspaceError {
        action,
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

impl Workspace for LocalWorkspace {
    fn cache_dir(&self, project: ProjectId) -> Result<AbsPath, WorkspaceError> {
        let dir = self.dir("cache", &project.to_string())?;
        fs::create_dir_all(dir.as_str()).map_err(|e| err("create", Path::new(dir.as_str()), e))?;
        Ok(dir)
    }

    fn create_build_dir(&self, release: &ReleaseId) -> Result<AbsPath, WorkspaceError> {
        let dir = self.dir("builds", release.as_str())?;
        let p = Path::new(dir.as_str());
        if p.exists() {
            fs::remove_dir_all(p).map_err(|e| err("clear", p, e))?;
        }
        fs::create_dir_all(p).map_err(|e| err("create", p, e))?;
        Ok(dir)
    }

    fn package(
        &self,
        release: &ReleaseId,
        build_dir: &AbsPath,
    ) -> Result<Artifact, WorkspaceError> {
        let root = Path::new(build_dir.as_str());
        let mut files = Vec::new();
        walk(root, root, &mut files)?;
        files.sort();
        let mut h = Sha256::new();
        for f in &files {
            h.update(format!("{} {:o} {} {}\0", f.sha256, f.mode, f.symlink, f.path).as_bytes());
        }
        Ok(Artifact {
            release: release.clone(),
            root: build_dir.clone(),
            files,
            checksum: hex(&h.finalize()),
        })
    }

    fn tar_stream(
        &self,
        artifact: &Artifact,
        only: Option<&[String]>,
    ) -> Result<Box<dyn Read + Send>, WorkspaceError> {
        let root = PathBuf::from(artifact.root.as_str());
        let entries: Vec<ManifestEntry> = match only {
            None => artifact.files.clone(),
            Some(paths) => {
                let want: std::collections::HashSet<&str> =
                    paths.iter().map(String::as_str).collect();
                artifact
                    .files
                    .iter()
                    .filter(|f| want.contains(f.path.as_str()))
                    .cloned()
                    .collect()
            }
        };
        let (reader, writer) = io::pipe().map_err(|e| err("open a pipe for", &root, e))?;
        std::thread::spawn(move || {
            // A write error means the reader went away (upload failed or cancelled): just stop.
            let _ = write_tar(&root, &entries, writer);
        });
        Ok(Box::new(reader))
    }

    fn remove_build_dir(&self, release: &ReleaseId) -> Result<(), WorkspaceError> {
        let dir = self.dir("builds", release.as_str())?;
        let p = Path::new(dir.as_str());
        match fs::remove_dir_all(p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(err("remove", p, e)),
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<ManifestEntry>) -> Result<(), WorkspaceError> {
    let rd = fs::read_dir(dir).map_err(|e| err("list", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| err("list", dir, e))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| err("stat", &path, e))?;
        let rel = path
            .strip_prefix(root)
            .map_err(|e| err("relativise", &path, e))?
            .to_str()
            .ok_or_else(|| err("package", &path, "file name is not UTF-8"))?
            .to_owned();
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| err("read link", &path, e))?;
            let t = target.to_string_lossy();
            out.push(ManifestEntry {
                path: rel,
                sha256: hex(&Sha256::digest(t.as_bytes())),
                size: 0,
                mode: 0o777,
                symlink: true,
            });
        } else if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let mut f = fs::File::open(&path).map_err(|e| err("read", &path, e))?;
            let mut h = Sha256::new();
            io::copy(&mut f, &mut h).map_err(|e| err("read", &path, e))?;
            let mode = if meta.mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            out.push(ManifestEntry {
                path: rel,
                sha256: hex(&h.finalize()),
                size: meta.len(),
                mode,
                symlink: false,
            });
        }
    }
    Ok(())
}

fn write_tar(root: &Path, entries: &[ManifestEntry], writer: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(writer);
    b.follow_symlinks(false);
    for e in entries {
        let full = root.join(&e.path);
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if e.symlink {
            let target = fs::read_link(&full)?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            b.append_link(&mut header, &e.path, &target)?;
        } else {
            let f = fs::File::open(&full)?;
            let len = f.metadata()?.len();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(e.mode);
            header.set_size(len);
            b.append_data(&mut header, &e.path, f)?;
        }
    }
    b.into_inner()?.flush()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
