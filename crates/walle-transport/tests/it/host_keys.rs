//! Host key checking: trust on first use, a changed key refused, fingerprints as OpenSSH prints them.

use std::path::Path;
use std::sync::Arc;

use walle_core::ports::{ConnectOptions, HostKeyStore, Transport, TransportError};
use walle_test_support::Infra;
use walle_transport::{KnownHostsFile, SshConfig, SshTransport, fingerprint};

use crate::support::{ssh_config, target};

/// The fingerprint `ssh-keygen -lf` prints for a public key file.
fn ssh_keygen_fingerprint(pub_key: &Path) -> String {
    let out = walle_transport::local::command("ssh-keygen")
        .arg("-lf")
        .arg(pub_key)
        .output()
        .expect("ssh-keygen runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_owned()
}

fn config_with(infra: &Infra, store: Arc<KnownHostsFile>, tofu: bool) -> SshConfig {
    SshConfig {
        host_keys: store,
        tofu,
        ..ssh_config(infra)
    }
}

#[test]
fn a_changed_host_key_is_refused_with_both_fingerprints() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let (wl1, wl2) = (fleet.host(0), fleet.host(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("known_hosts");
    // wl2's key recorded for wl1's address: to walle, wl1 now presents a different key.
    let wrong = format!("{} {}\n", wl1.addr, wl2.host_key_pub().expect("key"));
    std::fs::write(&path, &wrong).expect("write");
    let store = Arc::new(KnownHostsFile::new(path.clone()));
    // Even with trust-on-first-use on, a changed key is refused.
    let transport = SshTransport::new(config_with(infra, store.clone(), true));
    let err = transport
        .connect(&target(wl1), &ConnectOptions::default())
        .map(|_| ())
        .expect_err("refused");
    let trusted_fp = ssh_keygen_fingerprint(&wl2.host_key_pub_path);
    let presented_fp = ssh_keygen_fingerprint(&wl1.host_key_pub_path);
    match &err {
        TransportError::HostKeyChanged {
            host,
            expected,
            actual,
            hint,
        } => {
            assert_eq!(host, &format!("{}:22", wl1.addr));
            assert!(expected.contains(&trusted_fp), "{expected} vs {trusted_fp}");
            assert!(actual.contains(&presented_fp), "{actual} vs {presented_fp}");
            assert!(hint.contains("ssh-keygen") && hint.contains("-R"), "{hint}");
        }
        other => panic!("expected a changed host key, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&trusted_fp) && message.contains(&presented_fp),
        "{message}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        wrong,
        "file untouched"
    );

    // Accepting the new key is a deliberate step: forget the old one, connect with TOFU.
    let host = target(wl1);
    store.forget(&host.host, host.port).expect("forget");
    transport
        .connect(&host, &ConnectOptions::default())
        .expect("connects after the old key was forgotten");
    let now = store
        .trusted(&host.host, host.port)
        .expect("read")
        .expect("recorded");
    assert_eq!(fingerprint(&now), presented_fp);
}

#[test]
fn an_unknown_host_is_refused_without_tofu_and_recorded_with_it() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let wl3 = fleet.host(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(KnownHostsFile::new(dir.path().join("known_hosts")));
    let presented_fp = ssh_keygen_fingerprint(&wl3.host_key_pub_path);

    let strict = SshTransport::new(config_with(infra, store.clone(), false));
    match strict.connect(&target(wl3), &ConnectOptions::default()) {
        Err(TransportError::HostKeyUnknown { actual, hint, .. }) => {
            assert_eq!(actual, presented_fp);
            assert!(hint.contains("ssh-ed25519 AAAA"), "{hint}");
        }
        Err(other) => panic!("expected an unknown host key, got {other}"),
        Ok(_) => panic!("an unknown host was accepted"),
    }
    assert!(!dir.path().join("known_hosts").exists());

    let tofu = SshTransport::new(config_with(infra, store.clone(), true));
    tofu.connect(&target(wl3), &ConnectOptions::default())
        .expect("first use is trusted");
    let text = std::fs::read_to_string(dir.path().join("known_hosts")).expect("recorded");
    let expected_key = wl3.host_key_pub().expect("key");
    assert_eq!(text, format!("{} {expected_key}\n", wl3.addr));
    // From now on the strict transport accepts it too.
    strict
        .connect(&target(wl3), &ConnectOptions::default())
        .expect("known now");
}

#[test]
fn the_infrastructure_known_hosts_file_is_accepted_as_is() {
    let infra = Infra::get();
    let fleet = infra.fleet();
    let store = KnownHostsFile::new(infra.known_hosts().to_owned());
    for host in fleet.hosts() {
        let t = target(host);
        let key = store
            .trusted(&t.host, t.port)
            .expect("read")
            .expect("listed");
        assert_eq!(
            fingerprint(&key),
            ssh_keygen_fingerprint(&host.host_key_pub_path)
        );
    }
}
