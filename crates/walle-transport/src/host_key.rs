//! Host key blobs, their OpenSSH fingerprints, and the libssh2 method names that select them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::{Digest, Sha256};
use walle_core::model::HostKey;

/// The fingerprint OpenSSH prints for a key: `SHA256:` and the unpadded base64 of the SHA-256 of
/// the key blob. A key whose base64 does not decode gets a fingerprint naming that.
pub fn fingerprint(key: &HostKey) -> String {
    match STANDARD.decode(key.key_base64.trim()) {
        Ok(blob) => fingerprint_blob(&blob),
        Err(_) => format!("(undecodable {} key)", key.algorithm),
    }
}

/// The `SHA256:...` fingerprint of a raw key blob.
pub(crate) fn fingerprint_blob(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// A [`HostKey`] from the SSH wire blob a server presented; the algorithm is the blob's own
/// leading name (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`).
pub fn host_key_from_blob(blob: &[u8]) -> HostKey {
    let algorithm = blob
        .get(..4)
        .map(|len| u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize)
        .and_then(|len| blob.get(4..4 + len))
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    HostKey {
        algorithm,
        key_base64: STANDARD.encode(blob),
    }
}

/// True when both keys have the same algorithm and blob (base64 compared after decoding, so
/// formatting differences do not matter).
pub(crate) fn same_key(a: &HostKey, b: &HostKey) -> bool {
    match (
        STANDARD.decode(a.key_base64.trim()),
        STANDARD.decode(b.key_base64.trim()),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.algorithm == b.algorithm && a.key_base64.trim() == b.key_base64.trim(),
    }
}

/// The libssh2 host key method names that make a server present a key of type `algorithm`
/// (an RSA key is signed with SHA-2 by current servers, which refuse `ssh-rsa` signatures).
pub(crate) fn methods_for(algorithm: &str) -> Vec<&str> {
    match algorithm {
        "ssh-rsa" => vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        other => vec![other],
    }
}

#[cfg(test)]
mod tests;
