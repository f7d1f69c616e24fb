//! Exports with include and exclude lists, file modes and symlinks, and changed files.

use std::collections::BTreeMap;

use walle_core::model::{FileFilter, FilterMode};
use walle_core::ports::{ExportSummary, FileChange, Vcs, VcsError};
use walle_test_support::GitFixture;

use crate::support::{cid, commit_special_tree, dirs, git_repo, git_vcs, tree};

fn app() -> GitFixture {
    GitFixture::new("export").commit(
        "main",
        &[
            ("README.md", "readme"),
            ("src/main.rs", "fn main() {}"),
            ("src/lib/mod.rs", "mod x;"),
            ("src/app.log", "noise"),
            ("docs/guide.md", "guide"),
            ("vendor/pkg/a.php", "a"),
            ("web/vendor/b.php", "b"),
            ("logs/today.log", "noise"),
            ("config/local.php", "secret"),
        ],
        "app",
    )
}

fn filter(mode: FilterMode, patterns: &[&str]) -> FileFilter {
    FileFilter {
        mode,
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn export(
    fixture: &GitFixture,
    commit: &str,
    filter: &FileFilter,
) -> (tempfile::TempDir, ExportSummary) {
    let (_cache, vcs) = git_vcs();
    let out = tempfile::tempdir().expect("temp dir");
    let dest = out.path().join("build");
    let summary = vcs
        .export(&git_repo(&fixture.file_url()), &cid(commit), &dest, filter)
        .expect("export");
    (out, summary)
}

fn paths(map: &BTreeMap<String, String>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

#[test]
fn exports_files_exec_bits_and_symlinks_without_vcs_metadata() {
    let repo = GitFixture::new("special").commit("main", &[("old.txt", "old")], "first");
    let id = commit_special_tree(&repo, "main");
    let (out, summary) = export(&repo, &id, &FileFilter::default());
    let got = tree(&out.path().join("build"));
    let want: BTreeMap<String, String> = [
        ("README.md", "file: readme"),
        ("bin/run.sh", "exec: #!/bin/sh\necho run"),
        ("current", "link -> README.md"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(got, want, "no .git or .svn, no old.txt");
    assert_eq!(summary.files, 3);
    assert_eq!(
        summary.bytes,
        ("readme\n".len() + "#!/bin/sh\necho run\n".len() + "README.md".len()) as u64
    );
}

#[test]
fn exclude_list_leaves_out_matches_and_whole_directories() {
    let repo = app();
    let (out, summary) = export(
        &repo,
        repo.last_commit(),
        &filter(
            FilterMode::Exclude,
            &["*.log", "/docs", "vendor/", "config/local.php"],
        ),
    );
    let build = out.path().join("build");
    let got = tree(&build);
    assert_eq!(paths(&got), ["README.md", "src/lib/mod.rs", "src/main.rs"]);
    assert_eq!(got["src/main.rs"], "file: fn main() {}");
    assert_eq!(summary.files, 3);
    // Like tar --exclude: directories that were walked stay, even when all they held was excluded.
    assert_eq!(dirs(&build), ["config", "logs", "src", "src/lib", "web"]);
}

#[test]
fn include_list_keeps_only_matches() {
    let repo = app();
    let (out, summary) = export(
        &repo,
        repo.last_commit(),
        &filter(
            FilterMode::Include,
            &["src", "vendor/**/*.php", "README.md", "# a comment"],
        ),
    );
    let build = out.path().join("build");
    assert_eq!(
        paths(&tree(&build)),
        [
            "README.md",
            "src/app.log",
            "src/lib/mod.rs",
            "src/main.rs",
            "vendor/pkg/a.php"
        ]
    );
    assert_eq!(summary.files, 5);
    assert_eq!(dirs(&build), ["src", "src/lib", "vendor", "vendor/pkg"]);
}

#[test]
fn export_needs_an_empty_directory_and_a_valid_filter() {
    let repo = app();
    let (_cache, vcs) = git_vcs();
    let handle = git_repo(&repo.file_url());
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("stale"), "x").unwrap();
    let err = vcs
        .export(
            &handle,
            &cid(repo.last_commit()),
            out.path(),
            &FileFilter::default(),
        )
        .unwrap_err();
    assert!(matches!(err, VcsError::Io { .. }), "{err:?}");

    let dest = out.path().join("fresh");
    let err = vcs
        .export(
            &handle,
            &cid(repo.last_commit()),
            &dest,
            &filter(FilterMode::Include, &["[z-a]"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("[z-a]"), "{err}");

    let err = vcs
        .export(
            &handle,
            &cid("0123456789abcdef"),
            &dest,
            &FileFilter::default(),
        )
        .unwrap_err();
    assert!(
        matches!(err, VcsError::NoSuchRef { kind: "commit", .. }),
        "{err:?}"
    );
}

#[test]
fn changed_files_between_two_commits() {
    let repo = app().delete("docs/guide.md").commit(
        "main",
        &[("README.md", "readme v2"), ("src/new.rs", "new")],
        "change",
    );
    let (first, second) = (repo.commits()[0].clone(), repo.commits()[1].clone());
    let (_cache, vcs) = git_vcs();
    let handle = git_repo(&repo.git_url());
    let changes = vcs
        .changed_files(&handle, &cid(&first), &cid(&second))
        .unwrap();
    assert_eq!(
        changes,
        [
            FileChange::Modified("README.md".to_owned()),
            FileChange::Deleted("docs/guide.md".to_owned()),
            FileChange::Added("src/new.rs".to_owned()),
        ]
    );
    assert!(
        vcs.changed_files(&handle, &cid(&second), &cid(&second))
            .unwrap()
            .is_empty()
    );
    let back = vcs
        .changed_files(&handle, &cid(&second[..8]), &cid(&first[..8]))
        .unwrap();
    assert_eq!(back.len(), 3);
    assert!(back.contains(&FileChange::Added("docs/guide.md".to_owned())));
}
