//! A [`HostKeyStore`] over an OpenSSH `known_hosts` file.
//!
//! Reads plain entries (`host`, `[host]:port`, comma lists, `*`/`?` wildcards, `!` negation) and
//! hashed entries (`|1|salt|hash`, HMAC-SHA1 as `ssh-keygen -H` writes them); `@cert-authority`
//! and `@revoked` lines are kept but not used. Changes rewrite the file atomically (temporary file,
//! then rename) while holding an exclusive `flock` on `<file>.lock`, so concurrent walle processes
//! do not lose each other's entries.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use walle_core::model::HostKey;
use walle_core::ports::HostKeyStore;
use walle_core::value::{HostName, Port};

/// Why reading or changing a known_hosts file failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file exists but cannot be read.
    #[error("cannot read known hosts file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file or its lock cannot be written.
    #[error("cannot update known hosts file {path}: {source}")]
    Write {
        /// The file (or its lock file, or temporary file).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// An OpenSSH `known_hosts` file used as the trusted host key store.
#[derive(Debug, Clone)]
pub struct KnownHostsFile {
    path: PathBuf,
}

impl KnownHostsFile {
    /// A store over `path`; the file need not exist yet (it is created on the first trust).
    pub fn new(path: PathBuf) -> Self {
        KnownHostsFile { path }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How OpenSSH names `host:port` in the file: `host` for port 22, else `[host]:port`.
    pub fn host_spec(host: &HostName, port: Port) -> String {
        if port.get() == 22 {
            host.as_str().to_owned()
        } else {
            format!("[{host}]:{port}")
        }
    }

    /// The command that removes the key of `host:port` from this file.
    pub fn forget_command(&self, host: &HostName, port: Port) -> String {
        format!(
            "ssh-keygen -f '{}' -R '{}'",
            self.path.display(),
            Self::host_spec(host, port)
        )
    }

    /// Every key trusted for `host:port`, in file order.
    pub fn keys_for(&self, host: &HostName, port: Port) -> Result<Vec<HostKey>, Error> {
        let text = self.read()?;
        let specs = specs(host, port);
        Ok(text
            .lines()
            .filter_map(Line::parse)
            .filter(|l| l.marker.is_none() && l.matches(&specs))
            .map(|l| HostKey {
                algorithm: l.algorithm.to_owned(),
                key_base64: l.key.to_owned(),
            })
            .collect())
    }

    /// Replaces the keys of `host:port` with `key`.
    pub fn set(&self, host: &HostName, port: Port, key: &HostKey) -> Result<(), Error> {
        let line = format!(
            "{} {} {}",
            Self::host_spec(host, port),
            key.algorithm,
            key.key_base64
        );
        self.rewrite(host, port, Some(&line))
    }

    /// Removes the keys of `host:port` (plain names are taken out of comma lists, hashed lines
    /// removed; wildcard patterns are left alone).
    pub fn remove(&self, host: &HostName, port: Port) -> Result<(), Error> {
        self.rewrite(host, port, None)
    }

    fn read(&self) -> Result<String, Error> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(Error::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn rewrite(&self, host: &HostName, port: Port, add: Option<&str>) -> Result<(), Error> {
        let write_err = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_err(dir))?;
        }
        let lock_path = lock_path(&self.path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(write_err(&lock_path))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| write_err(&lock_path)(e.into()))?;

        let text = self.read()?;
        let specs = specs(host, port);
        let mut out = String::with_capacity(text.len() + 128);
        for raw in text.lines() {
            match Line::parse(raw) {
                Some(line) if line.marker.is_none() => {
                    if let Some(kept) = line.without(&specs) {
                        out.push_str(&kept);
                        out.push('\n');
                    }
                }
                _ => {
                    out.push_str(raw);
                    out.push('\n');
                }
            }
        }
        if let Some(line) = add {
            out.push_str(line);
            out.push('\n');
        }

        let mode = std::fs::metadata(&self.path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        let tmp = self.path.with_file_name(format!(
            ".{}.walle-tmp-{}",
            self.path
                .file_name()
                .map_or_else(|| "known_hosts".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let result = write_synced(&tmp, out.as_bytes(), mode)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(write_err(&self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        drop(lock); // closing the descriptor releases the flock
        result
    }
}

impl HostKeyStore for KnownHostsFile {
    fn trusted(&self, host: &HostName, port: Port) -> Result<Option<HostKey>, String> {
        let keys = self.keys_for(host, port).map_err(|e| e.to_string())?;
        // With several keys for one host, prefer the types OpenSSH prefers.
        let rank = |k: &HostKey| match k.algorithm.as_str() {
            "ssh-ed25519" => 0,
            a if a.starts_with("ecdsa-") => 1,
            "ssh-rsa" => 2,
            _ => 3,
        };
        Ok(keys.into_iter().min_by_key(rank))
    }

    fn trust(&self, host: &HostName, port: Port, key: &HostKey) -> Result<(), String> {
        self.set(host, port, key).map_err(|e| e.to_string())
    }

    fn forget(&self, host: &HostName, port: Port) -> Result<(), String> {
        self.remove(host, port).map_err(|e| e.to_string())
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

fn write_synced(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let mut f: File = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(mode)
        .open(path)?;
    f.write_all(data)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.sync_all()
}

/// The names under which `host:port` may appear: OpenSSH writes `host` for port 22, but
/// `[host]:22` is also seen in hand-written files.
fn specs(host: &HostName, port: Port) -> Vec<String> {
    let bracketed = format!("[{host}]:{port}");
    if port.get() == 22 {
        vec![host.as_str().to_owned(), bracketed]
    } else {
        vec![bracketed]
    }
}

/// One parsed line: `[@marker] patterns algorithm base64 [comment]`.
#[derive(Debug)]
struct Line<'a> {
    marker: Option<&'a str>,
    patterns: &'a str,
    algorithm: &'a str,
    key: &'a str,
    comment: Option<&'a str>,
}

impl<'a> Line<'a> {
    fn parse(raw: &'a str) -> Option<Line<'a>> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        let mut fields = trimmed.split_whitespace();
        let mut first = fields.next()?;
        let marker = if first.starts_with('@') {
            let m = first;
            first = fields.next()?;
            Some(m)
        } else {
            None
        };
        let algorithm = fields.next()?;
        let key = fields.next()?;
        STANDARD.decode(key).ok()?;
        let rest: Vec<&str> = fields.collect();
        let comment = if rest.is_empty() {
            None
        } else {
            let start = trimmed.find(rest[0]).unwrap_or(trimmed.len());
            Some(&trimmed[start..])
        };
        Some(Line {
            marker,
            patterns: first,
            algorithm,
            key,
            comment,
        })
    }

    /// True when the line names one of `specs` and no negated pattern excludes it.
    fn matches(&self, specs: &[String]) -> bool {
        if let Some(hashed) = self.patterns.strip_prefix("|1|") {
            return specs.iter().any(|s| hashed_matches(hashed, s));
        }
        let mut hit = false;
        for pattern in self.patterns.split(',') {
            let (negated, pattern) = match pattern.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pattern),
            };
            if specs.iter().any(|s| glob(&pattern.to_ascii_lowercase(), s)) {
                if negated {
                    return false;
                }
                hit = true;
            }
        }
        hit
    }

    /// The line with `specs` removed: `None` to drop it, else the (possibly shortened) line.
    fn without(&self, specs: &[String]) -> Option<String> {
        if self.patterns.starts_with("|1|") {
            return if self.matches(specs) {
                None
            } else {
                Some(self.render(self.patterns))
            };
        }
        let kept: Vec<&str> = self
            .patterns
            .split(',')
            .filter(|p| !specs.iter().any(|s| p.eq_ignore_ascii_case(s)))
            .collect();
        if kept.is_empty() {
            None
        } else {
            Some(self.render(&kept.join(",")))
        }
    }

    fn render(&self, patterns: &str) -> String {
        let mut s = format!("{patterns} {} {}", self.algorithm, self.key);
        if let Some(c) = self.comment {
            s.push(' ');
            s.push_str(c);
        }
        s
    }
}

/// `|1|salt|hash`: base64 salt and base64 HMAC-SHA1(salt, host spec).
fn hashed_matches(salt_and_hash: &str, spec: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else {
        return false;
    };
    match (STANDARD.decode(salt), STANDARD.decode(hash)) {
        (Ok(salt), Ok(hash)) => hmac_sha1(&salt, spec.as_bytes()) == hash[..],
        _ => false,
    }
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..20].copy_from_slice(&sha1_smol::Sha1::from(key).digest().bytes());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha1_smol::Sha1::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = sha1_smol::Sha1::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

/// `*` and `?` wildcards, as in OpenSSH host patterns; `text` is already lowercase.
fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests;
