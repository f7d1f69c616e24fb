//! The release ledger kept on each host: what happened to which release, one line per event.
//!
//! A line is tab-separated and starts with its format version:
//!
//! ```text
//! v1 <TAB> release <TAB> commit <TAB> task <TAB> actor id <TAB> actor name <TAB> status <TAB> previous <TAB> unix ms
//! ```
//!
//! `previous` is `-` when there was none. Text fields are backslash-escaped (`\\`, `\t`, `\n`,
//! `\r`). Lines starting with `#` are comments. Every complete line ends with a newline, so a last
//! line without one was cut short by a crash and is ignored. Lines of unknown versions are skipped
//! (and kept by [`append_ledger`]), and a v1 line may gain trailing fields that v1 readers ignore.
//! The file is the host's own record; the server mirrors the same entries in its database.

use std::collections::BTreeMap;

use super::escape::{escape, unescape};
use crate::model::{LedgerEntry, LedgerStatus};
use crate::value::{CommitId, ReleaseId};
use crate::{ServerId, TaskId, Timestamp, UserId};

/// The first line Walle writes into a new ledger file.
pub const LEDGER_HEADER: &str =
    "# walle release ledger: v1 release commit task actor_id actor_name status previous unix_ms\n";

const VERSION: &str = "v1";
const FIELDS: usize = 9;

/// One ledger line: the entry (its server is the host the file is on) and the actor's name,
/// so that people reading the file on the host see who deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    /// The entry.
    pub entry: LedgerEntry,
    /// The display name of [`LedgerEntry::actor`] at the time.
    pub actor_name: String,
}

/// Why a ledger line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerLineError {
    /// A line of another format version (written by a newer Walle).
    #[error("unknown ledger format version {version:?}")]
    UnknownVersion {
        /// The first field.
        version: String,
    },
    /// Too few fields.
    #[error("expected {FIELDS} tab-separated fields, found {found}")]
    FieldCount {
        /// Fields found.
        found: usize,
    },
    /// A field does not parse.
    #[error("bad {field} {value:?}: {reason}")]
    Field {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

/// A line of a ledger file that was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// The line number, 1-based.
    pub line_no: usize,
    /// Why.
    pub error: LedgerLineError,
}

/// A parsed ledger file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedLedger {
    /// The entries, in file order (the order things happened on the host).
    pub lines: Vec<LedgerLine>,
    /// Lines that could not be read (unknown versions, damaged lines).
    pub skipped: Vec<SkippedLine>,
    /// The unterminated last line, if the file was cut short.
    pub truncated: Option<String>,
}

impl ParsedLedger {
    /// The entries without the actor names, in file order.
    pub fn entries(&self) -> Vec<LedgerEntry> {
        self.lines.iter().map(|l| l.entry.clone()).collect()
    }
}

impl LedgerLine {
    /// The line, with its newline.
    pub fn render(&self) -> String {
        let e = &self.entry;
        let previous = e.previous.as_ref().map_or("-", ReleaseId::as_str);
        format!(
            "{VERSION}\t{}\t{}\t{}\t{}\t{}\t{}\t{previous}\t{}\n",
            e.release,
            e.commit,
            e.task,
            e.actor,
            escape(&self.actor_name),
            e.status.as_str(),
            e.at.unix_millis(),
        )
    }

    /// Parses one line (without its newline) of the ledger of `server`.
    pub fn parse(line: &str, server: ServerId) -> Result<Self, LedgerLineError> {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields[0] != VERSION {
            return Err(LedgerLineError::UnknownVersion {
                version: fields[0].chars().take(20).collect(),
            });
        }
        if fields.len() < FIELDS {
            return Err(LedgerLineError::FieldCount {
                found: fields.len(),
            });
        }
        let bad = |field: &'static str, value: &str, reason: String| LedgerLineError::Field {
            field,
            value: value.chars().take(100).collect(),
            reason,
        };
        let release = |field, v: &str| ReleaseId::new(v).map_err(|e| bad(field, v, e.reason));
        let number = |field, v: &str| {
            v.parse::<i64>()
                .map_err(|_| bad(field, v, "must be a whole number".to_owned()))
        };
        let previous = match fields[7] {
            "-" => None,
            v => Some(release("previous release", v)?),
        };
        Ok(LedgerLine {
            entry: LedgerEntry {
                server,
                release: release("release", fields[1])?,
                commit: CommitId::new(fields[2]).map_err(|e| bad("commit", fields[2], e.reason))?,
                task: TaskId(number("task", fields[3])?),
                actor: UserId(number("actor id", fields[4])?),
                status: LedgerStatus::parse(fields[6]).ok_or_else(|| {
                    bad(
                        "status",
                        fields[6],
                        "must be prepared, live, superseded, rolled_back, failed or removed"
                            .to_owned(),
                    )
                })?,
                previous,
                at: Timestamp::from_unix_millis(number("time", fields[8])?),
            },
            actor_name: unescape(fields[5]).map_err(|why| bad("actor name", fields[5], why))?,
        })
    }
}

/// Parses a whole ledger file of `server`, keeping what can be read: comments and blank lines
/// are skipped, unreadable lines reported in [`ParsedLedger::skipped`], and an unterminated last
/// line reported in [`ParsedLedger::truncated`] and otherwise ignored.
pub fn parse_ledger(text: &str, server: ServerId) -> ParsedLedger {
    let mut out = ParsedLedger::default();
    let (complete, tail) = split_complete(text);
    if !tail.is_empty() {
        out.truncated = Some(tail.to_owned());
    }
    for (i, line) in complete.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match LedgerLine::parse(line, server) {
            Ok(l) => out.lines.push(l),
            Err(error) => out.skipped.push(SkippedLine {
                line_no: i + 1,
                error,
            }),
        }
    }
    out
}

/// The new content of a ledger file after appending `lines`: existing complete lines are kept as
/// they are (including lines of other versions), an unterminated last line is dropped, and an
/// empty file gets [`LEDGER_HEADER`] first.
pub fn append_ledger(existing: &str, lines: &[LedgerLine]) -> String {
    let (complete, _) = split_complete(existing);
    let mut out = if complete.is_empty() {
        LEDGER_HEADER.to_owned()
    } else {
        complete.to_owned()
    };
    for line in lines {
        out.push_str(&line.render());
    }
    out
}

/// The latest status of each release, by file order (the host's order of events, independent
/// of clocks).
pub fn ledger_state(entries: &[LedgerEntry]) -> BTreeMap<ReleaseId, LedgerStatus> {
    let mut state = BTreeMap::new();
    for e in entries {
        state.insert(e.release.clone(), e.status);
    }
    state
}

/// The release the ledger says is live: the release of the last `live` entry, unless a later
/// entry moved that release to another status.
pub fn live_release(entries: &[LedgerEntry]) -> Option<ReleaseId> {
    let mut live: Option<&ReleaseId> = None;
    for e in entries {
        if e.status == LedgerStatus::Live {
            live = Some(&e.release);
        } else if live == Some(&e.release) {
            live = None;
        }
    }
    live.cloned()
}

/// What was live before `release` last went live: the rollback anchor of `release`.
/// `None` when `release` never went live or was the first release on the host.
pub fn live_before(entries: &[LedgerEntry], release: &ReleaseId) -> Option<ReleaseId> {
    entries
        .iter()
        .rev()
        .find(|e| e.status == LedgerStatus::Live && &e.release == release)
        .and_then(|e| e.previous.clone())
}

/// Splits text into the part made of complete (newline-terminated) lines and the unterminated rest.
fn split_complete(text: &str) -> (&str, &str) {
    match text.rfind('\n') {
        Some(i) => text.split_at(i + 1),
        None => ("", text),
    }
}
