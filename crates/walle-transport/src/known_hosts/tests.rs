use walle_core::model::HostKey;
use walle_core::ports::HostKeyStore;
use walle_core::value::{HostName, Port};

use super::{KnownHostsFile, glob, hmac_sha1};

const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIF65bwS++mB9c33+clVhbK0BTVwd/+IQcUyoF/EDVtyV";
const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIMGNhDVZl1FSIl2RPdvQht6bXc/ZbjMVRMXCcNS3XKNA";

fn key(b64: &str) -> HostKey {
    HostKey {
        algorithm: "ssh-ed25519".to_owned(),
        key_base64: b64.to_owned(),
    }
}

fn host(h: &str) -> HostName {
    HostName::new(h).expect("valid host")
}

fn port(p: u16) -> Port {
    Port::new(p).expect("valid port")
}

fn store(text: &str) -> (tempfile::TempDir, KnownHostsFile) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("known_hosts");
    std::fs::write(&path, text).expect("write");
    (dir, KnownHostsFile::new(path))
}

#[test]
fn plain_bracketed_and_listed_hosts_are_found() {
    let (_d, s) = store(&format!(
        "# comment\n\
         web1,10.0.0.1 ssh-ed25519 {K1} laptop\n\
         [web2]:2222 ssh-ed25519 {K2}\n\
         10.0.0.3,[10.0.0.3]:22 ssh-ed25519 {K2}\n"
    ));
    assert_eq!(s.trusted(&host("web1"), port(22)), Ok(Some(key(K1))));
    assert_eq!(s.trusted(&host("10.0.0.1"), port(22)), Ok(Some(key(K1))));
    assert_eq!(s.trusted(&host("web1"), port(2222)), Ok(None));
    assert_eq!(s.trusted(&host("web2"), port(2222)), Ok(Some(key(K2))));
    assert_eq!(s.trusted(&host("web2"), port(22)), Ok(None));
    assert_eq!(s.trusted(&host("10.0.0.3"), port(22)), Ok(Some(key(K2))));
}

#[test]
fn wildcards_and_negation_follow_openssh() {
    let (_d, s) = store(&format!(
        "*.example.com,!bad.example.com ssh-ed25519 {K1}\n"
    ));
    assert_eq!(
        s.trusted(&host("a.example.com"), port(22)),
        Ok(Some(key(K1)))
    );
    assert_eq!(s.trusted(&host("bad.example.com"), port(22)), Ok(None));
    assert!(glob("web?", "web1"));
    assert!(!glob("web?", "web12"));
    assert!(glob("*", "anything"));
}

#[test]
fn hashed_entries_written_by_ssh_keygen_are_read() {
    let (_d, s) = store(&format!(
        "web1 ssh-ed25519 {K1}\n[web2]:2222 ssh-ed25519 {K2}\n"
    ));
    let status = crate::local::command("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(s.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let text = std::fs::read_to_string(s.path()).expect("read");
    assert!(text.starts_with("|1|") && !text.contains("web1"), "{text}");
    assert_eq!(s.trusted(&host("web1"), port(22)), Ok(Some(key(K1))));
    assert_eq!(s.trusted(&host("web2"), port(2222)), Ok(Some(key(K2))));
    assert_eq!(s.trusted(&host("web3"), port(22)), Ok(None));
    s.forget(&host("web1"), port(22)).expect("forget");
    assert_eq!(s.trusted(&host("web1"), port(22)), Ok(None));
    assert_eq!(s.trusted(&host("web2"), port(2222)), Ok(Some(key(K2))));
}

#[test]
fn hmac_sha1_matches_rfc_2202() {
    // RFC 2202 test case 2.
    let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

#[test]
fn trust_replaces_only_the_given_host() {
    let (_d, s) = store(&format!(
        "web1,web3 ssh-ed25519 {K1} keep-comment\n\
         @cert-authority *.example.com ssh-ed25519 {K1}\n\
         web2 ssh-ed25519 {K1}\n"
    ));
    s.trust(&host("web1"), port(22), &key(K2)).expect("trust");
    assert_eq!(s.trusted(&host("web1"), port(22)), Ok(Some(key(K2))));
    assert_eq!(s.trusted(&host("web3"), port(22)), Ok(Some(key(K1))));
    assert_eq!(s.trusted(&host("web2"), port(22)), Ok(Some(key(K1))));
    let text = std::fs::read_to_string(s.path()).expect("read");
    assert_eq!(
        text,
        format!(
            "web3 ssh-ed25519 {K1} keep-comment\n\
             @cert-authority *.example.com ssh-ed25519 {K1}\n\
             web2 ssh-ed25519 {K1}\n\
             web1 ssh-ed25519 {K2}\n"
        )
    );
}

#[test]
fn first_trust_creates_the_file_and_port_spec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = KnownHostsFile::new(dir.path().join("sub/known_hosts"));
    assert_eq!(s.trusted(&host("web1"), port(2222)), Ok(None));
    s.trust(&host("web1"), port(2222), &key(K1)).expect("trust");
    let text = std::fs::read_to_string(s.path()).expect("read");
    assert_eq!(text, format!("[web1]:2222 ssh-ed25519 {K1}\n"));
    s.forget(&host("web1"), port(2222)).expect("forget");
    assert_eq!(s.trusted(&host("web1"), port(2222)), Ok(None));
}

#[test]
fn concurrent_trusts_lose_nothing() {
    let (_d, s) = store("");
    std::thread::scope(|scope| {
        for i in 0..8 {
            let s = s.clone();
            scope.spawn(move || {
                s.trust(&host(&format!("h{i}")), port(22), &key(K1))
                    .expect("trust");
            });
        }
    });
    for i in 0..8 {
        assert_eq!(
            s.trusted(&host(&format!("h{i}")), port(22)),
            Ok(Some(key(K1)))
        );
    }
}

#[test]
fn ed25519_is_preferred_among_several_keys() {
    let rsa = "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";
    let (_d, s) = store(&format!("web1 ssh-rsa {rsa}\nweb1 ssh-ed25519 {K1}\n"));
    assert_eq!(s.trusted(&host("web1"), port(22)), Ok(Some(key(K1))));
    assert_eq!(s.keys_for(&host("web1"), port(22)).expect("read").len(), 2);
}

#[test]
fn forget_command_names_the_file_and_spec() {
    let s = KnownHostsFile::new("/home/u/.ssh/known_hosts".into());
    assert_eq!(
        s.forget_command(&host("web1"), port(2222)),
        "ssh-keygen -f '/home/u/.ssh/known_hosts' -R '[web1]:2222'"
    );
}
