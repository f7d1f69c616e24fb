//! Shared helpers: adapters over a temporary cache, repository handles, tree snapshots.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tempfile::TempDir;
use walle_core::ProjectId;
use walle_core::Secret;
use walle_core::model::{RepoConfig, RepoCredentials, RepoKind, RepoMode};
use walle_core::ports::RepoHandle;
use walle_core::value::{AbsPath, CommitId, RefName};
use walle_test_support::{GitFixture, Infra};
use walle_vcs::{GitConfig, GitVcs, KnownHosts, SvnConfig, SvnVcs, UnknownHostPolicy};

/// A git adapter with its own cache, checking host keys strictly against the infra's known_hosts.
pub(crate) fn git_vcs() -> (TempDir, GitVcs) {
    git_vcs_with(Infra::get().known_hosts(), UnknownHostPolicy::Reject)
}

pub(crate) fn git_vcs_with(known_hosts: &Path, unknown: UnknownHostPolicy) -> (TempDir, GitVcs) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vcs = GitVcs::new(GitConfig {
        cache_root: dir.path().join("cache"),
        known_hosts: KnownHosts {
            path: known_hosts.to_owned(),
            unknown,
        },
    });
    (dir, vcs)
}

pub(crate) fn svn_vcs() -> (TempDir, SvnVcs) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vcs = SvnVcs::new(SvnConfig {
        cache_root: dir.path().join("cache"),
        command_timeout: Duration::from_secs(60),
    });
    (dir, vcs)
}

/// A fresh project id, so tests sharing a cache root never share a project.
pub(crate) fn project() -> ProjectId {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    ProjectId(NEXT.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn git_repo(url: &str) -> RepoHandle {
    handle(RepoKind::Git, url, RepoCredentials::None)
}

pub(crate) fn ssh_repo(url: &str, key: &Path) -> RepoHandle {
    let key_path = AbsPath::new(&key.display().to_string()).expect("absolute key path");
    handle(
        RepoKind::Git,
        url,
        RepoCredentials::SshKey {
            key_path,
            passphrase: None,
        },
    )
}

pub(crate) fn svn_repo(url: &str, user: &str, password: &str) -> RepoHandle {
    handle(
        RepoKind::Svn,
        url,
        RepoCredentials::Password {
            username: user.to_owned(),
            password: Secret::new(password),
        },
    )
}

pub(crate) fn handle(kind: RepoKind, url: &str, credentials: RepoCredentials) -> RepoHandle {
    RepoHandle {
        project: project(),
        config: RepoConfig {
            kind,
            url: url.to_owned(),
            mode: RepoMode::Branch,
            credentials,
        },
    }
}

pub(crate) fn rn(name: &str) -> RefName {
    RefName::new(name).expect("valid ref name")
}

pub(crate) fn cid(id: &str) -> CommitId {
    CommitId::new(id).expect("valid commit id")
}

/// Every file and symlink below `dir`: path → `file`, `exec`, `link -> target`; plus the content
/// of regular files when `with_content`.
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let rel = path
            .strip_prefix(root)
            .expect("below root")
            .display()
            .to_string();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).expect("read link");
            out.insert(rel, format!("link -> {}", target.display()));
        } else if meta.is_dir() {
            walk(root, &path, out);
        } else {
            let kind = if meta.permissions().mode() & 0o111 != 0 {
                "exec"
            } else {
                "file"
            };
            let content = std::fs::read_to_string(&path).unwrap_or_default();
            out.insert(rel, format!("{kind}: {}", content.trim_end()));
        }
    }
}

/// Every directory below `dir` (relative paths).
pub(crate) fn dirs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if std::fs::symlink_metadata(&path).expect("meta").is_dir() {
                out.push(path.strip_prefix(dir).expect("below").display().to_string());
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A port on 127.0.0.1 where nothing listens.
pub(crate) fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Commits, on `branch` of the fixture, a tree with an executable, a symlink and a nested `.svn`
/// directory (which exports must never write), using git2 directly since the fixture builder
/// writes regular files only (and libgit2 refuses to build a tree holding `.git`). Returns the id.
pub(crate) fn commit_special_tree(fixture: &GitFixture, branch: &str) -> String {
    let repo = git2::Repository::open_bare(fixture.path()).expect("open fixture");
    let blob = |data: &str| repo.blob(data.as_bytes()).expect("blob");
    let mut sub = repo.treebuilder(None).expect("treebuilder");
    sub.insert("config", blob("[core]\n"), 0o100644)
        .expect("insert");
    let sub = sub.write().expect("write tree");
    let mut bin = repo.treebuilder(None).expect("treebuilder");
    bin.insert("run.sh", blob("#!/bin/sh\necho run\n"), 0o100755)
        .expect("insert");
    let bin = bin.write().expect("write tree");
    let mut root = repo.treebuilder(None).expect("treebuilder");
    root.insert("README.md", blob("readme\n"), 0o100644)
        .expect("insert");
    root.insert("bin", bin, 0o040000).expect("insert");
    root.insert("current", blob("README.md"), 0o120000)
        .expect("insert");
    root.insert(".svn", sub, 0o040000).expect("insert");
    let tree = repo
        .find_tree(root.write().expect("write tree"))
        .expect("tree");
    let sig = git2::Signature::new(
        "Walle Test",
        "test@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("signature");
    let refname = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&refname)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some(&refname), &sig, &sig, "special files", &tree, &parents)
        .expect("commit")
        .to_string()
}
