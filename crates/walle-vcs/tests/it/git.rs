//! Git listing and resolving over file:// and git://, hostile names, and failures.

use walle_core::Timestamp;
use walle_core::ports::{Revision, Vcs, VcsError};
use walle_core::value::{CommitId, RefName};
use walle_test_support::GitFixture;

use crate::support::{cid, closed_port, git_repo, git_vcs, rn};

fn fixture() -> GitFixture {
    GitFixture::new("listing")
        .commit("main", &[("README.md", "v1\n")], "initial commit\n\nbody")
        .tag("v1.0.0", "main", true)
        .commit("main", &[("CHANGES", "v2\n")], "second")
        .branch("release/1.x", "main")
        .commit("release/1.x", &[("FIX", "fix\n")], "fix on release")
        .commit("main", &[("CHANGES", "v3\n")], "third")
        .tag("v2.0.0", "main", false)
}

#[test]
fn lists_branches_tags_and_commits_over_file_and_git_daemon() {
    let repo = fixture();
    let commits = repo.commits().to_vec();
    for url in [repo.file_url(), repo.git_url()] {
        let (_dir, vcs) = git_vcs();
        let handle = git_repo(&url);

        let branches = vcs.branches(&handle).unwrap();
        let names: Vec<&str> = branches.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["main", "release/1.x"], "{url}");
        assert_eq!(branches[0].head.as_str(), repo.commit_id("main"));
        assert_eq!(branches[1].head.as_str(), repo.commit_id("release/1.x"));
        assert!(branches[0].updated_at > Timestamp::EPOCH);

        let tags = vcs.tags(&handle).unwrap();
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v2.0.0", "v1.0.0"], "newest first over {url}");
        assert_eq!(
            tags[1].commit.as_str(),
            commits[0],
            "annotated tags are peeled"
        );
        assert_eq!(tags[0].commit.as_str(), repo.commit_id("main"));
        assert!(tags[0].date > tags[1].date);

        let log = vcs.commits(&handle, &rn("main"), 10).unwrap();
        let ids: Vec<&str> = log.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                commits[3].as_str(),
                commits[1].as_str(),
                commits[0].as_str()
            ]
        );
        let subjects: Vec<&str> = log.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(subjects, ["third", "second", "initial commit"]);
        assert!(!log[0].author.is_empty());
        assert_eq!(vcs.commits(&handle, &rn("main"), 1).unwrap().len(), 1);
        assert_eq!(
            vcs.commits(&handle, &rn("release/1.x"), 10).unwrap()[0].subject,
            "fix on release"
        );
    }
}

#[test]
fn listings_are_fresh_and_deleted_branches_disappear() {
    let repo = fixture().branch("doomed", "main");
    let (_dir, vcs) = git_vcs();
    let handle = git_repo(&repo.git_url());
    let names = |vcs: &dyn Vcs| -> Vec<String> {
        vcs.branches(&handle)
            .unwrap()
            .iter()
            .map(|b| b.name.to_string())
            .collect()
    };
    assert_eq!(names(&vcs), ["doomed", "main", "release/1.x"]);

    let repo = repo
        .commit("main", &[("NEW", "new\n")], "fourth")
        .branch("hotfix", "main");
    git2::Repository::open_bare(repo.path())
        .unwrap()
        .find_reference("refs/heads/doomed")
        .unwrap()
        .delete()
        .unwrap();
    assert_eq!(names(&vcs), ["hotfix", "main", "release/1.x"]);
    let log = vcs.commits(&handle, &rn("main"), 1).unwrap();
    assert_eq!(
        log[0].id.as_str(),
        repo.last_commit(),
        "the newest commit is listed at once"
    );
}

#[test]
fn resolves_branches_tags_and_short_commits() {
    let repo = fixture();
    let (_dir, vcs) = git_vcs();
    let handle = git_repo(&repo.file_url());
    let resolve = |rev: Revision| vcs.resolve(&handle, &rev);

    assert_eq!(
        resolve(Revision::Branch(rn("main"))).unwrap().as_str(),
        repo.commit_id("main")
    );
    assert_eq!(
        resolve(Revision::Tag(rn("v1.0.0"))).unwrap().as_str(),
        repo.commits()[0]
    );
    let first = &repo.commits()[0];
    assert_eq!(
        resolve(Revision::Commit(cid(&first[..7])))
            .unwrap()
            .as_str(),
        first
    );
    assert_eq!(
        resolve(Revision::Commit(cid(&first.to_uppercase())))
            .unwrap()
            .as_str(),
        first
    );

    for (rev, kind, name) in [
        (Revision::Branch(rn("nope")), "branch", "nope"),
        (Revision::Tag(rn("v9")), "tag", "v9"),
        (Revision::Commit(cid("deadbeef")), "commit", "deadbeef"),
    ] {
        match resolve(rev) {
            Err(VcsError::NoSuchRef {
                kind: k,
                reference,
                repo,
            }) => {
                assert_eq!((k, reference.as_str()), (kind, name));
                assert_eq!(repo, handle.config.url);
            }
            other => panic!("expected NoSuchRef for {name}, got {other:?}"),
        }
    }
    let err = resolve(Revision::Branch(rn("nope"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "no branch \"nope\" in {}; refresh the list and pick an existing one",
            handle.config.url
        )
    );
    assert!(matches!(
        vcs.commits(&handle, &rn("nope"), 5),
        Err(VcsError::NoSuchRef { kind: "branch", .. })
    ));
}

#[test]
fn hostile_names_cannot_even_be_constructed() {
    // The adapter's inputs are typed: option-like, traversal and control-character names are
    // refused before any adapter (or process) could see them.
    for bad in [
        "--upload-pack=touch /tmp/pwned",
        "-x",
        "a b",
        "a..b",
        "main\n--all",
        "x\0y",
        "refs/heads/../x",
        "tag^{}",
        "@{-1}",
        "a:b",
    ] {
        assert!(RefName::new(bad).is_err(), "{bad:?} must be refused");
    }
    for bad in ["HEAD~1", "--all", "main", "abc", "g123456", ""] {
        assert!(CommitId::new(bad).is_err(), "{bad:?} must be refused");
    }
}

#[test]
fn shell_metacharacters_in_branch_names_are_just_names() {
    let marker = std::env::temp_dir().join("walle-vcs-pwned");
    let _ = std::fs::remove_file(&marker);
    let evil = format!("feature/$(touch${{IFS}}{})", marker.display());
    let repo = fixture()
        .branch("feature/$(id)", "main")
        .branch(&evil, "main")
        .branch("semi;colon|pipe&amp`tick`", "main");
    let (_dir, vcs) = git_vcs();
    let handle = git_repo(&repo.git_url());
    let branches = vcs.branches(&handle).unwrap();
    let names: Vec<&str> = branches.iter().map(|b| b.name.as_str()).collect();
    assert!(names.contains(&"feature/$(id)"), "{names:?}");
    assert!(names.contains(&evil.as_str()), "{names:?}");
    for name in ["feature/$(id)", evil.as_str(), "semi;colon|pipe&amp`tick`"] {
        let id = vcs.resolve(&handle, &Revision::Branch(rn(name))).unwrap();
        assert_eq!(id.as_str(), repo.commit_id("main"));
        assert_eq!(vcs.commits(&handle, &rn(name), 5).unwrap().len(), 3);
    }
    assert!(!marker.exists(), "a branch name was executed");
}

#[test]
fn a_url_that_is_not_a_repository_says_so() {
    let (dir, vcs) = git_vcs();
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    for url in [
        format!("file://{}", plain.display()),
        format!("file://{}/missing.git", dir.path().display()),
        format!(
            "git://127.0.0.1:{}/no-such-repo.git",
            walle_test_support::Infra::get().git_port()
        ),
    ] {
        match vcs.branches(&git_repo(&url)) {
            Err(VcsError::NotARepository {
                expected: "git",
                repo,
                ..
            }) => assert_eq!(repo, url),
            other => panic!("expected NotARepository for {url}, got {other:?}"),
        }
    }
}

#[test]
fn an_unreachable_server_is_reported_as_such() {
    let port = closed_port();
    let (_dir, vcs) = git_vcs();
    for url in [
        format!("git://127.0.0.1:{port}/app.git"),
        format!("ssh://git@127.0.0.1:{port}/srv/app.git"),
        format!("https://127.0.0.1:{port}/app.git"),
    ] {
        let err = vcs.branches(&git_repo(&url)).unwrap_err();
        assert!(
            matches!(err, VcsError::Unreachable { .. }),
            "{url}: {err:?}"
        );
        assert!(err.is_retryable());
        assert!(
            !err.to_string().contains("git@"),
            "userinfo is stripped: {err}"
        );
    }
}
