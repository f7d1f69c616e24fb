//! Helpers shared by the integration tests: targets, transports, unique directories, archives.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use walle_core::ports::{ConnectOptions, HostTarget, OutputLine, RunOptions, Session};
use walle_core::shell::Command;
use walle_core::value::{AbsPath, HostName, Port, SshUser};
use walle_test_support::{Infra, TestHost};
use walle_transport::{KnownHostsFile, SshConfig, SshIdentity, SshTransport};

/// The target for a test host, logged in as `user`.
pub(crate) fn target_as(host: &TestHost, user: &str) -> HostTarget {
    HostTarget {
        server: None,
        host: HostName::new(&host.addr.to_string()).expect("valid address"),
        port: Port::new(host.port).expect("valid port"),
        user: SshUser::new(user).expect("valid user"),
    }
}

/// The target for a test host as its default user (root).
pub(crate) fn target(host: &TestHost) -> HostTarget {
    target_as(host, &host.ssh_user)
}

/// SSH settings with the test client key and the infrastructure's known_hosts (strict).
pub(crate) fn ssh_config(infra: &Infra) -> SshConfig {
    SshConfig {
        identity: SshIdentity::KeyFile {
            path: infra.client_key().to_owned(),
            passphrase: None,
        },
        host_keys: Arc::new(KnownHostsFile::new(infra.known_hosts().to_owned())),
        tofu: false,
        io_timeout: Duration::from_secs(30),
    }
}

pub(crate) fn ssh(infra: &Infra) -> SshTransport {
    SshTransport::new(ssh_config(infra))
}

/// Connect options with a short connect timeout.
pub(crate) fn opts(connect_timeout: Duration) -> ConnectOptions {
    ConnectOptions {
        connect_timeout,
        keepalive: Duration::from_secs(5),
    }
}

/// A directory under a host's `/srv` unique to this test, removed on drop.
pub(crate) struct RemoteDir {
    /// Its path on the host.
    pub(crate) remote: AbsPath,
    /// The same directory seen from the test process (root namespace).
    pub(crate) local: PathBuf,
}

impl RemoteDir {
    /// Creates `/srv/walle-transport-it/<name>-<unique>` on `host`.
    pub(crate) fn new(host: &TestHost, name: &str) -> RemoteDir {
        let rel = format!("walle-transport-it/{name}-{}", unique());
        let local = host.srv_root().join(&rel);
        std::fs::create_dir_all(&local).expect("create the test directory");
        RemoteDir {
            remote: AbsPath::new(&format!("/srv/{rel}")).expect("valid path"),
            local,
        }
    }

    /// `remote/rel`.
    pub(crate) fn path(&self, rel: &str) -> AbsPath {
        abs(&format!("{}/{rel}", self.remote))
    }
}

impl Drop for RemoteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.local);
    }
}

/// A temporary directory on the deploy host, as an [`AbsPath`].
pub(crate) struct LocalDir {
    _dir: tempfile::TempDir,
    pub(crate) path: AbsPath,
}

impl LocalDir {
    pub(crate) fn new() -> LocalDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = abs(dir.path().to_str().expect("UTF-8 temp dir"));
        LocalDir { _dir: dir, path }
    }
}

pub(crate) fn abs(s: &str) -> AbsPath {
    AbsPath::new(s).expect("valid absolute path")
}

pub(crate) fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Output of a command, split by stream.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) stdout: Vec<String>,
    pub(crate) stderr: Vec<String>,
}

/// Runs a command with default limits and collects its output.
pub(crate) fn run(s: &mut dyn Session, cmd: &Command) -> (i32, Output) {
    run_with(s, cmd, &RunOptions::default())
}

pub(crate) fn run_with(s: &mut dyn Session, cmd: &Command, opts: &RunOptions) -> (i32, Output) {
    let mut out = Output::default();
    let status = s
        .run(cmd, opts, &mut |line| match line {
            OutputLine::Stdout(l) => out.stdout.push(l),
            OutputLine::Stderr(l) => out.stderr.push(l),
        })
        .unwrap_or_else(|e| panic!("{} failed: {e}", cmd.display()));
    (status.code.unwrap_or(-1), out)
}

/// Runs a shell line and returns its stdout lines, asserting exit status 0.
pub(crate) fn sh(s: &mut dyn Session, script: &str) -> Vec<String> {
    let (code, out) = run(s, &Command::shell(script));
    assert_eq!(code, 0, "`{script}` failed: {out:?}");
    out.stdout
}

/// A deterministic stream of pseudo-random bytes (xorshift), `len` long.
pub(crate) struct NoiseReader {
    state: u64,
    left: u64,
}

impl NoiseReader {
    pub(crate) fn new(seed: u64, len: u64) -> Self {
        NoiseReader {
            state: seed | 1,
            left: len,
        }
    }
}

impl Read for NoiseReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let bytes = self.state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A tar archive built by hand, for entries real `tar` refuses to write.
pub(crate) mod tarball {
    /// One entry: a ustar header with a valid checksum, then the padded data.
    pub(crate) fn entry(name: &str, kind: u8, data: &[u8], link: &str) -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        let mut out = h.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    pub(crate) fn file(name: &str, data: &[u8]) -> Vec<u8> {
        entry(name, b'0', data, "")
    }

    pub(crate) fn dir(name: &str) -> Vec<u8> {
        entry(name, b'5', b"", "")
    }

    pub(crate) fn symlink(name: &str, target: &str) -> Vec<u8> {
        entry(name, b'2', b"", target)
    }

    /// The entries followed by the end-of-archive marker.
    pub(crate) fn archive(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut out = parts.concat();
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

/// A release tree in a temp dir and its tar archive as GNU tar writes it.
pub(crate) fn real_release_tar() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("public/css")).expect("mkdir");
    std::fs::create_dir_all(root.join("vendor/lib")).expect("mkdir");
    std::fs::write(root.join("public/index.php"), b"<?php echo 'hi';\n").expect("write");
    std::fs::write(root.join("public/css/site.css"), b"body{}\n").expect("write");
    std::fs::write(root.join("vendor/lib/blob.bin"), vec![0xa5u8; 70_000]).expect("write");
    std::os::unix::fs::symlink("../vendor/lib/blob.bin", root.join("public/blob"))
        .expect("symlink");
    let out = walle_transport::local::command("tar")
        .args(["-c", "-f", "-", "-C"])
        .arg(root)
        .arg(".")
        .output()
        .expect("tar runs");
    assert!(out.status.success(), "{out:?}");
    (dir, out.stdout)
}

/// The sorted listing and checksums of a release, as the unpack test expects it.
pub(crate) const RELEASE_LISTING: &[&str] = &[
    ".",
    "./public",
    "./public/blob -> ../vendor/lib/blob.bin",
    "./public/css",
    "./public/css/site.css",
    "./public/index.php",
    "./vendor",
    "./vendor/lib",
    "./vendor/lib/blob.bin",
];
