//! The SSH transport over libssh2 (crate `ssh2`): connect, check the host key, authenticate.
//!
//! One [`SshTransport::connect`] gives one authenticated session that serves every step of a
//! deploy on that host. The whole connect (TCP, SSH handshake, host key check, authentication)
//! shares the `connect_timeout` of [`ConnectOptions`], measured with the monotonic clock, so a
//! host whose sshd accepts TCP but never sends its banner (a frozen process) fails on schedule.

mod raw_sftp;
mod session;
mod wire;

use std::fmt;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::MethodType;
use walle_core::Secret;
use walle_core::model::HostKey;
use walle_core::ports::{
    ConnectOptions, HostKeyStore, HostTarget, Session, Transport, TransportError,
};

use crate::host_key::{fingerprint, host_key_from_blob, methods_for, same_key};
use crate::known_hosts::KnownHostsFile;
use session::SshSession;
use wire::{Failure, Wire};

/// How the deploy user proves who it is.
#[derive(Clone)]
pub enum SshIdentity {
    /// A private key file in OpenSSH or PEM format, with its passphrase if it has one.
    KeyFile {
        /// The private key.
        path: PathBuf,
        /// Its passphrase.
        passphrase: Option<Secret>,
    },
    /// The keys of a running `ssh-agent`: at `socket`, or at `$SSH_AUTH_SOCK` when `None`.
    Agent {
        /// The agent's socket.
        socket: Option<PathBuf>,
    },
}

impl fmt::Debug for SshIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshIdentity::KeyFile { path, passphrase } => f
                .debug_struct("KeyFile")
                .field("path", path)
                .field("passphrase", passphrase)
                .finish(),
            SshIdentity::Agent { socket } => {
                f.debug_struct("Agent").field("socket", socket).finish()
            }
        }
    }
}

/// Settings of an [`SshTransport`].
#[derive(Clone)]
pub struct SshConfig {
    /// The key or agent to log in with.
    pub identity: SshIdentity,
    /// Trusted host keys.
    pub host_keys: Arc<dyn HostKeyStore>,
    /// Trust and record the key of a host seen for the first time (trust on first use).
    /// Without it, an unknown host is refused. A changed key is always refused.
    pub tofu: bool,
    /// Limit for one file operation (read, write, rename), and for an upload or unpack to go
    /// without any progress.
    pub io_timeout: Duration,
}

impl fmt::Debug for SshConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshConfig")
            .field("identity", &self.identity)
            .field("tofu", &self.tofu)
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

/// Opens SSH sessions; see the module documentation.
#[derive(Debug, Clone)]
pub struct SshTransport {
    config: SshConfig,
}

impl SshTransport {
    /// A transport with these settings.
    pub fn new(config: SshConfig) -> Self {
        SshTransport { config }
    }

    fn connect_session(
        &self,
        target: &HostTarget,
        opts: &ConnectOptions,
    ) -> Result<SshSession, TransportError> {
        let host = target.to_string();
        let start = Instant::now();
        let until = start + opts.connect_timeout;
        let timeout = |what: &str| TransportError::Timeout {
            host: host.clone(),
            what: what.to_owned(),
            after: opts.connect_timeout,
        };
        let connect_err = |detail: String| TransportError::Connect {
            host: host.clone(),
            detail,
        };

        let tcp = tcp_connect(target, until).map_err(|e| match e {
            TcpError::Timeout => timeout("TCP connect"),
            TcpError::Other(detail) => connect_err(detail),
        })?;
        let _ = tcp.set_nodelay(true);
        let mut wire = Wire::new(tcp).map_err(|e| connect_err(format!("cannot start SSH: {e}")))?;

        // Ask for the type of key we trust, so a host with several keys does not look changed.
        let trusted = self.config.host_keys.trusted(&target.host, target.port);
        if let Ok(Some(key)) = &trusted {
            prefer_host_key_type(&wire.sess, &key.algorithm);
        }
        wire.handshake(until).map_err(|f| match f {
            Failure::Deadline => timeout("SSH handshake (no answer from sshd)"),
            other => connect_err(format!("SSH handshake failed: {}", other.detail())),
        })?;

        let presented = match wire.sess.host_key() {
            Some((blob, _)) => host_key_from_blob(blob),
            None => return Err(connect_err("the server presented no host key".to_owned())),
        };
        self.check_host_key(target, &host, trusted, &presented)?;

        self.authenticate(&wire, target, &host, until)
            .map_err(|e| match e {
                AuthError::Deadline => timeout("SSH authentication"),
                AuthError::Refused(detail) => TransportError::Auth {
                    host: format!("{}:{}", target.host, target.port),
                    user: target.user.to_string(),
                    detail,
                },
                AuthError::Broken(detail) => TransportError::Disconnected {
                    host: host.clone(),
                    what: "SSH authentication".to_owned(),
                    detail,
                },
            })?;
        wire.sess.set_keepalive(
            true,
            u32::try_from(opts.keepalive.as_secs().max(1)).unwrap_or(60),
        );
        Ok(SshSession::new(
            target.clone(),
            host,
            wire,
            self.config.io_timeout,
        ))
    }

    fn check_host_key(
        &self,
        target: &HostTarget,
        host: &str,
        trusted: Result<Option<HostKey>, String>,
        presented: &HostKey,
    ) -> Result<(), TransportError> {
        let spec = KnownHostsFile::host_spec(&target.host, target.port);
        let key_host = format!("{}:{}", target.host, target.port);
        match trusted {
            Ok(Some(key)) if same_key(&key, presented) => Ok(()),
            Ok(Some(key)) => Err(TransportError::HostKeyChanged {
                host: key_host.clone(),
                expected: format!("{} {}", key.algorithm, fingerprint(&key)),
                actual: format!("{} {}", presented.algorithm, fingerprint(presented)),
                hint: format!(
                    "for a known_hosts file: ssh-keygen -f <file> -R '{spec}'; \
                     or call HostKeyStore::forget for {key_host}; the next connection with \
                     trust-on-first-use records the new key"
                ),
            }),
            Ok(None) if self.config.tofu => self
                .config
                .host_keys
                .trust(&target.host, target.port, presented)
                .map_err(|e| TransportError::HostKeyUnknown {
                    host: key_host.clone(),
                    actual: fingerprint(presented),
                    hint: format!("recording it as trusted failed: {e}"),
                }),
            Ok(None) => Err(TransportError::HostKeyUnknown {
                host: key_host,
                actual: fingerprint(presented),
                hint: format!(
                    "check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), \
                     then add `{spec} {}` to the known hosts or connect once with trust-on-first-use",
                    presented.known_hosts_entry()
                ),
            }),
            Err(e) => Err(TransportError::HostKeyUnknown {
                host: key_host,
                actual: fingerprint(presented),
                hint: format!("the host key store cannot be read ({e}); {host} was not trusted"),
            }),
        }
    }

    fn authenticate(
        &self,
        wire: &Wire,
        target: &HostTarget,
        _host: &str,
        until: Instant,
    ) -> Result<(), AuthError> {
        let user = target.user.as_str();
        match &self.config.identity {
            SshIdentity::KeyFile { path, passphrase } => {
                if let Err(e) = std::fs::metadata(path) {
                    return Err(AuthError::Refused(format!(
                        "cannot read the key file {}: {e}",
                        path.display()
                    )));
                }
                let pass = passphrase.as_ref().map(Secret::expose);
                wire.retry(until, || {
                    wire.sess.userauth_pubkey_file(user, None, path, pass)
                })
                .map_err(|f| AuthError::from_failure(f, &format!("key {}", path.display())))?;
            }
            SshIdentity::Agent { socket } => {
                let mut agent = wire
                    .sess
                    .agent()
                    .map_err(|e| AuthError::Refused(format!("no SSH agent: {e}")))?;
                if let Some(path) = socket {
                    agent
                        .set_identity_path(path)
                        .map_err(|e| AuthError::Refused(format!("bad agent socket: {e}")))?;
                }
                agent
                    .connect()
                    .map_err(|e| AuthError::Refused(format!("cannot reach the SSH agent: {e}")))?;
                agent
                    .list_identities()
                    .map_err(|e| AuthError::Refused(format!("the SSH agent failed: {e}")))?;
                let ids = agent
                    .identities()
                    .map_err(|e| AuthError::Refused(format!("the SSH agent failed: {e}")))?;
                let mut last = "the SSH agent holds no keys".to_owned();
                let mut ok = false;
                for id in &ids {
                    match wire.retry(until, || agent.userauth(user, id)) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(Failure::Ssh(e)) => {
                            last = format!("agent key {}: {}", id.comment(), e.message());
                        }
                        Err(other) => {
                            let _ = agent.disconnect();
                            return Err(AuthError::from_failure(other, "agent key"));
                        }
                    }
                }
                let _ = agent.disconnect();
                if !ok {
                    return Err(AuthError::Refused(last));
                }
            }
        }
        if wire.sess.authenticated() {
            Ok(())
        } else {
            Err(AuthError::Refused(
                "the server did not accept the key".to_owned(),
            ))
        }
    }
}

impl Transport for SshTransport {
    fn connect(
        &self,
        target: &HostTarget,
        opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, TransportError> {
        Ok(Box::new(self.connect_session(target, opts)?))
    }
}

enum AuthError {
    Deadline,
    Refused(String),
    Broken(String),
}

impl AuthError {
    fn from_failure(f: Failure, what: &str) -> AuthError {
        match f {
            Failure::Deadline => AuthError::Deadline,
            f if f.breaks_session() => AuthError::Broken(f.detail()),
            f => AuthError::Refused(format!("{what}: {}", f.detail())),
        }
    }
}

enum TcpError {
    Timeout,
    Other(String),
}

/// Resolves the host and connects to the first address that answers before `until`.
fn tcp_connect(target: &HostTarget, until: Instant) -> Result<TcpStream, TcpError> {
    let addrs: Vec<SocketAddr> = (target.host.as_str(), target.port.get())
        .to_socket_addrs()
        .map_err(|e| TcpError::Other(format!("cannot resolve {}: {e}", target.host)))?
        .collect();
    let mut last = TcpError::Other(format!("{} has no address", target.host));
    for addr in addrs {
        let now = Instant::now();
        if now >= until {
            return Err(TcpError::Timeout);
        }
        match TcpStream::connect_timeout(&addr, until - now) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => last = TcpError::Timeout,
            Err(e) => last = TcpError::Other(format!("{addr}: {e}")),
        }
    }
    Err(last)
}

/// Puts the host key methods for `algorithm` first in libssh2's preference list.
fn prefer_host_key_type(sess: &ssh2::Session, algorithm: &str) {
    let wanted = methods_for(algorithm);
    let mut prefs: Vec<&str> = Vec::new();
    let supported = sess.supported_algs(MethodType::HostKey).unwrap_or_default();
    for m in &wanted {
        if supported.contains(m) {
            prefs.push(m);
        }
    }
    if prefs.is_empty() {
        return;
    }
    for m in &supported {
        if !prefs.contains(m) {
            prefs.push(m);
        }
    }
    let _ = sess.method_pref(MethodType::HostKey, &prefs.join(","));
}
