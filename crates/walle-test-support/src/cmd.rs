//! Running the command-line tools (`git`, `svn`, `mariadb`, `psql`, `ip`, ...) that the fixtures use.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};

/// Runs `cmd` to completion and returns its stdout, or an error naming the command, its status and stderr.
pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", describe(cmd)))?;
    check(cmd, output)
}

/// Like [`run`], feeding `input` to the command's stdin.
pub(crate) fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> anyhow::Result<String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", describe(cmd)))?;
    // Written from this thread: fine for the tools used here, which read all input before writing much.
    let written = match child.stdin.take() {
        Some(mut stdin) => stdin.write_all(input),
        None => Ok(()),
    };
    let output = child
        .wait_with_output()
        .with_context(|| format!("cannot wait for {}", describe(cmd)))?;
    let stdout = check(cmd, output)?; // a failed command explains a broken pipe better than the pipe does
    written.with_context(|| format!("cannot write to the stdin of {}", describe(cmd)))?;
    Ok(stdout)
}

/// The program and its arguments, for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn check(cmd: &Command, output: Output) -> anyhow::Result<String> {
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}{}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            if output.stderr.is_empty() {
                String::from_utf8_lossy(&output.stdout).trim().to_owned()
            } else {
                String::new()
            }
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
