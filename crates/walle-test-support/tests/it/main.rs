//! Smoke tests of the test world: every service, fixture and fault helper, exercised against the real thing.

mod db;
mod faults;
mod git;
mod ssh;
mod svn;

use std::process::{Command, Output};

/// Runs `cmd`, asserts success and returns its stdout.
#[track_caller]
fn run_ok(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd`, asserts failure and returns its stderr.
#[track_caller]
fn run_err(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded but should have failed"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn output(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(out) => out,
        Err(err) => panic!("cannot run {cmd:?}: {err}"),
    }
}

/// A name no other test process uses at the same time.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}
