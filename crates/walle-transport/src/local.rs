//! The transport on the deploy host itself, and [`command`], the one place that spawns processes.
//!
//! [`LocalTransport`] gives the same guarantees as the SSH transport: commands run as `sh -c` in
//! their own process group, which is terminated on a timeout; output streams line by line;
//! archives pass the same in-stream check before the local `tar` sees them; the symlink switch is
//! `symlink` plus `rename`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use walle_core::ports::{
    ConnectOptions, ExitStatus, HostTarget, OutputLine, RunOptions, Session, Transport,
    TransportError, UnpackSummary,
};
use walle_core::shell::Command;
use walle_core::value::AbsPath;

use crate::lines::{LineSplitter, Stream};
use crate::tar_guard::{GuardError, TarGuard};
use crate::temp_name::temp_sibling;

/// Largest file [`Session::read_file`] returns.
pub(crate) const MAX_SMALL_FILE: u64 = 16 * 1024 * 1024;
/// How long a terminated process group gets before it is killed.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// A `std::process::Command` for `program` with stdin closed. Every process Walle starts on the
/// deploy host is built here (the workspace bans `Command::new` elsewhere), so there is one place
/// to audit what runs.
pub fn command(program: &str) -> std::process::Command {
    #[allow(clippy::disallowed_methods)] // This is the one sanctioned call site.
    let mut cmd = std::process::Command::new(program);
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs everything on this machine, whatever host the target names.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    /// How long an unpack may go without progress.
    pub io_timeout: Duration,
}

impl Default for LocalTransport {
    fn default() -> Self {
        LocalTransport {
            io_timeout: Duration::from_secs(60),
        }
    }
}

impl Transport for LocalTransport {
    fn connect(
        &self,
        target: &HostTarget,
        _opts: &ConnectOptions,
    ) -> Result<Box<dyn Session>, TransportError> {
        Ok(Box::new(LocalSession {
            target: target.clone(),
            host: target.to_string(),
            io_timeout: self.io_timeout,
        }))
    }
}

/// A "session" on the deploy host.
#[derive(Debug)]
struct LocalSession {
    target: HostTarget,
    host: String,
    io_timeout: Duration,
}

impl LocalSession {
    fn remote(&self, action: &'static str, path: &str, detail: impl ToString) -> TransportError {
        TransportError::Remote {
            host: self.host.clone(),
            action,
            path: path.to_owned(),
            detail: detail.to_string(),
        }
    }

    fn timeout(&self, what: String, after: Duration) -> TransportError {
        TransportError::Timeout {
            host: self.host.clone(),
            what,
            after,
        }
    }
}

impl Session for LocalSession {
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
        let mut child = command("sh")
            .arg("-c")
            .arg(cmd.render())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| self.remote("run", "sh", e))?;
        let (tx, rx) = mpsc::channel::<(Stream, Option<Vec<u8>>)>();
        if let Some(out) = child.stdout.take() {
            spawn_reader(out, Stream::Stdout, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            spawn_reader(err, Stream::Stderr, tx.clone());
        }
        drop(tx);

        let start = Instant::now();
        let deadline = start + opts.timeout;
        let mut last_output = start;
        let mut out = LineSplitter::new(Stream::Stdout);
        let mut err = LineSplitter::new(Stream::Stderr);
        loop {
            let silence_at = opts.silence_timeout.map(|s| last_output + s);
            let limit = silence_at.map_or(deadline, |s| s.min(deadline));
            let now = Instant::now();
            if now >= limit {
                kill_group(&mut child);
                return Err(match silence_at {
                    Some(s) if s <= deadline => self.timeout(
                        format!("{what} (no output)"),
                        opts.silence_timeout.unwrap_or_default(),
                    ),
                    _ => self.timeout(what, opts.timeout),
                });
            }
            match rx.recv_timeout(limit - now) {
                Ok((stream, Some(data))) => {
                    last_output = Instant::now();
                    let splitter = if stream == Stream::Stdout {
                        &mut out
                    } else {
                        &mut err
                    };
                    splitter.push(&data, on_line);
                }
                Ok((_, None)) => {}
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        out.finish(on_line);
        err.finish(on_line);
        // Output is closed; the shell itself may still be running (it closed its descriptors).
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(exit_status(status)),
                Ok(None) if Instant::now() >= deadline => {
                    kill_group(&mut child);
                    return Err(self.timeout(what, opts.timeout));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(self.remote("wait for", "sh", e)),
            }
        }
    }

    fn upload(
        &mut self,
        data: &mut dyn Read,
        dest: &AbsPath,
        mode: u32,
    ) -> Result<u64, TransportError> {
        let tmp = temp_sibling(dest);
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&tmp)?;
            let n = io::copy(data, &mut f)?;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.sync_all()?;
            std::fs::rename(&tmp, dest.as_str())?;
            Ok::<u64, io::Error>(n)
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.remote("upload", dest.as_str(), e)
        })
    }

    fn unpack(
        &mut self,
        tar: &mut dyn Read,
        dest_dir: &AbsPath,
    ) -> Result<UnpackSummary, TransportError> {
        let dest = dest_dir.as_str();
        match std::fs::read_dir(dest) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(self.remote("unpack into", dest, NOT_EMPTY));
                }
            }
            Err(e) => return Err(self.remote("unpack into", dest, e)),
        }
        let mut child = command("tar")
            .args(["-x", "-f", "-", "-C", dest, "--no-same-owner"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.remote("unpack into", dest, format!("cannot run tar: {e}")))?;
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = (&mut e).take(64 * 1024).read_to_end(&mut s);
                String::from_utf8_lossy(&s).trim().to_owned()
            })
        });
        let Some(mut stdin) = child.stdin.take() else {
            kill_group(&mut child);
            return Err(self.remote("unpack into", dest, "tar has no stdin"));
        };

        let watchdog = Watchdog::start(&child, self.io_timeout);
        let mut guard = TarGuard::new(tar);
        let mut buf = Vec::new();
        let mut bytes = 0u64;
        let mut refused = None;
        let mut write_failed = false;
        loop {
            buf.clear();
            match guard.next_chunk(&mut buf) {
                Ok(more) => {
                    if stdin.write_all(&buf).is_err() {
                        write_failed = true; // tar exited; its status and stderr say why
                        break;
                    }
                    bytes += buf.len() as u64;
                    watchdog.progress();
                    if !more {
                        break;
                    }
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let stalled = watchdog.stop();
        if refused.is_some() || stalled {
            let _ = child.kill();
        }
        drop(stdin);
        let status = wait_until(&mut child, Instant::now() + self.io_timeout);
        let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        if let Some(e) = refused {
            return Err(self.guard_error(e, dest));
        }
        if stalled {
            return Err(self.timeout(format!("unpack into {dest}"), self.io_timeout));
        }
        match status {
            Some(s) if s.success() && !write_failed => Ok(UnpackSummary {
                entries: guard.entries(),
                bytes,
            }),
            Some(s) => Err(self.remote("unpack into", dest, format!("tar: {s}: {stderr}"))),
            None => Err(self.timeout(format!("unpack into {dest}"), self.io_timeout)),
        }
    }

    fn switch_symlink(&mut self, link: &AbsPath, target: &AbsPath) -> Result<(), TransportError> {
        let path = link.as_str();
        match std::fs::symlink_metadata(path) {
            Ok(m) if !m.file_type().is_symlink() => {
                return Err(self.remote("switch symlink", path, not_a_symlink(m.is_dir())));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.remote("switch symlink", path, e)),
        }
        let tmp = temp_sibling(link);
        let result = std::os::unix::fs::symlink(target.as_str(), &tmp)
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.remote("switch symlink", path, e));
        }
        match self.read_link(link)? {
            Some(now) if now == target.as_str() => Ok(()),
            other => Err(self.remote(
                "switch symlink",
                path,
                format!("points to {other:?} after the switch, expected {target}"),
            )),
        }
    }

    fn read_link(&mut self, link: &AbsPath) -> Result<Option<String>, TransportError> {
        match std::fs::symlink_metadata(link.as_str()) {
            Ok(m) if m.file_type().is_symlink() => std::fs::read_link(link.as_str())
                .map(|p| Some(p.to_string_lossy().into_owned()))
                .map_err(|e| self.remote("read symlink", link.as_str(), e)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.remote("read symlink", link.as_str(), e)),
        }
    }

    fn read_file(&mut self, path: &AbsPath) -> Result<Option<Vec<u8>>, TransportError> {
        let mut f = match File::open(path.as_str()) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.remote("read", path.as_str(), e)),
        };
        let mut data = Vec::new();
        (&mut f)
            .take(MAX_SMALL_FILE + 1)
            .read_to_end(&mut data)
            .map_err(|e| self.remote("read", path.as_str(), e))?;
        if data.len() as u64 > MAX_SMALL_FILE {
            return Err(self.remote("read", path.as_str(), TOO_LARGE));
        }
        Ok(Some(data))
    }

    fn write_file(&mut self, path: &AbsPath, data: &[u8]) -> Result<(), TransportError> {
        let tmp = temp_sibling(path);
        let result = write_new(&tmp, data).and_then(|()| std::fs::rename(&tmp, path.as_str()));
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.remote("write", path.as_str(), e)
        })
    }

    fn create_exclusive(&mut self, path: &AbsPath, data: &[u8]) -> Result<bool, TransportError> {
        match write_new(path.as_str(), data) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(self.remote("create", path.as_str(), e)),
        }
    }

    fn remove_file(&mut self, path: &AbsPath) -> Result<(), TransportError> {
        match std::fs::remove_file(path.as_str()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.remote("remove", path.as_str(), e)),
        }
    }
}

impl LocalSession {
    fn guard_error(&self, e: GuardError, dest: &str) -> TransportError {
        match e {
            GuardError::Read(err) => self.remote("read the archive for", dest, err),
            other => TransportError::UnsafeArchive {
                host: self.host.clone(),
                entry: other.describe(),
                dest: dest.to_owned(),
            },
        }
    }
}

pub(crate) const NOT_EMPTY: &str =
    "the directory is not empty; unpack needs a new, empty release directory";
pub(crate) const TOO_LARGE: &str =
    "the file is larger than 16 MiB, too large for a small-file read";

pub(crate) fn not_a_symlink(is_dir: bool) -> String {
    if is_dir {
        "it is a real directory, not a symlink; move it away (walle will not replace it)".to_owned()
    } else {
        "it exists and is not a symlink; move it away (walle will not replace it)".to_owned()
    }
}

/// Creates `path` (which must not exist) with `data`, mode 0644, synced to disk.
fn write_new(path: &str, data: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

fn spawn_reader(
    mut pipe: impl Read + Send + 'static,
    stream: Stream,
    tx: mpsc::Sender<(Stream, Option<Vec<u8>>)>,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send((stream, Some(buf[..n].to_vec()))).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send((stream, None));
    });
}

/// Terminates the child's process group, then kills it after a grace period, and reaps the child.
fn kill_group(child: &mut Child) {
    let pid = Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, Signal::TERM);
    if wait_until(child, Instant::now() + KILL_GRACE).is_none() {
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        let _ = child.wait();
    } else {
        // The leader is gone; make sure nothing it left behind in its group survives.
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    }
}

/// Waits for the child until `deadline`; `None` if it is still running then.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() >= deadline => return None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
}

pub(crate) fn exit_status(status: std::process::ExitStatus) -> ExitStatus {
    ExitStatus {
        code: status.code(),
        signal: status.signal().map(signal_name),
    }
}

/// The name SSH uses for a signal (`TERM`, `KILL`), or its number.
pub(crate) fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 16] = [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|i| NAMES.get(i))
        .filter(|n| !n.is_empty())
        .map_or_else(|| sig.to_string(), |n| (*n).to_owned())
}

/// Kills a child that makes no progress for `limit`, from a helper thread. The child is not reaped
/// while the watchdog runs, so its pid cannot be reused under it.
struct Watchdog {
    progress: mpsc::Sender<()>,
    handle: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(child: &Child, limit: Duration) -> Watchdog {
        let pid = Pid::from_child(child);
        let (tx, rx) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            loop {
                match rx.recv_timeout(limit) {
                    Ok(()) => {}
                    Err(RecvTimeoutError::Disconnected) => return false,
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = rustix::process::kill_process(pid, Signal::KILL);
                        return true;
                    }
                }
            }
        });
        Watchdog {
            progress: tx,
            handle,
        }
    }

    fn progress(&self) {
        let _ = self.progress.send(());
    }

    /// Stops watching; returns whether the child was killed for stalling.
    fn stop(self) -> bool {
        drop(self.progress);
        self.handle.join().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests;
