//! Exporting a 5,000-file tree: `GitVcs::export` from its mirror, against `git archive | tar -x`
//! of the same commit (the baseline a shell script would use).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use divan::Bencher;
use tempfile::TempDir;
use walle_core::ProjectId;
use walle_core::model::{FileFilter, FilterMode, RepoConfig, RepoCredentials, RepoKind, RepoMode};
use walle_core::ports::{RepoHandle, Vcs};
use walle_core::value::CommitId;
use walle_test_support::{GitFixture, Infra};
use walle_vcs::{GitConfig, GitVcs, KnownHosts, UnknownHostPolicy};

/// Files in the exported tree.
const FILES: usize = 5_000;

struct Setup {
    fixture: GitFixture,
    _cache: TempDir,
    vcs: GitVcs,
    handle: RepoHandle,
    commit: CommitId,
}

static SETUP: Mutex<Option<Setup>> = Mutex::new(None);

/// Runs `f` with the shared fixture, building it on first use: 5,000 files of 200 B to 4 KiB in
/// 50 directories of 100 (about 10 MiB, a mid-sized web application), and a synced mirror.
fn with_setup<T>(f: impl FnOnce(&Setup) -> T) -> T {
    let mut guard = SETUP.lock().unwrap_or_else(PoisonError::into_inner);
    let setup = guard.get_or_insert_with(|| {
        let files = (0..FILES).map(|i| {
            let size = 200 + (i * 7919) % 3900;
            let line = format!("line of file {i} ");
            let body = line.repeat(size / line.len() + 1).into_bytes();
            let name = if i % 10 == 0 {
                format!("dir{:02}/f{i}.log", i / 100)
            } else {
                format!("dir{:02}/f{i}.php", i / 100)
            };
            (name, body)
        });
        let fixture = GitFixture::new("bench-export").commit_files("main", files, "5,000 files");
        let cache = tempfile::tempdir().expect("temp dir");
        let vcs = GitVcs::new(GitConfig {
            cache_root: cache.path().to_owned(),
            known_hosts: KnownHosts {
                path: Infra::get().known_hosts().to_owned(),
                unknown: UnknownHostPolicy::Reject,
            },
        });
        let handle = RepoHandle {
            project: ProjectId(1),
            config: RepoConfig {
                kind: RepoKind::Git,
                url: fixture.file_url(),
                mode: RepoMode::Branch,
                credentials: RepoCredentials::None,
            },
        };
        vcs.sync(&handle).expect("sync the mirror");
        let commit = CommitId::new(fixture.last_commit()).expect("commit id");
        Setup {
            fixture,
            _cache: cache,
            vcs,
            handle,
            commit,
        }
    });
    f(setup)
}

/// Removes the fixture repository (statics are never dropped).
pub(crate) fn teardown() {
    drop(SETUP.lock().unwrap_or_else(PoisonError::into_inner).take());
}

/// A fresh output directory, on tmpfs when there is one: both contenders then pay for their own
/// work rather than for the disk's journal (this machine's ext4 is mounted with `discard`, and the
/// deletes of earlier samples made timings on it swing tenfold).
fn fresh_dir() -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("temp dir in /dev/shm")
    } else {
        tempfile::tempdir().expect("temp dir")
    }
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn walle_export(bencher: Bencher<'_, '_>) {
    with_setup(|s| {
        bencher.with_inputs(fresh_dir).bench_local_values(|dir| {
            let summary = s
                .vcs
                .export(
                    &s.handle,
                    &s.commit,
                    &dir.path().join("out"),
                    &FileFilter::default(),
                )
                .expect("export");
            assert_eq!(summary.files, FILES as u64);
            dir
        });
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn walle_export_excluding_logs(bencher: Bencher<'_, '_>) {
    let filter = FileFilter {
        mode: FilterMode::Exclude,
        patterns: vec!["*.log".to_owned()],
    };
    with_setup(|s| {
        bencher.with_inputs(fresh_dir).bench_local_values(|dir| {
            let summary = s
                .vcs
                .export(&s.handle, &s.commit, &dir.path().join("out"), &filter)
                .expect("export");
            assert_eq!(summary.files, (FILES - FILES / 10) as u64);
            dir
        });
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn baseline_git_archive_tar(bencher: Bencher<'_, '_>) {
    with_setup(|s| {
        bencher.with_inputs(fresh_dir).bench_local_values(|dir| {
            git_archive_tar(s.fixture.path(), s.commit.as_str(), dir.path());
            dir
        });
    });
}

/// `git archive --format=tar <commit> | tar -x -C <dest>`.
fn git_archive_tar(repo: &Path, commit: &str, dest: &Path) {
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", commit])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start git archive");
    let stdout = archive.stdout.take().expect("piped stdout");
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(stdout)
        .status()
        .expect("run tar");
    let archived = archive.wait().expect("wait for git archive");
    assert!(
        tar.success() && archived.success(),
        "git archive | tar -x failed"
    );
}
