//! Git over ssh against the controller's sshd, with strict host key checking.

use walle_core::ports::{Revision, Vcs, VcsError};
use walle_test_support::{GitFixture, Infra};
use walle_vcs::UnknownHostPolicy;

use crate::support::{git_vcs, git_vcs_with, rn, ssh_repo};

/// An ed25519 key that no sshd of the test infrastructure accepts.
const STRANGER_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACArIT/8eHYHijmdyPasYI72vAj+Pqf31TWtujPDne/NpQAAAJBLxzkkS8c5
JAAAAAtzc2gtZWQyNTUxOQAAACArIT/8eHYHijmdyPasYI72vAj+Pqf31TWtujPDne/NpQ
AAAEAPLoYE+3JHA0o46/PceC7UXwq3o5VTBSiRK6F6D5FPwSshP/x4dgeKOZ3I9qxgjva8
CP4+p/fVNa26M8Od782lAAAAB3Jvb3RAdm0BAgMEBQY=
-----END OPENSSH PRIVATE KEY-----
";

/// Another ed25519 public key, for a known_hosts that names the wrong key.
const WRONG_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICg74zTo6V4Vc1LiFipV+x0IgPjXjxXn5doDH57lzwwR";

fn fixture() -> GitFixture {
    GitFixture::new("over-ssh")
        .commit("main", &[("a.txt", "a")], "one")
        .tag("v1", "main", true)
        .branch("dev", "main")
}

#[test]
fn lists_and_resolves_over_ssh_with_strict_host_keys() {
    let infra = Infra::get();
    let repo = fixture();
    let (_dir, vcs) = git_vcs();
    let handle = ssh_repo(&repo.ssh_url(), infra.client_key());
    let names: Vec<String> = vcs
        .branches(&handle)
        .unwrap()
        .iter()
        .map(|b| b.name.to_string())
        .collect();
    assert_eq!(names, ["dev", "main"]);
    assert_eq!(vcs.tags(&handle).unwrap()[0].name.as_str(), "v1");
    assert_eq!(
        vcs.commits(&handle, &rn("dev"), 5).unwrap()[0].id.as_str(),
        repo.last_commit()
    );
    let id = vcs.resolve(&handle, &Revision::Tag(rn("v1"))).unwrap();
    assert_eq!(id.as_str(), repo.last_commit());
}

#[test]
fn a_wrong_or_missing_host_key_is_refused_with_its_fingerprint() {
    let infra = Infra::get();
    let repo = fixture();
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong_known_hosts");
    std::fs::write(
        &wrong,
        format!("[127.0.0.1]:{} {WRONG_HOST_KEY}\n", infra.controller().port),
    )
    .unwrap();
    let empty = dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();

    let (_c1, vcs) = git_vcs_with(&wrong, UnknownHostPolicy::TrustOnFirstUse);
    let handle = ssh_repo(&repo.ssh_url(), infra.client_key());
    match vcs.branches(&handle) {
        Err(VcsError::HostKey { detail, .. }) => {
            assert!(detail.contains("SHA256:"), "{detail}");
            assert!(detail.contains("different ssh-ed25519 key"), "{detail}");
            assert!(detail.contains("ssh-keygen -R"), "{detail}");
        }
        other => panic!("expected HostKey, got {other:?}"),
    }

    let (_c2, vcs) = git_vcs_with(&empty, UnknownHostPolicy::Reject);
    match vcs.branches(&handle) {
        Err(VcsError::HostKey { detail, .. }) => {
            assert!(detail.contains("SHA256:"), "{detail}");
            assert!(
                detail.contains("ssh-keyscan -p 22922 127.0.0.1"),
                "{detail}"
            );
        }
        other => panic!("expected HostKey, got {other:?}"),
    }

    // Trust on first use records the key, and from then on the strict check passes too.
    let (_c3, vcs) = git_vcs_with(&empty, UnknownHostPolicy::TrustOnFirstUse);
    vcs.sync(&handle).unwrap();
    let (_c4, vcs) = git_vcs_with(&empty, UnknownHostPolicy::Reject);
    vcs.sync(&handle).unwrap();
    assert!(
        std::fs::read_to_string(&empty)
            .unwrap()
            .starts_with("[127.0.0.1]:22922 ssh-ed25519 ")
    );
}

#[test]
fn a_refused_key_is_an_auth_failure() {
    let repo = fixture();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("stranger");
    std::fs::write(&key, STRANGER_KEY).unwrap();
    let (_cache, vcs) = git_vcs();
    let err = vcs.branches(&ssh_repo(&repo.ssh_url(), &key)).unwrap_err();
    assert!(matches!(err, VcsError::AuthFailed { .. }), "{err:?}");
    assert!(!err.is_retryable());
}
