//! SVN over svn:// (svnserve with a login) and file://.

use std::time::Duration;

use walle_core::model::{FileFilter, FilterMode, RepoCredentials, RepoKind};
use walle_core::ports::{FileChange, RepoHandle, Revision, Vcs, VcsError};
use walle_test_support::{GitFixture, SvnFixture};
use walle_vcs::{AnyVcs, GitConfig, KnownHosts, SvnConfig, UnknownHostPolicy};

use crate::support::{cid, closed_port, git_repo, handle, rn, svn_repo, svn_vcs, tree};

const BRANCH: &str = "feature-$(id)";

fn fixture() -> SvnFixture {
    SvnFixture::new("app")
        .commit(
            "trunk",
            &[
                ("README", "v1"),
                ("src/main.c", "int main;"),
                ("src/debug.log", "noise"),
                ("docs/a.md", "doc"),
            ],
            "initial import\n\nwith a body",
        )
        .tag("v1.0", "trunk")
        .branch(BRANCH, "trunk")
        .commit(
            &format!("branches/{BRANCH}"),
            &[("README", "on branch")],
            "branch work",
        )
        .commit(
            "trunk",
            &[("README", "v2"), ("NEW", "new")],
            "second on trunk",
        )
        .delete("trunk/docs", "drop docs")
        .tag("v2.0", "trunk")
}

fn login(repo: &SvnFixture) -> RepoHandle {
    svn_repo(&repo.svn_url(), repo.username(), repo.password())
}

#[test]
fn lists_branches_tags_and_revisions() {
    let repo = fixture();
    let (_dir, vcs) = svn_vcs();
    let handle = login(&repo);

    let branches = vcs.branches(&handle).unwrap();
    let names: Vec<&str> = branches.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, [BRANCH, "trunk"]);
    // r1 layout, r2 import, r3 tag v1.0, r4 branch, r5 branch work, r6 trunk, r7 delete, r8 tag v2.0.
    assert_eq!(
        (branches[0].head.as_str(), branches[1].head.as_str()),
        ("5", "7")
    );

    let tags = vcs.tags(&handle).unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v2.0", "v1.0"], "newest first");
    assert_eq!(
        (tags[0].commit.as_str(), tags[1].commit.as_str()),
        ("8", "3")
    );

    let log = vcs.commits(&handle, &rn("trunk"), 3).unwrap();
    let got: Vec<(&str, &str)> = log
        .iter()
        .map(|c| (c.id.as_str(), c.subject.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("7", "drop docs"),
            ("6", "second on trunk"),
            ("2", "initial import")
        ]
    );
    assert_eq!(log[0].author, repo.username());
    let log = vcs.commits(&handle, &rn(BRANCH), 10).unwrap();
    assert_eq!(log[0].subject, "branch work");
    assert!(matches!(
        vcs.commits(&handle, &rn("nope"), 3),
        Err(VcsError::NoSuchRef { kind: "branch", .. })
    ));
}

#[test]
fn resolves_branches_tags_and_revisions() {
    let repo = fixture();
    let (_dir, vcs) = svn_vcs();
    let handle = login(&repo);
    let resolve = |rev: Revision| vcs.resolve(&handle, &rev);
    assert_eq!(
        resolve(Revision::Branch(rn("trunk"))).unwrap().as_str(),
        "7"
    );
    assert_eq!(resolve(Revision::Branch(rn(BRANCH))).unwrap().as_str(), "5");
    assert_eq!(resolve(Revision::Tag(rn("v1.0"))).unwrap().as_str(), "3");
    assert_eq!(resolve(Revision::Commit(cid("6"))).unwrap().as_str(), "6");
    for (rev, kind) in [
        (Revision::Branch(rn("nope")), "branch"),
        (Revision::Tag(rn("v9")), "tag"),
        (Revision::Commit(cid("999")), "revision"),
        (Revision::Commit(cid("abcd")), "revision"),
    ] {
        let err = resolve(rev).unwrap_err();
        assert!(
            matches!(err, VcsError::NoSuchRef { kind: k, .. } if k == kind),
            "{err:?}"
        );
    }
}

#[test]
fn exports_revisions_with_filters_and_lists_changed_files() {
    let repo = fixture();
    let (_dir, vcs) = svn_vcs();
    let handle = login(&repo);
    let out = tempfile::tempdir().unwrap();

    let exclude = FileFilter {
        mode: FilterMode::Exclude,
        patterns: vec!["*.log".to_owned(), "docs".to_owned()],
    };
    let summary = vcs
        .export(&handle, &cid("2"), &out.path().join("a"), &exclude)
        .unwrap();
    let got = tree(&out.path().join("a"));
    assert_eq!(got.keys().collect::<Vec<_>>(), ["README", "src/main.c"]);
    assert_eq!((summary.files, summary.bytes), (2, 11));

    let include = FileFilter {
        mode: FilterMode::Include,
        patterns: vec!["src".to_owned()],
    };
    vcs.export(&handle, &cid("2"), &out.path().join("b"), &include)
        .unwrap();
    assert_eq!(
        tree(&out.path().join("b")).keys().collect::<Vec<_>>(),
        ["src/debug.log", "src/main.c"]
    );

    // A branch head exports the branch's tree, found from the revision alone by a fresh adapter.
    let head = vcs.resolve(&handle, &Revision::Branch(rn(BRANCH))).unwrap();
    let (_dir2, fresh) = svn_vcs();
    fresh
        .export(
            &handle,
            &head,
            &out.path().join("c"),
            &FileFilter::default(),
        )
        .unwrap();
    assert_eq!(tree(&out.path().join("c"))["README"], "file: on branch");
    let tag = vcs.resolve(&handle, &Revision::Tag(rn("v2.0"))).unwrap();
    fresh
        .export(&handle, &tag, &out.path().join("d"), &FileFilter::default())
        .unwrap();
    assert_eq!(
        tree(&out.path().join("d")).keys().collect::<Vec<_>>(),
        ["NEW", "README", "src/debug.log", "src/main.c"]
    );

    let changes = vcs.changed_files(&handle, &cid("2"), &cid("7")).unwrap();
    assert_eq!(
        changes,
        [
            FileChange::Added("NEW".to_owned()),
            FileChange::Modified("README".to_owned()),
            FileChange::Deleted("docs/a.md".to_owned()),
        ]
    );
    let across = fresh.changed_files(&handle, &cid("3"), &head).unwrap();
    assert_eq!(across, [FileChange::Modified("README".to_owned())]);
}

#[test]
fn wrong_or_missing_credentials_fail_without_leaking_the_password() {
    let repo = fixture();
    let (_dir, vcs) = svn_vcs();
    let password = "Wr0ng-Pa55word";
    let err = vcs
        .branches(&svn_repo(&repo.svn_url(), repo.username(), password))
        .unwrap_err();
    assert!(matches!(err, VcsError::AuthFailed { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(password), "{err:?}");
    let err = vcs
        .branches(&handle(
            RepoKind::Svn,
            &repo.svn_url(),
            RepoCredentials::None,
        ))
        .unwrap_err();
    assert!(matches!(err, VcsError::AuthFailed { .. }), "{err:?}");
    // A file:// URL needs no login.
    let local = handle(RepoKind::Svn, &repo.file_url(), RepoCredentials::None);
    assert_eq!(vcs.branches(&local).unwrap().len(), 2);
}

#[test]
fn not_a_repository_and_unreachable_servers() {
    let repo = fixture();
    let (_dir, vcs) = svn_vcs();
    let port = walle_test_support::Infra::get().svn_port();
    let missing = svn_repo(
        &format!("svn://127.0.0.1:{port}/no-such-repo"),
        repo.username(),
        repo.password(),
    );
    assert!(matches!(
        vcs.tags(&missing),
        Err(VcsError::NotARepository {
            expected: "svn",
            ..
        })
    ));
    let closed = svn_repo(
        &format!("svn://127.0.0.1:{}/repo", closed_port()),
        "walle",
        "pw",
    );
    let err = vcs.branches(&closed).unwrap_err();
    assert!(
        matches!(err, VcsError::Unreachable { .. }) && err.is_retryable(),
        "{err:?}"
    );
}

#[test]
fn any_vcs_dispatches_on_the_repository_kind() {
    let svn = fixture();
    let git = GitFixture::new("dispatch").commit("main", &[("a", "a")], "one");
    let dir = tempfile::tempdir().unwrap();
    let vcs = AnyVcs::new(
        GitConfig {
            cache_root: dir.path().to_owned(),
            known_hosts: KnownHosts {
                path: walle_test_support::Infra::get().known_hosts().to_owned(),
                unknown: UnknownHostPolicy::Reject,
            },
        },
        SvnConfig {
            cache_root: dir.path().to_owned(),
            command_timeout: Duration::from_secs(60),
        },
    );
    let names = |h: &RepoHandle| -> Vec<String> {
        vcs.branches(h)
            .unwrap()
            .iter()
            .map(|b| b.name.to_string())
            .collect()
    };
    let (git_handle, svn_handle) = (git_repo(&git.file_url()), login(&svn));
    assert_eq!(names(&git_handle), ["main"]);
    assert_eq!(names(&svn_handle), [BRANCH, "trunk"]);
}
