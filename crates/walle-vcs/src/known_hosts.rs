//! SSH host key checking against an OpenSSH `known_hosts` file.
//!
//! Supported: plain host patterns with `*`/`?` wildcards and `!` negation, `[host]:port` names for
//! ports other than 22, hashed names (`|1|salt|hmac`, as written with `HashKnownHosts yes`) and the
//! `@revoked` marker. Lines with `@cert-authority` are ignored (host certificates are not supported).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// What to do when a server's host key is not in the known_hosts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownHostPolicy {
    /// Refuse the connection (like `StrictHostKeyChecking yes`).
    Reject,
    /// Record the key and connect (like `StrictHostKeyChecking accept-new`). A *changed* key is
    /// always refused.
    TrustOnFirstUse,
}

/// Where host keys are checked and what happens to unknown ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHosts {
    /// The known_hosts file (OpenSSH format).
    pub path: PathBuf,
    /// Unknown hosts: reject, or trust on first use.
    pub unknown: UnknownHostPolicy,
}

/// The result of looking a host key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A line for this host has exactly this key.
    Trusted,
    /// No line for this host has a key of this type.
    Unknown,
    /// A line for this host has a different key of the same type (line number, 1-based).
    Changed { line: usize },
    /// The key is marked `@revoked` (line number, 1-based).
    Revoked { line: usize },
}

/// A host key offered by a server.
#[derive(Debug, Clone)]
pub(crate) struct OfferedKey<'a> {
    /// The SSH wire encoding of the public key (what known_hosts stores in base64).
    pub(crate) blob: &'a [u8],
    /// Its SHA-256 as computed by libssh2, for the fingerprint.
    pub(crate) sha256: Option<&'a [u8; 32]>,
}

impl KnownHosts {
    /// Checks the key a server at `name` (`host` or `[host]:port`) offered. `Err` carries a message
    /// that says what was seen and how to trust it.
    pub(crate) fn check(&self, name: &str, key: &OfferedKey<'_>) -> Result<(), String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
        };
        let key_type = key_type(key.blob).unwrap_or("unknown");
        let fingerprint = key
            .sha256
            .map_or_else(|| "(unknown)".to_owned(), fingerprint);
        let file = self.path.display();
        match verify(&text, name, key.blob) {
            Verdict::Trusted => Ok(()),
            Verdict::Unknown if self.unknown == UnknownHostPolicy::TrustOnFirstUse => {
                self.append(name, key.blob).map_err(|e| {
                    format!(
                        "cannot record the {key_type} key {fingerprint} of {name} in {file}: {e}"
                    )
                })
            }
            Verdict::Unknown => Err(format!(
                "{name} offered the {key_type} key {fingerprint}, which {file} does not list; \
                 if that fingerprint is right (compare it with `ssh-keygen -lf` on the server), \
                 add the key with `ssh-keyscan{} {} >> {file}`",
                port_flag(name),
                bare_host(name),
            )),
            Verdict::Changed { line } => Err(format!(
                "{name} offered the {key_type} key {fingerprint}, but line {line} of {file} has a \
                 different {key_type} key: the server key changed or someone is intercepting the \
                 connection; if the change is expected, remove the old key with \
                 `ssh-keygen -R '{name}' -f {file}` and add the new one"
            )),
            Verdict::Revoked { line } => Err(format!(
                "{name} offered the {key_type} key {fingerprint}, which line {line} of {file} marks @revoked"
            )),
        }
    }

    fn append(&self, name: &str, blob: &[u8]) -> io::Result<()> {
        // One writer at a time in this process; a concurrent process can at worst add the same line.
        static APPEND: Mutex<()> = Mutex::new(());
        let _guard = APPEND
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verify(
            &std::fs::read_to_string(&self.path).unwrap_or_default(),
            name,
            blob,
        ) == Verdict::Trusted
        {
            return Ok(());
        }
        let key_type = key_type(blob).ok_or_else(|| io::Error::other("unreadable host key"))?;
        let line = format!("{name} {key_type} {}\n", STANDARD.encode(blob));
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?
            .write_all(line.as_bytes())
    }
}

/// Looks `blob` up for host `name` in the text of a known_hosts file.
pub(crate) fn verify(text: &str, name: &str, blob: &[u8]) -> Verdict {
    let offered_type = key_type(blob);
    let mut verdict = Verdict::Unknown;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        let mut revoked = false;
        if first.starts_with('@') {
            match first {
                "@revoked" => revoked = true,
                _ => continue,
            }
            first = match fields.next() {
                Some(f) => f,
                None => continue,
            };
        }
        let (Some(entry_type), Some(entry_key)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(entry_blob) = STANDARD.decode(entry_key) else {
            continue;
        };
        if !host_matches(first, name) {
            continue;
        }
        let same_key = entry_blob == blob;
        if revoked {
            if same_key {
                return Verdict::Revoked { line: i + 1 };
            }
            continue;
        }
        if same_key {
            verdict = Verdict::Trusted;
        } else if Some(entry_type) == offered_type && verdict == Verdict::Unknown {
            verdict = Verdict::Changed { line: i + 1 };
        }
    }
    verdict
}

/// OpenSSH's `SHA256:<base64 without padding>` form of a key hash.
pub(crate) fn fingerprint(sha256: &[u8; 32]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(sha256))
}

/// The algorithm name at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, ...).
pub(crate) fn key_type(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?);
    let end = 4usize.checked_add(usize::try_from(len).ok()?)?;
    std::str::from_utf8(blob.get(4..end)?).ok()
}

/// Whether a known_hosts host field (comma-separated patterns, or one hashed name) matches `name`.
fn host_matches(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_matches(hashed, name);
    }
    let name = name.to_ascii_lowercase();
    let mut matched = false;
    for pattern in field.split(',') {
        let pattern = pattern.to_ascii_lowercase();
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard(negated.as_bytes(), name.as_bytes()) {
                return false;
            }
        } else if wildcard(pattern.as_bytes(), name.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    match (STANDARD.decode(salt), STANDARD.decode(hash)) {
        (Ok(salt), Ok(hash)) => hmac_sha1(&salt, name.as_bytes()).as_slice() == hash.as_slice(),
        _ => false,
    }
}

fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&sha1_smol::Sha1::from(key).digest().bytes());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha1_smol::Sha1::new();
    inner.update(&block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = sha1_smol::Sha1::new();
    outer.update(&block.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

/// Glob match with `*` (any run) and `?` (one byte), as OpenSSH's `match_pattern`.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn port_flag(name: &str) -> String {
    name.rsplit_once("]:")
        .map_or_else(String::new, |(_, port)| format!(" -p {port}"))
}

fn bare_host(name: &str) -> &str {
    name.strip_prefix('[')
        .and_then(|n| n.rsplit_once("]:"))
        .map_or(name, |(host, _)| host)
}

#[cfg(test)]
mod tests;
