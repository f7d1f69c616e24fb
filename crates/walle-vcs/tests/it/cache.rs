//! The per-project mirror: concurrent use, URL changes and damage repair.

use std::sync::Arc;

use walle_core::model::FileFilter;
use walle_core::ports::{RepoHandle, Revision, Vcs};
use walle_test_support::GitFixture;

use crate::support::{cid, git_repo, git_vcs, rn, tree};

fn names(vcs: &dyn Vcs, handle: &RepoHandle) -> Vec<String> {
    vcs.branches(handle)
        .expect("branches")
        .iter()
        .map(|b| b.name.to_string())
        .collect()
}

fn mirror_dir(cache: &tempfile::TempDir, handle: &RepoHandle) -> std::path::PathBuf {
    cache
        .path()
        .join("cache")
        .join(handle.project.to_string())
        .join("git")
}

#[test]
fn threads_syncing_and_exporting_one_project_at_once() {
    let repo = GitFixture::new("concurrent")
        .commit("main", &[("a.txt", "a"), ("dir/b.txt", "b")], "one")
        .commit("main", &[("c.txt", "c")], "two");
    let (_cache, vcs) = git_vcs();
    let vcs = Arc::new(vcs);
    let handle = Arc::new(git_repo(&repo.git_url()));
    let head = repo.last_commit().to_owned();
    let out = tempfile::tempdir().unwrap();
    let workers: Vec<_> = (0..6)
        .map(|i| {
            let (vcs, handle, head) = (Arc::clone(&vcs), Arc::clone(&handle), head.clone());
            let dest = out.path().join(format!("build-{i}"));
            std::thread::spawn(move || {
                if i % 2 == 0 {
                    vcs.sync(&handle).unwrap();
                    assert_eq!(vcs.branches(&handle).unwrap()[0].head.as_str(), head);
                } else {
                    let summary = vcs
                        .export(&handle, &cid(&head), &dest, &FileFilter::default())
                        .unwrap();
                    assert_eq!(summary.files, 3);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker panicked");
    }
}

#[test]
fn the_cache_follows_a_changed_url() {
    let first = GitFixture::new("moved-from")
        .commit("main", &[("who", "first")], "first repo")
        .branch("only-in-first", "main");
    let second = GitFixture::new("moved-to")
        .commit("main", &[("who", "second")], "second repo")
        .branch("only-in-second", "main");
    let (cache, vcs) = git_vcs();
    let mut handle = git_repo(&first.file_url());
    assert_eq!(names(&vcs, &handle), ["main", "only-in-first"]);

    handle.config.url = second.git_url();
    assert_eq!(names(&vcs, &handle), ["main", "only-in-second"]);
    let head = vcs.resolve(&handle, &Revision::Branch(rn("main"))).unwrap();
    assert_eq!(head.as_str(), second.last_commit());
    let out = tempfile::tempdir().unwrap();
    vcs.export(
        &handle,
        &head,
        &out.path().join("b"),
        &FileFilter::default(),
    )
    .unwrap();
    assert_eq!(tree(&out.path().join("b"))["who"], "file: second");

    let config = std::fs::read_to_string(mirror_dir(&cache, &handle).join("config")).unwrap();
    assert!(config.contains(&second.git_url()), "{config}");
}

#[test]
fn a_damaged_cache_is_rebuilt_without_help() {
    let repo = GitFixture::new("damaged")
        .commit("main", &[("a.txt", "a")], "one")
        .commit("main", &[("b.txt", "b")], "two");
    let (cache, vcs) = git_vcs();
    let handle = git_repo(&repo.file_url());
    vcs.sync(&handle).unwrap();
    let mirror = mirror_dir(&cache, &handle);
    let head = repo.last_commit().to_owned();

    // 1. Garbage where the repository's HEAD and config were.
    std::fs::write(mirror.join("HEAD"), "garbage").unwrap();
    std::fs::write(mirror.join("config"), "[[[ not a config").unwrap();
    assert_eq!(vcs.branches(&handle).unwrap()[0].head.as_str(), head);

    // 2. Every object gone, refs still pointing at them.
    for sub in std::fs::read_dir(mirror.join("objects")).unwrap() {
        let sub = sub.unwrap().path();
        if sub.file_name().is_some_and(|n| n != "info") {
            std::fs::remove_dir_all(&sub).unwrap();
            std::fs::create_dir(&sub).unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    let summary = vcs
        .export(
            &handle,
            &cid(&head),
            &out.path().join("b1"),
            &FileFilter::default(),
        )
        .unwrap();
    assert_eq!(summary.files, 2);
    assert_eq!(vcs.commits(&handle, &rn("main"), 5).unwrap().len(), 2);

    // 3. A branch ref that holds garbage.
    std::fs::create_dir_all(mirror.join("refs/heads")).unwrap();
    std::fs::write(mirror.join("refs/heads/main"), "not an id\n").unwrap();
    assert_eq!(vcs.branches(&handle).unwrap()[0].head.as_str(), head);

    // 4. The whole mirror replaced by a file.
    std::fs::remove_dir_all(&mirror).unwrap();
    std::fs::write(&mirror, "oops").unwrap();
    assert_eq!(vcs.tags(&handle).unwrap(), []);
    assert_eq!(vcs.branches(&handle).unwrap()[0].head.as_str(), head);
}
