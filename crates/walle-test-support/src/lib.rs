#![doc = include_str!("../README.md")]

mod cmd;
mod db;
mod fault;
mod git;
mod host;
mod infra;
mod svn;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use db::{DbKind, TestDb};
pub use fault::{FILLER_PREFIX, Fault, FaultKind};
pub use git::GitFixture;
pub use host::{Controller, ExclusiveHost, Fleet, TestHost};
pub use infra::{DEFAULT_ENV_FILE, ENV_FILE_VAR, Infra, START_COMMAND, env_file_path};
pub use svn::SvnFixture;

/// Set to keep git and SVN fixture repositories after the test (for debugging).
pub const KEEP_FIXTURES_VAR: &str = "WALLE_TEST_KEEP_FIXTURES";

/// A suffix unique across the parallel test processes: pid, per-process counter and clock bits.
pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}-{:05x}", std::process::id(), nanos & 0xf_ffff)
}

pub(crate) fn keep_fixtures() -> bool {
    std::env::var_os(KEEP_FIXTURES_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}
