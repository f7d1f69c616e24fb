//! The transport port: running commands and moving files on a target host (over SSH, or locally).

use std::io::Read;
use std::time::Duration;

use crate::ServerId;
use crate::model::HostKey;
use crate::shell::Command;
use crate::value::{AbsPath, HostName, Port, SshUser};

/// A host to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostTarget {
    /// The server record, when the host is a configured server.
    pub server: Option<ServerId>,
    /// Address or name.
    pub host: HostName,
    /// SSH port.
    pub port: Port,
    /// Login user.
    pub user: SshUser,
}

impl std::fmt::Display for HostTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.is_ipv6() {
            write!(f, "{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            write!(f, "{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Time limit for TCP connect, handshake and authentication together.
    pub connect_timeout: Duration,
    /// Interval of SSH keepalives.
    pub keepalive: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
        }
    }
}

/// Limits for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// The command is stopped after this long.
    pub timeout: Duration,
    /// The command is stopped after printing nothing for this long.
    pub silence_timeout: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            silence_timeout: None,
        }
    }
}

/// A line of command output, without its newline (invalid UTF-8 replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputLine {
    /// Standard output.
    Stdout(String),
    /// Standard error.
    Stderr(String),
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStatus {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Signal name, when it was killed.
    pub signal: Option<String>,
}

impl ExitStatus {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// An exit with `code`.
    pub fn code(code: i32) -> Self {
        Self {
            code: Some(code),
            signal: None,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.code, &self.signal) {
            (Some(c), _) => write!(f, "exit status {c}"),
            (None, Some(s)) => write!(f, "killed by signal {s}"),
            (None, None) => f.write_str("unknown exit status"),
        }
    }
}

/// What an unpack wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnpackSummary {
    /// Archive entries written.
    pub entries: u64,
    /// Bytes of the archive stream sent.
    pub bytes: u64,
}

/// Why a transport operation failed. Messages name the host and say what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// TCP connect or SSH handshake failed (refused, unreachable, reset).
    #[error(
        "cannot connect to {host}: {detail}; check that the host is up and sshd listens on that port"
    )]
    Connect {
        /// `user@host:port`.
        host: String,
        /// Underlying error.
        detail: String,
    },
    /// Something took longer than its limit.
    #[error("{what} on {host} timed out after {after:?}")]
    Timeout {
        /// `user@host:port`.
        host: String,
        /// What was running.
        what: String,
        /// The limit.
        after: Duration,
    },
    /// The host presented a different key than the one trusted before.
    #[error(
        "host key of {host} changed: trusted {expected}, presented {actual}. This may be an attack. \
         If the host was really reinstalled, remove the old key ({hint}) and connect again"
    )]
    HostKeyChanged {
        /// `host:port`.
        host: String,
        /// SHA256 fingerprint of the trusted key.
        expected: String,
        /// SHA256 fingerprint of the presented key.
        actual: String,
        /// How to remove the old key.
        hint: String,
    },
    /// No key is trusted and trust-on-first-use is off.
    #[error("host key of {host} ({actual}) is not trusted; {hint}")]
    HostKeyUnknown {
        /// `host:port`.
        host: String,
        /// SHA256 fingerprint of the presented key.
        actual: String,
        /// How to trust it.
        hint: String,
    },
    /// The server refused our credentials.
    #[error(
        "authentication as {user} on {host} failed: {detail}; add the deploy key to the user's authorized_keys"
    )]
    Auth {
        /// `host:port`.
        host: String,
        /// Login user.
        user: String,
        /// Underlying error.
        detail: String,
    },
    /// An archive entry would land outside the release directory.
    #[error("archive entry {entry:?} would escape {dest} on {host}; refusing to unpack")]
    UnsafeArchive {
        /// `user@host:port`.
        host: String,
        /// The entry path.
        entry: String,
        /// The release directory.
        dest: String,
    },
    /// A remote file operation failed (permission denied, no space left, not a symlink, ...).
    #[error("{action} {path} on {host} failed: {detail}")]
    Remote {
        /// `user@host:port`.
        host: String,
        /// What was done.
        action: &'static str,
        /// Remote path.
        path: String,
        /// Underlying error or command output.
        detail: String,
    },
    /// The connection broke during an operation.
    #[error("connection to {host} lost during {what}: {detail}")]
    Disconnected {
        /// `user@host:port`.
        host: String,
        /// What was running.
        what: String,
        /// Underlying error.
        detail: String,
    },
    /// The operation was cancelled by the caller.
    #[error("{what} on {host} cancelled")]
    Cancelled {
        /// `user@host:port`.
        host: String,
        /// What was running.
        what: String,
    },
}

impl TransportError {
    /// True for network hiccups worth retrying.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TransportError::Connect { .. } | TransportError::Disconnected { .. }
        )
    }
}

/// Trusted host keys (trust-on-first-use). A `known_hosts` file for the CLI, the database for the server.
pub trait HostKeyStore: Send + Sync {
    /// The key trusted for `host:port`, if any.
    fn trusted(&self, host: &HostName, port: Port) -> Result<Option<HostKey>, String>;
    /// Records `key` as trusted for `host:port` (first use, or a deliberate re-trust).
    fn trust(&self, host: &HostName, port: Port, key: &HostKey) -> Result<(), String>;
    /// Forgets the key of `host:port` so the next connection trusts what it sees.
    fn forget(&self, host: &HostName, port: Port) -> Result<(), String>;
}

/// Opens sessions to hosts.
pub trait Transport: Send + Sync {
    /// Connects, verifies the host key and authenticates. One session serves every step of a deploy.
    fn connect(
        &self,
        target: &HostTarget,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, TransportError>;
}

/// An authenticated session on one host.
pub trait Session: Send {
    /// The host.
    fn target(&self) -> &HostTarget;

    /// Runs a command, calling `on_line` for each output line as it arrives; returns the exit status.
    /// A non-zero exit is not an error; timeouts are.
    fn run(
        &mut self,
        cmd: &Command,
        opts: &RunOptions,
        on_line: &mut dyn FnMut(OutputLine),
    ) -> Result<ExitStatus, TransportError>;

    /// Streams `data` into the file `dest` (created or replaced) with permissions `mode`;
    /// returns the bytes written. No temporary file on the deploy host.
    fn upload(
        &mut self,
        data: &mut dyn Read,
        dest: &AbsPath,
        mode: u32,
    ) -> Result<u64, TransportError>;

    /// Streams a tar archive into the existing, empty directory `dest_dir` and unpacks it there, refusing
    /// entries that would escape it (absolute paths, `..`, links pointing outside).
    fn unpack(
        &mut self,
        tar: &mut dyn Read,
        dest_dir: &AbsPath,
    ) -> Result<UnpackSummary, TransportError>;

    /// Points the symlink `link` at `target` atomically (a temporary link renamed over `link`),
    /// then verifies where it points. Fails, leaving `link` untouched, if `link` is a real directory.
    fn switch_symlink(&mut self, link: &AbsPath, target: &AbsPath) -> Result<(), TransportError>;

    /// Where the symlink `link` points, `None` when it does not exist or is not a symlink.
    fn read_link(&mut self, link: &AbsPath) -> Result<Option<String>, TransportError>;

    /// The contents of a small file, `None` when it does not exist.
    fn read_file(&mut self, path: &AbsPath) -> Result<Option<Vec<u8>>, TransportError>;

    /// Replaces a small file atomically (write to a temporary name, then rename).
    fn write_file(&mut self, path: &AbsPath, data: &[u8]) -> Result<(), TransportError>;

    /// Creates `path` with `data` only if it does not exist (atomic, `O_EXCL`); returns whether it did.
    fn create_exclusive(&mut self, path: &AbsPath, data: &[u8]) -> Result<bool, TransportError>;

    /// Removes a file; succeeds when it is already gone.
    fn remove_file(&mut self, path: &AbsPath) -> Result<(), TransportError>;
}
