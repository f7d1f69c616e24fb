//! Target hosts, the controller's sshd, and the leases that keep fault tests from breaking other tests.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::fault::{Fault, FaultKind};
use crate::infra::Infra;

/// One target host: a network namespace with its own address, hostname, `/srv` tmpfs and sshd on port 22.
#[derive(Debug, Clone)]
pub struct TestHost {
    /// 0-based position in [`Infra::hosts`].
    pub index: usize,
    /// Host name, also what `hostname` prints on it (`wl1`).
    pub name: String,
    /// Its address on the bridge (10.231.7.11).
    pub addr: IpAddr,
    /// Its sshd port (22).
    pub port: u16,
    /// The user tests log in as by default (`root`); see also [`Infra::deploy_user`].
    pub ssh_user: String,
    /// Its sshd's public host key (`ssh-ed25519 AAAA... wl1`).
    pub host_key_pub_path: PathBuf,
    pub(crate) srv_root: PathBuf,
    pub(crate) netns: String,
    pub(crate) veth: String,
    pub(crate) sshd_config: PathBuf,
    pub(crate) sshd_pid_file: PathBuf,
    pub(crate) client_key: PathBuf,
    pub(crate) known_hosts: PathBuf,
}

impl TestHost {
    /// The root-namespace path of this host's `/srv`: what the host writes to `/srv/x` appears here as `x`.
    pub fn srv_root(&self) -> &Path {
        &self.srv_root
    }

    /// `addr:port`.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// Its network namespace (`ip netns exec wl1 ...`).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// The root-namespace end of its veth (`wlv1`).
    pub fn veth(&self) -> &str {
        &self.veth
    }

    /// Its public host key as `type base64` (the comment dropped).
    pub fn host_key_pub(&self) -> anyhow::Result<String> {
        read_host_key(&self.host_key_pub_path)
    }

    /// An `ssh` command logged in as `user` with the client key and strict host key checking;
    /// append the remote command with `.arg(...)`.
    pub fn ssh_command(&self, user: &str) -> Command {
        let mut cmd = ssh_base_command(&self.client_key, &self.known_hosts);
        cmd.arg("-p")
            .arg(self.port.to_string())
            .arg(format!("{user}@{}", self.addr));
        cmd
    }

    /// Runs `remote` (a shell command line) as [`TestHost::ssh_user`] and returns its stdout.
    pub fn ssh(&self, remote: &str) -> anyhow::Result<String> {
        self.ssh_as(&self.ssh_user, remote)
    }

    /// Runs `remote` (a shell command line) as `user` and returns its stdout; fails on a non-zero exit.
    pub fn ssh_as(&self, user: &str, remote: &str) -> anyhow::Result<String> {
        crate::cmd::run(self.ssh_command(user).arg("--").arg(remote))
    }

    /// Reads the sshd's version banner (`SSH-2.0-OpenSSH_...`): a cheap liveness check without logging in.
    pub fn banner(&self, timeout: Duration) -> std::io::Result<String> {
        read_banner(self.socket_addr(), timeout)
    }

    /// The pid of this host's sshd listener, from its pid file checked against `/proc/PID/cmdline`,
    /// or else found among `ip netns pids`.
    pub fn sshd_pid(&self) -> anyhow::Result<u32> {
        let needle = self.sshd_config.to_string_lossy().into_owned();
        if let Ok(raw) = std::fs::read_to_string(&self.sshd_pid_file)
            && let Ok(pid) = raw.trim().parse::<u32>()
            && cmdline_contains(pid, &needle)
        {
            return Ok(pid);
        }
        let pids = crate::cmd::run(Command::new("ip").args(["netns", "pids", &self.netns]))?;
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
        {
            if cmdline_contains(pid, &needle) && cmdline_contains(pid, "[listener]") {
                return Ok(pid);
            }
        }
        bail!(
            "no sshd of host {} found (pid file {})",
            self.name,
            self.sshd_pid_file.display()
        )
    }

    /// Waits up to `timeout` for the sshd banner.
    pub(crate) fn wait_up(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.banner(Duration::from_millis(500)) {
                Ok(_) => return Ok(()),
                Err(err) if Instant::now() >= deadline => {
                    return Err(err)
                        .with_context(|| format!("sshd of host {} did not come back", self.name));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// The controller's own sshd (root login, same client key), for git over ssh and svn+ssh tests.
#[derive(Debug, Clone)]
pub struct Controller {
    /// 127.0.0.1.
    pub addr: IpAddr,
    /// 10.231.7.1: the same sshd as seen from the target hosts.
    pub bridge_addr: IpAddr,
    /// 22922.
    pub port: u16,
    /// `root`.
    pub ssh_user: String,
    /// Its public host key.
    pub host_key_pub_path: PathBuf,
    pub(crate) client_key: PathBuf,
    pub(crate) known_hosts: PathBuf,
}

impl Controller {
    /// `127.0.0.1:22922`.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// Its public host key as `type base64`.
    pub fn host_key_pub(&self) -> anyhow::Result<String> {
        read_host_key(&self.host_key_pub_path)
    }

    /// An `ssh` command to it as `user`, strict host key checking; append the remote command.
    pub fn ssh_command(&self, user: &str) -> Command {
        let mut cmd = ssh_base_command(&self.client_key, &self.known_hosts);
        cmd.arg("-p")
            .arg(self.port.to_string())
            .arg(format!("{user}@{}", self.addr));
        cmd
    }

    /// Runs `remote` as root on the controller and returns its stdout.
    pub fn ssh(&self, remote: &str) -> anyhow::Result<String> {
        crate::cmd::run(self.ssh_command(&self.ssh_user).arg("--").arg(remote))
    }
}

/// A shared lease on every target host (see [`Infra::fleet`]); released on drop.
#[derive(Debug)]
pub struct Fleet<'a> {
    hosts: &'a [TestHost],
    _locks: Vec<HostLock>,
}

impl<'a> Fleet<'a> {
    pub(crate) fn new(hosts: &'a [TestHost], locks: Vec<HostLock>) -> Self {
        Fleet {
            hosts,
            _locks: locks,
        }
    }

    /// Every host.
    pub fn hosts(&self) -> &'a [TestHost] {
        self.hosts
    }

    /// Host `index` (0-based).
    #[track_caller]
    pub fn host(&self, index: usize) -> &'a TestHost {
        &self.hosts[index]
    }
}

/// An exclusive lease on one host (shared on the others), the only way to inject faults; released on drop.
///
/// Derefs to the leased [`TestHost`].
#[derive(Debug)]
pub struct ExclusiveHost<'a> {
    infra: &'a Infra,
    host: &'a TestHost,
    _locks: Vec<HostLock>,
}

impl<'a> ExclusiveHost<'a> {
    pub(crate) fn new(infra: &'a Infra, host: &'a TestHost, locks: Vec<HostLock>) -> Self {
        ExclusiveHost {
            infra,
            host,
            _locks: locks,
        }
    }

    /// The leased host.
    pub fn host(&self) -> &'a TestHost {
        self.host
    }

    /// Every host, the leased one included (the others are held shared).
    pub fn all_hosts(&self) -> &'a [TestHost] {
        self.infra.hosts()
    }

    /// The other hosts (held shared: usable, but not to be faulted).
    pub fn others(&self) -> Vec<&'a TestHost> {
        self.infra
            .hosts()
            .iter()
            .filter(|h| h.index != self.host.index)
            .collect()
    }

    /// SIGSTOPs the host's sshd: connections are accepted by the kernel but get no banner. Undo: SIGCONT.
    #[track_caller]
    pub fn freeze(&self) -> Fault<'_> {
        Fault::inject(self.infra, self.host, FaultKind::Freeze)
    }

    /// Sets the host's veth down: packets to it are lost and connects time out. Undo: link up.
    #[track_caller]
    pub fn cut_link(&self) -> Fault<'_> {
        Fault::inject(self.infra, self.host, FaultKind::CutLink)
    }

    /// SIGKILLs the host's sshd: connections are refused. Undo: `scripts/infra restart-host NAME`.
    #[track_caller]
    pub fn kill_sshd(&self) -> Fault<'_> {
        Fault::inject(self.infra, self.host, FaultKind::KillSshd)
    }

    /// Fills the host's `/srv` tmpfs with a filler file: writes fail with ENOSPC. Undo: remove the filler.
    #[track_caller]
    pub fn fill_disk(&self) -> Fault<'_> {
        Fault::inject(self.infra, self.host, FaultKind::FillDisk)
    }
}

impl Deref for ExclusiveHost<'_> {
    type Target = TestHost;

    fn deref(&self) -> &TestHost {
        self.host
    }
}

/// How a host lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    Shared,
    Exclusive,
}

thread_local! {
    /// Host locks held by this thread: taking a conflicting second lease would wait for itself forever.
    static HELD: RefCell<Vec<(PathBuf, LockMode)>> = const { RefCell::new(Vec::new()) };
}

/// A `flock` on `$STATE/locks/wlN.lock`, held by a `flock FILE cat` child process reading our pipe:
/// if this process dies, the pipe closes, `cat` exits and the lock goes with it.
#[derive(Debug)]
pub(crate) struct HostLock {
    path: PathBuf,
    mode: LockMode,
    child: Option<Child>,
}

impl HostLock {
    /// Fails at once if this thread already holds a lock on `path` that conflicts with `mode`.
    pub(crate) fn check_conflict(path: &Path, mode: LockMode) -> anyhow::Result<()> {
        let conflict = HELD.with(|held| {
            held.borrow().iter().any(|(p, m)| {
                p == path && (mode == LockMode::Exclusive || *m == LockMode::Exclusive)
            })
        });
        if conflict {
            bail!(
                "this test already holds a lease on {}: drop it (the Fleet or ExclusiveHost) before taking another",
                path.display()
            );
        }
        Ok(())
    }

    pub(crate) fn acquire(path: &Path, mode: LockMode) -> anyhow::Result<HostLock> {
        HostLock::check_conflict(path, mode)?;
        let flag = match mode {
            LockMode::Shared => "--shared",
            LockMode::Exclusive => "--exclusive",
        };
        let mut child = Command::new("flock")
            .args([flag, "--wait", "600"])
            .arg(path)
            .args(["sh", "-c", "echo locked; exec cat >/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot run flock (util-linux)")?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .context("cannot read from flock")?;
        }
        if line.trim() != "locked" {
            let _ = child.kill();
            let _ = child.wait();
            bail!("could not lock {} within 600 s", path.display());
        }
        HELD.with(|held| held.borrow_mut().push((path.to_owned(), mode)));
        Ok(HostLock {
            path: path.to_owned(),
            mode,
            child: Some(child),
        })
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take()); // EOF for cat: the lock is released when flock exits
            let _ = child.wait();
        }
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            if let Some(i) = held
                .iter()
                .position(|(p, m)| *p == self.path && *m == self.mode)
            {
                held.remove(i);
            }
        });
    }
}

/// `ssh` with options that make it independent of `~/.ssh` and strict about host keys.
pub(crate) fn ssh_base_command(client_key: &Path, known_hosts: &Path) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.arg("-F")
        .arg("/dev/null")
        .arg("-i")
        .arg(client_key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
        ]);
    cmd
}

pub(crate) fn read_banner(addr: SocketAddr, timeout: Duration) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut buf = [0u8; 256];
    let mut banner = Vec::new();
    while !banner.contains(&b'\n') {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        banner.extend_from_slice(&buf[..n]);
    }
    let banner = String::from_utf8_lossy(&banner).trim().to_owned();
    if banner.starts_with("SSH-") {
        Ok(banner)
    } else {
        Err(std::io::Error::other(format!(
            "unexpected banner {banner:?}"
        )))
    }
}

fn read_host_key(path: &Path) -> anyhow::Result<String> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut parts = raw.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(kind), Some(key)) => Ok(format!("{kind} {key}")),
        _ => bail!("{} is not a public key", path.display()),
    }
}

pub(crate) fn cmdline_contains(pid: u32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            String::from_utf8_lossy(&raw)
                .replace('\0', " ")
                .contains(needle)
        })
        .unwrap_or(false)
}
