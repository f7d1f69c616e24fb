//! The non-blocking libssh2 session and its socket: waiting for readiness with a deadline, and
//! retrying calls that would block.
//!
//! The session is always non-blocking, so no libssh2 call can hang: every call that says
//! "would block" is retried after `poll(2)` on the socket in the direction libssh2 is waiting
//! for, until the caller's deadline. That is how connect, command and silence timeouts are exact
//! to the millisecond (libssh2's own timeout counts whole seconds) and how a frozen host is given
//! up on schedule.

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use ssh2::{BlockDirections, ErrorCode};

/// libssh2's "would block".
const EAGAIN: i32 = -37;
/// libssh2's "SFTP protocol error": the SFTP status is in the SFTP layer, not the socket.
const SFTP_PROTOCOL: i32 = -31;
/// Session error codes that mean the connection itself is gone or unusable.
const CONNECTION_LOST: [i32; 8] = [
    -7,  // SOCKET_SEND
    -9,  // TIMEOUT
    -13, // SOCKET_DISCONNECT
    -14, // PROTO
    -26, // CHANNEL_CLOSED
    -30, // SOCKET_TIMEOUT
    -43, // SOCKET_RECV
    -45, // BAD_SOCKET
];
/// The longest single `poll`, so keepalives and deadlines are looked at regularly.
const MAX_POLL: Duration = Duration::from_millis(500);

/// How a libssh2 call failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The caller's deadline passed while the call would still block.
    Deadline,
    /// libssh2 reported an error.
    Ssh(ssh2::Error),
    /// A read or write on a channel or SFTP file failed; `sftp` tells whether the SFTP server
    /// refused it (the connection is fine) or the connection broke.
    Io { err: io::Error, sftp: bool },
}

impl Failure {
    /// True when the connection cannot be used any more after this failure.
    pub(super) fn breaks_session(&self) -> bool {
        match self {
            Failure::Deadline => true,
            Failure::Ssh(e) => match e.code() {
                ErrorCode::Session(code) => CONNECTION_LOST.contains(&code),
                ErrorCode::SFTP(_) => false,
            },
            Failure::Io { sftp, .. } => !sftp,
        }
    }

    /// The SFTP status code, when the SFTP server refused the request.
    pub(super) fn sftp_code(&self) -> Option<i32> {
        match self {
            Failure::Ssh(e) => match e.code() {
                ErrorCode::SFTP(code) => Some(code),
                ErrorCode::Session(_) => None,
            },
            _ => None,
        }
    }

    /// A short description for error messages.
    pub(super) fn detail(&self) -> String {
        match self {
            Failure::Deadline => "timed out".to_owned(),
            Failure::Ssh(e) => match e.code() {
                ErrorCode::SFTP(code) => sftp_status_name(code).to_owned(),
                ErrorCode::Session(code) => format!("{} (libssh2 error {code})", e.message()),
            },
            Failure::Io { err, .. } => err.to_string(),
        }
    }
}

/// The session plus a second handle on its socket for `poll`.
pub(super) struct Wire {
    pub(super) sess: ssh2::Session,
    sock: TcpStream,
}

impl Wire {
    /// Takes over a connected socket; the session is put in non-blocking mode.
    pub(super) fn new(tcp: TcpStream) -> io::Result<Wire> {
        let sock = tcp.try_clone()?;
        let mut sess = ssh2::Session::new().map_err(io::Error::other)?;
        sess.set_tcp_stream(tcp);
        sess.set_blocking(false);
        // Only ssh2's own destructors switch to blocking mode (to close SFTP handles); this bounds
        // them on a dead host.
        sess.set_timeout(2000);
        Ok(Wire { sess, sock })
    }

    /// Waits until the socket is ready in the direction libssh2 last blocked on, for at most
    /// `MAX_POLL`; fails with [`Failure::Deadline`] once `until` has passed.
    pub(super) fn wait(&self, until: Instant) -> Result<(), Failure> {
        let now = Instant::now();
        if now >= until {
            return Err(Failure::Deadline);
        }
        let flags = match self.sess.block_directions() {
            BlockDirections::Outbound => PollFlags::OUT,
            BlockDirections::Both => PollFlags::IN | PollFlags::OUT,
            BlockDirections::Inbound | BlockDirections::None => PollFlags::IN,
        };
        self.poll(flags, (until - now).min(MAX_POLL))
    }

    /// `poll` on the socket for `flags`, at most `limit`.
    pub(super) fn poll(&self, flags: PollFlags, limit: Duration) -> Result<(), Failure> {
        let timeout = Timespec::try_from(limit).unwrap_or(Timespec {
            tv_sec: 0,
            tv_nsec: 500_000_000,
        });
        let mut fds = [PollFd::new(&self.sock, flags)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(Failure::Io {
                err: e.into(),
                sftp: false,
            }),
        }
    }

    /// The SSH handshake, retried until `until`.
    pub(super) fn handshake(&mut self, until: Instant) -> Result<(), Failure> {
        loop {
            match self.sess.handshake() {
                Ok(()) => return Ok(()),
                Err(e) if e.code() == ErrorCode::Session(EAGAIN) => self.wait(until)?,
                Err(e) => return Err(Failure::Ssh(e)),
            }
        }
    }

    /// Calls `op` until it stops saying "would block", waiting for the socket in between.
    pub(super) fn retry<T>(
        &self,
        until: Instant,
        mut op: impl FnMut() -> Result<T, ssh2::Error>,
    ) -> Result<T, Failure> {
        loop {
            match op() {
                Ok(v) => return Ok(v),
                Err(e) if e.code() == ErrorCode::Session(EAGAIN) => self.wait(until)?,
                Err(e) => return Err(Failure::Ssh(e)),
            }
        }
    }

    /// Like [`Wire::retry`] for `std::io` calls on channels and SFTP files.
    pub(super) fn retry_io<T>(
        &self,
        until: Instant,
        mut op: impl FnMut() -> io::Result<T>,
    ) -> Result<T, Failure> {
        loop {
            match op() {
                Ok(v) => return Ok(v),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(until)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(self.io_failure(err)),
            }
        }
    }

    /// Classifies an I/O error from a channel or SFTP file by libssh2's last error.
    pub(super) fn io_failure(&self, err: io::Error) -> Failure {
        let sftp = matches!(
            ssh2::Error::last_session_error(&self.sess).map(|e| e.code()),
            Some(ErrorCode::Session(SFTP_PROTOCOL))
        );
        Failure::Io { err, sftp }
    }

    /// Shuts the socket down, so every later libssh2 call fails at once instead of waiting.
    pub(super) fn shutdown(&self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }

    /// Sends a keepalive if one is due; returns when the next one is due.
    pub(super) fn keepalive(&self) -> Result<Instant, Failure> {
        match self.sess.keepalive_send() {
            Ok(secs) => Ok(Instant::now() + Duration::from_secs(u64::from(secs.max(1)))),
            Err(e) if e.code() == ErrorCode::Session(EAGAIN) => {
                Ok(Instant::now() + Duration::from_secs(1))
            }
            Err(e) => Err(Failure::Ssh(e)),
        }
    }
}

/// SFTP status codes (draft-ietf-secsh-filexfer-02 and later) as words.
pub(super) fn sftp_status_name(code: i32) -> &'static str {
    match code {
        0 => "ok",
        1 => "end of file",
        2 => "no such file",
        3 => "permission denied",
        4 => {
            "failure (the SFTP server gives no reason: often no space left, a read-only file system, or a directory where a file was expected)"
        }
        5 => "bad message",
        6 => "no connection",
        7 => "connection lost",
        8 => "operation not supported by the SFTP server",
        9 => "invalid handle",
        10 => "no such path",
        11 => "file already exists",
        12 => "write protected",
        14 => "no space left on the file system",
        15 => "quota exceeded",
        18 => "directory not empty",
        19 => "not a directory",
        21 => "too many levels of symbolic links",
        _ => "SFTP error",
    }
}
