//! SVN fixtures checked out over svn:// with the right credentials, and refused with wrong ones.

use std::process::Command;

use walle_test_support::SvnFixture;

use crate::{run_err, run_ok};

fn svn(config: &std::path::Path) -> Command {
    let mut cmd = Command::new("svn");
    cmd.args(["--non-interactive", "--no-auth-cache", "--config-dir"])
        .arg(config);
    cmd
}

#[test]
fn checkout_over_svnserve_with_credentials() {
    let repo = SvnFixture::new("smoke")
        .commit(
            "trunk",
            &[("README", "v1\n"), ("src/app.sh", "echo v1\n")],
            "initial",
        )
        .tag("1.0.0", "trunk")
        .branch("hotfix", "trunk")
        .commit("branches/hotfix", &[("README", "v1.0.1\n")], "fix")
        .commit("trunk", &[("src/app.sh", "echo v2\n")], "v2");
    assert_eq!(repo.revision(), 6, "layout, initial, tag, branch, fix, v2");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let wc = dir.path().join("wc");
    run_ok(
        svn(&config)
            .args([
                "checkout",
                "-q",
                "--username",
                repo.username(),
                "--password",
                repo.password(),
            ])
            .arg(format!("{}/trunk", repo.svn_url()))
            .arg(&wc),
    );
    assert_eq!(
        std::fs::read_to_string(wc.join("src/app.sh")).unwrap(),
        "echo v2\n"
    );
    let tags = run_ok(
        svn(&config)
            .args([
                "ls",
                "--username",
                repo.username(),
                "--password",
                repo.password(),
            ])
            .arg(format!("{}/tags", repo.svn_url())),
    );
    assert_eq!(tags, "1.0.0/\n");
    let readme = run_ok(
        svn(&config)
            .arg("cat")
            .arg(format!("{}/branches/hotfix/README", repo.file_url())),
    );
    assert_eq!(readme, "v1.0.1\n");
}

#[test]
fn wrong_or_missing_credentials_are_refused() {
    let repo = SvnFixture::new("smoke-auth").commit("trunk", &[("README", "v1\n")], "initial");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let url = format!("{}/trunk", repo.svn_url());
    let err = run_err(
        svn(&config)
            .args([
                "checkout",
                "-q",
                "--username",
                repo.username(),
                "--password",
                "wrong",
            ])
            .arg(&url)
            .arg(dir.path().join("wc1")),
    );
    assert!(err.contains("E170001") || err.contains("uthoriz"), "{err}");
    let err = run_err(
        svn(&config)
            .args(["checkout", "-q"])
            .arg(&url)
            .arg(dir.path().join("wc2")),
    );
    assert!(
        err.contains("E170001") || err.contains("uthoriz"),
        "anonymous access: {err}"
    );
}
