//! The one place that starts local processes (the `svn` client): argument lists only, never a shell,
//! a fixed locale, an optional stdin (for secrets) and a time limit.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished process printed.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

/// Why a process could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// The program could not be started (not installed, not executable).
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    /// It ran longer than allowed and was killed.
    #[error("{program} did not finish within {} s and was stopped", limit.as_secs())]
    Timeout { program: String, limit: Duration },
    /// Waiting for it or reading its output failed.
    #[error("lost track of {program}: {source}")]
    Wait {
        program: String,
        #[source]
        source: io::Error,
    },
}

/// A command for `program` with a neutral environment: `LC_ALL=C` so messages and dates are not
/// translated. Arguments are added by the caller as a list; nothing is ever parsed by a shell.
#[allow(clippy::disallowed_methods)] // This is the one sanctioned use, see clippy.toml.
pub(crate) fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LC_ALL", "C")
        .env("LANG", "C")
        .env_remove("LANGUAGE");
    cmd
}

/// Runs `cmd` to its end, feeding `stdin` (then closing it), collecting stdout and stderr, and
/// killing it after `limit`.
pub(crate) fn run(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Result<Output, RunError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A process that exits without reading closes the pipe; that is not our error to report.
        let _ = pipe.write_all(data);
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, limit).map_err(|e| match e {
        WaitError::Timeout => RunError::Timeout {
            program: program.clone(),
            limit,
        },
        WaitError::Io(source) => RunError::Wait {
            program: program.clone(),
            source,
        },
    })?;
    let join = |h: thread::JoinHandle<io::Result<Vec<u8>>>| match h.join() {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(source)) => Err(RunError::Wait {
            program: program.clone(),
            source,
        }),
        Err(_) => Err(RunError::Wait {
            program: program.clone(),
            source: io::Error::other("output reader panicked"),
        }),
    };
    Ok(Output {
        status,
        stdout: join(stdout)?,
        stderr: join(stderr)?,
    })
}

/// Lossy UTF-8 of a process's stderr, trimmed.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

enum WaitError {
    Timeout,
    Io(io::Error),
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<io::Result<Vec<u8>>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_end(&mut buf)?;
        }
        Ok(buf)
    })
}

fn wait_until(child: &mut Child, limit: Duration) -> Result<ExitStatus, WaitError> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().map_err(WaitError::Io)? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            // Killing fails only when it has just exited, which the wait below collects.
            let _ = child.kill();
            let _ = child.wait();
            return Err(WaitError::Timeout);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
