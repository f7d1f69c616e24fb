//! Faults injected into an exclusively leased host; each is undone by [`Fault::undo`] or on drop.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::cmd::run;
use crate::host::TestHost;
use crate::infra::Infra;

/// How long an undo waits for the host's sshd to answer again.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// Name prefix of the filler files [`FaultKind::FillDisk`] writes (`scripts/infra up` removes leftovers).
pub const FILLER_PREFIX: &str = ".walle-test-fill";

/// What a [`Fault`] did to its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// sshd SIGSTOPped: connects succeed, the SSH banner never comes.
    Freeze,
    /// veth down: nothing reaches the host, connects time out.
    CutLink,
    /// sshd SIGKILLed: connects are refused.
    KillSshd,
    /// `/srv` tmpfs full: writes fail with ENOSPC.
    FillDisk,
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultKind::Freeze => "freeze",
            FaultKind::CutLink => "cut_link",
            FaultKind::KillSshd => "kill_sshd",
            FaultKind::FillDisk => "fill_disk",
        })
    }
}

/// An active fault on one host. Dropping it undoes the fault (panicking if that fails, unless already panicking).
#[derive(Debug)]
#[must_use = "the fault is undone as soon as this guard is dropped"]
pub struct Fault<'a> {
    infra: &'a Infra,
    host: &'a TestHost,
    kind: FaultKind,
    frozen_pid: Option<u32>,
    fillers: Vec<PathBuf>,
    undone: bool,
}

impl<'a> Fault<'a> {
    #[track_caller]
    pub(crate) fn inject(infra: &'a Infra, host: &'a TestHost, kind: FaultKind) -> Fault<'a> {
        let mut fault = Fault {
            infra,
            host,
            kind,
            frozen_pid: None,
            fillers: Vec::new(),
            undone: false,
        };
        if let Err(err) = fault.apply() {
            fault.undone = true; // best effort below; a failed inject must not panic again in drop
            let _ = fault.revert();
            panic!("cannot inject `{kind}` on host {}: {err:#}", host.name);
        }
        fault
    }

    /// What this fault does.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The faulted host.
    pub fn host(&self) -> &'a TestHost {
        self.host
    }

    /// Undoes the fault now and waits until the host's sshd answers again.
    pub fn undo(mut self) -> anyhow::Result<()> {
        self.undone = true;
        self.revert()
    }

    fn apply(&mut self) -> anyhow::Result<()> {
        let host = self.host;
        match self.kind {
            FaultKind::Freeze => {
                let pid = host.sshd_pid()?;
                run(Command::new("kill").args(["-STOP", &pid.to_string()]))?;
                self.frozen_pid = Some(pid);
            }
            FaultKind::CutLink => {
                run(Command::new("ip").args(["link", "set", host.veth(), "down"]))?;
            }
            FaultKind::KillSshd => {
                let pid = host.sshd_pid()?;
                run(Command::new("kill").args(["-KILL", &pid.to_string()]))?;
                // The listening socket closes with the process (its zombie may linger; the port does not).
                let deadline = Instant::now() + Duration::from_secs(5);
                while host.banner(Duration::from_millis(200)).is_ok() {
                    if Instant::now() >= deadline {
                        bail!("sshd pid {pid} still answers after SIGKILL");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            FaultKind::FillDisk => self.fill()?,
        }
        Ok(())
    }

    fn fill(&mut self) -> anyhow::Result<()> {
        let srv = self.host.srv_root();
        let df = run(Command::new("df").args(["-B1", "--output=avail"]).arg(srv))?;
        let avail: u64 = df
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("cannot parse df output {df:?}"))?;
        let filler = srv.join(FILLER_PREFIX);
        self.fillers.push(filler.clone());
        if avail > 0 {
            run(Command::new("fallocate")
                .arg("-l")
                .arg(avail.to_string())
                .arg(&filler))?;
        }
        // Whatever fallocate left (rounding), take it with small writes until ENOSPC.
        let tail = srv.join(format!("{FILLER_PREFIX}-tail"));
        self.fillers.push(tail.clone());
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&tail)
            .with_context(|| format!("cannot create {}", tail.display()))?;
        let chunk = [0u8; 4096];
        for _ in 0..100_000 {
            if file.write_all(&chunk).and_then(|()| file.flush()).is_err() {
                return Ok(());
            }
        }
        bail!("{} never filled up", srv.display())
    }

    fn revert(&mut self) -> anyhow::Result<()> {
        let host = self.host;
        match self.kind {
            FaultKind::Freeze => {
                if let Some(pid) = self.frozen_pid.take() {
                    run(Command::new("kill").args(["-CONT", &pid.to_string()]))?;
                }
                host.wait_up(RECOVERY_TIMEOUT)?;
            }
            FaultKind::CutLink => {
                run(Command::new("ip").args(["link", "set", host.veth(), "up"]))?;
                host.wait_up(RECOVERY_TIMEOUT)?;
            }
            FaultKind::KillSshd => {
                self.infra.restart_host(host)?;
                host.wait_up(RECOVERY_TIMEOUT)?;
            }
            FaultKind::FillDisk => {
                for filler in self.fillers.drain(..) {
                    match std::fs::remove_file(&filler) {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => {
                            return Err(err)
                                .with_context(|| format!("cannot remove {}", filler.display()));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for Fault<'_> {
    fn drop(&mut self) {
        if self.undone {
            return;
        }
        self.undone = true;
        if let Err(err) = self.revert() {
            let msg = format!(
                "cannot undo `{}` on host {}: {err:#}",
                self.kind, self.host.name
            );
            if std::thread::panicking() {
                #[allow(clippy::print_stderr)]
                // Already unwinding: a second panic would abort the test binary.
                {
                    eprintln!("{msg}");
                }
            } else {
                panic!("{msg}");
            }
        }
    }
}
