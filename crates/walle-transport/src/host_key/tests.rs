use walle_core::model::HostKey;

use super::{fingerprint, host_key_from_blob, methods_for, same_key};

// A test host key; `ssh-keygen -lf` printed the fingerprint below for it.
const ED25519: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIF65bwS++mB9c33+clVhbK0BTVwd/+IQcUyoF/EDVtyV";

fn key(b64: &str) -> HostKey {
    HostKey {
        algorithm: "ssh-ed25519".to_owned(),
        key_base64: b64.to_owned(),
    }
}

#[test]
fn fingerprint_is_unpadded_sha256_base64() {
    assert_eq!(
        fingerprint(&key(ED25519)),
        "SHA256:EwGiPx3efzUi0OI0NodmV89MGfOtCPF7v/P1ULy63EE"
    );
}

#[test]
fn blob_round_trips_and_names_its_algorithm() {
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(ED25519)
        .expect("valid base64");
    let k = host_key_from_blob(&blob);
    assert_eq!(k.algorithm, "ssh-ed25519");
    assert_eq!(k.key_base64, ED25519);
    assert!(same_key(&k, &key(ED25519)));
    assert_eq!(host_key_from_blob(b"\0\0").algorithm, "unknown");
}

#[test]
fn rsa_keys_prefer_sha2_signatures() {
    assert_eq!(methods_for("ssh-rsa")[0], "rsa-sha2-512");
    assert_eq!(methods_for("ssh-ed25519"), vec!["ssh-ed25519"]);
}

#[test]
fn undecodable_keys_get_a_readable_fingerprint() {
    assert_eq!(fingerprint(&key("!!")), "(undecodable ssh-ed25519 key)");
}
