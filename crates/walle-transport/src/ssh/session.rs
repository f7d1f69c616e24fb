//! One authenticated SSH session: commands, streamed uploads and unpacks, SFTP file operations
//! and the atomic symlink switch.
//!
//! Commands run under [`RUN_WRAPPER`], a POSIX `sh` script that keeps the channel's stdin open
//! and kills the command's whole process group (TERM, then KILL after 2 s) when stdin reaches
//! end of file, which sshd causes when the channel closes or the connection drops. So closing the
//! channel on a timeout stops the remote command and everything it started in its process group
//! (sshd makes every session its own process group); processes that start their own session or
//! group (daemons) are out of its reach, as with any SSH client.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::{OpenFlags, OpenType};
use walle_core::ports::{
    ExitStatus, HostTarget, OutputLine, RunOptions, Session, TransportError, UnpackSummary,
};
use walle_core::shell::{Command, quote};
use walle_core::value::AbsPath;

use super::raw_sftp::{RawError, RawSftp};
use super::wire::{Failure, Wire, sftp_status_name};
use crate::lines::{LineSplitter, Stream};
use crate::local::{MAX_SMALL_FILE, NOT_EMPTY, TOO_LARGE, not_a_symlink};
use crate::tar_guard::{GuardError, TarGuard};
use crate::temp_name::temp_sibling;

/// Runs `$1` (a rendered command line) with stdin from /dev/null, while a watcher holds the
/// channel's stdin: when that reaches end of file before the command is done, the watcher sends
/// TERM to the process group, then KILL. When the command ends normally the watcher is killed
/// first and the command's exit code is passed on.
const RUN_WRAPPER: &str = "exec 3<&0 </dev/null
(trap '' TERM; cat <&3 >/dev/null 2>&1; kill -TERM 0; sleep 2; kill -KILL 0) >/dev/null 2>&1 &
w=$!
exec 3<&-
(eval \"$1\")
s=$?
kill -KILL $w 2>/dev/null
exit $s";

/// Grace for closing channels and the connection when a session ends.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How long a host gets to confirm closing a channel that walle gave up on (a timeout, a refused
/// archive), counted from the next operation on the session. A healthy host answers within
/// milliseconds, because closing the channel ends the command's wrapper at once; a host that does
/// not is treated as gone and the session as broken, so later steps fail fast instead of waiting
/// out their own timeouts.
const CLOSE_CONFIRM: Duration = Duration::from_secs(1);
/// Read buffer for command output.
const READ_BUF: usize = 32 * 1024;
/// Chunk size for uploads (libssh2 pipelines SFTP writes within one call).
const UPLOAD_CHUNK: usize = 1024 * 1024;
/// libssh2's "would block".
const EAGAIN: i32 = -37;
/// Most stderr kept from `tar` for an error message.
const MAX_TAR_STDERR: usize = 8 * 1024;
/// SFTP status codes used below.
const FX_NO_SUCH_FILE: i32 = 2;
/// `S_IFMT` and `S_IFLNK`, `S_IFDIR` from the SFTP permissions field.
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFDIR: u32 = 0o040_000;

pub(super) struct SshSession {
    target: HostTarget,
    host: String,
    wire: Wire,
    sftp: Option<Arc<ssh2::Sftp>>,
    raw: Option<RawSftp>,
    /// Channels given up on (timeouts, refused archives) whose close the host has yet to confirm.
    closing: Vec<ssh2::Channel>,
    io_timeout: Duration,
    /// Why the connection cannot be used any more, once it cannot.
    broken: Option<String>,
}

/// What failed, for turning a [`Failure`] into a [`TransportError`].
struct Op<'a> {
    what: &'a str,
    action: &'static str,
    path: &'a str,
    limit: Duration,
}

impl SshSession {
    pub(super) fn new(target: HostTarget, host: String, wire: Wire, io_timeout: Duration) -> Self {
        SshSession {
            target,
            host,
            wire,
            sftp: None,
            raw: None,
            closing: Vec::new(),
            io_timeout,
            broken: None,
        }
    }

    /// Fails if the connection broke earlier. First checks that the host confirmed closing the
    /// channels given up on before; one that did not within [`CLOSE_CONFIRM`] counts as gone.
    fn usable(&mut self, what: &str) -> Result<(), TransportError> {
        if self.broken.is_none() && !self.closing.is_empty() {
            let until = Instant::now() + CLOSE_CONFIRM;
            for mut ch in std::mem::take(&mut self.closing) {
                if self.finish_close(&mut ch, until).is_err() {
                    self.broken =
                        Some("the host did not confirm stopping an earlier command".to_owned());
                    break;
                }
            }
        }
        match &self.broken {
            Some(reason) => Err(TransportError::Disconnected {
                host: self.host.clone(),
                what: what.to_owned(),
                detail: format!("the session failed earlier ({reason}); connect again"),
            }),
            None => Ok(()),
        }
    }

    fn fail(&mut self, f: Failure, op: &Op<'_>) -> TransportError {
        if f.breaks_session() {
            self.broken = Some(match &f {
                Failure::Deadline => format!("{} timed out", op.what),
                other => other.detail(),
            });
        }
        match f {
            Failure::Deadline => TransportError::Timeout {
                host: self.host.clone(),
                what: op.what.to_owned(),
                after: op.limit,
            },
            f if f.breaks_session() => TransportError::Disconnected {
                host: self.host.clone(),
                what: op.what.to_owned(),
                detail: f.detail(),
            },
            f => self.remote(op.action, op.path, f.detail()),
        }
    }

    fn remote(&self, action: &'static str, path: &str, detail: impl ToString) -> TransportError {
        TransportError::Remote {
            host: self.host.clone(),
            action,
            path: path.to_owned(),
            detail: detail.to_string(),
        }
    }

    fn io_until(&self) -> Instant {
        Instant::now() + self.io_timeout
    }

    /// The SFTP session, started on first use.
    fn sftp(&mut self, op: &Op<'_>) -> Result<Arc<ssh2::Sftp>, TransportError> {
        if let Some(s) = &self.sftp {
            return Ok(Arc::clone(s));
        }
        let until = self.io_until();
        match self.wire.retry(until, || self.wire.sess.sftp()) {
            Ok(s) => {
                let s = Arc::new(s);
                self.sftp = Some(Arc::clone(&s));
                Ok(s)
            }
            Err(f) => Err(self.fail(f, op)),
        }
    }

    /// `rename(from, to)` on the host, replacing `to`.
    fn posix_rename(&mut self, from: &str, to: &str, op: &Op<'_>) -> Result<(), TransportError> {
        let until = self.io_until();
        if self.raw.is_none() {
            match RawSftp::open(&self.wire, until) {
                Ok(r) => self.raw = Some(r),
                Err(e) => return Err(self.raw_error(e, op)),
            }
        }
        let result = match self.raw.as_mut() {
            Some(raw) => raw.posix_rename(&self.wire, from, to, until),
            None => Err(RawError::Protocol("no SFTP channel".to_owned())),
        };
        result.map_err(|e| self.raw_error(e, op))
    }

    fn raw_error(&mut self, e: RawError, op: &Op<'_>) -> TransportError {
        match e {
            RawError::Wire(f) => self.fail(f, op),
            RawError::Status { code, message } => self.remote(
                op.action,
                op.path,
                format!(
                    "{} ({message})",
                    sftp_status_name(i32::try_from(code).unwrap_or(-1))
                ),
            ),
            RawError::Unsupported => self.remote(
                op.action,
                op.path,
                "the SFTP server lacks posix-rename@openssh.com, which an atomic replace needs \
                 (OpenSSH has had it since 4.8)",
            ),
            RawError::Protocol(detail) => {
                self.raw = None;
                self.remote(op.action, op.path, detail)
            }
        }
    }

    /// `lstat` type bits of `path`, `None` if it does not exist.
    fn lstat_type(
        &mut self,
        sftp: &ssh2::Sftp,
        path: &str,
        op: &Op<'_>,
    ) -> Result<Option<u32>, TransportError> {
        let until = self.io_until();
        match self.wire.retry(until, || sftp.lstat(Path::new(path))) {
            Ok(st) => Ok(Some(st.perm.unwrap_or(0) & S_IFMT)),
            Err(f) if f.sftp_code() == Some(FX_NO_SUCH_FILE) => Ok(None),
            Err(f) => Err(self.fail(f, op)),
        }
    }

    /// Removes a temporary file after a failure, if the connection still works.
    fn cleanup(&mut self, path: &str) {
        if self.broken.is_some() {
            return;
        }
        if let Some(sftp) = self.sftp.clone() {
            let until = Instant::now() + CLOSE_GRACE;
            let _ = self.wire.retry(until, || sftp.unlink(Path::new(path)));
        }
    }

    /// Writes `data` into a new file `path` (which must not exist) and closes it.
    fn write_new(
        &mut self,
        sftp: &ssh2::Sftp,
        path: &str,
        mode: i32,
        data: &mut dyn Read,
        op: &Op<'_>,
    ) -> Result<u64, TransportError> {
        let file = self.open_new(sftp, path, mode, op)?;
        self.write_into(file, data, op)
    }

    /// Creates `path`, failing if it exists (`O_EXCL`).
    fn open_new(
        &mut self,
        sftp: &ssh2::Sftp,
        path: &str,
        mode: i32,
        op: &Op<'_>,
    ) -> Result<ssh2::File, TransportError> {
        let until = self.io_until();
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
        self.wire
            .retry(until, || {
                sftp.open_mode(Path::new(path), flags, mode, OpenType::File)
            })
            .map_err(|f| self.fail(f, op))
    }

    /// Streams `data` into `file`, syncs and closes it; returns the bytes written.
    fn write_into(
        &mut self,
        mut file: ssh2::File,
        data: &mut dyn Read,
        op: &Op<'_>,
    ) -> Result<u64, TransportError> {
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        let mut total = 0u64;
        let mut next_keepalive = Instant::now();
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(self.remote(
                        op.action,
                        op.path,
                        format!("reading the data to send failed: {e}"),
                    ));
                }
            };
            let mut off = 0;
            while off < n {
                // The stall limit restarts with every acknowledged piece.
                let until = self.io_until();
                match self.wire.retry_io(until, || file.write(&buf[off..n])) {
                    Ok(k) => off += k,
                    Err(f) => return Err(self.fail(f, op)),
                }
                if Instant::now() >= next_keepalive {
                    next_keepalive = self.wire.keepalive().map_err(|f| self.fail(f, op))?;
                }
            }
            total += n as u64;
        }
        let until = self.io_until();
        // fsync@openssh.com; servers without it just do not sync.
        let _ = self.wire.retry(until, || file.fsync());
        if let Err(f) = self.wire.retry(until, || file.close()) {
            return Err(self.fail(f, op));
        }
        Ok(total)
    }
}

impl Session for SshSession {
    fn target(&self) -> &HostTarget {
        &self.target
    }

    fn run(
        &mut self,
        cmd: &Command,
        opts: &RunOptions,
        on_line: &mut dyn FnMut(OutputLine),
    ) -> Result<ExitStatus, TransportError> {
        let what = format!("command `{}`", cmd.display());
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "run",
            path: cmd.program(),
            limit: opts.timeout,
        };
        let start = Instant::now();
        let deadline = start + opts.timeout;
        let line = format!(
            "exec sh -c {} walle-run {}",
            quote(RUN_WRAPPER),
            quote(&cmd.render())
        );
        let open_until = deadline.min(self.io_until());
        let mut ch = match self
            .wire
            .retry(open_until, || self.wire.sess.channel_session())
        {
            Ok(ch) => ch,
            Err(f) => return Err(self.fail(f, &op)),
        };
        if let Err(f) = self.wire.retry(open_until, || ch.exec(&line)) {
            return Err(self.fail(f, &op));
        }

        let mut out = LineSplitter::new(Stream::Stdout);
        let mut err = LineSplitter::new(Stream::Stderr);
        let mut buf = vec![0u8; READ_BUF];
        let mut last_output = start;
        let mut next_keepalive = start;
        loop {
            let mut progressed = false;
            for stream in [Stream::Stdout, Stream::Stderr] {
                let read = match stream {
                    Stream::Stdout => ch.read(&mut buf),
                    Stream::Stderr => ch.stderr().read(&mut buf),
                };
                match read {
                    Ok(0) => {}
                    Ok(n) => {
                        progressed = true;
                        let splitter = match stream {
                            Stream::Stdout => &mut out,
                            Stream::Stderr => &mut err,
                        };
                        splitter.push(&buf[..n], on_line);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        let f = self.wire.io_failure(e);
                        return Err(self.fail(f, &op));
                    }
                }
            }
            if ch.eof() {
                break;
            }
            let now = Instant::now();
            if progressed {
                last_output = now;
                continue;
            }
            let silence_at = opts.silence_timeout.map(|s| last_output + s);
            if now >= deadline || silence_at.is_some_and(|s| now >= s) {
                let (what, after) = match silence_at {
                    Some(s) if s <= deadline => (
                        format!("{what} (no output)"),
                        opts.silence_timeout.unwrap_or_default(),
                    ),
                    _ => (what.clone(), opts.timeout),
                };
                // Closing the channel makes the wrapper kill the command's process group.
                self.abandon(ch, &what);
                return Err(TransportError::Timeout {
                    host: self.host.clone(),
                    what,
                    after,
                });
            }
            if now >= next_keepalive {
                next_keepalive = match self.wire.keepalive() {
                    Ok(t) => t,
                    Err(f) => return Err(self.fail(f, &op)),
                };
            }
            let until = [Some(deadline), silence_at, Some(next_keepalive)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(deadline);
            match self.wire.wait(until) {
                Ok(()) | Err(Failure::Deadline) => {}
                Err(f) => return Err(self.fail(f, &op)),
            }
        }
        out.finish(on_line);
        err.finish(on_line);
        let until = self.io_until();
        if let Err(f) = self
            .wire
            .retry(until, || ch.close())
            .and_then(|()| self.wire.retry(until, || ch.wait_close()))
        {
            return Err(self.fail(f, &op));
        }
        let signal = ch.exit_signal().ok().and_then(|s| s.exit_signal);
        match signal {
            Some(sig) => Ok(ExitStatus {
                code: None,
                signal: Some(sig),
            }),
            None => match ch.exit_status() {
                Ok(code) => Ok(ExitStatus::code(code)),
                Err(e) => Err(self.remote("run", cmd.program(), e)),
            },
        }
    }

    fn upload(
        &mut self,
        data: &mut dyn Read,
        dest: &AbsPath,
        mode: u32,
    ) -> Result<u64, TransportError> {
        let what = format!("upload to {dest}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "upload",
            path: dest.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        let tmp = temp_sibling(dest);
        let mode_bits = i32::try_from(mode & 0o7777).unwrap_or(0o644);
        let result = self
            .write_new(&sftp, &tmp, mode_bits, data, &op)
            .and_then(|n| {
                // The server's umask applied at creation; set the exact mode.
                let until = self.io_until();
                let stat = ssh2::FileStat {
                    size: None,
                    uid: None,
                    gid: None,
                    perm: Some(mode & 0o7777),
                    atime: None,
                    mtime: None,
                };
                if let Err(f) = self
                    .wire
                    .retry(until, || sftp.setstat(Path::new(&tmp), stat.clone()))
                {
                    return Err(self.fail(f, &op));
                }
                self.posix_rename(&tmp, dest.as_str(), &op).map(|()| n)
            });
        if result.is_err() {
            self.cleanup(&tmp);
        }
        result
    }

    fn unpack(
        &mut self,
        tar: &mut dyn Read,
        dest_dir: &AbsPath,
    ) -> Result<UnpackSummary, TransportError> {
        let dest = dest_dir.as_str();
        let what = format!("unpack into {dest}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "unpack into",
            path: dest,
            limit: self.io_timeout,
        };
        self.require_empty_dir(dest, &op)?;

        let line = Command::new("tar")
            .args(["-x", "-f", "-", "-C", dest, "--no-same-owner"])
            .render();
        let until = self.io_until();
        let mut ch = match self.wire.retry(until, || self.wire.sess.channel_session()) {
            Ok(ch) => ch,
            Err(f) => return Err(self.fail(f, &op)),
        };
        if let Err(f) = self.wire.retry(until, || ch.exec(&line)) {
            return Err(self.fail(f, &op));
        }

        let mut guard = TarGuard::new(tar);
        let mut pending: Vec<u8> = Vec::new();
        let mut sent = 0usize;
        let mut input_done = false;
        let mut eof_sent = false;
        let mut bytes = 0u64;
        let mut stderr = Vec::new();
        let mut buf = vec![0u8; READ_BUF];
        let mut stall_until = self.io_until();
        let mut next_keepalive = Instant::now();
        let mut refused = None;
        loop {
            let mut progressed = false;
            if sent == pending.len() && !input_done {
                pending.clear();
                sent = 0;
                match guard.next_chunk(&mut pending) {
                    Ok(more) => input_done = !more,
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
                progressed = true;
            }
            if sent < pending.len() && !ch.eof() {
                match ch.write(&pending[sent..]) {
                    Ok(k) => {
                        sent += k;
                        bytes += k as u64;
                        progressed = progressed || k > 0;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        // The remote tar may have exited; its status says more than the write error.
                        if !ch.eof() {
                            let f = self.wire.io_failure(e);
                            return Err(self.fail(f, &op));
                        }
                    }
                }
            }
            if input_done && sent == pending.len() && !eof_sent {
                match ch.send_eof() {
                    Ok(()) => {
                        eof_sent = true;
                        progressed = true;
                    }
                    Err(e) if e.code() == ssh2::ErrorCode::Session(EAGAIN) => {}
                    Err(e) => return Err(self.fail(Failure::Ssh(e), &op)),
                }
            }
            for stream in [Stream::Stdout, Stream::Stderr] {
                let read = match stream {
                    Stream::Stdout => ch.read(&mut buf),
                    Stream::Stderr => ch.stderr().read(&mut buf),
                };
                match read {
                    Ok(0) => {}
                    Ok(n) => {
                        progressed = true;
                        let room = MAX_TAR_STDERR.saturating_sub(stderr.len());
                        stderr.extend_from_slice(&buf[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        let f = self.wire.io_failure(e);
                        return Err(self.fail(f, &op));
                    }
                }
            }
            if ch.eof() && (eof_sent || sent < pending.len() || !input_done) {
                break;
            }
            let now = Instant::now();
            if progressed {
                stall_until = now + self.io_timeout;
                continue;
            }
            if now >= stall_until {
                self.abandon(ch, &what);
                return Err(TransportError::Timeout {
                    host: self.host.clone(),
                    what: format!("{what} (no progress)"),
                    after: self.io_timeout,
                });
            }
            if now >= next_keepalive {
                next_keepalive = match self.wire.keepalive() {
                    Ok(t) => t,
                    Err(f) => return Err(self.fail(f, &op)),
                };
            }
            match self.wire.wait(stall_until.min(next_keepalive)) {
                Ok(()) | Err(Failure::Deadline) => {}
                Err(f) => return Err(self.fail(f, &op)),
            }
        }

        if let Some(e) = refused {
            // The remote tar's input ends before the refused entry; it stops with what it had.
            self.abandon(ch, &what);
            return Err(match e {
                GuardError::Read(err) => self.remote(
                    "unpack into",
                    dest,
                    format!("reading the archive failed: {err}"),
                ),
                other => TransportError::UnsafeArchive {
                    host: self.host.clone(),
                    entry: other.describe(),
                    dest: dest.to_owned(),
                },
            });
        }
        let until = self.io_until();
        if let Err(f) = self
            .wire
            .retry(until, || ch.close())
            .and_then(|()| self.wire.retry(until, || ch.wait_close()))
        {
            return Err(self.fail(f, &op));
        }
        let code = ch.exit_status().unwrap_or(-1);
        let signal = ch.exit_signal().ok().and_then(|s| s.exit_signal);
        if code != 0 || signal.is_some() || !eof_sent {
            let status =
                signal.map_or_else(|| format!("exit status {code}"), |s| format!("signal {s}"));
            return Err(self.remote(
                "unpack into",
                dest,
                format!("tar: {status}: {}", String::from_utf8_lossy(&stderr).trim()),
            ));
        }
        Ok(UnpackSummary {
            entries: guard.entries(),
            bytes,
        })
    }

    fn switch_symlink(&mut self, link: &AbsPath, target: &AbsPath) -> Result<(), TransportError> {
        let what = format!("switch of {link}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "switch symlink",
            path: link.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        match self.lstat_type(&sftp, link.as_str(), &op)? {
            None | Some(S_IFLNK) => {}
            Some(kind) => {
                return Err(self.remote(
                    "switch symlink",
                    link.as_str(),
                    not_a_symlink(kind == S_IFDIR),
                ));
            }
        }
        let tmp = temp_sibling(link);
        let until = self.io_until();
        // ssh2's argument order: `symlink(points_to, link_path)`.
        if let Err(f) = self.wire.retry(until, || {
            sftp.symlink(Path::new(target.as_str()), Path::new(&tmp))
        }) {
            return Err(self.fail(f, &op));
        }
        if let Err(e) = self.posix_rename(&tmp, link.as_str(), &op) {
            self.cleanup(&tmp);
            return Err(e);
        }
        match self.read_link(link)? {
            Some(now) if now == target.as_str() => Ok(()),
            other => Err(self.remote(
                "switch symlink",
                link.as_str(),
                format!("points to {other:?} after the switch, expected {target}"),
            )),
        }
    }

    fn read_link(&mut self, link: &AbsPath) -> Result<Option<String>, TransportError> {
        let what = format!("reading the symlink {link}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "read symlink",
            path: link.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        if self.lstat_type(&sftp, link.as_str(), &op)? != Some(S_IFLNK) {
            return Ok(None);
        }
        let until = self.io_until();
        match self
            .wire
            .retry(until, || sftp.readlink(Path::new(link.as_str())))
        {
            Ok(p) => Ok(Some(p.to_string_lossy().into_owned())),
            Err(f) if f.sftp_code() == Some(FX_NO_SUCH_FILE) => Ok(None),
            Err(f) => Err(self.fail(f, &op)),
        }
    }

    fn read_file(&mut self, path: &AbsPath) -> Result<Option<Vec<u8>>, TransportError> {
        let what = format!("reading {path}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "read",
            path: path.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        let until = self.io_until();
        let mut file = match self
            .wire
            .retry(until, || sftp.open(Path::new(path.as_str())))
        {
            Ok(f) => f,
            Err(f) if f.sftp_code() == Some(FX_NO_SUCH_FILE) => return Ok(None),
            Err(f) => return Err(self.fail(f, &op)),
        };
        let mut data = Vec::new();
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let until = self.io_until();
            match self.wire.retry_io(until, || file.read(&mut buf)) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(f) => return Err(self.fail(f, &op)),
            }
            if data.len() as u64 > MAX_SMALL_FILE {
                return Err(self.remote("read", path.as_str(), TOO_LARGE));
            }
        }
        let until = self.io_until();
        if let Err(f) = self.wire.retry(until, || file.close()) {
            return Err(self.fail(f, &op));
        }
        Ok(Some(data))
    }

    fn write_file(&mut self, path: &AbsPath, data: &[u8]) -> Result<(), TransportError> {
        let what = format!("writing {path}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "write",
            path: path.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        let tmp = temp_sibling(path);
        let mut reader = data;
        let result = self
            .write_new(&sftp, &tmp, 0o644, &mut reader, &op)
            .and_then(|_| self.posix_rename(&tmp, path.as_str(), &op));
        if result.is_err() {
            self.cleanup(&tmp);
        }
        result
    }

    fn create_exclusive(&mut self, path: &AbsPath, data: &[u8]) -> Result<bool, TransportError> {
        let what = format!("creating {path}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "create",
            path: path.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        let file = match self.open_new(&sftp, path.as_str(), 0o644, &op) {
            Ok(f) => f,
            // SFTP v3 reports EEXIST as a bare "failure"; look whether the path exists.
            Err(e @ TransportError::Remote { .. }) => {
                return match self.lstat_type(&sftp, path.as_str(), &op)? {
                    Some(_) => Ok(false),
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let mut reader = data;
        match self.write_into(file, &mut reader, &op) {
            Ok(_) => Ok(true),
            Err(e) => {
                self.cleanup(path.as_str());
                Err(e)
            }
        }
    }

    fn remove_file(&mut self, path: &AbsPath) -> Result<(), TransportError> {
        let what = format!("removing {path}");
        self.usable(&what)?;
        let op = Op {
            what: &what,
            action: "remove",
            path: path.as_str(),
            limit: self.io_timeout,
        };
        let sftp = self.sftp(&op)?;
        let until = self.io_until();
        match self
            .wire
            .retry(until, || sftp.unlink(Path::new(path.as_str())))
        {
            Ok(()) => Ok(()),
            Err(f) if f.sftp_code() == Some(FX_NO_SUCH_FILE) => Ok(()),
            Err(f) => Err(self.fail(f, &op)),
        }
    }
}

impl SshSession {
    /// Gives up on a channel: asks the host to close it, which ends the remote command, and keeps
    /// it so the next operation checks that the host confirmed. Returns as soon as the request is
    /// sent, so a timeout is reported on schedule even when the host is gone.
    fn abandon(&mut self, mut ch: ssh2::Channel, what: &str) {
        let until = Instant::now() + CLOSE_CONFIRM;
        loop {
            match ch.close() {
                Ok(()) => return, // already confirmed
                Err(e) if e.code() == ssh2::ErrorCode::Session(EAGAIN) => {
                    // libssh2 sends the close, then waits for the host's; once it waits for
                    // input, the request is out.
                    if self.wire.sess.block_directions() != ssh2::BlockDirections::Outbound {
                        self.closing.push(ch);
                        return;
                    }
                    if self.wire.wait(until).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        self.broken = Some(format!("{what}: the host did not take the request to stop"));
    }

    /// Waits until the host has confirmed closing a channel walle closed.
    fn finish_close(&self, ch: &mut ssh2::Channel, until: Instant) -> Result<(), Failure> {
        self.wire.retry(until, || ch.close())
    }

    /// Fails unless `dir` is an existing, empty directory.
    fn require_empty_dir(&mut self, dir: &str, op: &Op<'_>) -> Result<(), TransportError> {
        let sftp = self.sftp(op)?;
        let until = self.io_until();
        let mut handle = match self.wire.retry(until, || sftp.opendir(Path::new(dir))) {
            Ok(h) => h,
            Err(f) if f.sftp_code() == Some(FX_NO_SUCH_FILE) => {
                return Err(self.remote(op.action, dir, "no such directory"));
            }
            Err(f) => return Err(self.fail(f, op)),
        };
        let mut empty = true;
        loop {
            match self.wire.retry(until, || handle.readdir()) {
                Ok((name, _)) => {
                    if name != Path::new(".") && name != Path::new("..") {
                        empty = false;
                        break;
                    }
                }
                // libssh2 signals the end of the listing with LIBSSH2_ERROR_FILE.
                Err(Failure::Ssh(e)) if e.code() == ssh2::ErrorCode::Session(-16) => break,
                Err(f) => return Err(self.fail(f, op)),
            }
        }
        if let Err(f) = self.wire.retry(until, || handle.close()) {
            return Err(self.fail(f, op));
        }
        if empty {
            Ok(())
        } else {
            Err(self.remote(op.action, dir, NOT_EMPTY))
        }
    }
}

impl Drop for SshSession {
    fn drop(&mut self) {
        if self.broken.is_some() {
            // Nothing can be said to a dead host; end the socket so no destructor waits on it.
            self.wire.shutdown();
            return;
        }
        if self.usable("closing the session").is_err() {
            self.wire.shutdown();
            return;
        }
        let until = Instant::now() + CLOSE_GRACE;
        if let Some(raw) = self.raw.take() {
            raw.close(&self.wire, until);
        }
        // ssh2 closes the SFTP session in blocking mode, bounded by the session timeout.
        self.sftp = None;
        let _ = self.wire.retry(until, || {
            self.wire.sess.disconnect(None, "walle: done", None)
        });
        self.wire.shutdown();
    }
}
