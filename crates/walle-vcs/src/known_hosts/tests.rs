//! Unit tests of known_hosts parsing and matching.

use super::*;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICg74zTo6V4Vc1LiFipV+x0IgPjXjxXn5doDH57lzwwR";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICshP/x4dgeKOZ3I9qxgjva8CP4+p/fVNa26M8Od782l";
/// `KEY` for `[git.example]:2222`, hashed by `ssh-keygen -H`.
const HASHED: &str = "|1|dnKAr+eo9Dpvv9q3ogFv3VirfJA=|a0tm9uYrYIaBo0KiMz3ZaHIXSHE= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICg74zTo6V4Vc1LiFipV+x0IgPjXjxXn5doDH57lzwwR";

fn blob(b64: &str) -> Vec<u8> {
    STANDARD.decode(b64).unwrap()
}

#[test]
fn plain_entries_match_by_name_and_port() {
    let text = format!(
        "# comment\n\n[git.example]:2222 ssh-ed25519 {KEY}\nplain.example,10.0.0.1 ssh-ed25519 {KEY} c\n"
    );
    assert_eq!(
        verify(&text, "[git.example]:2222", &blob(KEY)),
        Verdict::Trusted
    );
    assert_eq!(
        verify(&text, "git.example", &blob(KEY)),
        Verdict::Unknown,
        "port 22 is another name"
    );
    assert_eq!(verify(&text, "10.0.0.1", &blob(KEY)), Verdict::Trusted);
    assert_eq!(verify(&text, "PLAIN.example", &blob(KEY)), Verdict::Trusted);
    assert_eq!(
        verify(&text, "[git.example]:2222", &blob(OTHER)),
        Verdict::Changed { line: 3 }
    );
}

#[test]
fn hashed_entries_match() {
    assert_eq!(
        verify(HASHED, "[git.example]:2222", &blob(KEY)),
        Verdict::Trusted
    );
    assert_eq!(
        verify(HASHED, "[git.example]:2223", &blob(KEY)),
        Verdict::Unknown
    );
    assert_eq!(
        verify(HASHED, "[git.example]:2222", &blob(OTHER)),
        Verdict::Changed { line: 1 }
    );
}

#[test]
fn wildcards_negation_and_revocation() {
    let text = format!(
        "*.example,!evil.example ssh-ed25519 {KEY}\n@revoked * ssh-ed25519 {OTHER}\n@cert-authority * ssh-ed25519 {OTHER}\n"
    );
    assert_eq!(verify(&text, "a.example", &blob(KEY)), Verdict::Trusted);
    assert_eq!(verify(&text, "evil.example", &blob(KEY)), Verdict::Unknown);
    assert_eq!(
        verify(&text, "a.example", &blob(OTHER)),
        Verdict::Revoked { line: 2 }
    );
    assert!(wildcard(b"h?st*", b"host-1"));
    assert!(!wildcard(b"h?st", b"hoost"));
}

#[test]
fn key_type_and_fingerprint() {
    assert_eq!(key_type(&blob(KEY)), Some("ssh-ed25519"));
    assert_eq!(key_type(b"\0\0"), None);
    // `ssh-keygen -lf` prints this fingerprint for KEY.
    let sha: [u8; 32] = STANDARD_NO_PAD
        .decode("Vky3t9mtBaktkjuu3w8wuDzNMZfwI3c5y79ap889t2w")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        fingerprint(&sha),
        "SHA256:Vky3t9mtBaktkjuu3w8wuDzNMZfwI3c5y79ap889t2w"
    );
}

#[test]
fn check_explains_and_trust_on_first_use_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    let key = blob(KEY);
    let offered = OfferedKey {
        blob: &key,
        sha256: None,
    };
    let strict = KnownHosts {
        path: path.clone(),
        unknown: UnknownHostPolicy::Reject,
    };
    let err = strict.check("[h]:2222", &offered).unwrap_err();
    assert!(err.contains("ssh-keyscan -p 2222 h >>"), "{err}");

    let tofu = KnownHosts {
        path: path.clone(),
        unknown: UnknownHostPolicy::TrustOnFirstUse,
    };
    tofu.check("[h]:2222", &offered).unwrap();
    tofu.check("[h]:2222", &offered).unwrap();
    strict.check("[h]:2222", &offered).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("[h]:2222 ssh-ed25519 {KEY}\n")
    );

    let other = blob(OTHER);
    let err = tofu
        .check(
            "[h]:2222",
            &OfferedKey {
                blob: &other,
                sha256: None,
            },
        )
        .unwrap_err();
    assert!(err.contains("ssh-keygen -R '[h]:2222'"), "{err}");
}
