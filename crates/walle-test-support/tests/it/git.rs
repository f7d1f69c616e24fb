//! Git fixtures cloned over file://, git:// and ssh://, from the controller and from a target host.

use std::process::Command;
use std::time::Instant;

use walle_test_support::{GitFixture, Infra};

use crate::{run_ok, unique};

fn fixture() -> GitFixture {
    GitFixture::new("smoke")
        .commit(
            "main",
            &[("README.md", "v1\n"), ("src/app.sh", "echo v1\n")],
            "initial",
        )
        .tag("v1.0.0", "main", true)
        .tag("light", "main", false)
        .branch("release/1.x", "main")
        .delete("README.md")
        .commit("main", &[("src/app.sh", "echo v2\n")], "v2")
        .commit("release/1.x", &[("HOTFIX", "1\n")], "hotfix")
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

#[test]
fn clone_over_file_git_and_ssh() {
    let infra = Infra::get();
    let repo = fixture();
    assert_eq!(repo.commits().len(), 3);
    let dir = tempfile::tempdir().unwrap();
    for (i, url) in [repo.file_url(), repo.git_url(), repo.ssh_url()]
        .iter()
        .enumerate()
    {
        let dest = dir.path().join(format!("clone{i}"));
        run_ok(
            git()
                .env("GIT_SSH_COMMAND", infra.git_ssh_command())
                .args(["clone", "-q", url])
                .arg(&dest),
        );
        let head = run_ok(git().arg("-C").arg(&dest).args(["rev-parse", "HEAD"]));
        assert_eq!(
            head.trim(),
            repo.commit_id("main"),
            "HEAD of the clone over {url}"
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("src/app.sh")).unwrap(),
            "echo v2\n"
        );
        assert!(
            !dest.join("README.md").exists(),
            "README.md was deleted on main"
        );
        let refs = run_ok(
            git()
                .arg("-C")
                .arg(&dest)
                .args(["for-each-ref", "--format=%(refname) %(objecttype)"]),
        );
        assert!(
            refs.contains("refs/remotes/origin/release/1.x commit"),
            "{refs}"
        );
        assert!(
            refs.contains("refs/tags/v1.0.0 tag"),
            "annotated tag over {url}: {refs}"
        );
        assert!(
            refs.contains("refs/tags/light commit"),
            "lightweight tag over {url}: {refs}"
        );
    }
    assert_eq!(repo.commit_id("v1.0.0"), repo.commits()[0]);
    assert_eq!(repo.commit_id("release/1.x~1"), repo.commits()[0]);
    assert_eq!(repo.last_commit(), repo.commit_id("release/1.x"));
}

#[test]
fn a_target_host_clones_from_the_controller() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let host = fleet.host(0);
    let repo = fixture();
    let marker = unique("smoke-git");
    let out = host
        .ssh(&format!(
            "git clone -q --branch release/1.x {} /srv/{marker} && cat /srv/{marker}/HOTFIX",
            repo.git_url_from_hosts()
        ))
        .unwrap();
    assert_eq!(out, "1\n");
    let checkout = host.srv_root().join(&marker);
    assert!(checkout.join("src/app.sh").exists());
    std::fs::remove_dir_all(checkout).unwrap();
}

#[test]
fn a_big_tree_commits_quickly() {
    let start = Instant::now();
    let files = (0..5_000).map(|i| {
        (
            format!("d{}/f{i}.txt", i % 50),
            format!("file {i}\n").into_bytes(),
        )
    });
    let repo = GitFixture::new("big").commit_files("main", files, "5000 files");
    let elapsed = start.elapsed();
    let listed = run_ok(git().arg("--git-dir").arg(repo.path()).args([
        "ls-tree",
        "-r",
        "--name-only",
        "main",
    ]));
    assert_eq!(listed.lines().count(), 5_000);
    assert!(elapsed.as_secs() < 10, "5,000 files took {elapsed:?}");
}
