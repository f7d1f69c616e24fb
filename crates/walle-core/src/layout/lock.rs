//! The target-side deploy lock: a small file created exclusively on each host for the length of a
//! deploy, saying who holds it, so a lock found on a host can be reported.
//!
//! ```text
//! walle-lock v1
//! deploy <TAB> <deploy id>
//! task <TAB> 12
//! holder <TAB> alice
//! host <TAB> deploy-1.example.com
//! since <TAB> 1764077977000
//! ```
//!
//! Values are backslash-escaped like the ledger's; unknown keys are ignored.

use std::fmt;
use std::time::Duration;

use super::escape::{escape, unescape};
use crate::{TaskId, Timestamp};

const MAGIC: &str = "walle-lock v1";

/// The content of a host's lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetLock {
    /// The id of the deploy run holding the lock (not a secret; the lease token never leaves the
    /// server).
    pub deploy: String,
    /// The task being deployed.
    pub task: TaskId,
    /// Who started it.
    pub holder: String,
    /// The Walle host that runs the deploy.
    pub host: String,
    /// When the lock was taken.
    pub since: Timestamp,
}

/// Why a lock file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockParseError {
    /// The first line is not `walle-lock v1`.
    #[error("not a walle lock file (first line {first:?}); inspect it by hand")]
    NotALock {
        /// The first line.
        first: String,
    },
    /// A required key is missing.
    #[error("lock file lacks {key:?}")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// A value does not parse.
    #[error("bad {key} {value:?} in lock file: {reason}")]
    Bad {
        /// The key.
        key: &'static str,
        /// Its text.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

impl TargetLock {
    /// The file content.
    pub fn render(&self) -> String {
        format!(
            "{MAGIC}\ndeploy\t{}\ntask\t{}\nholder\t{}\nhost\t{}\nsince\t{}\n",
            escape(&self.deploy),
            self.task,
            escape(&self.holder),
            escape(&self.host),
            self.since.unix_millis(),
        )
    }

    /// Parses a lock file's content.
    pub fn parse(text: &str) -> Result<Self, LockParseError> {
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("").trim_end_matches('\r');
        if first != MAGIC {
            return Err(LockParseError::NotALock {
                first: first.chars().take(60).collect(),
            });
        }
        let pairs: Vec<(&str, &str)> = lines
            .filter_map(|l| l.trim_end_matches('\r').split_once('\t'))
            .collect();
        let raw = |key: &'static str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or(LockParseError::Missing { key })
        };
        let bad = |key: &'static str, value: &str, reason: String| LockParseError::Bad {
            key,
            value: value.chars().take(100).collect(),
            reason,
        };
        let text = |key: &'static str| {
            let v = raw(key)?;
            unescape(v).map_err(|why| bad(key, v, why))
        };
        let number = |key: &'static str| {
            let v = raw(key)?;
            v.parse::<i64>()
                .map_err(|_| bad(key, v, "must be a whole number".to_owned()))
        };
        Ok(TargetLock {
            deploy: text("deploy")?,
            task: TaskId(number("task")?),
            holder: text("holder")?,
            host: text("host")?,
            since: Timestamp::from_unix_millis(number("since")?),
        })
    }

    /// How long the lock has been held at `now`.
    pub fn age(&self, now: Timestamp) -> Duration {
        now.since(self.since)
    }
}

impl fmt::Display for TargetLock {
    /// `locked by task 12 (alice) since 2026-11-25T13:39:37Z, deploy d-7 from deploy-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "locked by task {} ({}) since {}, deploy {} from {}",
            self.task, self.holder, self.since, self.deploy, self.host
        )
    }
}
